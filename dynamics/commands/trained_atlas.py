"""``febm atlas --critic``: will this f train with this network, step, batch and budget?

For each divergence and operating point (lr, batch B, steps S; `training.cells`), predicted before any
run from the network that trains (the set-up played with a network critic): the trained game's
full-batch step limit η_max at the flow's resting point (`TrainedAnalysis`) and lr/η_max; the time to
error 0.05 from the noise-free flows; the fraction of minibatch runs at B that die within S (the
per-step death chance along those flows, `training.hazard`); and the class by `cells.RULE`. With
``measure`` = N, N seeded runs of exactly that game are measured beside it and scored (accuracy,
Cohen's κ against the majority class, time within ×2, dead fraction within ±0.25), the hold-out f
apart from the rest.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass

from ...divergences import resolve
from ...errors import InputError
from ...toy_models import Setup
from ..analysis.nodespace import FLOW_STEPS
from ..analysis.trained import TrainedAnalysis, network_setup
from ..report import JsonFields, Report
from ..training import cells, toy2d_cells
from ..training.arms import cell_arm
from ..training.cells import OperatingPoint
from ..training.reference import REFERENCE_CLAMPS
from ..training.surrogate import require_curvature

TIME_FACTOR = 2.0  # a predicted time within ×2 of the measured one agrees
DEAD_BAND = 0.25  # a predicted dead fraction within ±0.25 of the measured one agrees


@dataclass
class CellRow(JsonFields):
    name: str
    lr: float
    batch: int
    steps: int
    hold_out: bool
    eta_max: float | None  # the trained game's full-batch step limit at the flow's resting point
    rest: str  # the resting point's status (`trained.RestStatus`)
    predicted: dict  # class, time_to_0.05, dead_fraction (and the flows' detail)
    measured: dict | None = None  # class, time_to_0.05, dead_fraction, final_error (and the runs)

    @property
    def lr_over_eta_max(self) -> float | None:
        return None if not self.eta_max else self.lr / self.eta_max


def _outcome(o: cells.Outcome, measured: bool = False) -> dict:
    d = {"class": o.cls, "time_to_0.05": o.time, "dead_fraction": o.dead_fraction, "runs": o.runs}
    return {**d, "final_error": o.final_error} if measured else d


def scores(rows) -> dict:
    """Agreement of predicted with measured over the measured ``rows``: class accuracy, Cohen's κ and
    the majority-class baseline; time within ×`TIME_FACTOR` where both arrive; dead fraction within
    ±`DEAD_BAND`."""
    rows = [r for r in rows if r.measured]
    if not rows:
        return {"cells": 0}
    pred = [str(r.predicted["class"]) for r in rows]
    meas = [str(r.measured["class"]) for r in rows]
    n = len(rows)
    agree = sum(p == m for p, m in zip(pred, meas)) / n
    cp, cm = Counter(pred), Counter(meas)
    chance = sum(cp[c] * cm[c] for c in cm) / n**2
    kappa = None if chance >= 1 else (agree - chance) / (1 - chance)
    times = [(r.predicted["time_to_0.05"], r.measured["time_to_0.05"]) for r in rows]
    both = [(p, m) for p, m in times if p is not None and m is not None and p > 0 and m > 0]
    dead = [(r.predicted["dead_fraction"], r.measured["dead_fraction"]) for r in rows
            if r.predicted.get("dead_fraction") is not None]
    return {"cells": n, "accuracy": agree, "kappa": kappa, "majority": cm.most_common(1)[0][1] / n,
            "majority_class": cm.most_common(1)[0][0],
            "confusion": {f"{p}->{m}": c for (p, m), c in sorted(Counter(zip(pred, meas)).items())},
            "time_cells": len(both),
            "time_within": sum(abs(math.log(p / m)) <= math.log(TIME_FACTOR) for p, m in both),
            "dead_cells": len(dead), "dead_within": sum(abs(p - m) <= DEAD_BAND for p, m in dead)}


@dataclass
class TrainedAtlasReport(Report):
    model: str
    critic: str
    rows: list[CellRow]
    summary: dict
    settings: dict
    elapsed_s: float
    game: str = "trained"  # which game answered: the network that trains (not the stand-in)
    plot: str | None = None

    def text(self) -> str:
        lines = [f"will it train? {self.model} with critic {self.critic} (the trained game), "
                 f"predicted{' and measured' if any(r.measured for r in self.rows) else ''}",
                 f"{'f':<22} {'lr':>7} {'batch':>6} {'steps':>6} {'lr/η_max':>8}  {'predicted':<24} {'measured':<32}"]
        for r in self.rows:
            tag = " (hold-out)" if r.hold_out else ""
            ratio = "n/a" if r.lr_over_eta_max is None else f"{r.lr_over_eta_max:.3g}"
            lines.append(f"{r.name:<22} {r.lr:>7.3g} {r.batch:>6} {r.steps:>6} {ratio:>8}  "
                         f"{_cell(r.predicted):<24} {_cell(r.measured) if r.measured else '':<32}{tag}")
        lines.append("rule: " + self.settings["rule"])
        for part, s in self.summary.items():
            if s.get("cells"):
                kappa = "n/a" if s["kappa"] is None else f"{s['kappa']:.2f}"
                lines.append(f"{part}: {s['cells']} cells, class accuracy {s['accuracy']:.0%} (always "
                             f"'{s['majority_class']}': {s['majority']:.0%}), Cohen's κ {kappa}; time within "
                             f"×{TIME_FACTOR:g} {s['time_within']}/{s['time_cells']}; dead fraction within "
                             f"±{DEAD_BAND:g} {s['dead_within']}/{s['dead_cells']}")
        return "\n".join(lines)

    def figure(self):
        from .trained_atlas_figure import draw

        return draw(self)


def _cell(o: dict | None) -> str:
    if not o:
        return ""
    t = "—" if o.get("time_to_0.05") is None else f"{o['time_to_0.05']:.0f}"
    dead = o.get("dead_fraction")
    text = f"{o['class']}, t {t}, dead {'n/a' if dead is None else f'{dead:.2f}'}"
    if o.get("final_error") is not None:
        text += f", err {o['final_error']:.3f}"
    return text


def predict_rows(spec, s: Setup, points, seed: int = 0, hold_out: bool = False,
                 flow_steps: int = FLOW_STEPS) -> list[CellRow]:
    """One row per operating point for f = ``spec``: η_max at the resting point, then the flows and
    the death chance, one flow per (lr, steps) shared by the batches."""
    div = resolve(spec).validate()
    arm = cell_arm(s)
    if isinstance(arm, toy2d_cells.ToyArm):  # Adam's runs: plain GDA's step limit is not theirs
        eta_max, rest = None, TOY_REST
    else:
        ta = TrainedAnalysis.build(div, s, REFERENCE_CLAMPS, flow_steps, seed=seed, record=False)
        eta_max, rest = ta.eta_max, ta.status
    rows = []
    for (lr, steps), batches in _by_flow(points).items():
        outcomes = _cells(arm).predict(div, arm, lr, steps, batches, seed)
        for b in batches:
            rows.append(CellRow(div.name, lr, b, steps, hold_out, eta_max, rest, _outcome(outcomes[b])))
    return rows


TOY_REST = "not computed: the 2-D toy's runs step with Adam, and plain GDA's step limit is not theirs"


def _cells(arm):
    """The module that predicts and measures cells on ``arm``: `toy2d_cells` or the 1-D `cells`."""
    return toy2d_cells if isinstance(arm, toy2d_cells.ToyArm) else cells


def _by_flow(points) -> dict:
    groups: dict = {}
    for p in points:
        groups.setdefault((p.lr, p.steps), []).append(p.batch)
    return groups


def measure_row(row: CellRow, s: Setup, runs: int, seed: int = 0) -> None:
    arm = cell_arm(s)
    row.measured = _outcome(_cells(arm).measure(row.name, arm, OperatingPoint(row.lr, row.batch, row.steps),
                                                runs, seed), measured=True)


def trained_atlas(generators, model: str | Setup = "paper-1d", critic="mlp:64,64", points=(), measure: int = 0,
                  seed: int = 0, hold_out=(), progress: bool = True) -> TrainedAtlasReport:
    """Predicted (and with ``measure`` = N, measured over N seeded runs) outcome of each generator at
    each operating point (`cells.OperatingPoint`)."""
    if not points:
        raise InputError("give at least one operating point (lr, batch, steps)")
    t0 = time.perf_counter()
    s = network_setup(model, critic, seed)
    arm = cell_arm(s)
    generators = list(generators)
    require_curvature([resolve(g).validate() for g in generators])  # before any work, for every f
    held = {resolve(h).name for h in hold_out}
    from tqdm import tqdm

    rows = []
    for spec in tqdm(list(generators), desc="atlas (trained game)", disable=not progress, leave=False):
        found = predict_rows(spec, s, points, seed, resolve(spec).name in held)
        for row in found:
            if measure:
                measure_row(row, s, measure, seed)
        rows.extend(found)
    summary = {"analysis": scores([r for r in rows if not r.hold_out]),
               "hold_out": scores([r for r in rows if r.hold_out])}
    settings = {**_settings(arm), "measure": measure, "seed": seed, "time_factor": TIME_FACTOR,
                "dead_band": DEAD_BAND}
    critic_name = getattr(s.critic, "spec", type(s.critic).__name__)
    return TrainedAtlasReport(s.name, critic_name, rows, summary, settings, time.perf_counter() - t0)


def _settings(arm) -> dict:
    """The cells' rule, thresholds and game, as the report records them."""
    if isinstance(arm, toy2d_cells.ToyArm):
        c = arm.config
        return {"rule": toy2d_cells.RULE, "target": toy2d_cells.TARGET, "escape": toy2d_cells.ESCAPE,
                "dead_class": cells.DEAD_CLASS, "prediction_seeds": toy2d_cells.PREDICTION_SEEDS,
                "record_every": toy2d_cells.RECORD_EVERY, "sampler_grid": c.sampler_grid, "data_nodes": c.data_nodes,
                "error": "grid Jensen–Shannon", "link_clip": c.link_clip, "flows": toy2d_cells.FLOWS,
                "game": (f"the 2-D bench's game on {arm.dataset}: energy and critic {'-'.join(map(str, c.sizes))} "
                         f"{c.activation}, Adam on both (critic at {c.critic_lr_ratio:g} × lr), penalty {c.penalty:g}, "
                         f"exact samples from a {c.sampler_grid}² grid")}
    return {"rule": cells.RULE, "target": cells.TARGET, "escape": cells.ESCAPE, "dead_class": cells.DEAD_CLASS,
            "prediction_seeds": cells.PREDICTION_SEEDS, "quadrature_nodes": cells.QUADRATURE_NODES,
            "hazard_every": cells.HAZARD_EVERY, "flow_steps": FLOW_STEPS, "link_clip": "reference",
            "game": "SGD on both players, critic step first, σ stepped directly, the reference code's clamps"}
