"""How the toy predictor's round-6 rule was chosen: round 5's stored flows rescored under other rules.

A toy prediction keeps, per run, what its rule combined (`toy2d_cells`): the flow's error curve and
fate, the early minibatch run's error and fate, the end probe's fate and noise floor, the chance of
death along the flow. So a rule that combines them differently can be scored on the same cells
without running anything. Round 6's rule was chosen here, on every cell round 5 predicted (its main
file, its retired hold-out included, and the curved catalog; the catalog's row wins where both hold a
cell), before any run of round 6's hold-out (`TOY_HOLD_OUT`), which no rule here has seen:

* the deaths (`DEATHS`): which fates count. Round 5 counted a flow that stopped being finite or ended
  outside the basin as its run's death; the others count minibatch runs' own deaths and, at most, the
  flows that end outside the basin or overflow after `EARLY` steps (the overflows within them are the
  catalog's misses);
* the floor's weight (`WEIGHTS`): how much of the end probe's noise floor is added to the flow's
  error before the dilation and the arrival are read.

    python -m studies toy_rules table FILE.json ...    # every rule's score on the files' cells
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from febm.dynamics.commands.trained_atlas import scores
from febm.dynamics.training import arrival
from febm.dynamics.training.cells import CellClass, classify
from febm.dynamics.training.toy2d_cells import RECORD_EVERY, dilated, early_steps
from studies import load, verb
from studies.readings import reads
from studies.trained_verdict import EARLY, TOY_HOLD_OUT, as_report, bootstrap

DESCRIPTION = "the toy predictor's rule, chosen by rescoring round 5's stored flows under other rules"
DEATHS = {
    "flows and minibatch runs (round 5)": lambda died: True,
    "minibatch runs, and flows that end outside": lambda died: died == -1,
    f"minibatch runs, and flows that end outside or overflow after {EARLY} steps":
        lambda died: died == -1 or died >= EARLY,
    "minibatch runs only (round 6)": lambda died: False,
}
WEIGHTS = (1.0, 0.5, 0.0)
CHOSEN = ("minibatch runs only (round 6)", 0.0)
ROUND5_RULE = ("flows and minibatch runs (round 5)", 1.0)


class _Js:
    """A stored error as the trainer's score (``.js``); a non-finite one is stored as text."""

    def __init__(self, value):
        self.js = float(value)


def rescored(row, death: str, weight: float) -> dict:
    """The row's predicted outcome under another rule, from its stored flows (see the module): a run
    whose early run or end probe died, or whose flow's fate counts under ``death``, dies; the others
    arrive at their dilated flow + ``weight`` × floor's step (a flow that overflowed or left gets
    there only if it did before) and die with the chance along a finite flow (none along the others)."""
    runs, steps = row.predicted["runs"], row.steps
    k_steps = early_steps(steps)
    curves = [(s, [_Js(e) for e in errors]) for s, errors in zip(runs["flow_steps"], runs["flow_error"])]
    arrived, dead = [], []
    for k, flow_died in enumerate(runs["flow_died"]):
        counted = flow_died is not None and DEATHS[death](flow_died)
        if runs["probe_died"][k] or runs["early_died"][k] or counted:
            arrived.append(None)
            dead.append(1.0)
        else:
            floor = weight * runs["noise_floor"][k]
            early = runs["early_arrived"][k] if "early_arrived" in runs else _early_arrival(runs["arrived"][k], k_steps)
            arrived.append(dilated(curves, k, float(runs["early_error"][k]), early, k_steps, steps, floor)[1])
            dead.append(0.0 if flow_died is not None else float(runs["dead_chance"][k]))
    time, fraction = arrival.median_time(arrived), float(np.mean(dead))
    return {"class": str(classify(time, fraction)), "time_to_0.05": time, "dead_fraction": fraction}


def _early_arrival(stored, k_steps: int):
    """The early run's own arrival, for predictions made before round 6 stored it: the stored arrival
    where it is a record step within K (a dilated arrival within K would need the run's error at K
    below `TARGET`, where it had arrived itself). Round 5 stored no arrival for a run it counted dead,
    so a rule that revives such a run cannot credit its early run's arrival; none of those early runs
    ended K at or below `TARGET`."""
    if stored is None or stored > k_steps or not math.isclose(stored % RECORD_EVERY, 0.0, abs_tol=1e-9):
        return None
    return stored


def cells(*files) -> list:
    """The files' cells of f outside today's hold-out, one row per (f, lr, batch, steps), a later file's
    row winning, each marked as analysis."""
    rows = {}
    for d in files:
        for r in as_report(d).rows:
            if r.name not in TOY_HOLD_OUT:
                rows[r.name, r.lr, r.batch, r.steps] = replace(r, hold_out=False)
    return list(rows.values())


def under(rows, death: str, weight: float) -> list:
    """``rows`` with their predictions rescored under the rule (`rescored`)."""
    return [replace(r, predicted={**r.predicted, **rescored(r, death, weight)}) for r in rows]


def scored(rows, death: str, weight: float) -> dict:
    """The rule's scores on ``rows`` (`trained_atlas.scores`) with κ's bootstrap interval."""
    again = under(rows, death, weight)
    return scores(again) | bootstrap(again)


def table(*files) -> str:
    """Every rule's score on the files' cells outside today's hold-out (markdown), the chosen one in bold."""
    rows = cells(*files)
    lines = ["| which deaths count | floor's weight | cells | class accuracy | always the commonest class | "
             "Cohen's κ (90% interval) | time within ×2 |", "|---|---|---|---|---|---|---|"]
    for death in DEATHS:
        for weight in WEIGHTS:
            s = scored(rows, death, weight)
            mark = "**" if (death, weight) == CHOSEN else ""
            lines.append(f"| {mark}{death}{mark} | {weight:g} | {s['cells']} | {s['accuracy']:.0%} | "
                         f"{s['majority']:.0%} | {s['kappa']:.2f} ({s['kappa_low']:.2f}–{s['kappa_high']:.2f}) | "
                         f"{s['time_within']}/{s['time_cells']} |")
    return "\n".join(lines)


def commands(verbs) -> None:
    verb(verbs, "table", lambda paths: table(*(load(p) for p in paths)),
         "every rule's score on the files' cells outside today's hold-out", ("paths", {"nargs": "+"}))


@reads("atlas-trained-toy2d-moons.json")
def toy_round6(d: dict) -> dict:
    """Round 6 on its hold-out (the file holds it alone): its score with bootstrap intervals, by batch;
    the rule's choice (round 5's rule and round 6's on the cells it was chosen on); round 5's rule on
    this hold-out, rescored after the fact. Asserts the prose's account of the misses and of the
    choice (tests/studies/test_toy_rules.py checks that the rescoring gives the file's predictions)."""
    from studies.readings import RESULTS
    from studies.trained_verdict import cell_classes, missed_cells

    rows = as_report(d).rows
    assert all(r.hold_out for r in rows), "the prose: the file holds round 6's hold-out alone"
    s = scores(rows)
    assert s["kappa"] < 0.6 and s["accuracy"] - s["majority"] < 0.2, "the prose: the class misses both targets"
    out = {"gain": s["accuracy"] - s["majority"], "f": len({r.name for r in rows}), **bootstrap(rows)}
    for b in (1000, 100):
        part = scores([r for r in rows if r.batch == b])
        out |= {f"b{b}_accuracy": part["accuracy"], f"b{b}_majority": part["majority"], f"b{b}_cells": part["cells"]}
    missed = missed_cells(rows)
    kinds = sorted((str(p), str(m)) for p, m in map(cell_classes, missed))
    assert kinds == [("slow", "dies"), ("slow", "trains"), ("slow", "trains"), ("trains", "slow")], \
        "the prose: two late trainers called slow, one trains for slow, one slow for dies"
    late = [r for r in missed if cell_classes(r) == (CellClass.SLOW, CellClass.TRAINS)]
    died = next(r for r in missed if cell_classes(r) == (CellClass.SLOW, CellClass.DIES))
    retest = as_report(load(RESULTS / "atlas-trained-toy2d-moons-round6-retest.json"))
    again = {(r.name, r.batch): r for r in retest.rows}
    own = [r for r in missed if r.predicted["class"] != again[r.name, r.batch].measured["class"]]
    seen = cells(load(RESULTS / "atlas-trained-toy2d-moons-round5.json"),
                 load(RESULTS / "atlas-trained-toy2d-moons-catalog.json"))
    before, chosen = scores(under(seen, *ROUND5_RULE)), scores(under(seen, *CHOSEN))
    assert chosen["kappa"] == max(scores(under(seen, death, w))["kappa"] for death in DEATHS for w in WEIGHTS), \
        "the prose: the chosen rule has the best kappa on the cells it was chosen on"
    old = scores(under(rows, *ROUND5_RULE))
    assert old["accuracy"] < s["accuracy"], "the prose: round 5's rule does worse on this hold-out"
    assert out["kappa_low"] < 0, "the prose: the interval holds chance (kappa 0)"
    assert out["b1000_accuracy"] < out["b1000_majority"], "the prose: below the commonest class at batch 1000"
    assert len(own) > len(missed) / 2, "the prose: most misses disagree with both measurements"
    timed = [r for r in rows if r.batch == 100 and r.predicted["time_to_0.05"] and r.measured["time_to_0.05"]]
    assert timed and all(r.predicted["time_to_0.05"] < r.measured["time_to_0.05"] for r in timed), \
        "the prose: the times are too early at batch 100"
    return out | {"missed": len(missed), "late": len(late), "own": len(own),
                  "died_dead": died.measured["dead_fraction"],
                  "died_again": again[died.name, died.batch].measured["dead_fraction"],
                  "late_earliest": min(r.measured["time_to_0.05"] / r.steps for r in late),
                  "chosen_cells": chosen["cells"], "chosen_accuracy": chosen["accuracy"],
                  "chosen_kappa": chosen["kappa"], "chosen_majority": chosen["majority"],
                  "before_accuracy": before["accuracy"], "before_kappa": before["kappa"],
                  "rules": len(DEATHS) * len(WEIGHTS), "old_accuracy": old["accuracy"], "old_kappa": old["kappa"]}


@reads("atlas-trained-toy2d-moons-round6-retest.json")
def toy_round6_retest(d: dict) -> dict:
    """Round 6's hold-out measured twice: asserts "the misses are mostly the predictor's" (the two
    measurements agree more often than the prediction with the first) and "every disagreement sits
    at a boundary"."""
    from studies.readings import RESULTS
    from studies.trained_verdict import at_boundary, missed_cells, retest_agreement

    rows = as_report(d).rows
    assert all(at_boundary(r) for r in missed_cells(rows)), "the prose: every disagreement sits at a boundary"
    return retest_agreement(rows, as_report(load(RESULTS / "atlas-trained-toy2d-moons.json")).rows)
