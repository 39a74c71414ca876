"""Readings the docs quote, derived from one result file each: counts, extremes, ratios, scores.

A placeholder ``{{ FILE.json:readings.KEY | FORMAT }}`` (febm/docs_render.py) reads ``KEY`` from the
dict the function registered for FILE returns. Each function also asserts the words the
prose puts around its numbers ("every", "rises", "none"): a result that would make them false fails
the docs build and tests/docs/test_docs_placeholders.py, instead of leaving a false sentence.

Each study registers the readings of its own result files with ``@reads("FILE.json")`` beside its
renderers; :func:`all_readings` imports every study to collect them. The two below read files
that benchmarks/ writes, which no study renders.

Add a reading: compute it in the function of its file (or register a new one with ``@reads`` in
the study that writes the file), then write the placeholder where the prose needs it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
FIGURES = RESULTS.parent / "figures"
READINGS: dict = {}


def reads(name: str):
    """Register the decorated function as the readings of result file ``name`` (a name under
    docs/results, or with a slash, under docs/)."""
    def register(function):
        if READINGS.get(name, function) is not function:
            raise ValueError(f"two functions read {name}")
        READINGS[name] = function
        return function
    return register


def all_readings() -> dict:
    """{result file: its readings function} over every study."""
    from studies import STUDIES

    for name in STUDIES:
        importlib.import_module(f"studies.{name}")
    return READINGS


@reads("atlas-time.json")
def atlas_time(d: dict) -> dict:
    """The timing of the whole catalog on paper-1d (benchmarks/atlas_time.py): how many runs the best is of."""
    assert d["best"] in d["runs"]
    return {"runs": len(d["runs"])}


def _mean_errors(d: dict) -> dict:
    """Per f: the mean over the master seeds of its seed-mean's error."""
    seeds = list(d["seeds"].values())
    return {n: sum(s["errors"][n] for s in seeds) / len(seeds) for n in seeds[0]["errors"]}


ZERO_FORCING = ("neyman_chi2", "alpha=-1", "alpha=-0.5")


@reads("paper-1d-master-seeds.json")
def paper_1d_master_seeds(d: dict) -> dict:
    """The default run on master seeds 0–15 (benchmarks/paper1d_master_seeds.py): on how many all f
    meet the target, the zero-forcing f's mean errors and α = −1's misses."""
    seeds = d["seeds"].values()
    every = sum(all(e <= s["tolerance"] and s["finite"][n] for n, e in s["errors"].items()) for s in seeds)
    missed = {n: sum(not (s["errors"][n] <= s["tolerance"] and s["finite"][n]) for s in seeds)
              for n in next(iter(seeds))["errors"]}
    assert {n for n, m in missed.items() if m} == set(ZERO_FORCING), "the prose says the misses are the zero-forcing f"
    mean = _mean_errors(d)
    return {"master_seeds": len(d["seeds"]), "all_within": every, "alpha_m1_misses": missed["alpha=-1"],
            "zf_mean_low": min(mean[n] for n in ZERO_FORCING), "zf_mean_high": max(mean[n] for n in ZERO_FORCING)}


@reads("paper-1d-master-seeds-7200.json")
def paper_1d_master_seeds_7200(d: dict) -> dict:
    """The zero-forcing f at 7200 steps on master seeds 0–15: their mean errors before (3600 steps,
    paper-1d-master-seeds.json) and after, and which meet the target on every master seed."""
    import json

    short = _mean_errors(json.loads((RESULTS / "paper-1d-master-seeds.json").read_text()))
    long = _mean_errors(d)
    seeds = d["seeds"].values()
    every = {n: all(s["errors"][n] <= s["tolerance"] and s["finite"][n] for s in seeds) for n in long}
    assert every["alpha=-1"] and every["alpha=-0.5"] and not every["neyman_chi2"], \
        "the prose says twice the steps fix α = −1 and α = −0.5, not Neyman χ²"
    return {key: {"before": short[n], "after": long[n]}
            for key, n in (("alpha_m1", "alpha=-1"), ("alpha_m05", "alpha=-0.5"), ("neyman", "neyman_chi2"))}


@reads("figures/manifest.json")
def figures_manifest(d: dict) -> dict:
    """docs/figures as `febm figures --out docs/figures` drew it: how many figures, of which kind, and
    the drawing time summed over their ``elapsed_s`` (minutes)."""
    figures = d["figures"]
    return {"count": len(figures), "from_results": sum(f.get("kind") == "results" for f in figures),
            "minutes": sum(f["elapsed_s"] for f in figures) / 60}


@reads("compile-langevin.json")
def compile_langevin(d: dict) -> dict:
    """The compiled Langevin sampler (benchmarks/compile_langevin.py): its speed-up per call for the
    bench's network and the operating point's, float64's cost, and a whole bench cell eager and compiled."""
    nets = d["networks"]
    speed = {n: r["ms_per_call"]["eager float32"] / r["ms_per_call"]["compiled float32"] for n, r in nets.items()}
    wide = [r["ms_per_call"]["eager float64"] / r["ms_per_call"]["eager float32"] for r in nets.values()]
    small, large = nets["2-32-32-1 tanh"], nets["2-128-128-1 silu"]
    cell = d["bench_cell"]
    assert all(s > 1 for s in speed.values()), "the prose says compiled calls are faster"
    gain = cell["wall_s"]["eager"] / cell["wall_s"]["compiled"]
    assert gain < min(speed.values()), "the prose says a whole bench cell gains less"
    return {"runs": small["runs"], "threads": d["threads"],
            "speed_small": speed["2-32-32-1 tanh"], "speed_large": speed["2-128-128-1 silu"],
            "compile_small_s": small["cold_compile_s"], "compile_large_s": large["cold_compile_s"],
            "float64_low": min(wide), "float64_high": max(wide),
            "budget_m": cell["budget_m"], "cd_steps": cell["cd_steps"],
            "eager_s": cell["wall_s"]["eager"], "compiled_s": cell["wall_s"]["compiled"], "cell_gain": gain,
            "eager_cd": cell["mean_js"]["eager"]["cd"], "eager_kl": cell["mean_js"]["eager"]["kl"],
            "compiled_cd": cell["mean_js"]["compiled"]["cd"], "compiled_kl": cell["mean_js"]["compiled"]["kl"]}
