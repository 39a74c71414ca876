"""The chance that one minibatch step kills a run of the 1-D Gaussian trainer, from the game's state.

The trainer steps σ directly (the reference code's parametrization): σ ← σ − η ĝ/σ with ĝ the
estimate of ∂L/∂log σ from B samples of p and B of q_θ. A run dies when σ reaches 0 (ĝ ≥ σ²/η)
or a link overflows the trainer's float32. Both are read off the per-sample terms of ĝ,

    a_p(x) = g'(r) e(x),   a_q(x) = (h(r) − E_q h(r) − h'(r)) e(x),   e = ∂E/∂log σ = −((x − μ)/σ)²,

r = H_ω + E_θ, integrated on a fine grid against p's and q_θ's densities (1-D: exact, tails included):

* one big jump: one sample alone pushes ĝ past σ²/η, a ≥ B σ²/η − (B − 1) ḡ with ḡ = E a (heavy-tailed
  links die this way long before the second moment says so);
* the bulk: the central limit of ĝ, N(ḡ, Var a / B), past σ²/η;
* overflow: a sample where a link or its derivative is not finite in float32.

P(step kills) = 1 − (1 − P_jump)(1 − P_bulk)(1 − P_overflow). Every threshold is fixed here.
"""

from __future__ import annotations

import math

import torch

GRID = 8001  # grid points per run
SPAN_SD = 12.0  # q_θ's grid reaches μ ± 12σ (mass beyond: < 1e-32)
DATA_QUANTILE = 1e-15  # p's grid reaches its 1e-15 and 1 − 1e-15 quantiles


def _grid(trainer, theta):
    """(R, GRID) points covering p and every run's q_θ, and their spacing."""
    kw = {"dtype": torch.float64}
    ends = trainer.data.from_uniform(torch.tensor([DATA_QUANTILE, 1 - DATA_QUANTILE], **kw))
    mu, sd = theta[:, 0], torch.exp(theta[:, 1])
    lo = torch.minimum(mu - SPAN_SD * sd, ends[0])
    hi = torch.maximum(mu + SPAN_SD * sd, ends[1])
    t = torch.linspace(0, 1, GRID, **kw)
    return lo[:, None] + (hi - lo)[:, None] * t, (hi - lo) / (GRID - 1)


def _masses(log_density, dx):
    w = torch.exp(log_density) * dx[:, None]
    return w / w.sum(dim=1, keepdim=True)


def step_death(trainer, theta: torch.Tensor, omega: torch.Tensor, batches, lr: float) -> dict:
    """{B: (R,) chance that one step at batch B and step ``lr`` kills each run of ``trainer``} at
    state (θ, ω) (see the module)."""
    theta, omega = theta.detach().double(), omega.detach().double()
    x, dx = _grid(trainer, theta)
    w_p = _masses(trainer.data.log_prob(x), dx)
    w_q = _masses(-trainer.energy(theta, x) - theta[:, 1:], dx)
    r = (trainer.critic(omega, x) + trainer.energy(theta, x)).detach()
    e = -(((x - theta[:, :1]) * torch.exp(-theta[:, 1:])) ** 2)
    out = {b: torch.empty(len(theta), dtype=torch.float64) for b in batches}
    for (g, h), index in trainer.groups.values():
        terms = _terms(g, h, r[index], e[index], w_p[index], w_q[index])
        for b in batches:
            out[b][index] = _death(*terms, theta[index], b, lr)
    return out


def _derivative(link, r):
    r = r.clone().requires_grad_()
    value = link(r)
    (d,) = torch.autograd.grad(value.sum(), r)
    return value.detach(), d


def _terms(g, h, r, e, w_p, w_q):
    """(a_p, a_q, w_p, w_q, where a link overflows): the per-sample terms of ĝ on the grid."""
    with torch.enable_grad():
        _, dg = _derivative(g, r)
        hv, dh = _derivative(h, r)
    overflow = [~torch.isfinite(link(r.float())) for link in (g, h)]
    bad = overflow[0] | overflow[1] | ~torch.isfinite(dg) | ~torch.isfinite(dh) | ~torch.isfinite(hv)
    hv, dg, dh = (torch.where(bad, 0.0, t) for t in (hv, dg, dh))
    mean_h = (w_q * hv).sum(1, keepdim=True)
    return dg * e, (hv - mean_h - dh) * e, w_p, w_q, bad


def _death(a_p, a_q, w_p, w_q, bad, theta, batch: int, lr: float) -> torch.Tensor:
    mean_p, mean_q = (w_p * a_p).sum(1), (w_q * a_q).sum(1)
    mean = mean_p + mean_q
    var = (w_p * (a_p - mean_p[:, None]) ** 2).sum(1) + (w_q * (a_q - mean_q[:, None]) ** 2).sum(1)
    kill = torch.exp(2 * theta[:, 1]) / lr  # ĝ at which σ reaches 0
    jump = batch * kill - (batch - 1) * mean
    tail = lambda w, a: (w * (a >= jump[:, None])).sum(1)  # noqa: E731
    p_jump = 1 - (1 - tail(w_p, a_p)) ** batch * (1 - tail(w_q, a_q)) ** batch
    p_bulk = torch.special.ndtr(-(kill - mean) / torch.sqrt(var / batch))
    p_overflow = 1 - (1 - (w_p * bad).sum(1)) ** batch * (1 - (w_q * bad).sum(1)) ** batch
    p = 1 - (1 - p_jump) * (1 - p_bulk) * (1 - p_overflow)
    return torch.where(torch.isfinite(p), p, 1.0).clamp(0.0, 1.0)


def dead_fraction(step_probabilities, gaps) -> float:
    """1 − exp(−Σ p_k n_k): the chance that a run dies somewhere along a path whose k-th stretch of
    n_k steps kills with chance p_k a step (independent steps; −log(1 − p) keeps p = 1 certain)."""
    total = 0.0
    for p, n in zip(step_probabilities, gaps):
        if p >= 1.0:
            return 1.0
        total += -math.log1p(-p) * n
    return 1.0 - math.exp(-total)
