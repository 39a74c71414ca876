"""Stochastic f-EBM training of many independent runs in one vectorized computation.

The model is a 1-D Gaussian EBM, E_θ(x) = (x − μ)²/(2σ²) with θ = (μ, log σ), sampled
exactly; H_ω is a tanh MLP. Every run r has its own divergence, θ_r, ω_r, seed stream and
learning rates; parameters are stacked as (R, ·) tensors and the R critics run as one
batched matmul, so runs are never a Python loop. One backward pass of the surrogate
(`surrogate`) gives ∇_ω L and ∇_θ L with its covariance term.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from ...divergences import resolve
from ...errors import InputError, UnknownName
from ...toy_models import BatchedGaussian1D, mlp
from .. import device as devices
from ..report import RunStatus
from .monitor import progress_bar, still_finite
from .optim import clip_per_run, cosine_schedule, optimizer
from .samplers import stratified_uniform
from .streams import Streams
from .surrogate import febm_surrogate, link_groups, objective_scale

GAUSSIAN = BatchedGaussian1D
SAMPLING = ("iid", "stratified", "quadrature")
SCALE_PARAMETERS = ("log_sigma", "sigma")


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
    sampling: str = "iid"  # or "stratified": one point per 1/n slice of each quantile function;
    # or "quadrature": the slices' midpoints, the same every step (the deterministic, full-batch flow)
    scale_parameter: str = "log_sigma"  # or "sigma": θ-steps taken in (μ, σ), as the reference code does
    link_clip: object = None  # None, C, (lo, hi) or {f name: C or (lo, hi)}: exp inside the links clamped
    dtype: torch.dtype = torch.float32
    device: str = devices.DEFAULT_DEVICE


@dataclass
class TrainResult:
    theta: torch.Tensor  # (R, 2) final (μ, log σ)
    theta_average: torch.Tensor  # (R, 2) average over the last ``average_from`` of the steps
    history: torch.Tensor  # (R, K, 2) θ every ``record_every`` steps, starting at step 0
    history_steps: torch.Tensor  # (K,)
    status: list[RunStatus]  # ok, or where and when a run stopped being finite
    elapsed_s: float
    omega: torch.Tensor | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def mu_sigma(self) -> torch.Tensor:
        return GAUSSIAN.mean_sd(self.theta_average)


class BatchedGaussianFEBM:
    """R runs of f-EBM on a 1-D Gaussian EBM with an MLP critic (see the module docstring)."""

    def __init__(self, divergences, data, config: TrainConfig, seed: int = 0, lr_scale=None, keys=None):
        """``divergences``: one bound Divergence per run. Each run draws from its own stream, seeded
        from (``seed``, its key); the default key is "NAME/k" for the k-th run of that f. A run's
        numbers then do not depend on which other runs share the batch, or their order."""
        if config.sampling not in SAMPLING:
            raise UnknownName("sampling", config.sampling, SAMPLING)
        if config.sampling in ("stratified", "quadrature") and not hasattr(data, "from_uniform"):
            raise InputError(f"{config.sampling} sampling needs data with an inverse CDF (a from_uniform method)")
        if config.scale_parameter not in SCALE_PARAMETERS:
            raise UnknownName("scale parameter", config.scale_parameter, SCALE_PARAMETERS)
        self.config = config
        self.device = devices.select(config.device)
        self.data = data
        self.runs = len(divergences)
        self.groups = link_groups(divergences, config.link_clip)
        kw = {"dtype": config.dtype, "device": self.device}
        self.streams = Streams(seed, keys or run_keys(divergences), self.device)
        self.theta = GAUSSIAN.initial(self.runs, config.init_mu, config.init_sigma, **kw)
        self.omega = self.streams.each(lambda g: mlp.init_batched(1, config.critic_sizes, g, **kw)[0])
        if config.quadratic_skip:
            self.omega = torch.cat([self.omega, torch.zeros(self.runs, 2, **kw)], dim=1)
        ones = torch.ones(self.runs, **kw)
        self.lr_scale = (ones if lr_scale is None else torch.as_tensor(lr_scale, **kw))[:, None]
        self.omega_lr_mask = torch.ones(self.omega.shape[1], **kw)
        if config.quadratic_skip:
            self.omega_lr_mask[-2:] = config.skip_lr_factor
        self.objective_scale = objective_scale(divergences, config.per_f2, **kw)

    def sample(self, n):
        """Data samples and standard normals for the exact model samples, each (R, n), every run
        from its own stream."""
        kw = {"device": self.device, "dtype": self.config.dtype}
        each = self.streams.each
        if self.config.sampling == "quadrature":
            u = ((torch.arange(n, **kw) + 0.5) / n).expand(self.runs, n)
            return self.data.from_uniform(u), torch.special.ndtri(u)
        if self.config.sampling == "stratified":
            x_p = self.data.from_uniform(each(lambda g: stratified_uniform(1, n, g, **kw)[0]))
            return x_p, torch.special.ndtri(each(lambda g: stratified_uniform(1, n, g, **kw)[0]))
        return each(lambda g: self.data.sample((n,), g, **kw)), each(lambda g: torch.randn(n, generator=g, **kw))

    # --- the surrogate -------------------------------------------------------------------
    def energy(self, theta, x):
        return GAUSSIAN.energy(theta, x)

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
        return tuple(clip_per_run(g, self.config.clip) for g in grads)

    def gradients(self, x_p, x_q, wrt=("theta", "omega")) -> tuple:
        """Each run's gradients of the surrogate at the current (θ, ω) on the batches ``x_p`` (data)
        and ``x_q`` (model), clipped per run as a training step clips them, in the order of ``wrt``."""
        return self._grads(self.theta, self.omega, x_p, x_q, wrt)

    def _warmup(self, bar=None):
        """ω-only steps at the initial θ (the critic's target log p + const does not move with θ).

        Every strictly convex f has the same maximizing critic, H + E = log p/q, so the warm-up
        may use a better-behaved f (``warmup_divergence``) than the run's own."""
        cfg = self.config
        groups, scale = self.groups, self.objective_scale
        if cfg.warmup_divergence is not None:
            d = resolve(cfg.warmup_divergence)
            (links, _), = link_groups([d]).values()
            groups = {d.name: (links, slice(None))}
            scale = objective_scale([d] * self.runs, cfg.per_f2, dtype=cfg.dtype, device=self.device)
        opt_o = optimizer(cfg.optimizer, self.omega)
        for _ in range(cfg.critic_warmup):
            x_p, z = self.sample(cfg.batch)
            x_q = GAUSSIAN.sample(self.theta, z)
            (g_o,) = self._grads(self.theta, self.omega, x_p, x_q, ("omega",), groups, scale)
            self.omega = self.omega + cfg.lr_omega * self.lr_scale * opt_o.direction(g_o)
            if bar is not None:
                bar.update(1)

    def _step(self, step, opt_t, opt_o, alive, status):
        """One update of every live run; returns the new mask of live runs."""
        cfg = self.config
        factor = cosine_schedule(step, cfg.steps, cfg.decay)
        lr_t = cfg.lr_theta * factor * self.lr_scale * alive[:, None]
        lr_o = cfg.lr_omega * factor * self.lr_scale * alive[:, None] * self.omega_lr_mask
        x_p, z = self.sample(cfg.batch)
        x_q = GAUSSIAN.sample(self.theta, z).detach()
        if cfg.update == "simultaneous":
            g_t, g_o = self._grads(self.theta, self.omega, x_p, x_q, ("theta", "omega"))
            self.omega = self.omega + lr_o * opt_o.direction(g_o)
        else:  # ω first, then θ at the new ω
            (g_o,) = self._grads(self.theta, self.omega, x_p, x_q, ("omega",))
            self.omega = self.omega + lr_o * opt_o.direction(g_o)
            (g_t,) = self._grads(self.theta, self.omega, x_p, x_q, ("theta",))
        theta_new = self._theta_step(lr_t * opt_t.direction(self._in_scale(g_t)))
        alive = still_finite(alive, status, step, lambda k: f"run {k}", theta_new, self.omega)
        # dead runs stay at their last finite θ; their ω is zeroed so NaN cannot spread in sums
        self.theta = torch.where(alive[:, None], theta_new, self.theta)
        self.omega = torch.where(alive[:, None], self.omega, 0.0)
        return alive

    def _in_scale(self, g_t):
        """∇_θ L in the coordinates the steps are taken in: ∂/∂σ = (∂/∂log σ)/σ for "sigma"."""
        if self.config.scale_parameter == "log_sigma":
            return g_t
        return torch.stack([g_t[:, 0], g_t[:, 1] * torch.exp(-self.theta[:, 1])], dim=1)

    def _theta_step(self, move):
        """θ after a descent step ``move`` in the step coordinates (σ ≤ 0 gives log σ = nan: the run
        stops being finite, as the reference code's would)."""
        if self.config.scale_parameter == "log_sigma":
            return self.theta - move
        sigma = torch.exp(self.theta[:, 1]) - move[:, 1]
        log_sigma = torch.log(sigma.clamp(min=0.0)).nan_to_num(neginf=float("nan"))
        return torch.stack([self.theta[:, 0] - move[:, 0], log_sigma], dim=1)

    def train(self, progress: bool = False, until=None) -> TrainResult:
        """All steps, or fewer: ``until(step, theta, alive)`` is asked at every recorded step and ends
        the runs when it returns True."""
        cfg = self.config
        opt_t = optimizer(cfg.theta_optimizer or cfg.optimizer, self.theta)
        opt_o = optimizer(cfg.optimizer, self.omega)
        alive = torch.ones(self.runs, dtype=torch.bool, device=self.device)
        status = [RunStatus()] * self.runs
        history, steps_rec = [self.theta.clone()], [0]
        total, count = torch.zeros_like(self.theta), torch.zeros_like(self.theta[:, :1])
        start_avg = int(cfg.steps * (1 - cfg.average_from))
        # the bar covers the critic's warm-up too, so it moves from the first step
        bar = progress_bar(cfg.critic_warmup + cfg.steps, progress, "f-EBM runs (critic warm-up, then both)")
        t0 = time.perf_counter()
        self._warmup(bar)
        for step in range(cfg.steps):
            alive = self._step(step, opt_t, opt_o, alive, status)
            if step >= start_avg:  # each run averages over the steps it was alive
                total = total + torch.where(alive[:, None], self.theta, 0.0)
                count = count + alive[:, None].to(count.dtype)
            bar.update(1)
            if (step + 1) % cfg.record_every == 0:
                history.append(self.theta.clone())
                steps_rec.append(step + 1)
                if until is not None and until(step + 1, self.theta, alive):
                    break
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


def run_keys(divergences) -> list[str]:
    """"NAME/k" for the k-th run of each f: a run's key, and so its stream, is the same whatever
    else shares the batch."""
    seen: dict = {}
    keys = []
    for d in divergences:
        keys.append(f"paper-1d/{d.name}/{seen.get(d.name, 0)}")
        seen[d.name] = seen.get(d.name, 0) + 1
    return keys
