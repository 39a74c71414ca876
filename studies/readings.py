"""Readings the docs quote, derived from one result file each: counts, extremes, ratios, scores.

A placeholder ``{{ FILE.json:readings.KEY | FORMAT }}`` (febm/docs_render.py) reads ``KEY`` from the
dict the function registered here for FILE returns. Each function also asserts the words the
prose puts around its numbers ("every", "rises", "none"): a result that would make them false fails
the docs build and tests/test_docs_placeholders.py, instead of leaving a false sentence.

Add a reading: compute it in the function of its file (or register a new one with ``@reads``),
then write the placeholder where the prose needs it.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
FIGURES = RESULTS.parent / "figures"
READINGS: dict = {}


def reads(name: str):
    def register(function):
        READINGS[name] = function
        return function
    return register


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


@reads("calibration-paper-1d.json")
def trained_game(d: dict) -> dict:
    """The trained game (1-64-64-1 tanh critic on paper-1d): predicted against measured."""
    rows = d["rows"]
    measured = [r for r in rows if r["status"] == "measured"]
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
    assert out["eta_max_worst"] <= 0.01, "the prose says every measured f is within 1%"
    assert out["time_worst_factor"] <= 2, "the prose says the time to 0.05 is within a factor 2"
    assert out["late_min"] > 1, "the prose says the runs leave only above the predicted edge"
    return out


@reads("basins.json")
def basins(d: dict) -> dict:
    """Basin radius against f'''(1)/f''(1) (scale-free) and against f'''(1), per set-up."""
    from scipy.stats import spearmanr

    out = {}
    for model, report in d.items():
        rows = [r for r in report["rows"] if r["f2_at_1"]]
        radius = [r["basin"]["radius"] for r in rows]
        ratio = spearmanr([r["f3_at_1"] / r["f2_at_1"] for r in rows], radius)
        raw = spearmanr([r["f3_at_1"] for r in rows], radius)
        cap = max(radius)
        scale = {r["name"]: r["f3_at_1"] / r["f2_at_1"] for r in rows}
        capped_from = min(x for n, x in scale.items() if all(
            r["basin"]["radius"] >= cap for r in rows if scale[r["name"]] >= x))
        by_name = {r["name"]: r["basin"]["radius"] for r in rows}
        out[model] = {"n": len(rows), "rho_ratio": float(ratio.statistic), "p_ratio": float(ratio.pvalue),
                      "rho_f3": float(raw.statistic), "p_f3": float(raw.pvalue), "cap": cap,
                      "capped_from": capped_from, "kl_over_reverse_kl": by_name["kl"] / by_name["reverse_kl"]}
        assert out[model]["rho_ratio"] > 0 and out[model]["rho_f3"] > 0, "the prose says the radius rises"
        elapsed = [r["elapsed_s"] for r in report["rows"]]
        out[model].update(elapsed_min=min(elapsed), elapsed_max=max(elapsed), elapsed_total=sum(elapsed))
    return out


def _scores(report) -> dict:
    kappa, majority = report.scores()
    c = report.confusion
    return {"agreement": report.agreement, "kappa": float(kappa), "majority": float(majority), "n": len(report.pairs),
            "agreeing": sum(p.predicted == p.measured for p in report.pairs),
            "measured_trains": sum(row[0] for row in c),
            "spearman": report.spearman, "spearman_p": report.spearman_p,
            "fails_predicted": sum(c[2]), "fails_right": c[2][2],
            "trains_predicted": sum(c[0]), "trains_right": c[0][0], "trains_failed": c[0][2]}


@reads("atlas-paper-1d.json")
def atlas_paper_1d(d: dict) -> dict:
    """The atlas's classes on paper-1d against measured training (paper1d-reference-measured.json)."""
    from against_training import compare_measured

    out = _scores(compare_measured(d, _load(RESULTS / "paper1d-reference-measured.json")))
    kl = next(r for r in d["rows"] if r["name"] == "kl")
    out["kl_eta_ms_share"] = kl["eta_ms"] / kl["eta_max_simultaneous"]
    assert out["kappa"] < 0.4 and out["majority"] > out["agreement"], "the prose says no better than the majority"
    return out


@reads("toy2d-atlas.json")
def atlas_toys(d: dict) -> dict:
    """The atlas's classes on the four 2-D toys against measured training (toy2d-training.json)."""
    from compare import comparison

    out = _scores(comparison(d, _load(RESULTS / "toy2d-training.json")))
    assert out["trains_failed"] == 0, "the prose says none predicted to train failed"
    return out


@reads("figures/bench-toy2d.json")
def bench_short(d: dict) -> dict:
    """f-EBM against CD at the 6 M budget: verdicts of every f-EBM cell."""
    cells = [c for c in d["cells"] if c["method"] != "cd"]
    out = {v: sum(c["verdict"] == v for c in cells) for v in ("beats", "ties", "loses")}
    out["comparisons"] = len(cells)
    assert out["beats"] == 0, "the prose says no f beats CD"
    return out


@reads("mean-square-edge.json")
def mean_square_edge(d: dict) -> dict:
    """Where the mean-square prediction stops holding: the smallest fraction of η_ms that fails."""
    paper = [r for r in d["rows"] if r["model"] == "paper-1d"]
    failing = min(r["fraction_of_eta_ms"] for r in paper if not r["holds"])
    assert all(r["holds"] for r in paper if r["fraction_of_eta_ms"] < failing)
    return {"paper_1d_first_failing": failing, "paper_1d_batches": sorted({r["batch"] for r in paper})}


@reads("atlas-time.json")
def atlas_time(d: dict) -> dict:
    """The timing of the whole catalog on paper-1d: how many runs the best is of."""
    assert d["best"] in d["runs"]
    return {"runs": len(d["runs"])}


@reads("paper-1d.json")
def paper_1d(d: dict) -> dict:
    """febm's default paper-1d run on master seed 0: the largest error against the exact minimizers."""
    worst = max(d["rows"], key=lambda r: r["error"])
    out = {"n": len(d["rows"]), "largest_error": worst["error"], "worst": worst["divergence"],
           "within": sum(r["within_tolerance"] for r in d["rows"])}
    assert out["within"] == out["n"], "the summary says every f meets the target on master seed 0"
    return out


@reads("paper-1d-master-seeds.json")
def paper_1d_master_seeds(d: dict) -> dict:
    """The default run on master seeds 0–15: on how many all f meet the target."""
    seeds = d["seeds"].values()
    every = sum(all(e <= s["tolerance"] and s["finite"][n] for n, e in s["errors"].items()) for s in seeds)
    return {"master_seeds": len(d["seeds"]), "all_within": every}


@reads("calibration-toy2d-8gaussians.json")
def trained_toy(d: dict) -> dict:
    """The trained game on 8 Gaussians with an MLP energy: how many flows stayed finite, how close."""
    rows = d["rows"]
    measured = [r for r in rows if r["status"] == "measured"]
    within = sum(abs(r["predicted"]["eta_max"] / r["measured"]["eta_max"] - 1) <= 0.01 for r in measured)
    out = {"tried": len(rows), "not_finite": len(rows) - len(measured), "within_1pct": within}
    assert within == 0, "the prose says no f on this toy is within 1%"
    return out


@reads("figures/bench-toy2d-long.json")
def bench_long(d: dict) -> dict:
    """The 30 M run: CD, KL and Jensen–Shannon; verdicts per dataset."""
    cells = [c for c in d["cells"] if c["method"] != "cd"]
    out = {v: sum(c["verdict"] == v for c in cells) for v in ("beats", "ties", "loses")}
    out["comparisons"] = len(cells)
    assert out["beats"] == 0, "the prose says no f beats CD"
    return out
