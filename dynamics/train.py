"""Stochastic f-EBM training of many independent runs in one vectorized computation.

The model is a 1-D Gaussian EBM, E_θ(x) = (x − μ)²/(2σ²) with θ = (μ, log σ), sampled
exactly; H_ω is a tanh MLP. Every run r has its own divergence, θ_r, ω_r, seed stream and
learning rates; parameters are stacked as (R, ·) tensors and the R critics run as one
batched matmul, so runs are never a Python loop. One backward pass of the surrogate

    S = mean_p g(r) − mean_q h(r) + mean_q[c · E_θ(x)],   c = stopgrad(h(r) − mean_q h(r)),

gives ∇_ω L (samples of q held fixed) and ∇_θ L with its covariance term, where r = H_ω + E_θ.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from divergences import divergence
from toy_models import mlp


@dataclass
class TrainConfig:
    steps: int = 2000
    batch: int = 1000
    lr_theta: float = 1e-2
    lr_omega: float = 1e-2
    optimizer: str = "adam"  # "adam" or "sgd", for both players unless theta_optimizer is set
    theta_optimizer: str | None = None  # the model's optimizer, when it differs from the critic's
    per_f2: bool = False  # each run ascends/descends L/f''(1): same minimizer, unit-curvature linearization
    update: str = "alternating"  # ω first, then θ at the new ω (the reference code); or "simultaneous"
    decay: float = 0.01  # final lr factor of a cosine schedule (1 = constant)
    average_from: float = 0.5  # θ is also reported as the average over this last fraction of steps
    critic_sizes: tuple = (1, 64, 64, 1)
    record_every: int = 10
    critic_warmup: int = 0  # ω-only steps first: H* = log p + const does not depend on θ
    warmup_divergence: str | None = None  # warm up with this f's objective (None: each run's own)
    init_mu: float = 0.0  # the reference code starts at μ = 0, σ = 1
    init_sigma: float = 1.0
    quadratic_skip: bool = True  # H = MLP(x) + a x + b x²: log p has quadratic tails, tanh saturates
    skip_lr_factor: float = 1.0  # after warm-up, the skip's (a, b) move this much slower than the MLP
    clip: float | None = 10.0  # per-run gradient-norm cap: χ²-type links give heavy-tailed estimates
    dtype: torch.dtype = torch.float32
    device: str = "cpu"


@dataclass
class TrainResult:
    theta: torch.Tensor  # (R, 2) final (μ, log σ)
    theta_average: torch.Tensor  # (R, 2) average over the last ``average_from`` of the steps
    history: torch.Tensor  # (R, K, 2) θ every ``record_every`` steps, starting at step 0
    history_steps: torch.Tensor  # (K,)
    status: list[str]  # "ok", or where and when a run stopped being finite
    elapsed_s: float
    omega: torch.Tensor | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def mu_sigma(self) -> torch.Tensor:
        t = self.theta_average
        return torch.stack([t[:, 0], torch.exp(t[:, 1])], dim=1)


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    return device


def febm_surrogate(g, h, r_p, r_q, e_q):
    """Mean over the last axis of g(r_p) − h(r_q) + stopgrad(h(r_q) − mean h(r_q))·E_θ(x_q).

    With samples of q held fixed, its θ-gradient is the f-EBM estimator, covariance term
    included, and its ω-gradient is ∇_ω L.
    """
    hq = h(r_q)
    c = (hq - hq.mean(dim=-1, keepdim=True)).detach()
    return g(r_p).mean(dim=-1) - hq.mean(dim=-1) + (c * e_q).mean(dim=-1)


class Adam:
    """Adam on stacked run parameters with a per-run learning rate (torch.optim takes one scalar)."""

    def __init__(self, param, betas=(0.9, 0.999), eps=1e-8):
        self.m, self.v = torch.zeros_like(param), torch.zeros_like(param)
        self.betas, self.eps, self.t = betas, eps, 0

    def direction(self, grad):
        self.t += 1
        b1, b2 = self.betas
        self.m.mul_(b1).add_(grad, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return m_hat / (v_hat.sqrt() + self.eps)


class _SGD:
    def direction(self, grad):
        return grad


def _optimizer(kind, param):
    if kind == "adam":
        return Adam(param)
    if kind == "sgd":
        return _SGD()
    raise ValueError(f"optimizer must be adam or sgd, not {kind!r}")


class BatchedGaussianFEBM:
    """R runs of f-EBM on a 1-D Gaussian EBM with an MLP critic (see the module docstring)."""

    def __init__(self, divergences, data, config: TrainConfig, seed: int = 0, lr_scale=None):
        """``divergences``: one bound Divergence per run. One generator, seeded by ``seed``,
        draws every run's numbers as (R, n) blocks, so the same seed gives the same runs."""
        self.config = config
        self.device = resolve_device(config.device)
        self.data = data
        self.runs = len(divergences)
        self.groups = _group(divergences)
        kw = {"dtype": config.dtype, "device": self.device}
        self.generator = torch.Generator(device=self.device).manual_seed(int(seed))
        self.theta = torch.tensor([[config.init_mu, math.log(config.init_sigma)]], **kw).repeat(self.runs, 1)
        self.omega = mlp.init_batched(self.runs, config.critic_sizes, self.generator, **kw)
        if config.quadratic_skip:
            self.omega = torch.cat([self.omega, torch.zeros(self.runs, 2, **kw)], dim=1)
        ones = torch.ones(self.runs, **kw)
        self.lr_scale = (ones if lr_scale is None else torch.as_tensor(lr_scale, **kw))[:, None]
        self.omega_lr_mask = torch.ones(self.omega.shape[1], **kw)
        if config.quadratic_skip:
            self.omega_lr_mask[-2:] = config.skip_lr_factor
        self.objective_scale = _objective_scale(divergences, config.per_f2, **kw)

    def sample(self, n):
        """Data samples and standard normals for the exact model samples, each (R, n)."""
        kw = {"generator": self.generator, "device": self.device, "dtype": self.config.dtype}
        x_p = self.data.sample((self.runs, n), **kw)
        return x_p, torch.randn(self.runs, n, **kw)

    # --- the surrogate -------------------------------------------------------------------
    def energy(self, theta, x):
        return 0.5 * ((x - theta[:, :1]) * torch.exp(-theta[:, 1:])) ** 2

    def critic(self, omega, x):
        if not self.config.quadratic_skip:
            return mlp.forward_batched(omega, x, self.config.critic_sizes)
        h = mlp.forward_batched(omega[:, :-2], x, self.config.critic_sizes)
        return h + omega[:, -2:-1] * x + omega[:, -1:] * x**2

    def surrogate(self, theta, omega, x_p, x_q, groups=None):
        """Per-run S (R,): its gradients are (∇_θ L, ∇_ω L) of every run. ``groups`` maps each
        divergence to its links (g, h) and runs; default: each run's own."""
        n = x_p.shape[1]
        x = torch.cat([x_p, x_q], dim=1)
        r = self.critic(omega, x) + self.energy(theta, x)
        r_p, r_q = r[:, :n], r[:, n:]
        out = torch.empty(self.runs, dtype=r.dtype, device=r.device)
        for (g, h), index in (groups or self.groups).values():
            e_q = self.energy(theta[index], x_q[index])
            out[index] = febm_surrogate(g, h, r_p[index], r_q[index], e_q)
        return out

    def _grads(self, theta, omega, x_p, x_q, wrt, groups=None, scale=None):
        theta = theta.detach().requires_grad_("theta" in wrt)
        omega = omega.detach().requires_grad_("omega" in wrt)
        scale = self.objective_scale if scale is None else scale
        S = (self.surrogate(theta, omega, x_p, x_q, groups) * scale).sum()
        inputs = [t for t, k in ((theta, "theta"), (omega, "omega")) if k in wrt]
        grads = torch.autograd.grad(S, inputs)
        return tuple(_clip(g, self.config.clip) for g in grads)

    def _warmup(self):
        """ω-only steps at the initial θ (the critic's target log p + const does not move with θ).

        Every strictly convex f has the same maximizing critic, H + E = log p/q, so the warm-up
        may use a better-behaved f (``warmup_divergence``) than the run's own."""
        cfg = self.config
        groups, scale = self.groups, self.objective_scale
        if cfg.warmup_divergence is not None:
            d = divergence(cfg.warmup_divergence)
            (links, _), = _group([d]).values()
            groups = {d.name: (links, slice(None))}
            scale = _objective_scale([d] * self.runs, cfg.per_f2, dtype=cfg.dtype, device=self.device)
        opt_o = _optimizer(cfg.optimizer, self.omega)
        for _ in range(cfg.critic_warmup):
            x_p, z = self.sample(cfg.batch)
            x_q = self.theta[:, :1] + torch.exp(self.theta[:, 1:]) * z
            (g_o,) = self._grads(self.theta, self.omega, x_p, x_q, ("omega",), groups, scale)
            self.omega = self.omega + cfg.lr_omega * self.lr_scale * opt_o.direction(g_o)

    def _step(self, step, opt_t, opt_o, alive, status):
        """One update of every live run; returns the new mask of live runs."""
        cfg = self.config
        factor = cosine_schedule(step, cfg.steps, cfg.decay)
        lr_t = cfg.lr_theta * factor * self.lr_scale * alive[:, None]
        lr_o = cfg.lr_omega * factor * self.lr_scale * alive[:, None] * self.omega_lr_mask
        x_p, z = self.sample(cfg.batch)
        x_q = (self.theta[:, :1] + torch.exp(self.theta[:, 1:]) * z).detach()
        if cfg.update == "simultaneous":
            g_t, g_o = self._grads(self.theta, self.omega, x_p, x_q, ("theta", "omega"))
            self.omega = self.omega + lr_o * opt_o.direction(g_o)
        else:  # ω first, then θ at the new ω
            (g_o,) = self._grads(self.theta, self.omega, x_p, x_q, ("omega",))
            self.omega = self.omega + lr_o * opt_o.direction(g_o)
            (g_t,) = self._grads(self.theta, self.omega, x_p, x_q, ("theta",))
        theta_new = self.theta - lr_t * opt_t.direction(g_t)
        alive = _check_finite(theta_new, self.omega, alive, status, step)
        # dead runs stay at their last finite θ; their ω is zeroed so NaN cannot spread in sums
        self.theta = torch.where(alive[:, None], theta_new, self.theta)
        self.omega = torch.where(alive[:, None], self.omega, 0.0)
        return alive

    def train(self, progress: bool = False) -> TrainResult:
        cfg = self.config
        opt_t = _optimizer(cfg.theta_optimizer or cfg.optimizer, self.theta)
        opt_o = _optimizer(cfg.optimizer, self.omega)
        alive = torch.ones(self.runs, dtype=torch.bool, device=self.device)
        status = ["ok"] * self.runs
        history, steps_rec = [self.theta.clone()], [0]
        total, count = torch.zeros_like(self.theta), torch.zeros_like(self.theta[:, :1])
        start_avg = int(cfg.steps * (1 - cfg.average_from))
        bar = _progress(cfg.steps, progress)
        t0 = time.perf_counter()
        self._warmup()
        for step in range(cfg.steps):
            alive = self._step(step, opt_t, opt_o, alive, status)
            if step >= start_avg:  # each run averages over the steps it was alive
                total = total + torch.where(alive[:, None], self.theta, 0.0)
                count = count + alive[:, None].to(count.dtype)
            if (step + 1) % cfg.record_every == 0:
                history.append(self.theta.clone())
                steps_rec.append(step + 1)
            bar.update(1)
        bar.close()
        average = torch.where(count > 0, total / count.clamp(min=1), self.theta)
        return TrainResult(
            theta=self.theta.detach().cpu(),
            theta_average=average.detach().cpu(),
            history=torch.stack(history, dim=1).detach().cpu(),
            history_steps=torch.tensor(steps_rec),
            status=status,
            elapsed_s=time.perf_counter() - t0,
            omega=self.omega.detach().cpu(),
        )


def _group(divergences):
    """{name: ((g, h) torch links, run indices)} in first-seen order."""
    groups: dict = {}
    for k, d in enumerate(divergences):
        groups.setdefault(d.name, (d, []))[1].append(k)
    return {name: ((d.function("g", "torch"), d.function("h", "torch")), _index(idx))
            for name, (d, idx) in groups.items()}


def _objective_scale(divergences, per_f2, **kw):
    """1/f''(1) per run when ``per_f2`` (D_f/f''(1) has f's minimizer), else ones."""
    if not per_f2:
        return torch.ones(len(divergences), **kw)
    flat = sorted({d.name for d in divergences if curvature(d) <= 0})
    if flat:
        raise ValueError(f"per_f2 needs f''(1) > 0; {', '.join(flat)} has none")
    return 1 / torch.tensor([curvature(d) for d in divergences], **kw)


def curvature(d) -> float:
    """f''(1) as a float, with 0 where it vanishes or f has a kink at 1."""
    return 0.0 if d.f2_at_1 is None else float(d.f2_at_1)


def _index(idx):
    """A slice when the runs are contiguous (a view, no gather), else an index tensor."""
    if idx == list(range(idx[0], idx[-1] + 1)):
        return slice(idx[0], idx[-1] + 1)
    return torch.tensor(idx)


def _clip(grad, cap):
    """Scale each run's gradient down to norm ``cap`` (an outlier would otherwise freeze Adam
    for ~1/(1 − β2) steps through its second-moment estimate)."""
    if cap is None:
        return grad
    norm = grad.norm(dim=1, keepdim=True)
    return grad * torch.clamp(cap / (norm + 1e-30), max=1.0)


def cosine_schedule(step, steps, final):
    """The learning-rate factor at ``step``: 1 at the start, ``final`` at the last step."""
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * step / max(steps - 1, 1)))


def _check_finite(theta, omega, alive, status, step):
    ok = torch.isfinite(theta).all(dim=1) & torch.isfinite(omega).all(dim=1)
    newly = alive & ~ok
    if bool(newly.any()):
        for k in torch.nonzero(newly).flatten().tolist():
            status[k] = f"run {k} became non-finite at step {step + 1}"
    return alive & ok


def _progress(total, enabled):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="f-EBM runs", unit="step", mininterval=0.5)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass
