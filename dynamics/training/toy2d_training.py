"""Training on the 2-D toys (``febm toy2d``, ``febm bench``): f-EBM and contrastive divergence, MLP
energies sampled by Langevin dynamics, exactly on a grid, or not at all (the noise-free game's exact
expectations, optionally with Adam's second moments fed a minibatch square: ``moment_batch``); the
loop, its configuration and report. The samplers are
`toy2d_sampler`, the scores `toy2d_scoring`, the figure `toy2d_plots`.

All runs (one per divergence, plus "cd") advance together: the R energies and critics are
batched MLPs, the R sets of persistent Langevin chains one (R, chains, 2) tensor. f-EBM runs
use the surrogate of `surrogate` (covariance term included); CD runs descend
E_p[E] − E_q[E]. A small penalty λ·(E_p² + E_q²) keeps the free energy offset bounded for both.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field, replace
from numbers import Integral

import torch

from ...divergences import resolve
from ...divergences.numeric import exp_bounds_for
from ...errors import InputError, UnknownName
from ...toy_models import mlp, toy2d
from .. import device as devices
from ..report import Report, RunStatus, fields_from_json, fields_to_json
from .monitor import progress_bar, still_finite
from .optim import Adam
from .samplers import langevin
from .streams import Streams
from .surrogate import curvature, febm_surrogate, inverse_curvature, require_curvature
from .toy2d_sampler import compiled_energy_gradient, grid_centres, grid_samples, refresh
from .toy2d_scoring import Score, score, score_runs


@dataclass
class Toy2DConfig:
    steps: int = 600
    batch: int = 256
    chains: int = 256
    sizes: tuple = (2, 32, 32, 1)
    activation: str = "tanh"  # hidden layers of both networks: "tanh" or "silu"
    lr: float = 2e-3
    critic_lr_ratio: float = 5.0  # η_ω/η_θ: the linearization favours a faster critic
    langevin_steps: int = 20
    langevin_step: float = 5e-3
    reinit: float = 0.05  # fraction of chains restarted from uniform noise each step (a replay buffer's role)
    box: float = 3.5
    penalty: float = 0.1
    # "free": H_ω is its own network. "residual": H = −E_θ + R_ω with R_ω's last layer starting at
    # zero, so r = H + E = R_ω starts at 0 (the equilibrium's value) and does not move with θ: the
    # θ-gradient is then the covariance term alone, the envelope gradient of D_f at a fixed critic
    critic: str = "free"
    # "langevin": persistent Langevin chains (the practical sampler). "grid": exact samples of
    # exp(−E) normalized on a sampler_grid² grid over the box (inverse CDF, uniform jitter inside a
    # cell): CD is then exact maximum likelihood on the grid, and f-EBM meets exact model samples.
    # "expectation": no sampling at all, the noise-free game: E_q exact on the grid's cell centres
    # (the grid sampler's law), E_p on the data's Gauss–Hermite nodes (`data_nodes` per axis)
    sampler: str = "langevin"
    sampler_grid: int = 64
    data_nodes: int = 4
    # with sampler "expectation": Adam's second moments are fed the square of a minibatch gradient at
    # this batch (B data points, B grid draws) while the step follows the exact gradient, i.e.
    # minibatch Adam's mean step. Noise keeps v away from 0 at rest; without it the noise-free
    # Adam flow's v collapses there and the flow blows up late. None: v sees the exact gradient
    moment_batch: int | None = None
    # the reference code's practice: every exp(a) inside the links evaluates exp(clip(a, −c, c))
    # (c = 5 in its image code); also (lo, hi) or {f name: c or (lo, hi)} (the 1-D trainer's and the
    # game's one grammar, `divergences.numeric.exp_bounds_for`); None: the exact links
    link_clip: float | tuple | dict | None = None
    dtype: torch.dtype = torch.float32
    device: str = devices.DEFAULT_DEVICE
    # the Langevin steps' energy gradient through torch.compile: faster a call, after a cold compile
    # (`benchmarks/compile_langevin.py`, numbers in docs/bench.md); it rounds differently, so runs differ
    compile: bool = False


CRITICS = ("free", "residual")
SAMPLERS = ("langevin", "grid", "expectation")


@dataclass
class Toy2DReport(Report):
    dataset: str
    methods: list[str]
    scores: list[Score]
    status: list[RunStatus]
    elapsed_s: float
    config: Toy2DConfig
    theta: torch.Tensor = field(repr=False)  # (R, P) energies' parameters
    samples: torch.Tensor = field(repr=False)  # (R, chains, 2) final persistent chains
    plot: str | None = None

    def to_json(self) -> dict:
        return fields_to_json(Toy2DRecord.of(self))

    @classmethod
    def from_json(cls, d: dict) -> "Toy2DReport":
        """Back from the JSON: scores and statuses; the trained parameters and samples are not in it."""
        r = fields_from_json(Toy2DRecord, d)
        methods = list(r.scores)
        return cls(r.dataset, methods, [r.scores[m] for m in methods], [r.status[m] for m in methods],
                   r.elapsed_s, Toy2DConfig(steps=r.steps), None, None, r.plot)

    def text(self) -> str:
        lines = [f"{self.dataset}: {self.config.steps} steps in {self.elapsed_s:.1f} s",
                 f"  {'method':18} {'KL(p|q)':>8} {'JS':>7} {'modes':>6} {'HQ':>6}"]
        for m, sc, state in zip(self.methods, self.scores, self.status):
            kl = "inf" if sc.kl is None else f"{sc.kl:.3f}"
            lines.append(f"  {m:18} {kl:>8} {sc.js:7.3f} {sc.mode_coverage:6.2f} {sc.high_quality:6.2f}"
                         + ("" if state.ok else f"  ({state})"))
        if self.plot:
            lines.append(f"  plot: {self.plot}")
        return "\n".join(lines)

    def all_figures(self) -> dict:
        return {f"toy2d-{self.dataset}": self.figure()}

    def figure(self):
        """Model samples over the data density, one panel per method, as a matplotlib Figure."""
        import matplotlib.pyplot as plt

        from .toy2d_plots import draw_samples

        return draw_samples(plt, self)


@dataclass
class Toy2DRecord:
    """The JSON of ``febm toy2d``: a view of `Toy2DReport` (scores and statuses keyed by method; the
    trained parameters and samples are not in it)."""

    dataset: str
    elapsed_s: float
    steps: int
    scores: dict[str, Score]
    status: dict[str, RunStatus]
    plot: str | None = None
    json_if_set = ("plot",)

    @classmethod
    def of(cls, r: Toy2DReport) -> "Toy2DRecord":
        return cls(r.dataset, r.elapsed_s, r.config.steps, dict(zip(r.methods, r.scores)),
                   dict(zip(r.methods, r.status)), r.plot)


def all_methods() -> list[str]:
    """"cd" and every catalog divergence with f''(1) > 0 (a non-degenerate linearization); the
    α family enters through its presets alpha=VALUE."""
    from ...divergences import names

    curved = [n for n in names() if not resolve(n).params and curvature(resolve(n)) > 0]
    return ["cd", *curved]


@dataclass(frozen=True)
class Run:
    """One run of a batch: its method ("cd" or a divergence), the key of its random stream, its
    learning rate, critic rate ratio η_ω/η_θ and number of steps."""

    method: str
    key: str
    lr: float
    critic_lr_ratio: float
    steps: int


@dataclass
class BatchResult:
    theta: torch.Tensor  # (R, P) energies' parameters
    omega: torch.Tensor  # (R, P) critics' parameters
    chains: torch.Tensor  # (R, chains, 2) final persistent chains
    status: list[RunStatus]
    elapsed_s: float
    curves: list[tuple[int, list[Score]]] = field(default_factory=list)  # (step, a score per run)


def train_toy2d(dataset: str, methods, config: Toy2DConfig | None = None, seed: int = 0,
                progress: bool = True) -> Toy2DReport:
    """Train one run per method ("cd", a divergence spec or a Divergence) on ``dataset``; returns
    samples and scores."""
    config = config or Toy2DConfig()
    specs = {(m if isinstance(m, str) else m.name): m for m in methods}
    runs = [Run(m, f"toy2d/{dataset}/{m}", config.lr, config.critic_lr_ratio, config.steps) for m in specs]
    out = train_batch(dataset, runs, config, seed, specs, progress)
    data = toy2d(dataset)
    energy = [lambda x, r=r: mlp.forward(out.theta[r], x, config.sizes, config.activation) for r in range(len(runs))]
    scores = [score(data, energy[r], out.chains[r], config.box) for r in range(len(runs))]
    return Toy2DReport(dataset, list(specs), scores, out.status, out.elapsed_s, config, out.theta, out.chains)


ANNOUNCE_S = 30.0  # estimated work past this many seconds is announced before it starts
# the networks' work runs slower than a bare product (activations, allocation, the final scores):
# toy2d moons --steps 1 --hidden 4096,4096,4096 took 140 s of CPU where the bare rate said 45 s
SLOWER = 3.0


def _bound_size(runs: list, config: Toy2DConfig, kw: dict, progress: bool) -> None:
    """Refuse networks that cannot fit in memory, and print the memory and time that large ones
    will take, before any work. `toy2d moons --hidden 4096,4096,4096` (33.6 M parameters a network,
    2·10¹² multiply-adds per run and step) ran minutes with no word before its first step."""
    from .. import memory
    from .budget import step_cost

    P, width = mlp.param_count(config.sizes), sum(config.sizes[1:-1])
    size = torch.empty((), dtype=config.dtype).element_size()
    points = max(config.chains, 2 * config.batch, config.sampler_grid**2 if config.sampler == "grid" else 0)
    # per run: θ, ω, their Adam moments, gradients and next values (~10 copies), and the activations
    # (with their gradients) of the largest batch of points through one network
    need = len(runs) * size * (10 * P + 4 * points * width)
    hidden = ",".join(map(str, config.sizes[1:-1]))
    memory.check(need, f"{len(runs)} run(s) of networks with hidden widths {hidden} ({P:,} parameters each)",
                 hint="use narrower --hidden")
    work = sum(r.steps * step_cost(r.method, config).total for r in runs) * 3 * P  # multiply-adds, forward + backward
    seconds = SLOWER * work / _multiply_adds_per_second(kw)
    if progress and seconds > ANNOUNCE_S:
        print(f"febm: {len(runs)} run(s) of networks with {P:,} parameters each: about {memory.gigabytes(need)} "
              f"and {_duration(seconds)} ({work:.1e} multiply-adds; a bare product runs {SLOWER * work / seconds:.1e} "
              "a second here)", file=sys.stderr)


def _multiply_adds_per_second(kw: dict) -> float:
    """This machine's rate on a matrix product of the networks' kind (the best of three)."""
    a, b = torch.ones(256, 512, **kw), torch.ones(512, 512, **kw)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        (a @ b).sum().item()
        best = min(best, time.perf_counter() - t0)
    return 256 * 512 * 512 / max(best, 1e-9)


def _duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def train_batch(dataset: str, runs: list[Run], config: Toy2DConfig, seed: int = 0, specs=None,
                progress: bool = False, curve_every: int | None = None, watch=None, start=None) -> BatchResult:
    """Advance all ``runs`` together; a run stops moving after its own number of steps. ``specs``
    maps a method name to its divergence spec (default: the name itself). With ``curve_every``,
    every run is scored each ``curve_every`` steps (the learning curves), and ``watch(step, theta,
    omega, alive)``, if given, sees the state there. ``start`` = (θ, ω), (R, P) each: the runs start
    there (with fresh optimizer moments) instead of at their seeded initialisation."""
    specs = specs or {}
    if config.critic not in CRITICS:
        raise UnknownName("critic form", config.critic, CRITICS)
    if config.sampler not in SAMPLERS:
        raise UnknownName("sampler", config.sampler, SAMPLERS)
    _check_draws(config)
    mlp.check_activation(config.activation)
    device = devices.select(config.device)
    data = toy2d(dataset)
    kw = {"dtype": config.dtype, "device": device}
    _bound_size(runs, config, kw, progress)
    gen = Streams(seed, [r.key for r in runs], device)  # one stream per run
    R, methods = len(runs), [r.method for r in runs]
    theta = gen.each(lambda g: mlp.init_batched(1, config.sizes, g, **kw)[0])
    omega = gen.each(lambda g: mlp.init_batched(1, config.sizes, g, **kw)[0])
    if start is not None:  # the streams drew the initialisation all the same: the samples that follow do not move
        theta, omega = (t.detach().to(**kw).clone() for t in start)
    elif config.critic == "residual":
        omega[:, -(config.sizes[-2] + 1) * config.sizes[-1]:] = 0.0  # R_ω's last layer: R starts at 0
    divs = {m: resolve(specs.get(m, m)).validate() for m in dict.fromkeys(methods) if m != "cd"}
    require_curvature(divs.values())
    # each f-EBM run plays L/f''(1) (f's minimizer, unit curvature), so one lr suits every f
    clips = {m: exp_bounds_for(d.name, config.link_clip) for m, d in divs.items()}
    links = {m: ((d.function("g", "torch", exp_clip=clips[m]), d.function("h", "torch", exp_clip=clips[m])),
                 inverse_curvature(d)) for m, d in divs.items()}
    lr_t = torch.tensor([[r.lr] for r in runs], **kw)
    lr_o = torch.tensor([[r.lr * r.critic_lr_ratio] for r in runs], **kw)
    steps = torch.tensor([r.steps for r in runs], device=device)
    chains = (gen.rand((R, config.chains, 2), **kw) * 2 - 1) * config.box
    opt_t, opt_o = Adam(theta), Adam(omega)
    alive, status = torch.ones(R, dtype=torch.bool, device=device), [RunStatus()] * R
    curves = []
    longest = max(r.steps for r in runs)
    compiled = compiled_energy_gradient(config.sizes, config.activation) if config.compile else None
    t0 = time.perf_counter()
    bar = progress_bar(longest, progress, f"toy2d {dataset}: {R} runs")
    exact = _exact_points(data, config, R, kw) if config.sampler == "expectation" else None
    for step in range(longest):
        if curve_every and step % curve_every == 0:
            curves.append((step, score_runs(data, theta, chains, config)))
            if watch is not None:
                watch(step, theta, omega, alive)
        moving = alive & (step < steps)
        if config.sampler == "expectation":
            new_chains = chains  # the noise-free game draws nothing
        elif config.sampler == "grid":
            new_chains = grid_samples(theta, config, gen, kw)
        else:
            new_chains = refresh(chains, config, gen, kw)
            energy = lambda x: mlp.forward_batched(theta, x, config.sizes, config.activation)  # noqa: E731
            gradient = None if compiled is None else (lambda x: compiled(theta, x))  # noqa: E731
            new_chains = langevin(energy, new_chains, config.langevin_steps, config.langevin_step, gen,
                                  gradient=gradient).x
        if exact is None:
            x_p = gen.each(lambda g: data.sample(config.batch, g, device=device, dtype=config.dtype))
            g_t, g_o = _gradients(theta, omega, x_p, new_chains[:, : config.batch], methods, links, config)
        else:
            x_p, x_q, w_p = exact
            g_t, g_o = _gradients(theta, omega, x_p, x_q, methods, links, config, w_p)
        squares = _minibatch_squares(theta, omega, data, methods, links, config, gen, kw)
        new_omega = omega + lr_o * opt_o.direction(g_o, squares[1])  # ascent on ω
        new_theta = theta - lr_t * opt_t.direction(g_t, squares[0])
        alive = still_finite(alive, status, step, lambda k: methods[k], new_theta, new_omega, new_chains)
        # a run that stops being finite, or has spent its steps, keeps its last state and chains
        moving = moving & alive
        theta = torch.where(moving[:, None], new_theta, theta)
        omega = torch.where(moving[:, None], new_omega, omega)
        chains = torch.where(moving[:, None, None], new_chains, torch.nan_to_num(chains))
        bar.update(1)
    bar.close()
    if curve_every:
        curves.append((longest, score_runs(data, theta, chains, config)))
        if watch is not None:
            watch(longest, theta, omega, alive)
    return BatchResult(theta, omega, chains, status, time.perf_counter() - t0, curves)


def _minibatch_squares(theta, omega, data, methods, links, config, gen, kw) -> tuple:
    """(g_θ², g_ω²) of one minibatch gradient at ``config.moment_batch`` (each run from its own stream),
    or (None, None) without one."""
    b = config.moment_batch  # `_check_draws` allows one only with the sampler "expectation"
    if b is None:
        return None, None
    x_p = gen.each(lambda g: data.sample(b, g, device=kw["device"], dtype=kw["dtype"]))
    x_q = grid_samples(theta, replace(config, chains=b), gen, kw)
    g_t, g_o = _gradients(theta, omega, x_p, x_q, methods, links, config)
    return g_t * g_t, g_o * g_o


def _check_draws(config: Toy2DConfig) -> None:
    """A step's model points are its first ``batch`` chains (or grid draws): a batch above the chains
    would silently use fewer model points than data points. A moment batch feeds only the noise-free
    game's Adam."""
    b = config.moment_batch
    if b is not None and (config.sampler != "expectation" or isinstance(b, bool) or not isinstance(b, Integral)
                          or b < 1):
        raise InputError(f"moment_batch {b!r}: a positive batch, and only with the sampler 'expectation'")
    if config.batch > config.chains:
        raise InputError(f"batch {config.batch} exceeds the {config.chains} model chains (or grid draws) a step; "
                         "raise chains to at least the batch")


def _exact_points(data, config, runs: int, kw) -> tuple:
    """(x_p, x_q, w_p): the data's Gauss–Hermite nodes and the sampler grid's cell centres, for
    every run, and the nodes' weights (the grid's are q's own, softmax(−E), at each step)."""
    nodes = data.nodes(config.data_nodes)
    centres, _ = grid_centres(config, **kw)
    x_p = nodes.x.to(**kw).expand(runs, -1, -1)
    return x_p, centres.expand(runs, -1, -1), nodes.w.to(**kw)


def _gradients(theta, omega, x_p, x_q, methods, links, config, w_p=None):
    """Both players' gradients; with node weights ``w_p`` the expectations are exact sums (p on its
    nodes, q = softmax(−E) on x_q), else sample means."""
    theta = theta.detach().requires_grad_(True)
    omega = omega.detach().requires_grad_(True)
    n = x_p.shape[1]
    x = torch.cat([x_p, x_q], dim=1)
    E = mlp.forward_batched(theta, x, config.sizes, config.activation)
    H = mlp.forward_batched(omega, x, config.sizes, config.activation)
    if w_p is None:
        w_q, total = None, config.penalty * (E**2).mean(dim=1).sum()
    else:  # the sampled arm's penalty, ½(E_p[E²] + E_q[E²]), in expectation
        w_q = torch.softmax(-E[:, n:].detach(), dim=-1)
        total = 0.5 * config.penalty * ((w_p * E[:, :n] ** 2).sum() + (w_q * E[:, n:] ** 2).sum())
    for k, m in enumerate(methods):
        e_p, e_q = E[k, :n], E[k, n:]
        wp, wq = (None, None) if w_p is None else (w_p, w_q[k])
        if m == "cd":
            mean_p = e_p.mean() if wp is None else (wp * e_p).sum()
            total = total + mean_p - (e_q.mean() if wq is None else (wq * e_q).sum())
            continue
        (g, h), scale = links[m]
        r_p, r_q = (H[k, :n], H[k, n:]) if config.critic == "residual" else (H[k, :n] + e_p, H[k, n:] + e_q)
        total = total + scale * febm_surrogate(g, h, r_p, r_q, e_q, wp, wq)
    # a CD run's critic gets no gradient: materialized as zeros
    return torch.autograd.grad(total, (theta, omega), materialize_grads=True)
