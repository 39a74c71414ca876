"""Predicted against measured full-batch η_max on paper-1d with the reference code's critic
(1-64-64-1 tanh), for every curved catalog f; 4 of them, drawn with a fixed seed before any
measurement, are the hold-out and are reported apart.

    python studies/trained_calibration.py run PART.json NAME ...   # measure some f (one process each)
    python studies/trained_calibration.py merge OUT.json PART.json ...
    python studies/trained_calibration.py time PART.json NAME ...  # only the time to 0.05
    python studies/trained_calibration.py rate PART.json NAME ...  # only the local rate (θ-mode)
    python studies/trained_calibration.py start-rate PART.json NAME ...  # only the rate from the start
    python studies/trained_calibration.py mean-square PART.json NAME ...  # only η_ms and the spread
    python studies/trained_calibration.py edge-at-batch PART.json B NAME ...  # only η_ms, at batch B
    python studies/trained_calibration.py merge-batch GRID.json PART.json ...  # the parts of the batch grid
    python studies/trained_calibration.py batch-table GRID.json OUT.json  # η_ms against B (docs/trained-game.md)
    python studies/trained_calibration.py add-time OUT.json PART.json ...  # into OUT's rows (add-rate,
                                                                    # add-start-rate alike)
    python studies/trained_calibration.py table OUT.json            # the docs table (docs/trained-game.md)
    python studies/trained_calibration.py time-table OUT.json       # the time-to-0.05 table
    python studies/trained_calibration.py rate-table OUT.json       # the local-rate (θ-mode) table
    python studies/trained_calibration.py start-rate-table OUT.json # the rate-from-the-start table
    python studies/trained_calibration.py mean-square-table OUT.json # the η_ms and spread table
    python studies/trained_calibration.py toy-table OUT.json        # a 2-D toy's η_max and θ-mode table
    python studies/trained_calibration.py tails OUT.json TAILS.json # tail indices at the resting θ
    python studies/trained_calibration.py figures OUT.json DIR      # its two figures
"""

import json
import sys

import numpy as np
import torch

from febm.dynamics.commands.calibrate import CalibrateReport, _residual, calibrate, summarize
from febm.dynamics.files import write_json
from febm.dynamics.training.toy2d_training import all_methods

CURVED = all_methods()[1:]  # the 16 catalog f with f''(1) > 0
HOLD_OUT = sorted(np.random.default_rng(20201).choice(CURVED, 4, replace=False).tolist())
SETTINGS = dict(model="paper-1d", critic="mlp:64,64", seed=0, flow_steps=6000, edge_steps=500)


def run(out, names, quantities=("eta_max",), **extra):
    torch.set_num_threads(1)
    report = calibrate(names, hold_out=HOLD_OUT, progress=False, quantities=quantities, **SETTINGS, **extra)
    with open(out, "w") as fh:
        fh.write(report.json_text())
    print(report.text(), flush=True)


def split_summary(rows, q: str) -> dict:
    """Quantity q's summary for the analysis set and, under q + "_hold_out", the hold-out."""
    return {q: summarize([r for r in rows if r.name not in HOLD_OUT], q),
            q + "_hold_out": summarize([r for r in rows if r.name in HOLD_OUT], q)}


def merge(out, parts):
    reports = [CalibrateReport.from_json(json.load(open(p))) for p in parts]
    rows = sorted((r for rep in reports for r in rep.rows), key=lambda r: CURVED.index(r.name)
                  if r.name in CURVED else len(CURVED))
    first = reports[0]
    first.rows, first.elapsed_s = rows, sum(r.elapsed_s for r in rows)
    first.summary = split_summary(rows, "eta_max")
    with open(out, "w") as fh:
        fh.write(first.json_text())


# the row fields that hold each quantity's runs
DETAIL = {"time_to_0.05": ("arrival",), "rate": ("modes", "equilibrium"), "rate_from_start": ("relaxation",),
          "eta_ms": ("mean_square",), "spread": ("mean_square",)}


def add(out, parts, q, count_time=True):
    """Quantity ``q`` of the ``parts`` (their predicted, measured and runs) into OUT's rows (same f;
    rows no part has are left as they are), with its summaries for the analysis set and the
    hold-out apart; ``count_time``: add the parts' elapsed time to the rows'."""
    report = CalibrateReport.from_json(json.load(open(out)))
    found = {r.name: r for p in parts for r in CalibrateReport.from_json(json.load(open(p))).rows}
    for r in report.rows:
        if r.name not in found:
            continue
        t = found[r.name]
        r.predicted[q], r.measured[q] = t.predicted[q], t.measured[q]
        for name in DETAIL[q]:
            setattr(r, name, getattr(t, name))
        r.elapsed_s += t.elapsed_s if count_time else 0.0
    rows = report.rows
    report.summary.update(split_summary(rows, q))
    report.not_measured = [k for k in report.not_measured if k != q]
    report.settings.update({k: v for k, v in CalibrateReport.from_json(json.load(open(parts[0]))).settings.items()
                            if k not in report.settings
                            or k in ("arrival", "rate", "rate_from_start", "factor", "within", "mean_square")})
    with open(out, "w") as fh:
        fh.write(report.json_text())


def tails(path, out) -> None:
    """Tail indices of the per-sample estimator at each row's resting θ with the tanh critic
    (`estimator_tails.finiteness`): a tanh MLP is bounded, so r = H + E grows like E whatever ω is, and
    the critic's seeded initialisation stands for its resting value."""
    from febm.divergences import resolve
    from febm.dynamics.analysis import estimator_tails
    from febm.dynamics.analysis.game import Game
    from febm.toy_models import with_critic

    s = with_critic(SETTINGS["model"], SETTINGS["critic"], SETTINGS["seed"])
    omega = s.critic.init(SETTINGS["seed"])
    found = {}
    for r in CalibrateReport.from_json(json.load(open(path))).rows:
        if not r.theta or r.theta[0] is None:
            continue
        game = Game.from_setup(resolve(r.name), s)
        theta = torch.tensor(r.theta, dtype=torch.float64)
        fin = estimator_tails.finiteness(game, theta, r=lambda x, g=game, t=theta: g.r(t, omega, x))
        kappa = fin.min_tail_index  # null in the file: no link grows along any direction (κ = ∞)
        found[r.name] = {"all_finite": fin.all_finite, "min_tail_index": None if kappa == float("inf") else kappa,
                         "worst": fin.worst[0], "exponents": fin.exponents}
    write_json(out, found, indent=2, allow_nan=False)


def same_component(path) -> None:
    """The measured spread of θ's component with the larger predicted sd (as `calibrate` reads it
    since 05fe682; parts measured before took the larger measured sd), and the summaries again."""
    report = CalibrateReport.from_json(json.load(open(path)))
    for r in report.rows:
        sp = r.mean_square.get("spread") if r.mean_square else None
        if sp and sp["sd"] is not None and sp["predicted_sd"] and None not in sp["predicted_sd"]:
            r.measured["spread"] = sp["sd"][sp["predicted_sd"].index(max(sp["predicted_sd"]))]
    for q in ("eta_ms", "spread"):
        report.summary.update(split_summary(report.rows, q))
    with open(path, "w") as fh:
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


def _summary(rep, q: str, band: str, name: str = "") -> list:
    """The agreement lines under a table: the analysis set and the hold-out apart (``name``: the
    quantity, where a table has two)."""
    lines = [""]
    for key, label in ((q, "analysis set"), (q + "_hold_out", "hold-out")):
        label = f"{name}, {label}" if name else label
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


def mean_square_table(path) -> str:
    """η_ms and the spread: the second-moment recursion on the transverse modes against seeded runs."""
    rep = CalibrateReport.from_json(json.load(open(path)))
    lines = ["| f | set | ρ(𝒯) − 1 at η_max/2 (2 modes; all) | predicted η_ms / η_max | measured η_ms / η_max "
             "(runs failed of 16, per η tried) | predicted / measured | predicted θ sd (wider component) | "
             "measured sd (same component) | "
             "predicted / measured |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rep.rows:
        ms = r.mean_square
        if not ms or "growth_at_half_eta_max" not in ms:
            continue
        growth = ms["growth_at_half_eta_max"]
        eta_max = r.predicted["eta_max"]
        pe, me = r.predicted["eta_ms"], r.measured["eta_ms"]
        tried = ", ".join(f"{float(k) / eta_max:.2f}: {v}" for k, v in sorted(ms["edge_runs"]["failed"].items(),
                                                                             key=lambda kv: float(kv[0])))
        sp = ms["spread"]
        if sp["sd"] is None:
            measured_sd = "n/a"
        else:  # the component the prediction calls wider; the wider measured one where there is no prediction
            ranked = sp["sd"] if None in sp["predicted_sd"] else sp["predicted_sd"]
            k = ranked.index(max(ranked))
            measured_sd = f"{sp['sd'][k]:.2e} ± {sp['stderr'][k]:.0e}"
        ps, mspread = r.predicted["spread"], r.measured["spread"]
        lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | "
                     f"{growth['2']:.1e}; {growth[str(max(int(k) for k in growth))]:.1e} | "
                     f"{'none' if pe is None else f'{pe / eta_max:.3f}'} | "
                     f"{'n/a' if me is None else f'{me / eta_max:.3f}'} ({tried}) | "
                     f"{'n/a' if pe is None or me is None else f'{pe / me:.2f}'} | "
                     f"{'∞' if ps is None else f'{ps:.2e}'} | {measured_sd} | "
                     f"{'n/a' if mspread is None or ps is None else f'{ps / mspread:.2f}'} |")
    return "\n".join(lines + _summary(rep, "eta_ms", "a factor 1.5", "η_ms")
                     + _summary(rep, "spread", "a factor 1.5", "spread")[1:])


def toy_table(path) -> str:
    """The 2-D toy: η_max and the θ-mode's rate, predicted against measured, with the resting point."""
    rep = CalibrateReport.from_json(json.load(open(path)))
    lines = ["| f | set | \\|F\\| (θ; critic) | kernel rank | predicted η_max | measured η_max | predicted / measured "
             "| θ-mode λ (θ share) | θ-mode rate: predicted, measured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rep.rows:
        p, m = r.predicted["eta_max"], r.measured["eta_max"]
        e, t = r.equilibrium, (r.modes or {}).get("theta_mode")
        parts = "n/a" if not e or e["residual_theta"] is None else (
            f"{e['residual_theta']:.1e}; {e['residual_omega']:.1e}")
        mode = "n/a" if t is None else f"{t['eigenvalue'][0]:.3g} ({t['theta_share']:.2f})"
        if t is None:
            rate = "n/a"
        else:
            measured = t["measured"]
            rate = t["note"].replace("|", "\\|") if measured is None else f"{t['predicted']:.3e}, {measured:.3e}"
        lines.append(f"| {r.name} | {'hold-out' if r.name in rep.hold_out else 'analysis'} | {parts} | "
                     f"{(r.modes or {}).get('kernel_rank', 'n/a')} | {'n/a' if p is None else f'{p:.4g}'} | "
                     f"{'n/a' if m is None else f'{m:.4g}'} | {'n/a' if p is None or m is None else f'{p / m:.3f}'} | "
                     f"{mode} | {rate if r.status == 'measured' else r.status} |")
    return "\n".join(lines)


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


def merge_batch(out, parts) -> None:
    """The edge-at-batch parts into one file: {"reports": [calibrate JSON, ...]}."""
    write_json(out, {"reports": [json.load(open(p)) for p in parts]})


def toy_readings(path) -> str:
    """The bullets under the 2-D toy's table, one per measured f."""
    names = {"jensen_shannon": "Jensen–Shannon", "gan": "GAN", "le_cam": "Le Cam"}
    lines = []
    for r in CalibrateReport.from_json(json.load(open(path))).rows:
        if r.status != "measured":
            continue
        p, m, lam = r.predicted["eta_max"], r.measured["eta_max"], r.modes["theta_mode"]["eigenvalue"][0]
        drift = ("Its slowest θ-heavy eigenvalue is positive (λ = "
                 f"{lam:.2g}): the energy drifts away from this point, the penalty notwithstanding, so there is no "
                 "local rate to measure." if lam > 0 else "")
        lines.append(f"- **{names.get(r.name, r.name)}**: |F| = {r.residual:.1e} at the end of the flow; "
                     f"η_max predicted {p:.4g} against {m:.4g} measured ({1 - p / m:.0%} low). {drift}".rstrip())
    return "\n".join(lines)


def batch_rows(grid_path, result_path) -> list:
    """(f, batch, predicted η_ms, measured η_ms, η_max) for the f of the batch grid, with their
    rows at the result file's batch."""
    reports = [CalibrateReport.from_json(d) for d in json.load(open(grid_path))["reports"]]
    reports.append(CalibrateReport.from_json(json.load(open(result_path))))
    names = {r.name for rep in reports[:-1] for r in rep.rows}
    rows = [(r.name, r.mean_square["batch"], r.predicted["eta_ms"], r.measured["eta_ms"], r.predicted["eta_max"])
            for rep in reports for r in rep.rows if r.name in names and r.measured.get("eta_ms") is not None]
    return sorted(rows, key=lambda r: (CURVED.index(r[0]), r[1]))


def batch_table(grid_path, result_path) -> str:
    """η_ms predicted and measured against the batch (docs/trained-game.md)."""
    lines = ["| f | set | batch | η_ms / η_max predicted | η_ms / η_max measured | predicted / measured |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, batch, p, m, eta_max in batch_rows(grid_path, result_path):
        lines.append(f"| {name} | {'hold-out' if name in HOLD_OUT else 'analysis'} | {batch} | "
                     f"{'none' if p is None else f'{p / eta_max:.3f}'} | {m / eta_max:.3f} | "
                     f"{'n/a' if p is None else f'{p / m:.2f}'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    command, out, *rest = sys.argv[1:]
    if command == "run":
        run(out, rest)
    elif command == "time":
        run(out, rest, ("time_to_0.05",))
    elif command == "mean-square":
        run(out, rest, ("eta_ms", "spread"))
    elif command == "edge-at-batch":
        run(out, rest[1:], ("eta_ms",), batch=int(rest[0]))
    elif command == "merge-batch":
        merge_batch(out, rest)
    elif command == "batch-table":
        print(batch_table(out, rest[0]))
    elif command == "add-mean-square":
        parts = [p for p in rest if json.load(open(p))["rows"]]
        add(out, parts, "eta_ms")
        add(out, parts, "spread", count_time=False)
        same_component(out)
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
    elif command == "tails":
        tails(out, rest[0])
    elif command == "toy-table":
        print(toy_table(out))
    elif command == "mean-square-table":
        print(mean_square_table(out))
    elif command == "start-rate-table":
        print(start_rate_table(out))
    elif command == "figures":
        print(CalibrateReport.from_json(json.load(open(out))).save_figures(rest[0], dpi=120))
    else:
        print(table(out))
