"""Will it train? The trained-game atlas scored against runs of the same game, with a hold-out of f.

Set-up: paper-1d with the reference code's 1-64-64-1 tanh critic, played as the reference code plays
it (SGD on both players, critic step first, σ stepped directly, its link clamps). Operating points
`POINTS`: lr 10⁻² and 10⁻³ for both players, batch 1000 and 100, budgets 3,000 and 12,000 steps
(flow time lr × steps = 30 and 12: the fast f arrive near the second budget's end). 8 seeded runs
per cell, each on its own stream.

Each predictor was scored once on a hold-out drawn before its runs, and the hold-out then joined the
analysis set: the first (one overflow mask for a step's p- and q-samples) on 4 catalog f by
``default_rng(20261207)`` and 2 generators of our own; the second (a mask per sample's own link) on
`HOLD_OUT_2`; the third (the same, and a thrown critic kills: `hazard.THROW`) on `HOLD_OUT_3`. The
rule (`training.cells`, `training.hazard`) was committed before each hold-out's runs.

    python -m studies trained_verdict run OUT.json [NAME ...]    # predicted and measured cells
    python -m studies trained_verdict run-hold-out OUT.json K     # the same for hold-out 2 or 3
    python -m studies trained_verdict repredict OUT.json MEASURED # today's predictor beside stored runs
    python -m studies trained_verdict run-toy OUT.json [NAME ...] # the same on moons (`TOY_POINTS`)
    python -m studies trained_verdict merge OUT.json PART.json ... # one file, scores recomputed
    python -m studies trained_verdict text OUT.json                # the report's text
    python -m studies trained_verdict figure OUT.json PNG          # predicted against measured
    python -m studies trained_verdict table OUT.json               # the scores, analysis set and hold-out
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from febm.dynamics.analysis.trained import network_setup
from febm.dynamics.commands.trained_atlas import TrainedAtlasReport, measure_row, scores, trained_atlas
from febm.dynamics.files import save_figure
from febm.dynamics.training.cells import CellClass, OperatingPoint
from febm.dynamics.training.toy2d_training import all_methods
from febm.threads import limit_threads
from studies import load as load_json
from studies import verb, write
from studies.readings import reads

DESCRIPTION = "the trained-game atlas scored against runs of the same game on paper-1d, with a hold-out of f"
CURVED = all_methods()[1:]  # the 16 catalog f with f''(1) > 0
HOLD_OUT = sorted(np.random.default_rng(20261207).choice(CURVED, 4, replace=False).tolist()) + [
    "(t-1)*atan(t-1)", "t**1.5 - 1.5*t + 0.5"]
ANALYSIS = [f for f in CURVED if f not in HOLD_OUT]
# A second hold-out, for the predictor whose p- and q-samples each meet only their own link's overflow
# (the first shared one mask; fixed on the step's form, before any run of these f): 6 of 9 new own
# generators, in no earlier list and passing every check of `febm show`, drawn by default_rng(20261213)
CANDIDATES_2 = ["(t-1)**2/(t+2)", "t**3/3 - t + 2/3", "(t-1)*log((1+t)/2) + (sqrt(t)-1)**2",
                "t*log(t) - t + 1 + (t-1)**2/(t+3)", "(sqrt(t)-1)**2 + (t-1)*log(t)/4",
                "(t-1)*atan(t-1) + (t-1)**2/8", "-log(t) + t - 1 + (t-1)**2/(t+1)", "exp(t-1) - t + (sqrt(t)-1)**2",
                "t*log(t) - t + 1 + (sqrt(t)-1)**2/2"]
HOLD_OUT_2 = sorted(np.random.default_rng(20261213).choice(CANDIDATES_2, 6, replace=False).tolist())
# A third, for the predictor that also counts a thrown critic (`hazard.THROW`, found on the second
# hold-out's runs, which then joined the analysis set): 6 of 9 more new own generators by default_rng(20261214)
CANDIDATES_3 = ["(t-1)**2/(t+4) + (sqrt(t)-1)**2", "t*log(t) - t + 1 + (t-1)**2/(2*t+2)",
                "t**1.25 - 1.25*t + 0.25 + (t-1)**2/4", "-log(t) + t - 1 + (sqrt(t)-1)**2/2",
                "(t-1)*log(t)/2 + (t-1)**2/(t+2)", "exp(t-1) - t + (t-1)**2/(t+1)",
                "t*log(t) - t + 1 + (t-1)*atan(t-1)/4", "(t-1)**2/(3*t+1) + t*log(t) - t + 1",
                "(t-1)*asinh(t-1)/2 + (t-1)**2/4"]
HOLD_OUT_3 = sorted(np.random.default_rng(20261214).choice(CANDIDATES_3, 6, replace=False).tolist())
HOLD_OUTS = {2: HOLD_OUT_2, 3: HOLD_OUT_3}
POINTS = (OperatingPoint(1e-2, 1000, 3000), OperatingPoint(1e-2, 100, 3000),
          OperatingPoint(1e-3, 1000, 12000), OperatingPoint(1e-3, 100, 12000))
RUNS = 8
# the 2-D toy: moons with the bench's networks (2-32-32-1 tanh energy and critic, Adam, exact grid
# samples); lr 10⁻² for both batches, 3,000 steps (fixed after a
# one-seed pilot of the analysis set only: CD and the fastest f arrive near the budget's end)
TOY_MODEL, TOY_CRITIC = "toy2d-moons", "mlp:32,32"
TOY_POINTS = (OperatingPoint(1e-2, 1000, 3000), OperatingPoint(1e-2, 100, 3000))
# Each predictor of the toy was scored once on a hold-out that was then retired into the analysis set:
# round 1 (commit f2c67de) on HOLD_OUT; round 2 (commit 6a2da18) on 6 of 9 own generators drawn by
# default_rng(20261208); round 3 (commit 2bed4bb: the early dilation without the floor; B model draws
# a step, where rounds 1-2 drew 256) on 6 of 9 by default_rng(20261209); round 4 (the dilation and the
# floor) on 6 of 9 by default_rng(20261210); round 5 (the same on a mean-field flow at each batch) on
# 6 of 9 new own generators, not in the catalog, that pass every check of `febm show` (listed, and
# drawn, before any run of them) by default_rng(20261211); round 6 (minibatch runs' own deaths, no
# floor in the arrival; chosen on round 5's stored flows of the analysis cells) likewise on 6 of 9 by
# default_rng(20261212)
TOY_HOLD_OUT_2 = ["(sqrt(t)-1)**2 + (t-1)**2/8", "(t-1)**2/(2*sqrt(t))", "(t-1)*log((1+t)/2)",
                  "-log(t) + t - 1 + (t-1)**2/2", "exp(t-1) - t", "t*log(t) - t + 1 + (t-1)**2/4"]
TOY_HOLD_OUT_3 = ["(t-1)**4/12 + (t-1)**2/2", "(t-1)*asinh(t-1)", "(t-1)*log(t) + (t-1)**2/4", "exp(1-t) + t - 2",
                  "sqrt(1+(t-1)**2) - 1", "t*log(t) - t + 1 + (sqrt(t)-1)**2"]
TOY_CANDIDATES_4 = ["cosh(t-1) - 1", "(t-1)**2/(t+3)", "t**1.25 - 1.25*t + 0.25", "-t**0.75 + 0.75*t + 0.25",
                    "(t-1)*log(t) + 2*(sqrt(t)-1)**2", "-log(t) + (sqrt(t)-1)**2", "(t-1)**2/(1+sqrt(t))",
                    "t*log(t) - t + 1 + (t-1)**2/8", "(t-1)**2/(2+t) + (t-1)*atan(t-1)"]
TOY_HOLD_OUT_4 = sorted(np.random.default_rng(20261210).choice(TOY_CANDIDATES_4, 6, replace=False).tolist())
TOY_CANDIDATES_5 = ["exp(2*(t-1))/2 - t + 1/2", "t*log(t) - t + 1 + (t-1)**2/(t+1)", "(sqrt(t)-1)**2 + (t-1)*atan(t-1)",
                  "t**1.75 - 1.75*t + 0.75", "(t-1)**2*(1+1/t)/4", "(t-1)*log(t)/2 + (sqrt(t)-1)**2",
                  "log(cosh(t-1))", "(t-1)**2/(t+1) + (sqrt(t)-1)**2", "-log(t) + t - 1 + (t-1)**2/4"]
TOY_HOLD_OUT_5 = sorted(np.random.default_rng(20261211).choice(TOY_CANDIDATES_5, 6, replace=False).tolist())
TOY_CANDIDATES = ["t**2.5 - 2.5*t + 1.5", "t**(-0.5) + 0.5*t - 1.5", "(t-1)**2/(2*t+1)",
                  "t*log(t) - t + 1 + (t-1)*atan(t-1)/2", "(sqrt(t)-1)**2 + (t-1)**2/(2*(t+1))",
                  "exp(t-1) - t + (t-1)**2/4", "(t-1)*log(t) + (t-1)**2/(t+1)", "-log(t) + t - 1 + (sqrt(t)-1)**2",
                  "(t-1)*log((1+3*t)/4)"]
TOY_HOLD_OUT = sorted(np.random.default_rng(20261212).choice(TOY_CANDIDATES, 6, replace=False).tolist())
TOY_ANALYSIS = CURVED + [f for f in HOLD_OUT if f not in CURVED] + TOY_HOLD_OUT_2 + TOY_HOLD_OUT_3 + TOY_HOLD_OUT_4 \
    + TOY_HOLD_OUT_5
# The curved catalog f that rounds 3-5 had not run (rounds 1 and 2 ran all 16 in the game drawing 256
# model points a step; round 4 ran the other 8: kl, reverse_kl, jensen_shannon, pearson_chi2, le_cam,
# triangular, alpha=-0.5, alpha=2). They were run after round 5 was scored, all of them, under its rule
# unchanged. Their earlier runs were seen while rounds 2-5 were built, so they are analysis f.
EARLY = 100  # steps: a flow that stops being finite before this died at once (the catalog's misses)
TOY_CATALOG_LATE = ["gan", "squared_hellinger", "neyman_chi2", "jeffreys", "symmetric_chi2", "alpha=-1", "alpha=0.5",
                   "alpha=0.9"]


def run(out: str, names, hold_out=HOLD_OUT) -> None:
    limit_threads(1)
    report = trained_atlas(names, "paper-1d", "mlp:64,64", POINTS, measure=RUNS, hold_out=hold_out, progress=False)
    write(out, report.to_json())


def run_toy(out: str, names, hold_out=TOY_HOLD_OUT) -> None:
    limit_threads(1)
    report = trained_atlas(names, TOY_MODEL, TOY_CRITIC, TOY_POINTS, measure=RUNS, hold_out=hold_out, progress=False)
    write(out, report.to_json())


def repredict_toy(out: str, measured: str, names) -> None:
    """The named f predicted again by today's predictor, beside their cells measured in ``measured``
    (a result file of the same game and points: the runs do not depend on the predictor)."""
    _repredict(out, measured, names, TOY_MODEL, TOY_CRITIC, TOY_POINTS)


def repredict(out: str, measured: str, names) -> None:
    """`repredict_toy` on paper-1d: its cells in ``measured`` predicted again (default: all of them)."""
    _repredict(out, measured, names, "paper-1d", "mlp:64,64", POINTS)


def _repredict(out, measured, names, model, critic, points) -> None:
    """Each row keeps ``measured``'s runs and hold-out flag."""
    limit_threads(1)
    stored = load(measured).rows
    old = {(r.name, r.lr, r.batch, r.steps): r.measured for r in stored}
    held = sorted({r.name for r in stored if r.hold_out})
    names = names or list(dict.fromkeys(r.name for r in stored))
    report = trained_atlas(names, model, critic, points, hold_out=held, progress=False)
    for r in report.rows:
        r.measured = old[(r.name, r.lr, r.batch, r.steps)]
    report.settings.update(measure=RUNS, measured_in=measured)
    report.summary = _summary(report.rows)
    write(out, report.to_json())


def retest_toy(out: str, measured: str, names, seed: int = 1) -> None:
    """The measurement's own noise: the named f's cells in ``measured`` measured again on streams of
    another ``seed``, the first measurement standing as the prediction. Two measurements of one cell
    disagree as often as 8 runs leave a class undecided; scores closer than that cannot be told apart."""
    limit_threads(1)
    report = load(measured)
    setup = network_setup(TOY_MODEL, TOY_CRITIC, seed)
    rows = []
    for r in (r for r in report.rows if r.measured and (not names or r.name in names)):
        again = replace(r, predicted=r.measured, measured=None)
        measure_row(again, setup, RUNS, seed)
        rows.append(again)
    report.rows = rows
    report.settings.update(measure=RUNS, seed=seed, retest_of=measured)
    report.summary = _summary(rows)
    write(out, report.to_json())


def merge(out: str, parts, only=None, seen=False) -> None:
    """The parts' cells in one report (the parts were run under the same settings), scores recomputed;
    with ``only``, the cells of those f alone; with ``seen``, every cell in the analysis set (its
    predictor was built after these cells were seen)."""
    reports = [load(p) for p in parts]
    where = ("measured_in", "parts_run_at", "retest_of")  # where runs were read, run and retested
    kept = [{k: v for k, v in r.settings.items() if k not in where} for r in reports]
    for path, settings in zip(parts, kept):
        if settings != kept[0]:  # refuses parts measured under other settings
            raise ValueError(f"{path}: its settings differ from {parts[0]}'s")
    first = reports[0]
    # where each part was run: a merged file's own provenance is the merge's
    first.settings["parts_run_at"] = sorted({_provenance(p).get("git_commit", "?") for p in parts})
    if "retest_of" in first.settings:
        first.settings["retest_of"] = sorted({r.settings["retest_of"] for r in reports})
    rows = [row for r in reports for row in r.rows if not only or row.name in only]
    for row in rows if seen else ():
        row.hold_out = False
    first.rows = rows
    first.summary = _summary(rows)
    first.elapsed_s = sum(r.elapsed_s for r in reports)
    write(out, first.to_json())


def _provenance(path: str) -> dict:
    import json

    return json.loads(Path(path).read_text()).get("provenance", {})


def _summary(rows) -> dict:
    """The scores of the analysis set and of the hold-out, apart."""
    return {"analysis": scores([r for r in rows if not r.hold_out]),
            "hold_out": scores([r for r in rows if r.hold_out])}


def load(path: str) -> TrainedAtlasReport:
    """A result file of this study as its report."""
    return TrainedAtlasReport.from_json(load_json(path))


def as_report(d) -> TrainedAtlasReport:
    d = dict(d)
    d.pop("provenance", None)
    return TrainedAtlasReport.from_json(d)


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _score_columns(s: dict) -> str:
    """A score's table cells: cells | accuracy | the commonest class | κ | time within ×2 | dead within ±0.25."""
    kappa = "n/a" if s["kappa"] is None else f"{s['kappa']:.2f}"
    return (f"{s['cells']} | {_pct(s['accuracy'])} | {_pct(s['majority'])} ({s['majority_class']}) | {kappa} | "
            f"{s['time_within']}/{s['time_cells']} | {s['dead_within']}/{s['dead_cells']}")


def scores_table(d) -> str:
    """The scores by set and operating point (markdown): accuracy against the majority class, Cohen's κ,
    time within ×2 where both arrive, dead fraction within ±0.25."""
    report = as_report(d)
    lines = ["| set | operating point | cells | class accuracy | always the commonest class | Cohen's κ | "
             "time within ×2 | dead fraction within ±0.25 |", "|---|---|---|---|---|---|---|---|"]
    groups = [("analysis set", False), ("hold-out", True)]
    for label, held in groups:
        points = [None] + sorted({(r.lr, r.batch, r.steps) for r in report.rows}, key=lambda p: (-p[0], -p[1]))
        for point in points:
            rows = [r for r in report.rows
                    if r.hold_out == held and (point is None or (r.lr, r.batch, r.steps) == point)]
            s = scores(rows)
            if not s["cells"]:
                continue
            where = "all" if point is None else f"lr {point[0]:g}, batch {point[1]}, {point[2]:,} steps"
            name = f"**{label}**" if point is None else ""
            lines.append(f"| {name} | {where} | {_score_columns(s)} |")
    return "\n".join(lines)


PAPER_1D_PREDICTORS = [("first: 4 catalog f, 2 own", "one overflow mask for a step's p- and q-samples"),
                       ("second: 6 own", "a mask per sample's own link"),
                       ("third: 6 own", "the same, and a thrown critic kills")]


def paper_1d_hold_outs_table(*files) -> str:
    """Each paper-1d predictor on its own hold-out (markdown): ``files`` are the hold-outs' result
    files in order, each scored under the predictor of its time; κ with its 90% bootstrap interval."""
    lines = ["| hold-out | predictor | cells | class accuracy | always the commonest class | Cohen's κ (90%) | "
             "time within ×2 | dead fraction within ±0.25 |", "|---|---|---|---|---|---|---|---|"]
    for (held, predictor), d in zip(PAPER_1D_PREDICTORS, files):
        rows = [r for r in as_report(d).rows if r.hold_out]
        s, b = scores(rows), bootstrap(rows)
        lines.append(f"| {held} | {predictor} | {s['cells']} | {_pct(s['accuracy'])} | {_pct(s['majority'])} "
                     f"({s['majority_class']}) | {s['kappa']:.2f} ({b['kappa_low']:.2f}–{b['kappa_high']:.2f}) | "
                     f"{s['time_within']}/{s['time_cells']} | {s['dead_within']}/{s['dead_cells']} |")
    return "\n".join(lines)


TOY_ROUNDS = ["two noise-free flows", "a flow per run + the noise floor", "a flow per run, dilated by early runs",
              "a flow per run, dilated, + the noise floor", "a mean-field flow per run and batch, dilated, + the floor",
              "the same flows, dilated, no floor; only minibatch runs die"]


def toy_rounds_table(*rounds) -> str:
    """Each predictor of the toy on its own hold-out, and on the analysis set of its time (markdown);
    ``rounds`` are the rounds' result files in order."""
    lines = ["| round | predictor | hold-out cells | class accuracy | always the commonest class | Cohen's κ | "
             "time within ×2 | dead fraction within ±0.25 | analysis set: cells, accuracy, κ |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, d in enumerate(rounds):
        held, seen = (d["summary"][part] for part in ("hold_out", "analysis"))
        analysis = (f"{seen['cells']}, {_pct(seen['accuracy'])}, {seen['kappa']:.2f}" if seen["cells"]
                    else "not scored")
        lines.append(f"| {k + 1} | {TOY_ROUNDS[k]} | {_score_columns(held)} | {analysis} |")
    return "\n".join(lines)


def _outcome_text(o) -> str:
    if not o:
        return ""
    t = "—" if o.get("time_to_0.05") is None else f"{o['time_to_0.05']:,.0f}"
    return f"{o['class']} ({t}; {o['dead_fraction']:.2f})"


def cells_table(d) -> str:
    """Every cell (markdown): class (time to 0.05; dead fraction), predicted and measured."""
    report = as_report(d)
    lines = ["| f | set | lr | batch | steps | lr/η_max | predicted | measured | final error |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in report.rows:
        ratio = "n/a" if r.lr_over_eta_max is None else f"{r.lr_over_eta_max:.3g}"
        err = r.measured.get("final_error") if r.measured else None
        lines.append(f"| {r.name} | {'hold-out' if r.hold_out else 'analysis'} | {r.lr:g} | {r.batch} | "
                     f"{r.steps:,} | {ratio} | {_outcome_text(r.predicted)} | {_outcome_text(r.measured)} | "
                     f"{'—' if err is None else f'{err:.3f}'} |")
    return "\n".join(lines)


def figure(path: str, png: str) -> None:
    """Predicted against measured, drawn from the result file into ``png``."""
    save_figure(load(path).figure(), png, dpi=110)


@reads("atlas-trained-toy2d-moons-round1.json")
def toy_round1(d: dict) -> dict:
    """The toy's first predictor: where its two KL flows ended against the runs, and how much longer
    than their flows the runs that arrive took, by batch."""
    report = as_report(d)
    kl = next(r for r in report.rows if r.name == "kl" and r.batch == 1000)
    ends = kl.predicted["runs"]["final_error"]
    slower = {b: [r.measured["time_to_0.05"] / r.predicted["time_to_0.05"] for r in report.rows
                  if r.batch == b and r.measured["time_to_0.05"] and r.predicted["time_to_0.05"]] for b in (1000, 100)}
    assert min(slower[100]) > 2 and len(slower[100]) >= 5, "the prose: more than twice as long at batch 100"
    return {"kl_flow_high": max(ends), "kl_flow_low": min(ends), "kl_runs_dead": kl.measured["dead_fraction"],
            "slower_100_low": min(slower[100]), "slower_100_high": max(slower[100]),
            "slower_1000_low": min(slower[1000]), "slower_1000_high": max(slower[1000])}


@reads("atlas-trained-toy2d-moons-round2.json")
def toy_round2(d: dict) -> dict:
    """The toy's scores beside paper-1d's; asserts the words "weaker than on paper-1d" (κ lower on both
    sets) and counts the hold-out cells that die."""
    from studies.readings import RESULTS

    toy = as_report(d)
    paper = load_json(RESULTS / "atlas-trained-paper-1d-round1.json")["summary"]
    for part in ("analysis", "hold_out"):
        assert toy.summary[part]["kappa"] < paper[part]["kappa"], "the prose says weaker than on paper-1d"
    held = [r for r in toy.rows if r.hold_out]
    dies = sum(str(r.measured["class"]) == CellClass.DIES for r in held)
    assert dies > len(held) / 2, "the prose says most hold-out cells die"
    assert toy.summary["hold_out"]["time_cells"] == 0, "the prose says no hold-out cell arrives"
    by_batch = {b: scores([r for r in toy.rows if not r.hold_out and r.batch == b]) for b in (1000, 100)}
    slow = [r.measured["time_to_0.05"] / r.predicted["time_to_0.05"] for r in toy.rows
            if r.batch == 100 and r.measured["time_to_0.05"] and r.predicted["time_to_0.05"]]
    assert slow and min(slow) > 2, "the prose: at batch 100 the runs take more than twice their flow's steps"
    return {"hold_out_dies": dies, "hold_out_cells": len(held),
            "gain": toy.summary["hold_out"]["accuracy"] - toy.summary["hold_out"]["majority"],
            **{f"time_within_{b}": s["time_within"] for b, s in by_batch.items()},
            **{f"time_cells_{b}": s["time_cells"] for b, s in by_batch.items()}}


def _b100(report, held: bool, predicted: set, measured: str) -> tuple:
    """(cells at batch 100 of the set whose runs ended ``measured`` and that were predicted one of
    ``predicted``, cells at batch 100 of the set whose runs ended ``measured``)."""
    cells = [r for r in report.rows if r.batch == 100 and r.hold_out == held and str(r.measured["class"]) == measured]
    return sum(str(r.predicted["class"]) in predicted for r in cells), len(cells)


@reads("atlas-trained-toy2d-moons-round3.json")
def toy_round3(d: dict) -> dict:
    """Round 3 (the dilation without the floor) on its hold-out: at batch 100 it called cells that
    ended slow "trains" (the prose: too optimistic there)."""
    optimistic, slow = _b100(as_report(d), True, {CellClass.TRAINS}, CellClass.SLOW)
    assert optimistic > slow / 2, "the prose: round 3 was too optimistic at batch 100"
    return {"b100_optimistic": optimistic, "b100_slow": slow}


@reads("atlas-trained-toy2d-moons-round4.json")
def toy_round4(d: dict) -> dict:
    """Round 4 (the dilation and the floor): asserts "less well than on paper-1d" (κ lower on the
    hold-out) and "too pessimistic at batch 100" on the analysis set (most cells there that train
    were predicted not to)."""
    from studies.readings import RESULTS

    toy = as_report(d)
    paper = load_json(RESULTS / "atlas-trained-paper-1d-round1.json")["summary"]
    assert toy.summary["hold_out"]["kappa"] < paper["hold_out"]["kappa"], "the prose: less well than on paper-1d"
    pessimistic, trained = _b100(toy, False, {CellClass.SLOW, CellClass.DIES}, CellClass.TRAINS)
    assert pessimistic >= trained / 2, "the prose: too pessimistic at batch 100 (at least half)"
    s = toy.summary["hold_out"]
    assert toy.summary["analysis"]["kappa"] < s["kappa"], "the prose: on its analysis set it does worse"
    wrong = [r for r in toy.rows if r.hold_out and r.batch == 1000 and str(r.predicted["class"]) == CellClass.DIES
             and str(r.measured["class"]) == CellClass.TRAINS]
    for r in wrong:  # the prose: flows that end outside the basin where the runs from their starts train
        escaped = sum(x == -1 for x in r.predicted["runs"]["flow_died"])
        assert escaped > sum(x is not None for x in r.measured["runs"]["died"]), r.name
    return {"b100_pessimistic": pessimistic, "b100_trained": trained, "gain": s["accuracy"] - s["majority"],
            "b1000_dead_trained": len(wrong),
            "analysis_f": len({r.name for r in toy.rows if not r.hold_out})}


def cell_classes(r) -> tuple[CellClass, CellClass]:
    """A cell's (predicted, measured) class."""
    return CellClass(r.predicted["class"]), CellClass(r.measured["class"])


def missed_cells(rows) -> list:
    """The cells whose predicted class is not the measured one."""
    return [r for r in rows if len(set(cell_classes(r))) == 2]


def bootstrap(rows, draws: int = 4000, seed: int = 0) -> dict:
    """90% intervals of Cohen's κ and of the accuracy's gain over the majority class, with the f
    resampled with replacement, each with all its cells (one f's cells tend to agree, so resampling
    cells alone would narrow the intervals). Resamples whose κ is undefined (one class only) count
    for the gain and not for κ."""
    rng = np.random.default_rng(seed)
    by_f: dict = {}
    for r in rows:
        by_f.setdefault(r.name, []).append(r)
    groups = list(by_f.values())
    kappa, gain = [], []
    for _ in range(draws):
        s = scores([r for i in rng.integers(len(groups), size=len(groups)) for r in groups[i]])
        gain.append(s["accuracy"] - s["majority"])
        if s["kappa"] is not None:
            kappa.append(s["kappa"])
    (k_lo, k_hi), (g_lo, g_hi) = np.percentile(kappa, [5, 95]), np.percentile(gain, [5, 95])
    return {"kappa_low": float(k_lo), "kappa_high": float(k_hi), "gain_low": float(g_lo), "gain_high": float(g_hi)}


def _pessimistic(rows) -> tuple:
    """(misses, misses that called a cell that trained slow)."""
    missed = missed_cells(rows)
    return len(missed), sum(cell_classes(r) == (CellClass.SLOW, CellClass.TRAINS) for r in missed)


@reads("atlas-trained-paper-1d.json")
def paper_1d(d: dict) -> dict:
    """The current predictor: its hold-out's score with 90% bootstrap intervals, and the analysis set
    (every earlier cell predicted again beside its stored runs)."""
    rows = as_report(d).rows
    held = [r for r in rows if r.hold_out]
    s = scores(held)
    assert s["kappa"] >= 0.6 and s["accuracy"] - s["majority"] < 0.2, \
        "the prose: kappa meets its target, the gain over the commonest class does not"
    assert s["time_within"] >= 0.8 * s["time_cells"] and s["dead_within"] >= 0.8 * s["dead_cells"], \
        "the prose: times and dead fractions meet their targets"
    dying = [r for r in held if r.measured["class"] == CellClass.DIES]
    by_f = {r.name: [] for r in held}
    for r in held:
        by_f[r.name].append(r.measured["class"] == CellClass.DIES)
    everywhere = sum(all(v) for v in by_f.values())
    assert everywhere > len(by_f) / 2, "the prose: most of the hold-out's f die everywhere"
    missed = [r for r in held if abs(r.predicted["dead_fraction"] - r.measured["dead_fraction"]) > 0.25]
    high = sum(r.predicted["dead_fraction"] > r.measured["dead_fraction"] for r in missed)
    assert high > len(missed) / 2, "the prose: the dead fraction's misses are mostly too high"
    return bootstrap(held) | {"f": len(by_f), "gain_points": round(100 * (s["accuracy"] - s["majority"])),
                              "dying": len(dying), "die_everywhere": everywhere, "dead_missed": len(missed),
                              "dead_high": high}


@reads("atlas-trained-paper-1d-round1.json")
def paper_1d_round1(d: dict) -> dict:
    """paper-1d's first predictor on its hold-out, with 90% bootstrap intervals."""
    return bootstrap([r for r in as_report(d).rows if r.hold_out])


@reads("atlas-trained-paper-1d-round2.json")
def paper_1d_round2(d: dict) -> dict:
    """The second predictor on its hold-out (the file holds it alone); asserts "short of the targets"
    and "the deaths of two t log t-type f under-predicted" (every dead-fraction miss predicted too
    few deaths, in two f)."""
    rows = as_report(d).rows
    assert all(r.hold_out for r in rows), "the prose: the file holds the second hold-out alone"
    s = scores(rows)
    assert s["kappa"] < 0.6 or s["accuracy"] - s["majority"] < 0.2, "the prose: short of the targets"
    misses = [r for r in rows if abs(r.predicted["dead_fraction"] - r.measured["dead_fraction"]) > 0.25]
    assert all(r.predicted["dead_fraction"] < r.measured["dead_fraction"] for r in misses), "the prose: too few deaths"
    assert {r.name for r in misses} == {"t*log(t) - t + 1 + (t-1)**2/(t+3)", "(sqrt(t)-1)**2 + (t-1)*log(t)/4"}, \
        "the prose: two t log t-type f"
    return bootstrap(rows) | {"dead_missed": len(misses)}


@reads("atlas-trained-toy2d-moons-round5.json")
def toy_round5(d: dict) -> dict:
    """Round 5 (mean-field flows): its hold-out's score with bootstrap intervals; asserts "every miss
    was pessimistic" (a cell that trained, called slow or dying)."""
    from studies.readings import RESULTS

    toy = as_report(d)
    held = [r for r in toy.rows if r.hold_out]
    s, seen = toy.summary["hold_out"], toy.summary["analysis"]
    missed, pessimistic = _pessimistic(held)
    assert missed and missed == pessimistic, "the prose: every hold-out miss called a cell that trained slow"
    assert seen["accuracy"] < s["accuracy"], "the prose: on its analysis cells it does worse"
    before = {(r.name, r.batch): r for r in load(RESULTS / "atlas-trained-toy2d-moons-round4.json").rows}
    blew_up = [r for r in toy.rows if not r.hold_out and r.batch == 1000
               and str(r.measured["class"]) == CellClass.TRAINS
               and str(before[r.name, r.batch].predicted["class"]) == CellClass.DIES
               and -1 in before[r.name, r.batch].predicted["runs"]["flow_died"]]  # a flow ended outside
    assert blew_up, "the prose: cells where round 4's flows blew up and the runs trained"
    assert all(str(r.predicted["class"]) in (CellClass.TRAINS, CellClass.SLOW) for r in blew_up), \
        "the prose: calls none dying, the rest slow"
    others = [(*cell_classes(r), r.batch) for r in missed_cells(toy.rows) if not r.hold_out and r not in blew_up]
    kinds = {(CellClass.SLOW, CellClass.TRAINS, 100), (CellClass.TRAINS, CellClass.SLOW, 100),
             (CellClass.SLOW, CellClass.DIES, 100)}
    assert set(others) == kinds, "the prose: the other misses, all at batch 100, of these kinds"
    escaped = next(r for r in toy.rows if not r.hold_out and r.batch == 100
                   and cell_classes(r) == (CellClass.SLOW, CellClass.DIES))
    return {"gain": s["accuracy"] - s["majority"], "missed": missed, **bootstrap(held),
            "analysis_f": len({r.name for r in toy.rows if not r.hold_out}), "blew_up": len(blew_up),
            "blew_up_trains": sum(str(r.predicted["class"]) == CellClass.TRAINS for r in blew_up),
            "escaped_dead": escaped.measured["dead_fraction"], "escaped_predicted": escaped.predicted["dead_fraction"]}


@reads("atlas-trained-toy2d-moons-round5-retest.json")
def toy_retest(d: dict) -> dict:
    """Round 5's hold-out measured twice: asserts "the misses are the predictor's" (the two
    measurements agree more often than the prediction agrees with the first)."""
    from studies.readings import RESULTS

    first = [r for r in load(RESULTS / "atlas-trained-toy2d-moons-round5.json").rows if r.hold_out]
    return retest_agreement(as_report(d).rows, first)


@reads("atlas-trained-toy2d-moons-catalog-retest.json")
def toy_catalog_retest(d: dict) -> dict:
    """The 8 catalog f first run after round 5, measured twice: asserts "most of their misses are the
    predictor's" (the two measurements agree more often than the prediction agrees with the first)."""
    from studies.readings import RESULTS

    rows = as_report(d).rows
    assert {r.name for r in rows} == set(TOY_CATALOG_LATE)
    first = [r for r in load(RESULTS / "atlas-trained-toy2d-moons-catalog.json").rows if r.name in TOY_CATALOG_LATE]
    return {**retest_agreement(rows, first), "f": len(TOY_CATALOG_LATE)}


def retest_agreement(twice, first) -> dict:
    """Two measurements' agreement; asserts the prose "the misses are the predictor's": they agree more
    often than the prediction agrees with the first measurement (``first``: the predicted cells)."""
    again = scores(twice)
    assert again["accuracy"] > scores(first)["accuracy"], "the prose: the misses are the predictor's"
    return {"agreement": again["accuracy"], "kappa": again["kappa"]}


@reads("atlas-trained-toy2d-moons-round4-retest.json")
def toy_round4_retest(d: dict) -> dict:
    """Round 4's cells measured twice: asserts "every disagreement sits at a boundary" (one of the two
    dead fractions one run from 0.25, or a median arrival in the budget's last 30%)."""
    rows = as_report(d).rows
    s = scores(rows)
    apart = missed_cells(rows)
    assert all(at_boundary(r) for r in apart), "the prose: every disagreement sits at a boundary"
    return {"cells": s["cells"], "agreement": s["accuracy"], "kappa": s["kappa"], "apart": len(apart)}


def at_boundary(r) -> bool:
    """Whether a cell measured twice sits at a class boundary: either of its two dead fractions within
    one run of the quarter that makes it die, or a median arrival in the budget's last 30% (until
    round 6's retest the check took the smaller dead fraction only, narrower than the page's words)."""
    dead = (r.predicted["dead_fraction"], r.measured["dead_fraction"])
    times = [t for t in (r.predicted["time_to_0.05"], r.measured["time_to_0.05"]) if t is not None]
    return any(abs(x - 0.25) <= 1 / RUNS for x in dead) or any(t > 0.7 * r.steps for t in times)


def _catalog_sets(rows) -> list:
    """(label, rows) of the curved catalog on the toy: the f first run in the corrected game after round 5
    was scored (`TOY_CATALOG_LATE`), those that round 4 ran, and all of them."""
    new = [r for r in rows if r.name in TOY_CATALOG_LATE]
    return [(f"first run in the corrected game ({len({r.name for r in new})} f)", new),
            (f"run in round 4, predicted again ({len({r.name for r in rows}) - len({r.name for r in new})} f)",
             [r for r in rows if r.name not in TOY_CATALOG_LATE]),
            (f"the whole curved catalog ({len({r.name for r in rows})} f)", rows)]


def catalog_table(d) -> str:
    """Round 5 over the curved catalog (markdown): the scores of each set, with κ's 90% interval when
    the f are resampled (`bootstrap`)."""
    lines = ["| catalog f | cells | class accuracy | always the commonest class | Cohen's κ (90% interval) | "
             "time within ×2 | dead fraction within ±0.25 |", "|---|---|---|---|---|---|---|"]
    for label, rows in _catalog_sets(as_report(d).rows):
        s, b = scores(rows), bootstrap(rows)
        columns = _score_columns(s).split(" | ")
        columns[3] += f" ({b['kappa_low']:.2f}–{b['kappa_high']:.2f})"
        lines.append(f"| {label} | {' | '.join(columns)} |")
    return "\n".join(lines)


@reads("atlas-trained-toy2d-moons-catalog.json")
def toy_catalog(d: dict) -> dict:
    """Round 5 over the curved catalog: each set's score, the gain over the commonest class and the
    bootstrap intervals; asserts that the file holds the whole curved catalog, each f at both points."""
    rows = as_report(d).rows
    assert sorted({r.name for r in rows}) == sorted(CURVED) and len(rows) == 2 * len(CURVED), \
        "the prose: the whole curved catalog, at both operating points"
    out = _catalog_misses(rows)
    for key, (_, part) in zip(("late", "round4", "all"), _catalog_sets(rows)):
        s = scores(part)
        s |= {"gain": s["accuracy"] - s["majority"], "f": len({r.name for r in part}), **bootstrap(part)}
        out |= {f"{key}_{k}": v for k, v in s.items() if not isinstance(v, (list, dict))}
    assert out["all_gain"] <= 0.05, "the prose: over the catalog it does no better than guessing the commonest class"
    assert out["all_time_within"] == out["all_time_cells"], "the prose: its times still hold"
    return out


def _catalog_misses(rows) -> dict:
    """The catalog's misses by kind; asserts the prose: two kinds make up most of them. Cells that do
    not train, called dies for slow (the runs stay finite; in most, a quarter of the flows stop being
    finite within `EARLY` steps) or slow for dies; and cells that trained, called slow."""
    missed = missed_cells(rows)
    stuck = [r for r in missed if set(cell_classes(r)) == {CellClass.SLOW, CellClass.DIES}]
    late = [r for r in missed if cell_classes(r) == (CellClass.SLOW, CellClass.TRAINS)]
    assert len(stuck) + len(late) >= 0.75 * len(missed), "the prose: two kinds make up most of the misses"
    called_dead = [r for r in stuck if cell_classes(r)[0] == CellClass.DIES]
    assert all(d is None or d < 0 for r in called_dead for d in r.measured["runs"]["died"]), \
        "the prose: called dies where the runs stay finite"
    early = [r for r in called_dead
             if sum(d is not None and 0 <= d < EARLY for d in r.predicted["runs"]["flow_died"]) >= RUNS / 4]
    assert len(early) > len(called_dead) / 2, "the prose: in most of them the flows stop being finite early"
    ends = [r.measured["final_error"] for r in stuck if r.measured["final_error"] is not None]
    return {"missed": len(missed), "stuck": len(stuck), "stuck_end_low": min(ends), "stuck_end_high": max(ends),
            "stuck_dies": len(called_dead), "stuck_early": len(early), "early_steps": EARLY,
            "stuck_slow": len(stuck) - len(called_dead),
            "late": len(late), "late_earliest": min(r.measured["time_to_0.05"] / r.steps for r in late),
            "other": len(missed) - len(stuck) - len(late)}


def retest_table(*files) -> str:
    """Two measurements of the same cells (8 runs each, other streams), scored as predictor and truth
    (markdown): the measurement's own noise at 8 runs a cell. ``files``: (label, retest file) pairs."""
    lines = ["| cells measured twice | cells | class agreement | always the commonest class | Cohen's κ | "
             "time within ×2 | dead fraction within ±0.25 |", "|---|---|---|---|---|---|---|"]
    for label, d in zip(files[::2], files[1::2]):
        lines.append(f"| {label} | {_score_columns(scores(as_report(d).rows))} |")
    return "\n".join(lines)


def commands(verbs) -> None:
    verb(verbs, "run", lambda out, names: run(out, names or ANALYSIS + HOLD_OUT),
         "predicted and measured cells of the named f (default: the analysis set and the hold-out)", "out",
         ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "run-hold-out", lambda out, k, names: run(out, names or HOLD_OUTS[int(k)], HOLD_OUTS[int(k)]),
         "predicted and measured cells of a later hold-out, 2 or 3 (or of the named f among it)", "out",
         ("k", {"choices": ["2", "3"]}),
         ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "repredict", repredict, "paper-1d cells predicted again beside runs measured earlier", "out",
         "measured", ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "run-toy", lambda out, names: run_toy(out, names or TOY_ANALYSIS + TOY_HOLD_OUT),
         "the same on the 2-D toy (moons, the bench's networks)", "out", ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "repredict-toy", repredict_toy, "toy cells predicted again beside runs measured earlier", "out",
         "measured", ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "retest-toy", retest_toy, "toy cells measured again on other streams, the first measurement as "
         "the prediction (the measurement's own noise)", "out", "measured", ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "merge", merge, "the parts in one file, scores recomputed", "out", ("parts", {"nargs": "+"}),
         ("--only", {"nargs": "+", "metavar": "NAME", "help": "keep these f's cells alone"}),
         ("--seen", {"action": "store_true", "help": "every cell in the analysis set"}), writes="out")
    verb(verbs, "text", lambda path: load(path).text(), "the report's text", "path")
    verb(verbs, "figure", figure, "predicted against measured (a PNG)", "path", "png")
    verb(verbs, "table", lambda path: scores_table(load_json(path)), "the scores, analysis set and hold-out", "path")
