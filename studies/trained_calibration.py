"""Predicted against measured full-batch η_max on paper-1d with the reference code's critic
(1-64-64-1 tanh), for every curved catalog f; 4 of them, drawn with a fixed seed before any
measurement, are the hold-out and are reported apart.

    python studies/trained_calibration.py run PART.json NAME ...   # measure some f (one process each)
    python studies/trained_calibration.py merge OUT.json PART.json ...
    python studies/trained_calibration.py table OUT.json            # the docs table (docs/trained-game.md)
    python studies/trained_calibration.py figures OUT.json DIR      # its two figures
"""

import json
import sys

import numpy as np
import torch

from febm.dynamics.commands.calibrate import CalibrateReport, _residual, calibrate, summarize
from febm.dynamics.training.toy2d import all_methods

CURVED = all_methods()[1:]  # the 16 catalog f with f''(1) > 0
HOLD_OUT = sorted(np.random.default_rng(20201).choice(CURVED, 4, replace=False).tolist())
SETTINGS = dict(model="paper-1d", critic="mlp:64,64", seed=0, flow_steps=6000, edge_steps=500)


def run(out, names):
    torch.set_num_threads(1)
    report = calibrate(names, hold_out=HOLD_OUT, progress=False, **SETTINGS)
    with open(out, "w") as fh:
        fh.write(report.json_text())
    print(report.text(), flush=True)


def merge(out, parts):
    reports = [CalibrateReport.from_json(json.load(open(p))) for p in parts]
    rows = sorted((r for rep in reports for r in rep.rows), key=lambda r: CURVED.index(r.name)
                  if r.name in CURVED else len(CURVED))
    first = reports[0]
    first.rows, first.elapsed_s = rows, sum(r.elapsed_s for r in rows)
    first.summary = {"eta_max": summarize([r for r in rows if r.name not in HOLD_OUT], "eta_max"),
                     "eta_max_hold_out": summarize([r for r in rows if r.name in HOLD_OUT], "eta_max")}
    with open(out, "w") as fh:
        fh.write(first.json_text())


def table(path) -> str:
    rep = CalibrateReport.from_json(json.load(open(path)))
    lines = ["| f | set | residual \\|F\\| | predicted η_max | measured η_max (bracket) | predicted / measured "
             "| status |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rep.rows:
        p, m = r.predicted["eta_max"], r.measured["eta_max"]
        ratio = "n/a" if p is None or m is None else f"{p / m:.4f}"
        br = "n/a" if r.bracket[0] is None else f"{m:.5g} ({r.bracket[0]:.5g}, {r.bracket[1]:.5g})"
        lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | {_residual(r.residual)} | "
                     f"{'n/a' if p is None else f'{p:.5g}'} | {br} | {ratio} | {r.status} |")
    lines.append("")
    for key, label in (("eta_max", "analysis set"), ("eta_max_hold_out", "hold-out")):
        s = rep.summary[key]
        rho = "n/a" if s["spearman"] is None else f"{s['spearman']:.3f}"
        mal = "n/a" if s["median_abs_log_ratio"] is None else f"{s['median_abs_log_ratio']:.2g}"
        lines.append(f"- {label}: {s['within']} of {s['n']} within 1%, Spearman ρ {rho}, "
                     f"median |log(predicted/measured)| {mal}")
    return "\n".join(lines)


if __name__ == "__main__":
    command, out, *rest = sys.argv[1:]
    if command == "run":
        run(out, rest)
    elif command == "merge":
        merge(out, rest)
    elif command == "figures":
        print(CalibrateReport.from_json(json.load(open(out))).save_figures(rest[0], dpi=120))
    else:
        print(table(out))
