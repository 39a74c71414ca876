"""Will it train? The trained-game atlas scored against runs of the same game, with a hold-out of f.

Set-up: paper-1d with the reference code's 1-64-64-1 tanh critic, played as the reference code plays
it (SGD on both players, critic step first, σ stepped directly, its link clamps). Operating points
`POINTS`: lr 10⁻² and 10⁻³ for both players, batch 1000 and 100, budgets 3,000 and 12,000 steps
(flow time lr × steps = 30 and 12: the fast f arrive near the second budget's end). 8 seeded runs
per cell, each on its own stream.

The hold-out was drawn before any scoring run and is never tuned on: 4 catalog f by
``default_rng(20261207)`` (a new draw; the calibration's hold-out has been looked at) and 2
generators of our own that are not in the catalog. The rule (`training.cells`, `training.hazard`)
was committed before the first scoring run.

    python studies/trained_verdict.py run OUT.json [NAME ...]   # predicted and measured cells
    python studies/trained_verdict.py merge OUT.json PART.json ... # one file, scores recomputed
    python studies/trained_verdict.py text OUT.json               # the report's text
    python studies/trained_verdict.py figure OUT.json PNG         # predicted against measured
"""

from __future__ import annotations

import json
import sys

import numpy as np

from febm.dynamics.commands.trained_atlas import TrainedAtlasReport, scores, trained_atlas
from febm.dynamics.files import save_figure, write_json
from febm.dynamics.training.cells import OperatingPoint
from febm.dynamics.training.toy2d import all_methods
from febm.threads import limit_threads

CURVED = all_methods()[1:]  # the 16 catalog f with f''(1) > 0
HOLD_OUT = sorted(np.random.default_rng(20261207).choice(CURVED, 4, replace=False).tolist()) + [
    "(t-1)*atan(t-1)", "t**1.5 - 1.5*t + 0.5"]
ANALYSIS = [f for f in CURVED if f not in HOLD_OUT]
POINTS = (OperatingPoint(1e-2, 1000, 3000), OperatingPoint(1e-2, 100, 3000),
          OperatingPoint(1e-3, 1000, 12000), OperatingPoint(1e-3, 100, 12000))
RUNS = 8


def run(out: str, names) -> None:
    limit_threads(1)
    report = trained_atlas(names, "paper-1d", "mlp:64,64", POINTS, measure=RUNS, hold_out=HOLD_OUT, progress=False)
    write_json(out, report.to_json())


def merge(out: str, parts) -> None:
    reports = [TrainedAtlasReport.from_json(json.load(open(p))) for p in parts]
    first = reports[0]
    assert all(r.settings == first.settings for r in reports)
    rows = [row for r in reports for row in r.rows]
    first.rows = rows
    first.summary = {"analysis": scores([r for r in rows if not r.hold_out]),
                     "hold_out": scores([r for r in rows if r.hold_out])}
    first.elapsed_s = sum(r.elapsed_s for r in reports)
    write_json(out, first.to_json())


def load(path: str) -> TrainedAtlasReport:
    d = json.load(open(path))
    d.pop("provenance", None)
    return TrainedAtlasReport.from_json(d)


if __name__ == "__main__":
    verb, path, *rest = sys.argv[1:]
    if verb == "run":
        run(path, rest or ANALYSIS + HOLD_OUT)
    elif verb == "merge":
        merge(path, rest)
    elif verb == "text":
        print(load(path).text())
    elif verb == "figure":
        save_figure(load(path).figure(), rest[0], dpi=110)
    else:
        sys.exit(f"unknown verb {verb!r}: run, merge, text or figure")
