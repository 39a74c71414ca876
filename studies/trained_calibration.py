"""Predicted against measured full-batch η_max on paper-1d with the reference code's critic
(1-64-64-1 tanh), for every curved catalog f; 4 of them, drawn with a fixed seed before any
measurement, are the hold-out and are reported apart.

    python -m studies trained_calibration run PART.json NAME ...   # measure some f (one process each)
    python -m studies trained_calibration merge OUT.json PART.json ...
    python -m studies trained_calibration time PART.json NAME ...  # only the time to 0.05
    python -m studies trained_calibration rate PART.json NAME ...  # only the local rate (θ-mode)
    python -m studies trained_calibration start-rate PART.json NAME ...  # only the rate from the start
    python -m studies trained_calibration mean-square PART.json NAME ...  # only η_ms and the spread
    python -m studies trained_calibration edge-at-batch PART.json B NAME ...  # only η_ms, at batch B
    python -m studies trained_calibration merge-batch GRID.json PART.json ...  # the parts of the batch grid
    python -m studies trained_calibration batch-table GRID.json OUT.json  # η_ms against B (docs/trained-game.md)
    python -m studies trained_calibration add-time NEW.json OUT.json PART.json ...  # OUT with the parts' times,
                                  # as a new file (add-rate, add-start-rate, add-mean-square alike)
    python -m studies trained_calibration table OUT.json            # the docs table (docs/trained-game.md)
    python -m studies trained_calibration time-table OUT.json       # the time-to-0.05 table
    python -m studies trained_calibration rate-table OUT.json       # the local-rate (θ-mode) table
    python -m studies trained_calibration start-rate-table OUT.json # the rate-from-the-start table
    python -m studies trained_calibration mean-square-table OUT.json # the η_ms and spread table
    python -m studies trained_calibration toy-table OUT.json        # a 2-D toy's η_max and θ-mode table
    python -m studies trained_calibration tails OUT.json TAILS.json # tail indices at the resting θ
    python -m studies trained_calibration figures OUT.json DIR      # its two figures
"""

import json
import math
from pathlib import Path

import numpy as np
import torch

from febm.dynamics.analysis.trained import RestStatus
from febm.dynamics.commands.calibrate import CalibrateReport, calibrate, summarize
from febm.dynamics.training.toy2d_training import all_methods
from studies import load, verb, without_provenance, write, write_report
from studies.readings import reads

DESCRIPTION = "trained-game.md's calibration: predicted against measured η_max, times, rates, η_ms on paper-1d"
CURVED = all_methods()[1:]  # the 16 catalog f with f''(1) > 0
HOLD_OUT = sorted(np.random.default_rng(20201).choice(CURVED, 4, replace=False).tolist())
RESTED = RestStatus.RESTED.value  # a row's status in the result files where the flow came to rest
SETTINGS = dict(model="paper-1d", critic="mlp:64,64", seed=0, flow_steps=6000, edge_steps=500)


def report_of(path) -> CalibrateReport:
    """A calibration result file as its report."""
    return CalibrateReport.from_json(load(path))


def run(out, names, quantities=("eta_max",), **extra) -> str:
    """Calibrate the named f (``quantities``: which to measure) and write the report; returns its text."""
    torch.set_num_threads(1)
    report = calibrate(names, hold_out=HOLD_OUT, progress=False, quantities=quantities, **SETTINGS, **extra)
    write_report(out, report)
    return report.text()


def split_summary(rows, q: str) -> dict:
    """Quantity q's summary for the analysis set and, under q + "_hold_out", the hold-out."""
    return {q: summarize([r for r in rows if r.name not in HOLD_OUT], q),
            q + "_hold_out": summarize([r for r in rows if r.name in HOLD_OUT], q)}


def merge(out, parts) -> None:
    """The parts' rows (in the catalog's order) in one report, with the summaries again."""
    reports = [report_of(p) for p in parts]
    rows = sorted((r for rep in reports for r in rep.rows), key=lambda r: CURVED.index(r.name)
                  if r.name in CURVED else len(CURVED))
    first = reports[0]
    first.rows, first.elapsed_s = rows, sum(r.elapsed_s for r in rows)
    first.summary = split_summary(rows, "eta_max")
    write_report(out, first)


# the row fields that hold each quantity's runs
DETAIL = {"time_to_0.05": ("arrival",), "rate": ("modes", "equilibrium"), "rate_from_start": ("relaxation",),
          "eta_ms": ("mean_square",), "spread": ("mean_square",)}


def add(report: CalibrateReport, parts, q, count_time=True) -> CalibrateReport:
    """Quantity ``q`` of the ``parts`` (their predicted, measured and runs) into the report's rows
    (same f; rows no part has are left as they are), with its summaries for the analysis set and
    the hold-out apart; ``count_time``: add the parts' elapsed time to the rows'."""
    found = {r.name: r for p in parts for r in report_of(p).rows}
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
    report.settings.update({k: v for k, v in report_of(parts[0]).settings.items()
                            if k not in report.settings
                            or k in ("arrival", "rate", "rate_from_start", "factor", "within", "mean_square")})
    return report


def add_to_new(quantity: str):
    """The verb that writes ``base`` with ``quantity`` from the parts as a new file."""
    def verb_function(new, base, parts):
        write_report(new, add(report_of(base), parts, quantity))
    return verb_function


def add_mean_square(new, base, parts) -> None:
    """``base`` with η_ms and the spread from the parts (those with rows), the spread read on the
    same component, as a new file."""
    parts = [p for p in parts if load(p)["rows"]]
    report = add(report_of(base), parts, "eta_ms")
    report = add(report, parts, "spread", count_time=False)
    write_report(new, same_component(report))


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
    for r in report_of(path).rows:
        if not r.theta or r.theta[0] is None:
            continue
        game = Game.from_setup(resolve(r.name), s)
        theta = torch.tensor(r.theta, dtype=torch.float64)
        fin = estimator_tails.finiteness(game, theta, r=lambda x, g=game, t=theta: g.r(t, omega, x))
        kappa = fin.min_tail_index  # null in the file: no link grows along any direction (κ = ∞)
        found[r.name] = {"all_finite": fin.all_finite, "min_tail_index": None if kappa == float("inf") else kappa,
                         "worst": fin.worst[0], "exponents": fin.exponents}
    write(out, found, indent=2, allow_nan=False)


def same_component(report: CalibrateReport) -> CalibrateReport:
    """The measured spread of θ's component with the larger predicted sd (as `calibrate` reads it
    since 05fe682; parts measured before took the larger measured sd), and the summaries again."""
    for r in report.rows:
        sp = r.mean_square.get("spread") if r.mean_square else None
        if sp and sp["sd"] is not None and sp["predicted_sd"] and None not in sp["predicted_sd"]:
            r.measured["spread"] = sp["sd"][sp["predicted_sd"].index(max(sp["predicted_sd"]))]
    for q in ("eta_ms", "spread"):
        report.summary.update(split_summary(report.rows, q))
    return report


def _residual(x) -> str:
    """|F| as text; not finite (null in JSON) where the flow overflowed (as `febm calibrate` prints it)."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.1e}"


def table(path) -> str:
    rep = report_of(path)
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
    rep = report_of(path)
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
    rep = report_of(path)
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
    rep = report_of(path)
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
    rep = report_of(path)
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
                     f"{mode} | {rate if r.status == RestStatus.RESTED else r.status} |")
    return "\n".join(lines)


def start_rate_table(path) -> str:
    """The rate from the standard start: the best-response prediction against the noise-free flows'
    fitted rates."""
    rep = report_of(path)
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
    """The edge-at-batch parts into one file: {"reports": [calibrate JSON, ...]}, each with its provenance."""
    write(out, {"reports": [json.loads(Path(p).read_text()) for p in parts]})


def toy_readings(path) -> str:
    """The bullets under the 2-D toy's table, one per measured f."""
    names = {"jensen_shannon": "Jensen–Shannon", "gan": "GAN", "le_cam": "Le Cam"}
    lines = []
    for r in report_of(path).rows:
        if r.status != RestStatus.RESTED:
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
    reports = [CalibrateReport.from_json(without_provenance(d)) for d in load(grid_path)["reports"]]
    reports.append(report_of(result_path))
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


@reads("calibration-paper-1d.json")
def readings(d: dict) -> dict:
    """The trained game (1-64-64-1 tanh critic on paper-1d): predicted against measured."""
    rows = d["rows"]
    measured = [r for r in rows if r["status"] == RESTED]
    ratio = [r["predicted"]["eta_max"] / r["measured"]["eta_max"] for r in measured]
    timed = [r for r in rows if r["measured"]["time_to_0.05"] and r["predicted"]["time_to_0.05"]]
    time_ratio = [r["predicted"]["time_to_0.05"] / r["measured"]["time_to_0.05"] for r in timed]
    modes = [r for r in rows if r["modes"]]
    rate_err = [abs(r["predicted"]["rate"] / r["measured"]["rate"] - 1) for r in modes]
    finite = [r for r in rows if r["mean_square"] and r["predicted"].get("eta_ms") is not None]
    late = [r["measured"]["eta_ms"] / r["predicted"]["eta_max"] for r in finite]
    kl = next(r for r in rows if r["name"] == "kl")
    out = {
        "measured": len(measured),
        "hold_out": sum(r["name"] in d["hold_out"] for r in measured),
        "eta_max_worst": max(abs(x - 1) for x in ratio),
        "timed": len(timed),
        "time_worst_factor": max(max(x, 1 / x) for x in time_ratio),
        "modes": len(modes),
        "rate_worst": max(rate_err),
        "kl_rate_from_start_factor": kl["predicted"]["rate_from_start"] / kl["measured"]["rate_from_start"],
        "mean_square_finite": len(finite),
        "late_min": min(late),
        "late_max": max(late),
    }
    out.update(_prose_readings(d))
    assert out["eta_max_worst"] <= 0.01, "the prose says every measured f is within 1%"
    assert out["time_worst_factor"] <= 2, "the prose says the time to 0.05 is within a factor 2"
    assert out["late_min"] > 1, "the prose says the runs leave only above the predicted edge"
    return out


def _prose_readings(d: dict) -> dict:
    """The single rows and spans trained-game.md's bullets quote: the θ-mode and its ladder, the
    resting point, the rate from the start, α = 0.9's and Jeffreys's arrivals, the mean-square edge."""
    import math

    rows = {r["name"]: r for r in d["rows"]}
    modes = [r for r in d["rows"] if r["modes"]]
    off = [abs(r["predicted"]["rate"] / r["measured"]["rate"] - 1) for r in modes]
    mixed = {r["name"]: r["modes"]["theta_mode"] for r in modes if r["modes"]["theta_mode"]["theta_share"] < 0.99}
    assert list(mixed) == ["squared_hellinger", "alpha=0.5"], "the prose names these two as not purely θ"
    ladder = [m for r in modes for m in r["modes"]["ladder"] if m["measured"] is not None]
    slowest = [min((m for m in r["modes"]["ladder"] if m["measured"]), key=lambda m: m["predicted"]) for r in modes]
    fast = [m for m in slowest if m["measured"] / m["predicted"] > 1.1]
    residual = [r["residual"] for r in modes]
    rising = sorted(r["modes"]["slowest"]["eigenvalue"][0] for r in modes if r["modes"]["slowest"]["eigenvalue"][0] > 0)
    ranks = [r["equilibrium"]["kernel_rank"] for r in modes]
    kl = rows["kl"]
    lam = kl["modes"]["theta_mode"]["eigenvalue"][0]
    fitted = {n: r for n, r in rows.items() if r["measured"]["rate_from_start"] is not None}
    assert all(abs(r["predicted"]["rate_from_start"] / r["measured"]["rate_from_start"] - 1) > 0.1
               for r in fitted.values()), "the prose says none of the fitted rates is within 10%"
    ratio = {n: r["predicted"]["rate_from_start"] / r["measured"]["rate_from_start"] for n, r in fitted.items()
             if r["measured"]["rate_from_start"] > 0}
    reached = [n for n, r in rows.items() if r["relaxation"] and any(a is not None for a in r["relaxation"]["arrived"])]
    near = [ratio[n] for n in reached]
    stalled = [ratio[n] for n in ratio if n not in reached]
    a09 = rows["alpha=0.9"]["relaxation"]["rates"]
    runs09 = rows["alpha=0.9"]["arrival"]["measured"]["non_finite"]
    died09 = [x for x in runs09 if x is not None]
    jeff = rows["jeffreys"]["arrival"]
    finite = [r for r in d["rows"] if r["mean_square"] and r["predicted"].get("eta_ms") is not None]
    ran = [r for r in d["rows"] if r["mean_square"] and "growth_at_half_eta_max" in r["mean_square"]]
    within = [r for r in finite if 1 / 1.5 <= r["predicted"]["eta_ms"] / r["measured"]["eta_ms"] <= 1.5]
    assert sorted(r["name"] for r in within) == ["alpha=0.5", "squared_hellinger"], "the prose names the two within"
    edge = [r["predicted"]["eta_ms"] / r["predicted"]["eta_max"] for r in finite]
    growth = [r["mean_square"]["growth_at_half_eta_max"] for r in finite]
    every = [g[max(g, key=int)] for g in growth]
    assert max(abs(g["32"] / g[max(g, key=int)] - 1) for g in growth) < 1e-3, "the prose says 32 modes agree to 0.1%"
    spread = {r["name"]: r["predicted"]["spread"] / r["measured"]["spread"] for r in finite}
    misses = [n for n, x in spread.items() if not 1 / 1.5 <= x <= 1.5]
    assert misses == ["squared_hellinger", "neyman_chi2", "alpha=0.5"] and all(spread[n] > 1 for n in misses), \
        "the prose names the three spreads predicted too wide"
    unbounded = {r["name"]: r["measured"]["eta_ms"] / r["predicted"]["eta_max"] for r in d["rows"]
                 if r["mean_square"] and r["predicted"].get("eta_ms") is None and r["name"] != "kl"}
    pair = [rows[n] for n in ("neyman_chi2", "alpha=-1")]
    out = {**_time_readings(d), **_mode_readings(d, slowest)}
    out["efold_low"], out["efold_high"] = 1 / max(every), 1 / min(every)
    out["ms_modes_low"] = min(r["mean_square"]["modes"] for r in ran)
    out["ms_modes_high"] = max(r["mean_square"]["modes"] for r in ran)
    assert out["slow_tc_count"] + len(rising) == len(modes), "the prose splits the f into decaying and rising"
    return out | {
        "minutes_per_f": math.ceil(max(r["elapsed_s"] for r in d["rows"]) / 60),
        "rate_off_max": max(off),
        "rate_median_analysis": _median([math.fabs(math.log(r["predicted"]["rate"] / r["measured"]["rate"]))
                                         for r in modes if r["name"] not in d["hold_out"]]),
        "rate_median_hold_out": _median([math.fabs(math.log(r["predicted"]["rate"] / r["measured"]["rate"]))
                                         for r in modes if r["name"] in d["hold_out"]]),
        "hellinger_theta_off": abs(mixed["squared_hellinger"]["predicted"] / mixed["squared_hellinger"]["measured"]
                                   - 1),
        "alpha05_theta_off": abs(mixed["alpha=0.5"]["predicted"] / mixed["alpha=0.5"]["measured"] - 1),
        "hellinger_theta_share": mixed["squared_hellinger"]["theta_share"],
        "alpha05_theta_share": mixed["alpha=0.5"]["theta_share"],
        "ladder_good": sum(abs(m["predicted"] / m["measured"] - 1) <= 0.1 for m in ladder),
        "ladder": len(ladder),
        "slow_fast_low": min(m["measured"] / m["predicted"] - 1 for m in fast),
        "slow_fast_high": max(m["measured"] / m["predicted"] - 1 for m in fast),
        "slow_fast_count": len(fast),
        "slow_folds_low": min(m["predicted"] * m["steps"] for m in fast),
        "slow_folds_high": max(m["predicted"] * m["steps"] for m in fast),
        "residual_low": min(residual), "residual_high": max(residual),
        "residual_theta_max": max(r["equilibrium"]["residual_theta"] for r in modes),
        "rank_low": min(ranks), "rank_high": max(ranks),
        "rising": len(rising), "rising_low": rising[0], "rising_high": rising[-1],
        "kl_theta_lambda": -lam, "kl_theta_rate": -math.log(1 + 0.01 * lam),
        "fitted": len(fitted), "fitted_negative": sum(r["measured"]["rate_from_start"] < 0 for r in fitted.values()),
        "kl_start_measured": kl["measured"]["rate_from_start"],
        "kl_start_predicted": kl["predicted"]["rate_from_start"],
        "reached_low": min(near), "reached_high": max(near),
        "alpha09_flows_differ": max(a09) / min(a09),
        "stalled_low": min(stalled), "stalled_high": max(stalled),
        "kl_time_factor": kl["predicted"]["time_to_0.05"] / kl["measured"]["time_to_0.05"],
        "alpha09_time": rows["alpha=0.9"]["predicted"]["time_to_0.05"],
        "alpha09_died": len(died09), "alpha09_runs": len(runs09),
        "alpha09_died_first": min(died09), "alpha09_died_last": max(died09),
        "jeffreys_runs_lost": sum(x is not None for x in jeff["measured"]["non_finite"]),
        "jeffreys_runs": len(jeff["measured"]["non_finite"]),
        "jeffreys_flows_lost": sum(x is not None for x in jeff["predicted"]["non_finite"]),
        "jeffreys_flows": len(jeff["predicted"]["non_finite"]),
        "mean_square_ran": len(ran),
        "edge_within": len(within), "edge_misses": len(finite) - len(within),
        "edge_within_at": within[0]["measured"]["eta_ms"] / within[0]["predicted"]["eta_max"],
        "edge_ratio_low": min(edge), "edge_ratio_high": max(edge),
        "growth_low": min(every), "growth_high": max(every),
        "spread_good": len(spread) - len(misses), "spread_n": len(spread),
        "spread_hellinger": spread["squared_hellinger"], "spread_neyman": spread["neyman_chi2"],
        "spread_alpha05": spread["alpha=0.5"],
        "neyman_edge": pair[0]["predicted"]["eta_ms"] / pair[0]["predicted"]["eta_max"],
        "alpha_m1_edge": pair[1]["predicted"]["eta_ms"] / pair[1]["predicted"]["eta_max"],
        "neyman_measured": pair[0]["measured"]["eta_ms"] / pair[0]["predicted"]["eta_max"],
        "alpha_m1_measured": pair[1]["measured"]["eta_ms"] / pair[1]["predicted"]["eta_max"],
        "kl_half_at": kl["measured"]["eta_ms"] / kl["predicted"]["eta_max"],
        "kl_growth_least": min(kl["mean_square"]["growth_at_half_eta_max"].values()),
        "kl_failed_at_eta_max": _failed_at(kl, kl["predicted"]["eta_max"]),
        "kl_seeds": kl["mean_square"]["seeds"],
        "kl_spread": max(kl["mean_square"]["spread"]["sd"]),
        "jeffreys_half_at": unbounded["jeffreys"], "alpha09_half_at": unbounded["alpha=0.9"],
    }


def _time_readings(d: dict) -> dict:
    """Time to 0.05: how many f arrive and are within the factor 2, per set, and how many within 10%."""
    timed = [r for r in d["rows"] if r["measured"]["time_to_0.05"] and r["predicted"]["time_to_0.05"]]
    ratio = {r["name"]: r["predicted"]["time_to_0.05"] / r["measured"]["time_to_0.05"] for r in timed}
    factor = d["settings"]["factor"]["time_to_0.05"]
    out = {}
    for key, names in (("analysis", [n for n in ratio if n not in d["hold_out"]]),
                       ("hold_out", [n for n in ratio if n in d["hold_out"]])):
        out[f"time_{key}"] = len(names)
        out[f"time_{key}_within"] = sum(1 / factor <= ratio[n] <= factor for n in names)
        assert out[f"time_{key}_within"] == len(names), "the prose says every f that arrives is within the factor"
    out["time_within_10"] = sum(abs(x - 1) <= 0.1 for x in ratio.values())
    assert 2 * out["time_within_10"] > len(ratio), "the prose says most are within 10%"
    return out


def _mode_readings(d: dict, slowest: list) -> dict:
    """The critic's slow modes: the slowest transverse eigenvalue's time constant where it decays, the
    smallest |λ|, the ladder modes off by more than 10% apart from the slowest measurable ones, and
    the network's parameter count (the kernel's rank plus its flat directions)."""
    modes = [r for r in d["rows"] if r["modes"]]
    decaying = [r["modes"]["slowest"] for r in modes if r["modes"]["slowest"]["eigenvalue"][0] < 0]
    constants = [1 / m["predicted"] for m in decaying]
    off = {}
    for r in modes:
        ladder = sorted((m for m in r["modes"]["ladder"] if m["measured"] is not None), key=lambda m: m["predicted"])
        for i, m in enumerate(ladder[1:], 1):  # the slowest measurable is the bullet's other clause
            x = abs(m["predicted"] / m["measured"] - 1)
            if x > 0.1:
                off[r["name"], "fast" if i == len(ladder) - 1 else "middle", m["eigenvalue"][1] != 0] = x
    assert sorted(off) == [("alpha=-1", "fast", True), ("gan", "middle", False), ("neyman_chi2", "fast", True)], \
        "the prose names GAN's middle mode and Neyman χ²'s and α = −1's fast complex modes"
    parameters = {r["modes"]["kernel_rank"] + r["modes"]["flat_directions"] for r in modes}
    assert len(parameters) == 1
    return {"slow_tc_count": len(decaying), "slow_tc_low": min(constants), "slow_tc_high": max(constants),
            "critic_tc_low": min(1 / m["predicted"] for m in slowest),
            "flat_lambda_min": min(abs(r["modes"]["slowest"]["eigenvalue"][0]) for r in modes),
            "ladder_off_low": min(off.values()), "ladder_off_high": max(off.values()),
            "parameters": parameters.pop()}


def _failed_at(row: dict, eta: float) -> int:
    """How many of a row's mean-square runs failed at step ``eta`` (one of the steps it tried)."""
    failed = row["mean_square"]["edge_runs"]["failed"]
    step = min(failed, key=lambda k: abs(float(k) / eta - 1))
    assert abs(float(step) / eta - 1) < 1e-3, f"no run at {eta}"
    return failed[step]


def _median(values: list) -> float:
    import statistics

    return statistics.median(values)


@reads("calibration-toy2d-8gaussians.json")
def toy_counts(d: dict) -> dict:
    """The trained game on 8 Gaussians with an MLP energy: how many flows stayed finite, how close."""
    rows = d["rows"]
    measured = [r for r in rows if r["status"] == RESTED]
    within = sum(abs(r["predicted"]["eta_max"] / r["measured"]["eta_max"] - 1) <= 0.01 for r in measured)
    ranks = [r["modes"]["kernel_rank"] for r in measured]
    out = {"tried": len(rows), "not_finite": len(rows) - len(measured), "within_1pct": within,
           "rank_low": min(ranks), "rank_high": max(ranks)}
    assert within == 0, "the prose says no f on this toy is within 1%"
    assert sorted(r["name"] for r in rows if r["status"] != RESTED) == ["kl", "reverse_kl", "squared_hellinger"], \
        "the prose names the f whose flows stop being finite"
    return out


@reads("calibration-paper-1d-batch.json")
def batch_readings(d: dict) -> dict:
    """η_ms against the batch (with the rows at B = 1000 of calibration-paper-1d.json): the spans and
    ratios trained-game.md's bullets quote, with the words around them asserted."""
    from studies.readings import RESULTS

    grid = RESULTS / "calibration-paper-1d-batch.json"
    edge = {(n, b): (None if p is None else p / e, m / e) for n, b, p, m, e in
            batch_rows(grid, RESULTS / "calibration-paper-1d.json")}
    pred = {k: v[0] for k, v in edge.items()}
    meas = {k: v[1] for k, v in edge.items()}
    batches = sorted({b for _, b in edge})

    def span(name, which):
        values = [which[name, b] for b in batches]
        return min(values), max(values)

    new = [k for k in edge if k[1] != max(batches) and pred[k] is not None]
    within = [k for k in new if 1 / 1.5 <= pred[k] / meas[k] <= 1.5]
    out = {"batches": len(batches), "new_points": len(new), "new_within": len(within),
           "minutes_low": math.floor(min(r["elapsed_s"] for rep in d["reports"] for r in rep["rows"]) / 60),
           "minutes_high": math.ceil(max(r["elapsed_s"] for rep in d["reports"] for r in rep["rows"]) / 60)}
    for key, name in (("js", "jensen_shannon"), ("gan", "gan")):
        out[f"{key}_pred_low"], out[f"{key}_pred_high"] = span(name, pred)
        out[f"{key}_meas_low"], out[f"{key}_meas_high"] = span(name, meas)
        assert out[f"{key}_meas_high"] / out[f"{key}_meas_low"] < 1.25, "the prose says the edge hardly depends on B"
    low, high = min(batches), max(batches)
    a = "alpha=-1"
    out.update(am1_meas_high=meas[a, high], am1_meas_low=meas[a, low], am1_fall=meas[a, high] / meas[a, low],
               am1_pred_high=pred[a, high], am1_pred_low=pred[a, low], am1_pred_fall=pred[a, high] / pred[a, low],
               am1_over_low=pred[a, low] / meas[a, low],
               kl_meas_high=meas["kl", high], kl_meas_low=meas["kl", low], kl_fall=meas["kl", high] / meas["kl", low],
               **{f"rkl_{b}": pred["reverse_kl", b] / meas["reverse_kl", b] for b in batches})
    assert out["am1_fall"] > out["am1_pred_fall"], "the prose says the runs' edge falls faster than the recursion's"
    assert all(meas[a, b] < 1 < pred[a, b] / meas[a, b] for b in batches if b < high), \
        "the prose says below B = 1000 α = −1's runs fail under the deterministic edge, the recursion above them"
    assert all(pred["kl", b] is None for b in batches), "the prose says KL has no prediction at any batch"
    assert out["kl_fall"] < out["am1_fall"], "the prose says KL's edge falls less than α = −1's"
    assert within == [("reverse_kl", low)], "the prose says reverse KL at the smallest batch is the one within 1.5"
    return out


@reads("tails-paper-1d-mlp.json")
def tail_readings(d: dict) -> dict:
    """The tail indices at the resting θ (the ``tails`` verb) that the KL bullet quotes."""
    finite = sorted(n for n, r in d.items() if r["min_tail_index"] is not None)
    assert finite == sorted(["kl", "jeffreys", "alpha=0.9", "squared_hellinger", "alpha=0.5"]), \
        "the prose names every f with a finite tail index"
    pair = [d[n]["min_tail_index"] for n in ("jeffreys", "alpha=0.9")]
    two = [d[n]["min_tail_index"] for n in ("squared_hellinger", "alpha=0.5")]
    assert d["kl"]["min_tail_index"] <= 2 and round(two[0]) == round(two[1]), \
        "the prose says KL's second moment is infinite and gives one index for the two"
    return {"kl": d["kl"]["min_tail_index"], "pair_low": min(pair), "pair_high": max(pair), "two": two[0]}


def commands(verbs) -> None:
    names = ("names", {"nargs": "+"})
    parts = ("parts", {"nargs": "+"})
    verb(verbs, "run", run, "measure η_max for the named f", "out", names, writes="out")
    verb(verbs, "time", lambda out, names: run(out, names, ("time_to_0.05",)), "only the time to 0.05", "out",
         names, writes="out")
    verb(verbs, "rate", lambda out, names: run(out, names, ("rate",)), "only the local rate (θ-mode)", "out",
         names, writes="out")
    verb(verbs, "start-rate", lambda out, names: run(out, names, ("rate_from_start",)), "only the rate from the start",
         "out", names, writes="out")
    verb(verbs, "mean-square", lambda out, names: run(out, names, ("eta_ms", "spread")), "only η_ms and the spread",
         "out", names, writes="out")
    verb(verbs, "edge-at-batch", lambda out, batch, names: run(out, names, ("eta_ms",), batch=batch),
         "only η_ms, at batch B", "out", ("batch", {"type": int}), names, writes="out")
    verb(verbs, "merge", merge, "the parts' rows in one report", "out", parts, writes="out")
    verb(verbs, "merge-batch", merge_batch, "the parts of the batch grid in one file", "out", parts, writes="out")
    for name, q in (("add-time", "time_to_0.05"), ("add-rate", "rate"), ("add-start-rate", "rate_from_start")):
        verb(verbs, name, add_to_new(q), f"BASE with the parts' {q}, as a new file", "new", "base", parts,
             writes="new")
    verb(verbs, "add-mean-square", add_mean_square, "BASE with the parts' η_ms and spread, as a new file", "new",
         "base", parts, writes="new")
    verb(verbs, "tails", tails, "tail indices at each row's resting θ", "path", "out", writes="out")
    verb(verbs, "table", table, "the η_max table (docs/trained-game.md)", "path")
    verb(verbs, "time-table", time_table, "the time-to-0.05 table", "path")
    verb(verbs, "rate-table", rate_table, "the local-rate (θ-mode) table", "path")
    verb(verbs, "start-rate-table", start_rate_table, "the rate-from-the-start table", "path")
    verb(verbs, "mean-square-table", mean_square_table, "the η_ms and spread table", "path")
    verb(verbs, "toy-table", toy_table, "a 2-D toy's η_max and θ-mode table", "path")
    verb(verbs, "toy-readings", toy_readings, "the bullets under the 2-D toy's table", "path")
    verb(verbs, "batch-table", batch_table, "η_ms against the batch (docs/trained-game.md)", "grid_path",
         "result_path")
    verb(verbs, "figures", lambda path, folder: report_of(path).save_figures(folder, dpi=120), "its two figures",
         "path", "folder")
