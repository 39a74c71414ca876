"""The chance that one minibatch step kills a run of the 1-D Gaussian trainer, from the game's state.

The trainer steps σ directly (the reference code's parametrization): σ ← σ − η ĝ/σ with ĝ the
estimate of ∂L/∂log σ from B samples of p and B of q_θ. A run dies when σ reaches 0 (ĝ ≥ σ²/η)
or a link overflows the trainer's float32. Both are read off the per-sample terms of ĝ,

    a_p(x) = g'(r) e(x),   a_q(x) = (h(r) − E_q h(r) − h'(r)) e(x),   e = ∂E/∂log σ = −((x − μ)/σ)²,

r = H_ω + E_θ, integrated on a fine grid against p's and q_θ's densities (1-D: exact, tails included):

* one big jump: one sample alone pushes ĝ past σ²/η, a ≥ B(σ²/η − ḡ) + 6√(2B)·s with ḡ = E a and s a
  robust spread of one term, so that the other terms cannot offset it (heavy-tailed links die this
  way long before the second moment says so);
* the sum: the B + B terms below that threshold add up past B σ²/η, by the saddle-point
  (Lugannani–Rice) formula on their exact cumulant generating function: no central limit, whose
  symmetric tails put 2–10× too many deaths on the skewed terms of a small batch;
* overflow: a p-sample where g or g' is not finite in float32, or a q-sample where h or h' is (each
  sample meets only its own link);
* a thrown critic: the critic steps first, on the same samples. One sample's term moves ω by
  η|g'(r)|·|∇_ω H(x)|/B (p) or η|h'(r)|·|∇_ω H(x)|/B (q); where that reaches `THROW` (the critic's
  largest weights are about 1), the critic lands far from where it was and the σ-step at the new critic
  takes σ past 0. (Measured on (t log t − t + 1) + (t − 1)²/(t + 3), whose h' grows like e^r: at lr
  10⁻² every run that died had just taken a whole critic step of 1.5–4.3, while steps of the runs
  that lived stayed below 1.5; at the step's start, r at the sample that then killed was 0–5, after the
  critic's step 9–17.)

P(step kills) = 1 − P(no overflow, no jump, sum below) · P(no throw). Every threshold is fixed here.
The product treats a jump and a throw as independent, though one heavy q-sample often does both:
their overlap is counted twice (at the thrown-critic test's start, 0.0128 where counting each sample
once gives about 0.0098).
"""

from __future__ import annotations

import math

import torch

from ...toy_models import mlp

GRID = 8001  # grid points per run
SPAN_SD = 12.0  # q_θ's grid reaches μ ± 12σ (mass beyond: < 1e-32)
DATA_QUANTILE = 1e-15  # p's grid reaches its 1e-15 and 1 − 1e-15 quantiles
THROW = 2.0  # one sample's term of the critic step this long throws the critic (its largest weights are ~1)
JUMP_SPREAD = 6.0  # a term above B(σ²/η − ḡ) + 6·√(2B)·(its spread) kills alone: the rest cannot offset it


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
    _require_reference_steps(trainer.config)
    theta, omega = theta.detach().double(), omega.detach().double()
    x, dx = _grid(trainer, theta)
    w_p = _masses(trainer.data.log_prob(x), dx)
    w_q = _masses(-trainer.energy(theta, x) - theta[:, 1:], dx)
    r = (trainer.critic(omega, x) + trainer.energy(theta, x)).detach()
    e = -(((x - theta[:, :1]) * torch.exp(-theta[:, 1:])) ** 2)
    # the σ-step meets the new critic only when the critic steps first (the reference code's order)
    reach = _critic_reach(trainer, omega, x) if trainer.config.update == "alternating" else None
    out = {b: torch.empty(len(theta), dtype=torch.float64) for b in batches}
    for (g, h), index in trainer.groups.values():
        slopes = _slopes(g, h, r[index])
        terms = _terms(g, h, r[index], e[index], w_p[index], w_q[index], slopes)
        pulls = None if reach is None else (slopes[1].abs() * reach[index], slopes[2].abs() * reach[index])
        for b in batches:
            thrown = 0.0 if pulls is None else _throw(*pulls, *terms[2:], b, lr)
            dies = 1 - (1 - _death(*terms, theta[index], b, lr)) * (1 - thrown)
            out[b][index] = torch.nan_to_num(dies, nan=1.0).clamp(0.0, 1.0)  # no law to read: a death
    return out


def _critic_reach(trainer, omega, x):
    """|∇_ω H(x)| on the grid: how far one sample's term moves the critic, per unit of its link's slope."""
    cfg = trainer.config
    if not cfg.quadratic_skip:
        return mlp.param_grad_norms(omega, x, cfg.critic_sizes)
    square = mlp.param_grad_norms(omega[:, :-2], x, cfg.critic_sizes) ** 2 + x**2 + x**4  # the skip's a x + b x²
    return square.sqrt()


def _slopes(g, h, r):
    """(h(r), g'(r), h'(r)) on the grid, for the σ-step's terms and the critic step's pulls."""
    with torch.enable_grad():
        _, dg = _derivative(g, r)
        hv, dh = _derivative(h, r)
    return hv, dg, dh


def _throw(pull_p, pull_q, w_p, w_q, bad_p, bad_q, batch: int, lr: float) -> torch.Tensor:
    """Per run: the chance that one sample alone moves the critic by at least `THROW` in the step's
    critic update (η·pull/B ≥ THROW; a pull is |g'(r)|·|∇_ω H(x)| for a p-sample, |h'(r)|·|∇_ω H(x)|
    for a q-sample, one sample's term of ∇_ω L times B): 1 − (1 − m_p)^B (1 − m_q)^B with m the mass of such samples
    (overflowing ones are `_death`'s)."""
    big_p = torch.where(bad_p, 0.0, w_p * (lr * pull_p / batch >= THROW)).sum(1)
    big_q = torch.where(bad_q, 0.0, w_q * (lr * pull_q / batch >= THROW)).sum(1)
    survive = batch * (torch.log1p(-big_p.clamp(max=1.0)) + torch.log1p(-big_q.clamp(max=1.0)))
    return -torch.expm1(survive)


def _require_reference_steps(cfg) -> None:
    """The death chance prices the reference code's step: plain SGD on σ at a constant lr, no gradient
    clip, no per-f scaling; other trainer settings would need another model of the step."""
    plain = (cfg.optimizer == "sgd" and (cfg.theta_optimizer in (None, "sgd")) and cfg.scale_parameter == "sigma"
             and cfg.clip is None and not cfg.per_f2 and cfg.decay == 1.0)
    if not plain:
        raise ValueError("hazard.step_death models SGD on σ at a constant lr without clipping (the reference "
                         "code's settings, `arrival.config`)")


def _derivative(link, r):
    r = r.clone().requires_grad_()
    value = link(r)
    (d,) = torch.autograd.grad(value.sum(), r)
    return value.detach(), d


def _terms(g, h, r, e, w_p, w_q, slopes):
    """(a_p, a_q, w_p, w_q, bad_p, bad_q): the per-sample terms of ĝ on the grid, and where a p-sample
    (g or g' not finite in float32) or a q-sample (h or h') would overflow the trainer's step. A
    p-sample meets only g and a q-sample only h, so each has its own mask. ``slopes``: `_slopes`."""
    hv, dg, dh = slopes
    bad_p = link_overflows(g, r.float()) | ~torch.isfinite(dg)
    bad_q = link_overflows(h, r.float()) | ~torch.isfinite(dh) | ~torch.isfinite(hv)
    dg = torch.where(bad_p, 0.0, dg)
    hv, dh = (torch.where(bad_q, 0.0, t) for t in (hv, dh))
    mean_h, mean_e = (w_q * hv).sum(1, keepdim=True), (w_q * e).sum(1, keepdim=True)
    # the batch centres h in the covariance term, Σ(h_i − h̄)e_i = Σ(h_i − h̄)(e_i − ē): to first order
    # each q-sample adds (h − E h)(e − E e), whose law (not that of (h − E h)e) the batch's sum has
    return dg * e, (hv - mean_h) * (e - mean_e) - dh * e, w_p, w_q, bad_p, bad_q


def link_overflows(link, r) -> torch.Tensor:
    """Where link(r) or its derivative is not finite, in r's dtype (a bool per point)."""
    with torch.enable_grad():
        r = r.detach().requires_grad_(True)
        y = link(r)
        (dy,) = torch.autograd.grad(y.sum(), r, allow_unused=True, materialize_grads=True)
    return ~(torch.isfinite(y) & torch.isfinite(dy))


def _death(a_p, a_q, w_p, w_q, bad_p, bad_q, theta, batch: int, lr: float) -> torch.Tensor:
    """Per run: 1 − P(no term jumps and the sum of the B + B terms stays below B σ²/η) (`_survival`)."""
    mean = (w_p * a_p).sum(1) + (w_q * a_q).sum(1)
    kill = torch.exp(2 * theta[:, 1]) / lr  # ĝ at which σ reaches 0
    out = torch.empty(len(theta), dtype=torch.float64)
    for k in range(len(theta)):
        p, q = ~bad_p[k], ~bad_q[k]  # an overflowing sample kills: its mass is left out of the law that survives
        spread = _scale(a_p[k], w_p[k], a_q[k], w_q[k])
        jump = batch * float(kill[k] - mean[k]) + JUMP_SPREAD * math.sqrt(2 * batch) * spread
        out[k] = 1.0 - _survival(a_p[k][p], w_p[k][p], a_q[k][q], w_q[k][q], jump, batch * float(kill[k]), batch)
    return torch.nan_to_num(out, nan=1.0).clamp(0.0, 1.0)


def _scale(a_p, w_p, a_q, w_q) -> float:
    """A robust spread of one term: the 1%–99% range of the p- and q-terms' mixed law over 4.65 (σ for
    a normal law), finite where the variance is not."""
    terms, mass = torch.cat([a_p, a_q]), torch.cat([w_p, w_q]) / 2
    order = torch.argsort(terms)
    cdf = mass[order].cumsum(0)
    def at(q):
        return float(terms[order][torch.searchsorted(cdf, torch.tensor(q, dtype=cdf.dtype)).clamp(max=len(cdf) - 1)])

    return max(at(0.99) - at(0.01), 1e-300) / 4.65


def _survival(a_p, w_p, a_q, w_q, jump: float, limit: float, batch: int) -> float:
    """P(every term < jump and Σ of B p-terms and B q-terms < limit): the chance that no term lies at or
    above ``jump`` (or was left out, overflowing), times the chance that the mean of B pairs of the
    terms below it stays under limit/B, by the saddle-point (Lugannani–Rice) formula on their exact
    cumulant generating function (`_tail`)."""
    if not math.isfinite(jump):  # nan (no finite law: σ far below the grid's spacing) counts as death
        return 1.0 if jump == -math.inf else 0.0
    laws, clean = [], 1.0
    for a, w in ((a_p, w_p), (a_q, w_q)):
        inside = a < jump
        kept = float(w[inside].sum())
        clean *= kept ** batch
        if kept <= 0:
            return 0.0
        laws.append((a[inside], w[inside] / kept))
    return clean * (1.0 - _tail(laws, limit / batch, batch))


def _cgf(laws, s: float):
    """K(s) = Σ log E e^{sY}, K'(s) and K''(s) over the laws (Y's values and masses)."""
    k = k1 = k2 = 0.0
    for a, w in laws:
        z = s * a + torch.log(w)
        top = float(z.max())
        e = torch.exp(z - top)
        total = float(e.sum())
        mean = float((e * a).sum()) / total
        k += top + math.log(total)
        k1 += mean
        k2 += float((e * (a - mean) ** 2).sum()) / total
    return k, k1, k2


def _tail(laws, x: float, batch: int) -> float:
    """P(mean of ``batch`` i.i.d. sums of one draw from each law ≥ x) by Lugannani–Rice: exact to
    O(1/B) relative in the tails, skew included (a central limit is not: 2–10× off on these terms)."""
    lo, hi = sum(float(a.min()) for a, _ in laws), sum(float(a.max()) for a, _ in laws)
    if x <= lo:
        return 1.0
    if x >= hi:
        return 0.0
    _, mean, var = _cgf(laws, 0.0)
    if abs(x - mean) <= 1e-6 * math.sqrt(var):
        return 0.5
    up = x > mean
    s_lo, s_hi = (0.0, 1.0) if up else (-1.0, 0.0)
    while (_cgf(laws, s_hi)[1] < x) if up else (_cgf(laws, s_lo)[1] > x):  # bracket the root of K'(s) = x
        s_lo, s_hi = (s_hi, 2 * s_hi) if up else (2 * s_lo, s_lo)
    for _ in range(60):  # K' is increasing: bisect
        mid = (s_lo + s_hi) / 2
        s_lo, s_hi = (mid, s_hi) if _cgf(laws, mid)[1] < x else (s_lo, mid)
    s = (s_lo + s_hi) / 2
    k, _, k2 = _cgf(laws, s)
    w = math.copysign(math.sqrt(max(2 * batch * (s * x - k), 0.0)), s)
    u = s * math.sqrt(batch * k2)
    if abs(w) < 1e-8 or abs(u) < 1e-8:
        return 0.5
    normal = 0.5 * math.erfc(w / math.sqrt(2))
    density = math.exp(-w * w / 2) / math.sqrt(2 * math.pi)
    return min(max(normal + density * (1 / u - 1 / w), 0.0), 1.0)


def dead_fraction(step_probabilities, gaps) -> float:
    """1 − exp(−Σ p_k n_k): the chance that a run dies somewhere along a path whose k-th stretch of
    n_k steps kills with chance p_k a step (independent steps; −log(1 − p) keeps p = 1 certain)."""
    total = 0.0
    for p, n in zip(step_probabilities, gaps):
        if n <= 0:
            continue
        if not p < 1.0:  # certain death, or a chance that could not be computed (nan): counted as death
            return 1.0
        total += -math.log1p(-p) * n
    return 1.0 - math.exp(-total)
