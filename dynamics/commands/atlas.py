"""``febm atlas``: where f matters, in one table. For each divergence on one set-up: the links'
tails, the (possibly misspecified) equilibrium and its bias, the spectrum and stable steps, the
estimator's tail index along the way from the training start, the mean-square edge with batch
B, the tail margin under stationary noise, and whether the flow converges from the start; then
a one-word prediction by the rule in `RULE`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import torch

from ...divergences import Divergence, resolve
from ...divergences.divergence import number
from ...errors import InputError
from ...toy_models import DataDensity, ExactSampler, Setup, setup
from ..analysis import basins as basins_
from ..analysis.estimator_tails import finiteness, tail_margin
from ..analysis.local import LocalAnalysis, regularity_verdict
from ..analysis.mean_square import mean_square
from ..analysis.simulate import FlowOutcome
from ..report import Report, Verdict, finite_or_none

RULE = (
    "fails: f''(1) is 0 or undefined, no equilibrium, an unstable flow, an estimator whose mean is "
    "infinite (tail index κ ≤ 1) at the start, on the path to the equilibrium or there, or a flow that "
    "escapes from the training start (θ_init with a fresh critic, ω = 0); "
    "fragile: an infinite variance (κ ≤ 2) somewhere on that path, a tail margin under 3 stationary "
    "sd at the equilibrium (noise at 0.1·η_ms), a flow that stalls from the start (not back within "
    "30/|Re λ|), or a slowest rate below 0.01 (more than 100/η steps to converge); "
    "trains: otherwise"
)
RULE_BUDGET = (
    "with a training budget (flow time T = lr × steps), also: fails if the exact flow from the training "
    "start is more than 0.25 from the exact minimizer at time T (max over the model's readable "
    "parameters, e.g. μ and σ), fragile if more than 0.05"
)
TRAIN_ERROR, FAIL_ERROR = 0.05, 0.25
PATH_POINTS = 21
REFERENCE_FRACTION = 0.1  # the stationary noise of the tail margin is taken at 0.1·η_ms (mean-square edge)


class Prediction(StrEnum):
    """The atlas's one word per f (compares equal to its JSON string)."""

    TRAINS = "trains"
    FRAGILE = "fragile"
    FAILS = "fails"


@dataclass(frozen=True)
class AtlasRow:
    """One divergence's atlas entry, built once by `atlas_row` (the fields past ``tails`` default to
    a row with no equilibrium measured)."""

    name: str
    f2_at_1: float | str | None
    f3_at_1: float | str | None
    tails: dict  # link -> side -> growth text
    equilibrium: bool = False
    theta: list | None = None
    bias: float | None = None  # |θ_eq − θ of the exact D_f minimizer| (critic-capacity bias)
    rate: float | None = None  # slowest transverse Re λ at unit rates
    verdict: Verdict = Verdict.NOT_APPLICABLE
    eta_max_simultaneous: float | None = None
    eta_max_alternating: float | None = None
    critical_lr_ratio: float | None = None
    tail_index_start: float | None = None  # κ at the training start, ideal critic
    tail_index_path: float | None = None  # min κ from the start to the equilibrium, ideal critic
    tail_index_equilibrium: float | None = None  # κ at the equilibrium with the game's own critic
    finite_path: list = field(default_factory=list)  # fractions of the path with finite variance
    eta_ms: float | None = None  # mean-square edge of simultaneous steps with batch B (0: infinite variance at z*)
    tail_margin_sd: float | None = None
    from_start: FlowOutcome | None = None  # the exact flow from the training start: arrived, escaped or stalled
    basin: dict | None = None  # with basins=True: radii along ± the slowest mode and 2 random directions
    budget: float | None = None  # flow time of the training to predict (lr × steps), if given
    predicted_error: float | None = None  # max |(μ, σ)(T) − exact minimizer| of the exact flow from the start
    prediction: Prediction = Prediction.FAILS
    reasons: list = field(default_factory=list)
    elapsed_s: float = 0.0


def _num(x):
    return finite_or_none(x) if isinstance(x, float) else x


def _path_indices(game, theta0, theta1):
    thetas = [theta0 + s * (theta1 - theta0) for s in np.linspace(0, 1, PATH_POINTS)]
    return [finiteness(game, th) for th in thetas]


def _predict(row: AtlasRow) -> tuple[Prediction, list[str]]:
    fails, fragile = [], []
    if not row.equilibrium:
        fails.append("no equilibrium found")
    elif row.verdict != Verdict.STABLE:
        fails.append(f"the flow is {row.verdict} at the equilibrium")
    kappas = [k for k in (row.tail_index_start, row.tail_index_path, row.tail_index_equilibrium) if k is not None]
    if kappas and min(kappas) <= 1:
        fails.append(f"tail index {min(kappas):.3g} ≤ 1: an infinite-mean gradient estimate")
    elif kappas and min(kappas) <= 2:
        fragile.append(f"tail index {min(kappas):.3g} ≤ 2: infinite variance on the way")
    if row.from_start == FlowOutcome.ESCAPED:
        fails.append("the exact flow from the training start escapes")
    elif row.from_start == FlowOutcome.STALLED:
        fragile.append("the exact flow from the training start stalls")
    if row.tail_margin_sd is not None and row.tail_margin_sd < 3:
        fragile.append(f"tail margin {row.tail_margin_sd:.2g} sd: noise reaches infinite variance")
    if row.rate is not None and row.equilibrium and abs(row.rate) < 0.01:
        fragile.append(f"slowest rate {row.rate:.2g}")
    if row.budget is not None and row.equilibrium and row.from_start is not None:  # the flow from the start ran
        e = row.predicted_error
        if e is None and row.from_start != FlowOutcome.ESCAPED:  # (an escape is said above)
            fails.append(f"no distance to the exact minimizer after the budget's time {row.budget:g} (the flow "
                         "from the start is not finite there, or the minimizer is not known)")
        elif e is not None and e > FAIL_ERROR:
            fails.append(f"the flow from the start is {e:.2g} off after the budget's time {row.budget:g}")
        elif e > TRAIN_ERROR:
            fragile.append(f"the flow from the start is {e:.2g} off after the budget's time {row.budget:g}")
    if fails:
        return Prediction.FAILS, fails
    return (Prediction.FRAGILE, fragile) if fragile else (Prediction.TRAINS, [])


def _tails(d: Divergence) -> dict:
    t = d.tails
    return {"g'": {"-inf": t[("g_prime", -1)].text(), "+inf": t[("g_prime", 1)].text()},
            "h'": {"-inf": t[("h_prime", -1)].text(), "+inf": t[("h_prime", 1)].text()}}


def _readable(model, theta):
    return torch.stack(list(model.mean_sd(theta))) if hasattr(model, "mean_sd") else theta


def atlas_row(spec, s: Setup, batch: int, ratio: float = 1.0, with_basins: bool = False,
              budget: float | None = None) -> AtlasRow:
    """The atlas entry of one divergence on one set-up (see the module docstring). Its equilibrium,
    spectrum and verdict come from the same `LocalAnalysis` as ``febm check``'s."""
    t0 = time.perf_counter()
    d = resolve(spec).validate()
    head = {"name": d.name, "f2_at_1": number(d.f2_at_1), "f3_at_1": number(d.f3_at_1), "tails": _tails(d)}
    unlinearizable = regularity_verdict(d.regularity)
    if unlinearizable is not None:  # no equilibrium search for an f the local theory cannot take
        verdict, reason = unlinearizable
        return AtlasRow(**head, verdict=verdict, prediction=Prediction.FAILS, reasons=[reason])
    la = LocalAnalysis.build(d, s, ratio)
    if not la.usable:
        return AtlasRow(**head, verdict=la.verdict, prediction=Prediction.FAILS, reasons=[la.reason])
    row = AtlasRow(**head, verdict=la.verdict, **_measure(la, s, batch, ratio, with_basins, budget))
    prediction, reasons = _predict(row)
    return replace(row, prediction=prediction, reasons=reasons, elapsed_s=time.perf_counter() - t0)


def _measure(la: LocalAnalysis, s: Setup, batch, ratio, with_basins, budget) -> dict:
    """The fields of a row with an equilibrium, by name."""
    game, lin, theta = la.game, la.lin, la.theta
    omega = game.split(la.equilibrium.z)[1]
    stable = la.verdict is Verdict.STABLE
    crit = la.critical_ratios
    eta_max = la.eta_max("simultaneous")
    out = {"equilibrium": True, "theta": [float(v) for v in theta], "bias": la.bias,
           "rate": _num(la.spectrum.transverse_max_real), "eta_max_simultaneous": eta_max,
           "eta_max_alternating": la.eta_max("alternating"), "critical_lr_ratio": crit[0] if crit else None,
           "budget": budget}
    kappa = None  # at the equilibrium
    if isinstance(s.data, DataDensity):
        kappa = finiteness(game, theta, r=lambda x: game.r(theta, omega, x)).min_tail_index
        out["tail_index_equilibrium"] = kappa
    if s.theta_init is not None and isinstance(s.data, DataDensity):
        path = _path_indices(game, s.theta_init, theta)
        out["tail_index_start"] = path[0].min_tail_index
        out["tail_index_path"] = min(f.min_tail_index for f in path)
        out["finite_path"] = [float(x) for x, f in zip(np.linspace(0, 1, PATH_POINTS), path) if f.all_finite]
    infinite_variance = kappa is not None and kappa <= 2
    if infinite_variance and eta_max is not None and stable:
        out["eta_ms"] = 0.0  # an infinite second moment at z*: no step keeps it bounded (quadrature would
        # return a finite, node-range-dependent number instead)
    elif isinstance(s.model, ExactSampler) and eta_max is not None and stable:
        ms = mean_square(lin, batch, ratio)
        out["eta_ms"] = eta_ms = ms.edge(eta_max)
        if eta_ms is not None:
            out["tail_margin_sd"] = tail_margin(game, lin.z_star, ms.stationary(REFERENCE_FRACTION * eta_ms))
    reference = s.reference_theta(la.divergence)
    if s.theta_init is not None and stable:
        # training starts with a fresh critic: H ≈ 0 (ω = 0), as an initialized MLP's near-constant output
        start = torch.cat([s.theta_init, torch.zeros(game.dim_omega, dtype=s.theta_init.dtype)])
        out["from_start"], end = basins_.journey(lin, start, budget or 0.0, ratio)
        if budget is not None and reference is not None and end is not None:
            got, want = _readable(s.model, game.split(end)[0]), _readable(s.model, reference)
            out["predicted_error"] = float((got - want).abs().max())
    if with_basins and stable:
        out["basin"] = basins_.basin(lin, random_directions=2, r_max=3.0, steps=5, ratio=ratio).to_json()
    return out


@dataclass
class AtlasReport(Report):
    model: str
    model_description: str
    batch: int
    lr_ratio: float
    rule: str
    elapsed_s: float
    plot: str | None = None
    rows: list[AtlasRow] = field(kw_only=True)  # last in the JSON, after the settings

    def text(self) -> str:
        head = (f"febm atlas on {self.model} (batch {self.batch}, η_ω/η_θ = {self.lr_ratio:g}), "
                f"{len(self.rows)} divergences in {self.elapsed_s:.1f} s")
        cols = (f"  {'divergence':17} f''(1) f'''(1)      g' at −∞      h' at +∞ {'bias':>7} "
                f"{'rate':>8} {'η_max':>7} {'η_ms':>7} {'κ start':>7} {'κ path':>7} {'κ eq':>6} {'margin':>7}"
                "  prediction")
        lines = [head, cols]
        for r in self.rows:
            lines.append(
                f"  {r.name:17} {_fmt(r.f2_at_1):>6} {_fmt(r.f3_at_1):>7} {r.tails[chr(103) + chr(39)]['-inf']:>13} "
                f"{r.tails['h' + chr(39)]['+inf']:>13} {_fmt(r.bias):>7} {_fmt(r.rate):>8} "
                f"{_fmt(r.eta_max_simultaneous):>7} {_fmt(r.eta_ms):>7} {_fmt(r.tail_index_start):>7} "
                f"{_fmt(r.tail_index_path):>7} {_fmt(r.tail_index_equilibrium):>6} {_fmt(r.tail_margin_sd):>7}  "
                f"{r.prediction.upper()}" + (f" ({'; '.join(r.reasons)})" if r.reasons else ""))
        lines.append(f"  rule: {self.rule}")
        lines.append("  game: the stand-in (the set-up's own critic); its classes agreed with measured training no "
                     "better than the commonest class. febm atlas NAME --critic mlp:64,64 --lr LR --batch B --steps S "
                     "answers from the network that trains")
        if self.plot:
            lines.append(f"  plot: {self.plot}")
        return "\n".join(lines)

    def figure(self):
        import matplotlib.pyplot as plt

        return draw(plt, self)

    def all_figures(self) -> dict:
        return {f"atlas-{self.model}": self.figure()}



def _fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:.3g}"


def atlas(names=None, model: str | Setup = "paper-1d", batch: int = 1000, lr_ratio: float = 1.0,
          progress: bool = True, basins: bool = False, budget: float | None = None) -> AtlasReport:
    """The atlas over ``names`` (default: every catalog divergence with f''(1) > 0). ``basins`` adds
    the basin radii (bisected flows: tens of seconds per divergence)."""
    from ..training.monitor import progress_bar
    from ..training.toy2d_training import all_methods

    t0 = time.perf_counter()
    names = list(names) if names else all_methods()[1:]
    specs = [resolve(n).validate() for n in names]  # a bad name fails before any work
    s = setup(model)
    if budget is not None and s.theta_init is None:  # every lr read "not finite" here: no flow was run
        raise InputError(f"--lr/--steps (a training budget) are judged by the flow from the set-up's training "
                         f"start, and {s.name} has none (it is realizable: the analysis starts at its equilibrium); "
                         "drop them, or use a set-up with a start such as paper-1d")
    bar = progress_bar(len(specs), progress, "febm atlas")
    rows = []
    for d in specs:
        bar.set_description(f"febm atlas: {d.name}")
        rows.append(atlas_row(d, s, batch, lr_ratio, basins, budget))
        bar.update(1)
    bar.close()
    rule = RULE if budget is None else f"{RULE}; {RULE_BUDGET}"
    return AtlasReport(s.name, s.description, batch, lr_ratio, rule, time.perf_counter() - t0, rows=rows)


def draw(plt, report: AtlasReport):
    """Step-size limits and tail indices per divergence, coloured by the prediction."""
    colours = {Prediction.TRAINS: "C2", Prediction.FRAGILE: "C1", Prediction.FAILS: "C3"}
    rows = report.rows
    y = np.arange(len(rows))
    # two-line titles, a suptitle, the legend and the κ labels need ~4 inches whatever the rows (one row
    # at 0.42 per row collapsed the axes: titles over each other, labels cut)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, max(4.4, 0.42 * len(rows) + 1.8)), sharey=True,
                                   layout="constrained")
    for k, r in enumerate(rows):
        c = colours[r.prediction]
        if r.eta_max_simultaneous:
            ax1.plot([r.eta_max_simultaneous], [k], "o", color=c)
        if r.eta_ms:
            ax1.plot([r.eta_ms], [k], "x", color=c, ms=8)
        kappas = [v for v in (r.tail_index_start, r.tail_index_path, r.tail_index_equilibrium) if v is not None]
        shown = [min(v, 10.0) for v in kappas]
        if shown:
            ax2.plot(shown, [k] * len(shown), "-", color="0.8", zorder=1)
            ax2.scatter(shown, [k] * len(shown), color=c, zorder=2, s=[40, 25, 15][: len(shown)])
    ax1.set(xscale="log", xlabel="step size η_θ", yticks=y, yticklabels=[r.name for r in rows],
            title=f"largest stable step\n(o: deterministic, x: mean-square at batch {report.batch})")
    ax1.invert_yaxis()
    for v, label in ((1, "κ ≤ 1: infinite mean "), (2, "κ ≤ 2: infinite variance ")):
        ax2.axvline(v, color="0.5", ls="--", lw=1)
        ax2.text(v - 0.08, 0.03, label, fontsize=7, ha="right", va="bottom", rotation=90, color="0.35",
                 transform=ax2.get_xaxis_transform())  # from the axes' foot, whatever the rows
    ax2.set(xlabel="tail index κ of the per-sample θ-gradient (capped at 10)", xlim=(0, 10.5),
            title="tail index κ: at the start (large dot),\nworst on the path (medium), at the equilibrium (small)")
    for name, c in colours.items():
        ax2.plot([], [], "o", color=c, label=name)
    ax2.legend(loc="lower right", fontsize=8, title="prediction")
    fig.suptitle(f"febm atlas on {report.model}")
    return fig
