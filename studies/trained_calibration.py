"""Predicted against measured full-batch η_max on paper-1d with the reference code's critic
(1-64-64-1 tanh), for every curved catalog f; 4 of them, drawn with a fixed seed before any
measurement, are the hold-out and are reported apart.

    python studies/trained_calibration.py run PART.json NAME ...   # measure some f (one process each)
    python studies/trained_calibration.py merge OUT.json PART.json ...
    python studies/trained_calibration.py time PART.json NAME ...  # only the time to 0.05
    python studies/trained_calibration.py rate PART.json NAME ...  # only the local rate (θ-mode)
    python studies/trained_calibration.py start-rate PART.json NAME ...  # only the rate from the start
    python studies/trained_calibration.py add-time OUT.json PART.json ...  # into OUT's rows (add-rate,
                                                                    # add-start-rate alike)
    python studies/trained_calibration.py table OUT.json            # the docs table (docs/trained-game.md)
    python studies/trained_calibration.py time-table OUT.json       # the time-to-0.05 table
    python studies/trained_calibration.py rate-table OUT.json       # the local-rate (θ-mode) table
    python studies/trained_calibration.py start-rate-table OUT.json # the rate-from-the-start table
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


def run(out, names, quantities=("eta_max",)):
    torch.set_num_threads(1)
    report = calibrate(names, hold_out=HOLD_OUT, progress=False, quantities=quantities, **SETTINGS)
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


# the row fields that hold each quantity's runs
DETAIL = {"time_to_0.05": ("arrival",), "rate": ("modes", "equilibrium"), "rate_from_start": ("relaxation",)}


def add(out, parts, q):
    """Quantity ``q`` of the ``parts`` (their predicted, measured and runs) into OUT's rows (same f),
    with its summaries for the analysis set and the hold-out apart."""
    report = CalibrateReport.from_json(json.load(open(out)))
    found = {r.name: r for p in parts for r in CalibrateReport.from_json(json.load(open(p))).rows}
    for r in report.rows:
        t = found[r.name]
        r.predicted[q], r.measured[q] = t.predicted[q], t.measured[q]
        for name in DETAIL[q]:
            setattr(r, name, getattr(t, name))
        r.elapsed_s += t.elapsed_s
    rows = report.rows
    report.summary[q] = summarize([r for r in rows if r.name not in HOLD_OUT], q)
    report.summary[q + "_hold_out"] = summarize([r for r in rows if r.name in HOLD_OUT], q)
    report.not_measured = [k for k in report.not_measured if k != q]
    report.settings.update({k: v for k, v in CalibrateReport.from_json(json.load(open(parts[0]))).settings.items()
                            if k not in report.settings
                            or k in ("arrival", "rate", "rate_from_start", "factor", "within", "mean_square")})
    with open(out, "w") as fh:
        fh.write(report.json_text())


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
    return "\n".join(lines + _summary(rep, "eta_max", "1%"))


def _summary(rep, q: str, band: str) -> list:
    """The agreement lines under a table: the analysis set and the hold-out apart."""
    lines = [""]
    for key, label in ((q, "analysis set"), (q + "_hold_out", "hold-out")):
        s = rep.summary[key]
        rho = "n/a" if s["spearman"] is None else f"{s['spearman']:.3f}"
        mal = "n/a" if s["median_abs_log_ratio"] is None else f"{s['median_abs_log_ratio']:.2g}"
        lines.append(f"- {label}: {s['within']} of {s['n']} within {band}, Spearman ρ {rho}, "
                     f"median |log(predicted/measured)| {mal}")
    return lines


def time_table(path) -> str:
    """Time to error ≤ 0.05: the noise-free flows' median against the minibatch runs' median."""
    rep = CalibrateReport.from_json(json.load(open(path)))
    q = "time_to_0.05"
    lines = ["| f | set | noise-free flows (4 critic inits) | predicted (median) | minibatch runs: arrived, "
             "not finite, of 8 | measured (median) | predicted / measured |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rep.rows:
        pred, meas = r.arrival["predicted"], r.arrival["measured"]
        flows = ", ".join("—" if t is None else f"{t}" for t in pred["steps"])
        lost = sum(n is not None for n in meas["non_finite"])
        arrived = sum(t is not None for t in meas["steps"])
        p, m = r.predicted[q], r.measured[q]
        ratio = "n/a" if p is None or m is None else f"{p / m:.2f}"
        shown_m = f"{m:.0f}" if m is not None else f"> {meas['last_step']}"
        lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | {flows} | "
                     f"{'n/a' if p is None else f'{p:.0f}'} | {arrived}, {lost} | {shown_m} | {ratio} |")
    return "\n".join(lines + _summary(rep, q, "a factor 2"))


def rate_table(path) -> str:
    """The local rate: the θ-mode's predicted −log|1 + ηλ| against pair runs along it, with the
    ladder of other modes and the slowest transverse eigenvalue."""
    rep = CalibrateReport.from_json(json.load(open(path)))
    q = "rate"
    lines = ["| f | set | θ-mode λ (θ share) | predicted rate per step | measured | predicted / measured | "
             "other modes within 10% | slowest transverse λ |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rep.rows:
        m = r.modes
        if not m or m["theta_mode"] is None:
            lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | n/a | n/a | n/a | n/a "
                         f"| n/a | n/a ({r.status}) |")
            continue
        t, slow = m["theta_mode"], m["slowest"]
        near = [x for x in m["ladder"] if x["measured"] is not None]
        within = sum(abs(x["predicted"] / x["measured"] - 1) <= 0.1 for x in near)
        lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | "
                     f"{t['eigenvalue'][0]:.4g} ({t['theta_share']:.2f}) | {t['predicted']:.4e} | "
                     f"{t['measured']:.4e} | {t['predicted'] / t['measured']:.5f} | {within} of {len(near)} | "
                     f"{slow['eigenvalue'][0]:.2g} |")
    return "\n".join(lines + _summary(rep, q, "10%"))


def start_rate_table(path) -> str:
    """The rate from the standard start: the best-response prediction against the noise-free flows'
    fitted rates."""
    rep = CalibrateReport.from_json(json.load(open(path)))
    q = "rate_from_start"
    lines = ["| f | set | predicted rate per step (best-response θ) | fitted rate of each flow | measured (median) | "
             "predicted / measured |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rep.rows:
        p, m = r.predicted[q], r.measured[q]
        flows = ", ".join("—" if x is None else f"{x:.2e}" for x in r.relaxation["rates"])
        lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | "
                     f"{'n/a' if p is None else f'{p:.2e}'} | {flows} | {'n/a' if m is None else f'{m:.2e}'} | "
                     f"{'n/a' if p is None or m is None else f'{p / m:.2f}'} |")
    return "\n".join(lines + _summary(rep, q, "10%"))


if __name__ == "__main__":
    command, out, *rest = sys.argv[1:]
    if command == "run":
        run(out, rest)
    elif command == "time":
        run(out, rest, ("time_to_0.05",))
    elif command in ("rate", "start-rate"):
        run(out, rest, ("rate",) if command == "rate" else ("rate_from_start",))
    elif command in ("add-time", "add-rate", "add-start-rate"):
        add(out, rest, {"add-time": "time_to_0.05", "add-rate": "rate", "add-start-rate": "rate_from_start"}[command])
    elif command == "merge":
        merge(out, rest)
    elif command == "time-table":
        print(time_table(out))
    elif command == "rate-table":
        print(rate_table(out))
    elif command == "start-rate-table":
        print(start_rate_table(out))
    elif command == "figures":
        print(CalibrateReport.from_json(json.load(open(out))).save_figures(rest[0], dpi=120))
    else:
        print(table(out))
