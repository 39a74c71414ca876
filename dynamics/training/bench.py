"""f-EBM against contrastive divergence on the 2-D toys: seeded, at equal counted budgets.

Protocol (docs/bench.md): every method trains the same energy network with the same sampler and
replay settings; every run gets the same budget of gradient evaluations (`budget`), so a method
whose step costs less takes more steps. Each (dataset, method) runs on ``seeds`` seeds, all in
one batch per dataset, each on its own random stream. With ``tune``, each method first picks
its learning rate and critic rate ratio from `TUNING` on a validation seed that is never
reported. A method is compared with CD by Welch's t-test on the final JS over seeds.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum

from ...toy_models import toy2d
from .. import device as devices
from ..report import Report, jsonable
from .budget import step_cost, steps_within
from .toy2d_scoring import Score, score_runs
from .toy2d_training import Run, Toy2DConfig, all_methods, train_batch

DATASETS = ("8gaussians", "25gaussians", "moons", "rings")
TUNING = tuple((lr, ratio) for lr in (1e-3, 2e-3, 4e-3) for ratio in (2.0, 5.0))  # (lr, η_ω/η_θ)
SCORES = ("js", "kl", "nll", "mode_coverage", "high_quality")


@dataclass(frozen=True)
class Preset:
    """A named operating point of the bench: the trainer's settings over `Toy2DConfig`'s defaults, the
    budget per run (gradient evaluations), the tuning grid of (lr, ratio), and what it costs."""

    description: str
    settings: tuple  # (field, value) pairs
    budget: float
    tuning: tuple
    cost: str  # measured on this project's 2-core machine (docs/bench.md)

    def config(self, **overrides) -> Toy2DConfig:
        return replace(Toy2DConfig(), **{**dict(self.settings), **overrides})


PRESETS = {
    # where CD learns 8 Gaussians and moons on a CPU (studies/cpu_verdict.py's pilot): exact grid samples
    "cpu-exact": Preset("exact samples from a 64² grid, 2-32-32-1 tanh, lr 1e-2, batch 256",
                        (("sampler", "grid"), ("sampler_grid", 64), ("lr", 1e-2), ("batch", 256)),
                        27.6e6, tuple((lr, r) for lr in (5e-3, 1e-2, 2e-2) for r in (2.0, 5.0)),
                        "about 3–5 min a toy for cd and one f at 5 seeds, one thread (×2.2 with --tune)"),
    # the earlier default, where no method learns 25 Gaussians or rings (docs/bench.md's 6 M table)
    "under-trained": Preset("Langevin chains, 2-32-32-1 tanh, lr 2e-3, 6 M evaluations", (), 6e6, TUNING,
                            "about 1 min a toy for cd and one f at 5 seeds, one thread"),
    # the GPU pilot's exact arm (docs/bench.md), where CD learns all four toys
    "gpu-exact": Preset("exact samples from a 160² grid, 2-128-128-1 SiLU, lr 2e-3",
                        (("sampler", "grid"), ("sampler_grid", 160), ("sizes", (2, 128, 128, 1)),
                         ("activation", "silu")), 60e6, TUNING,
                        "meant for a GPU: about 35 min a toy for cd and one f on one CPU thread"),
}
DEFAULT_PRESET = "cpu-exact"
CURVE_POINTS = 10


@dataclass
class Interval:
    """Mean over seeds with the half-width of its 95% t-interval (None: fewer than 2 finite values)."""

    mean: float | None
    half_width: float | None
    n: int

    @classmethod
    def of(cls, values) -> "Interval":
        from scipy.stats import t

        xs = [v for v in values if v is not None and math.isfinite(v)]
        if not xs:
            return cls(None, None, 0)
        mean = sum(xs) / len(xs)
        if len(xs) < 2:
            return cls(mean, None, len(xs))
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
        return cls(mean, float(t.ppf(0.975, len(xs) - 1)) * sd / math.sqrt(len(xs)), len(xs))

    def text(self, digits: int = 3) -> str:
        if self.mean is None:
            return "n/a"
        hw = "" if self.half_width is None else f"±{self.half_width:.{digits}f}"
        return f"{self.mean:.{digits}f}{hw}"


class Comparison(StrEnum):
    """A method's final JS against CD's on the same dataset (compares equal to its JSON string)."""

    BEATS = "beats"  # lower, Welch's t-test at p < 0.05
    TIES = "ties"  # p ≥ 0.05
    LOSES = "loses"  # higher, p < 0.05
    ONE_SEED = "n/a (one seed)"  # fewer than 2 seeds on a side: no test


@dataclass
class CurvePoint:
    """One point of a cell's learning curve: gradient evaluations spent per run, and the JS over seeds there."""

    evaluations: float
    js: Interval


@dataclass
class Cell:
    """One (dataset, method): its settings, steps, per-seed scores and their intervals."""

    dataset: str
    method: str
    lr: float
    critic_lr_ratio: float
    steps: int
    evaluations: int  # gradient evaluations spent per run
    seeds: list[Score]
    failed: int  # runs that stopped being finite
    summary: dict[str, Interval]  # score name -> Interval
    curve: list[CurvePoint]
    verdict: Comparison | None = None  # against CD, at Holm-adjusted p < 0.05; None for CD itself
    p_value: float | None = None  # Welch's test against CD
    p_holm: float | None = None  # p_value after Holm's correction over the report's comparisons


@dataclass
class BenchReport(Report):
    cells: list[Cell]
    protocol: dict
    elapsed_s: float
    device: str
    plot: str | None = None
    extra: dict = field(default_factory=dict)
    json_order = ("protocol", "elapsed_s", "device", "cells")  # the settings first, as saved results have them
    json_if_set, json_drop = ("plot",), ("extra",)

    def text(self) -> str:
        p = self.protocol
        tuned = ", tuned on a validation seed" if p["tuned"] else ""
        lines = [f"bench toy2d on {self.device}: {p['seeds']} seeds, budget {p['budget']:.3g} gradient "
                 f"evaluations per run, {self.elapsed_s:.0f} s{tuned}",
                 "  mean ± 95% CI over seeds; vs CD: Welch's t-test on JS, Holm-adjusted p < 0.05"]
        for dataset in dict.fromkeys(c.dataset for c in self.cells):
            lines.append(f"{dataset}:")
            lines.append(f"  {'method':18} {'lr':>7} {'ratio':>5} {'steps':>6} {'JS':>13} {'NLL':>13} "
                         f"{'modes':>11} {'HQ':>11} {'failed':>6}  vs CD")
            for c in (c for c in self.cells if c.dataset == dataset):
                s = c.summary
                vs = c.verdict or ""
                if c.p_holm is not None:
                    vs += f" (p {c.p_value:.2g}, Holm {c.p_holm:.2g})"
                lines.append(f"  {c.method:18} {c.lr:7.0e} {c.critic_lr_ratio:5.1f} {c.steps:6d} "
                             f"{s['js'].text():>13} {s['nll'].text(2):>13} {s['mode_coverage'].text(2):>11} "
                             f"{s['high_quality'].text(2):>11} {c.failed:>6}  {vs}")
        if self.plot:
            lines.append(f"plot: {self.plot}")
        return "\n".join(lines)

    def all_figures(self) -> dict:
        return {"bench-toy2d": self.figure()}

    def figure(self):
        """Learning curves (JS against gradient evaluations, mean and 95% band), one panel per dataset."""
        import matplotlib.pyplot as plt

        return draw_curves(plt, self)


def check_inputs(datasets, methods) -> None:
    """Raise UnknownName or InputError, with one line, for a bad dataset or method."""
    from ...divergences import resolve
    from ...errors import InputError
    from ...toy_models.toy2d import TOY2D
    from .surrogate import curvature

    for d in datasets:
        TOY2D[d]  # noqa: B018 (the lookup is the check)
    for m in methods or []:
        if m != "cd" and curvature(resolve(m).validate()) <= 0:
            raise InputError(f"{m} has no curvature at 1 (f''(1) = 0 or a kink): f-EBM has no linear restoring force")


def run(datasets=DATASETS, methods=None, seeds: int = 5, budget: float | None = None, tune: bool = False,
        config: Toy2DConfig | None = None, seed: int = 0, progress: bool = True, tuning=None,
        settings: dict | None = None) -> BenchReport:
    """The benchmark: per dataset, optional tuning on a validation seed (over ``tuning``, (lr, ratio)
    pairs), then methods × seeds in one batch. ``config`` and ``budget`` default to the `DEFAULT_PRESET`'s,
    and ``tuning`` to its grid (to `TUNING` beside a given ``config``). Bad datasets or methods raise
    before anything trains. ``settings``: {dataset: {method: (lr, ratio)}} chosen earlier (e.g. by a tuned
    run at another budget), used as they are."""
    check_inputs(datasets, methods)
    methods = list(methods or all_methods())
    preset = PRESETS[DEFAULT_PRESET]
    budget = preset.budget if budget is None else budget
    tuning = tuple(tuning or (preset.tuning if config is None else TUNING))
    config = config or preset.config()
    t0 = time.perf_counter()
    cells = []
    for dataset in datasets:
        if settings is not None:
            chosen = {m: tuple(settings[dataset][m]) for m in methods}
        elif tune:
            chosen = _tune(dataset, methods, budget, config, seed, progress, tuning)
        else:
            chosen = {m: (config.lr, config.critic_lr_ratio) for m in methods}
        cells += _measure(dataset, methods, chosen, seeds, budget, config, seed, progress)
    compare_with_cd(cells)
    protocol = {"datasets": list(datasets), "methods": methods, "seeds": seeds, "budget": budget, "tuned": tune,
                "critic": config.critic,
                "tuning_grid": [list(s) for s in tuning] if tune else None, "master_seed": seed,
                "config": jsonable({k: v for k, v in asdict(config).items() if k not in ("dtype", "device")}),
                "step_cost": {m: asdict(step_cost(m, config)) for m in ("cd", "f-EBM")}}
    return BenchReport(cells, protocol, time.perf_counter() - t0, str(devices.select(config.device)))


def _tune(dataset, methods, budget, config, seed, progress, tuning=TUNING) -> dict:
    """Per method, the (lr, ratio) of ``tuning`` with the lowest final JS on the validation seed."""
    runs = [Run(m, f"bench/{dataset}/{m}/validation", lr, ratio, steps_within(budget, m, config))
            for m in methods for lr, ratio in tuning]
    out = train_batch(dataset, runs, config, seed, progress=progress)
    scores = score_runs(toy2d(dataset), out.theta, out.chains, config)
    best = {}
    for r, sc, st in zip(runs, scores, out.status):
        js = sc.js if st.ok and math.isfinite(sc.js) else math.inf
        if r.method not in best or js < best[r.method][0]:
            best[r.method] = (js, (r.lr, r.critic_lr_ratio))
    return {m: setting for m, (_, setting) in best.items()}


def _measure(dataset, methods, settings, seeds, budget, config, seed, progress) -> list[Cell]:
    runs = [Run(m, f"bench/{dataset}/{m}/seed{s}", *settings[m], steps_within(budget, m, config))
            for m in methods for s in range(seeds)]
    longest = max(r.steps for r in runs)
    out = train_batch(dataset, runs, config, seed, progress=progress, curve_every=max(longest // CURVE_POINTS, 1))
    final = out.curves[-1][1]
    cells = []
    for k, m in enumerate(methods):
        idx = range(k * seeds, (k + 1) * seeds)
        r = runs[idx[0]]
        per_seed = [final[i] for i in idx]
        cost = step_cost(m, config).total
        curve = []
        for step, sc in out.curves:  # after its last step a run is frozen: one point is enough
            if not curve or min(step, r.steps) * cost > curve[-1].evaluations:
                curve.append(CurvePoint(min(step, r.steps) * cost, Interval.of([sc[i].js for i in idx])))
        cells.append(Cell(
            dataset, m, r.lr, r.critic_lr_ratio, r.steps, r.steps * cost, per_seed,
            failed=sum(not out.status[i].ok for i in idx),
            summary={name: Interval.of([getattr(sc, name) for sc in per_seed]) for name in SCORES},
            curve=curve))
    return cells


def compare_with_cd(cells) -> None:
    """Each f's final JS against CD's on the same dataset: Welch's t-test, two-sided, then Holm's
    correction over all the comparisons in ``cells``; the verdict at adjusted p < 0.05."""
    from scipy.stats import ttest_ind

    cd = {c.dataset: c for c in cells if c.method == "cd"}
    for c in cells:
        base = cd.get(c.dataset)
        if c.method == "cd" or base is None:
            continue
        a, b = [s.js for s in c.seeds], [s.js for s in base.seeds]
        if len(a) < 2 or len(b) < 2:
            c.verdict = Comparison.ONE_SEED
            continue
        p = float(ttest_ind(a, b, equal_var=False).pvalue)
        c.p_value = p if math.isfinite(p) else 1.0
    tested = [c for c in cells if c.p_value is not None and c.method != "cd"]
    for c, adjusted in zip(tested, holm([c.p_value for c in tested])):
        base = cd[c.dataset]
        c.p_holm = adjusted
        mean_a, mean_b = (sum(s.js for s in x.seeds) / len(x.seeds) for x in (c, base))
        c.verdict = (Comparison.TIES if not adjusted < 0.05 else
                     Comparison.BEATS if mean_a < mean_b else Comparison.LOSES)


def holm(p_values) -> list[float]:
    """Holm's step-down adjustment of a family of p-values, in input order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


HIGHLIGHT = 3  # f drawn in colour per panel: the best by final JS; the others are thin grey lines


def draw_curves(plt, report: BenchReport):
    """One panel per dataset: CD in black, the ``HIGHLIGHT`` f with the lowest final JS in colour,
    the other f thin and grey (17 colours could not be told apart; bench.md's tables name them all).
    One legend for the figure (an f has one colour in every panel). JS is on a log axis, where a
    mean − half-width ≤ 0 cannot be drawn: such a band is cut at the panel's floor (drawn to the
    bottom edge), which the legend says."""
    from matplotlib.lines import Line2D

    datasets = list(dict.fromkeys(c.dataset for c in report.cells))
    ranking = {d: sorted((c for c in report.cells if c.dataset == d and c.method != "cd"), key=_final_js)
               for d in datasets}
    # one colour per f across the panels, so that the same f reads the same everywhere
    colour = {m: f"C{k}" for k, m in enumerate(dict.fromkeys(c.method for d in datasets
                                                             for c in ranking[d][:HIGHLIGHT]))}
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.4 * len(datasets), 5.0), squeeze=False,
                             layout="constrained")
    cut = False
    for ax, dataset in zip(axes[0], datasets):
        cells = [c for c in report.cells if c.dataset == dataset]
        best = [c.method for c in ranking[dataset][:HIGHLIGHT]]
        curves = {c.method: _curve(c) for c in cells}
        means = [m for x, mean, hw in curves.values() for m in mean if m is not None and m > 0]
        floor = 0.8 * min(means)
        for c in sorted(cells, key=lambda c: (c.method == "cd", c.method in best)):  # highlighted on top
            x, mean, hw = curves[c.method]
            if c.method == "cd":
                style = {"color": "k", "lw": 2.4, "zorder": 5}
            elif c.method in best:
                style = {"color": colour[c.method], "lw": 1.6, "zorder": 4}
            else:
                style = {"color": "0.6", "lw": 0.7, "zorder": 1}
            ax.plot(x, mean, **style)
            if c.method == "cd" or c.method in best:
                lower = [max(m - h, floor) for m, h in zip(mean, hw)]
                cut |= any(m - h <= floor for m, h in zip(mean, hw))
                ax.fill_between(x, lower, [m + h for m, h in zip(mean, hw)], color=style["color"], alpha=0.12, lw=0)
        total = len(ranking[dataset])
        shown = f" (best {len(best)} of {total} f in colour)" if len(best) < total else ""
        ax.set(title=f"{dataset}{shown}",
               xlabel="gradient evaluations per run (millions)", ylabel="grid JS (nats)", yscale="log")
        ax.set_ylim(bottom=floor)
    handles = [Line2D([], [], color="k", lw=2.4, label="cd")]
    handles += [Line2D([], [], color=c, lw=1.6, label=m) for m, c in colour.items()]
    if any(len(ranking[d]) > HIGHLIGHT for d in datasets):
        handles.append(Line2D([], [], color="0.6", lw=0.7, label="the other f"))
    # a band that reaches the bottom edge is cut there: its lower end is lower, possibly ≤ 0
    band = "95% band" + (" (cut at the bottom edge)" if cut else "")
    handles.append(plt.Rectangle((0, 0), 1, 1, color="0.5", alpha=0.2, lw=0, label=band))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 2 * len(datasets)), fontsize=8,
               frameon=False)
    fig.suptitle(f"f-EBM and CD at equal budgets: mean and 95% band over {report.protocol['seeds']} seeds"
                 + (f", {report.protocol.get('critic', 'free')} critic" if report.protocol.get("critic") else ""))
    return fig


def _final_js(cell) -> float:
    js = cell.summary["js"].mean
    return math.inf if js is None or not math.isfinite(js) else js


def _curve(cell):
    """(millions of evaluations, mean JS, half-width). A point closer than a quarter of the usual
    spacing to the final one is dropped: the final score sits a few steps after the last regular
    point, and the pair drew a vertical step."""
    points = []
    for p in cell.curve:  # a frozen run was scored again at the same count: one point
        if not points or p.evaluations > points[-1].evaluations * (1 + 1e-9):
            points.append(p)
    if len(points) >= 3:
        gaps = sorted(b.evaluations - a.evaluations for a, b in zip(points, points[1:]))
        if points[-1].evaluations - points[-2].evaluations < 0.25 * gaps[len(gaps) // 2]:
            del points[-2]
    return ([p.evaluations / 1e6 for p in points], [p.js.mean for p in points],
            [p.js.half_width or 0.0 for p in points])
