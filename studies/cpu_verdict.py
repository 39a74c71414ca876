"""f-EBM against CD where CD learns, on CPU: 8 Gaussians and moons with exact grid samples.

The exact arm (`Toy2DConfig(sampler="grid")`) draws model samples from exp(−E) normalized on a grid
over the box, so CD is exact maximum likelihood on that grid and every method meets exact model
samples: the comparison is between objectives, not samplers.

1. ``pilot``: CD alone, 2 seeds, under each of `CANDIDATES` (fixed before any was run), with a
   learning curve; the cheapest candidate (time a step) at which CD meets `JS_TARGET` and
   `NLL_MARGIN` on both toys becomes the ``cpu-exact`` preset of ``febm bench``.
2. ``resolution``: what the grid's cells cost the data: each component widened by a uniform jitter
   inside a cell (sd → √(sd² + w²/12)), as a grid-sampled model sees it; the JS of that to p.
3. ``run``: the verdict at the preset (`febm.dynamics.training.bench.run` with ``tune``): CD and
   `METHODS`, 5 seeds, each method's (lr, ratio) picked on a validation seed, equal counted budgets;
   Welch's test against CD with Holm's correction over the table.

    python -m studies cpu_verdict pilot OUT.json DATASET [CANDIDATE ...]
    python -m studies cpu_verdict resolution OUT.json
    python -m studies cpu_verdict run OUT.json DATASET
    python -m studies cpu_verdict merge OUT.json PART.json ...
    python -m studies cpu_verdict pilot-table OUT.json ...   # the pilot's table for docs/bench.md
    python -m studies cpu_verdict table OUT.json             # the verdict's table
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import torch

from febm.dynamics.training import bench
from febm.dynamics.training.toy2d_training import Run, Toy2DConfig, train_batch
from febm.threads import limit_threads
from febm.toy_models.toy2d import Mixture2D, toy2d
from studies import load, verb, write
from studies.operating_point import data_nll, fifth_before_end, last_fifth_change
from studies.readings import reads

DESCRIPTION = "f-EBM against CD where CD learns on CPU: exact grid samples on 8 Gaussians and moons, tuned, Holm"
BEATS, TIES, LOSES = bench.Comparison.BEATS, bench.Comparison.TIES, bench.Comparison.LOSES

DATASETS = ("8gaussians", "moons")
METHODS = ["cd", "kl", "reverse_kl", "jensen_shannon", "squared_hellinger", "alpha=-0.5"]
JS_TARGET, NLL_MARGIN = 0.05, 0.15
PILOT_SEEDS, PILOT_STEPS, PILOT_RECORDS = 2, 6000, 12
EXACT = {"sampler": "grid", "sampler_grid": 64, "batch": 256}
CANDIDATES = {  # (network, lr) under the exact arm; fixed before the pilot ran
    "32-tanh-lr5e-3": {**EXACT, "sizes": (2, 32, 32, 1), "lr": 5e-3},
    "32-tanh-lr1e-2": {**EXACT, "sizes": (2, 32, 32, 1), "lr": 1e-2},
    "64-tanh-lr5e-3": {**EXACT, "sizes": (2, 64, 64, 1), "lr": 5e-3},
    "64-silu-lr5e-3": {**EXACT, "sizes": (2, 64, 64, 1), "activation": "silu", "lr": 5e-3},
    "32-tanh-lr1e-2-grid96": {**EXACT, "sizes": (2, 32, 32, 1), "lr": 1e-2, "sampler_grid": 96},
}


def pilot(out: str, dataset: str, names) -> None:
    limit_threads(1)
    result = {"dataset": dataset, "data_nll": data_nll(dataset), "seeds": PILOT_SEEDS, "steps": PILOT_STEPS,
              "js_target": JS_TARGET, "nll_margin": NLL_MARGIN, "candidates": {}}
    for name in names or CANDIDATES:
        config = replace(Toy2DConfig(), steps=PILOT_STEPS, **CANDIDATES[name])
        runs = [Run("cd", f"pilot/{dataset}/cd/{s}", config.lr, config.critic_lr_ratio, PILOT_STEPS)
                for s in range(PILOT_SEEDS)]
        t0 = time.perf_counter()
        out_ = train_batch(dataset, runs, config, seed=0, curve_every=PILOT_STEPS // PILOT_RECORDS)
        elapsed = time.perf_counter() - t0
        result["candidates"][name] = {
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in CANDIDATES[name].items()},
            "seconds_per_run_step": elapsed / (PILOT_STEPS * PILOT_SEEDS),
            "curve": [{"step": step, "js": [s.js for s in sc], "nll": [s.nll for s in sc]} for step, sc in out_.curves],
            "status": [str(s) for s in out_.status]}
    write(out, result)


def meets(candidate: dict, nll_floor: float) -> bool:
    """CD's mean final JS ≤ `JS_TARGET` and mean NLL within `NLL_MARGIN` of the data's."""
    last = candidate["curve"][-1]
    js, nll = _mean(last["js"]), _mean(last["nll"])
    return js is not None and js <= JS_TARGET and nll is not None and nll - nll_floor <= NLL_MARGIN


def first_meeting(candidate: dict, nll_floor: float) -> int | None:
    """The first recorded step at which CD's mean meets both targets."""
    for point in candidate["curve"]:
        if meets({"curve": [point]}, nll_floor):
            return point["step"]
    return None


def _mean(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return sum(xs) / len(xs) if xs else None


def pilot_table(*paths) -> str:
    """Per candidate and toy: CD's final JS and NLL above the data's, the first step meeting both
    targets, the change over the last 20%, and the time a run-step."""
    lines = ["| candidate | toy | CD JS | CD NLL − data | meets both at step | last 20% | ms a run-step |",
             "|---|---|---|---|---|---|---|"]
    for path in paths:
        d = load(path)
        for name, c in d["candidates"].items():
            last, before = c["curve"][-1], c["curve"][round(0.8 * (len(c["curve"]) - 1))]
            js, nll = _mean(last["js"]), _mean(last["nll"])
            change = js / _mean(before["js"]) - 1
            at = first_meeting(c, d["data_nll"])
            ms = 1e3 * c["seconds_per_run_step"]
            lines.append(f"| {name} | {d['dataset']} | {js:.3f} | {nll - d['data_nll']:.2f} | "
                         f"{'—' if at is None else f'{at:,}'} | {change:+.0%} | {ms:.2f} |")
    return "\n".join(lines)


def resolution(out: str) -> None:
    """JS between each toy's p and p with every component widened by a grid cell's uniform jitter."""
    from febm.dynamics.training.toy2d_scoring import scoring_grid

    result = {}
    for dataset in DATASETS:
        for cells in (64, 96, 128):
            data = toy2d(dataset)
            w = 2 * Toy2DConfig().box / cells
            wide = Mixture2D(dataset, data.centers, math.sqrt(data.sd**2 + w**2 / 12))
            xy, log_p, _ = scoring_grid(dataset, Toy2DConfig().box)
            log_q = wide.log_prob(xy)
            log_q = log_q - torch.logsumexp(log_q, 0)
            p, q = log_p.exp(), log_q.exp()
            m = (0.5 * (p + q)).log()
            js = float(0.5 * (p * (log_p - m)).sum() + 0.5 * (q * (log_q - m)).sum())
            result[f"{dataset}/{cells}"] = {"cell_width": w, "sd": data.sd, "js": js}
    write(out, result)


def run(out: str, dataset: str) -> None:
    limit_threads(1)
    preset = bench.PRESETS["cpu-exact"]
    report = bench.run([dataset], METHODS, seeds=5, budget=preset.budget, tune=True, config=preset.config(),
                       tuning=preset.tuning, seed=0, progress=False)
    write(out, report.to_json())


def run_long(out: str, tuned: str, dataset: str, factor: float) -> None:
    """The verdict's cells again at ``factor`` × its budget, each method at the setting its tuned run
    (``tuned``) chose: do the curves still fall, and does the verdict move?"""
    limit_threads(1)
    preset = bench.PRESETS["cpu-exact"]
    first = bench.BenchReport.from_json(load(tuned))
    settings = {dataset: {c.method: (c.lr, c.critic_lr_ratio) for c in first.cells if c.dataset == dataset}}
    report = bench.run([dataset], METHODS, seeds=5, budget=factor * preset.budget, config=preset.config(),
                       settings=settings, seed=0, progress=False)
    report.protocol["settings_from"] = tuned
    write(out, report.to_json())


def merge(out: str, parts) -> None:
    reports = [bench.BenchReport.from_json(load(p)) for p in parts]
    same = ("methods", "seeds", "budget", "tuned", "tuning_grid", "config", "master_seed", "settings_from")
    for path, r in zip(parts, reports):
        if any(r.protocol.get(k) != reports[0].protocol.get(k) for k in same):
            raise ValueError(f"{path}: its protocol differs from {parts[0]}'s")
    first = reports[0]
    first.cells = [c for r in reports for c in r.cells]
    bench.compare_with_cd(first.cells)  # Holm's correction over the merged table
    first.protocol["datasets"] = [d for r in reports for d in r.protocol["datasets"]]
    first.protocol["elapsed_s_per_toy"] = {r.protocol["datasets"][0]: r.elapsed_s for r in reports}
    first.elapsed_s = sum(r.elapsed_s for r in reports)
    write(out, first.to_json())


def table(path: str) -> str:
    """Final JS and NLL per toy and method (mean ± 95% CI), the tuned setting, CD's last-20% change,
    and the verdict against CD after Holm's correction."""
    report = bench.BenchReport.from_json(load(path))
    lines = ["| toy | method | lr, ratio | steps | JS | NLL − data | last 20% | vs CD (Holm p) |",
             "|---|---|---|---|---|---|---|---|"]
    for c in report.cells:
        floor = data_nll(c.dataset)
        nll = c.summary["nll"]
        change = last_fifth_change(c.curve)
        vs = "—" if c.verdict is None else f"{c.verdict} ({c.p_holm:.2g})"
        lines.append(f"| {c.dataset} | {c.method} | {c.lr:g}, {c.critic_lr_ratio:g} | {c.steps:,} | "
                     f"{c.summary['js'].text()} | {'n/a' if nll.mean is None else f'{nll.mean - floor:.2f}'} | "
                     f"{change:+.0%} | {vs} |")
    return "\n".join(lines)


def word_cell(report, method: str, dataset: str):
    return next(c for c in report.cells if (c.method, c.dataset) == (method, dataset))


def _within_noise(curve) -> bool:
    """The last fifth's change of the mean JS is within the final mean's 95% half-width."""
    end = curve[-1].js
    return abs(end.mean - fifth_before_end(curve).js.mean) <= end.half_width


CHOSEN = "32-tanh-lr1e-2"  # the pilot's pick: the cheapest a step, first to meet both targets (the preset)


@reads("results/cpu-verdict/pilot-moons.json")
def pilot_moons(d: dict) -> dict:
    return _pilot_readings(d)


@reads("results/cpu-verdict/pilot-8gaussians.json")
def pilot_8gaussians(d: dict) -> dict:
    return _pilot_readings(d)


def _pilot_readings(d: dict) -> dict:
    """The chosen candidate's final JS, NLL above the data's, first step meeting both, ms a run-step;
    asserts that it meets both targets and that no candidate is cheaper."""
    c = d["candidates"][CHOSEN]
    cost = c["seconds_per_run_step"]
    assert all(meets(o, d["data_nll"]) for o in d["candidates"].values()), "the prose: every candidate met both"
    assert all(o["seconds_per_run_step"] > 0.9 * cost for o in d["candidates"].values()), "the prose: the cheapest"
    last = c["curve"][-1]
    return {"js": _mean(last["js"]), "nll_gap": _mean(last["nll"]) - d["data_nll"],
            "first_step": first_meeting(c, d["data_nll"]), "ms": 1e3 * cost, "seeds": d["seeds"],
            "steps": d["steps"]}


@reads("results/cpu-verdict/resolution.json")
def resolution_readings(d: dict) -> dict:
    """The largest JS that the 64² grid's jitter costs the data (both toys)."""
    return {"js_64": max(v["js"] for k, v in d.items() if k.endswith("/64"))}


@reads("results/cpu-verdict/verdict.json")
def verdict_readings(d: dict) -> dict:
    """Counts of the verdicts after Holm, CD's final JS per toy, the steps and the budget."""
    report = bench.BenchReport.from_json(d)
    tested = [c for c in report.cells if c.method != "cd"]
    out = {v.value: sum(c.verdict == v for c in tested) for v in (BEATS, TIES, LOSES)}
    word = {(c.method, c.dataset): c.verdict for c in tested}
    assert out[BEATS.value] == 0, "the prose says no f beats CD"
    assert all(word[m, t] == TIES for m in ("kl", "jensen_shannon", "squared_hellinger") for t in DATASETS), \
        "the prose says KL, Jensen-Shannon and squared Hellinger tie CD on both toys"
    assert (word["reverse_kl", "moons"], word["reverse_kl", "8gaussians"]) == (TIES, LOSES), "the prose: reverse KL"
    assert all(word["alpha=-0.5", t] == LOSES for t in DATASETS), "the prose says alpha=-0.5 loses on both"
    flat = [c for c in report.cells if abs(last_fifth_change(c.curve)) < 0.10]
    falling = {(c.method, c.dataset) for c in report.cells if c not in flat and not _within_noise(c.curve)}
    assert falling == {("kl", "8gaussians"), ("jensen_shannon", "8gaussians"), ("squared_hellinger", "8gaussians"),
                       ("cd", "moons")}, f"the prose names the cells still falling: {sorted(falling)}"
    cd = {c.dataset: c for c in report.cells if c.method == "cd"}
    out.update(comparisons=len(tested), seeds=report.protocol["seeds"], budget=report.protocol["budget"],
               cd_steps=cd["moons"].steps, f_steps=tested[0].steps,
               cd_js_moons=cd["moons"].summary["js"].mean, cd_js_8gaussians=cd["8gaussians"].summary["js"].mean,
               minutes=max(report.protocol["elapsed_s_per_toy"].values()) / 60, flat=len(flat),
               cells=len(report.cells), kl_moons_worst=max(s.js for s in word_cell(report, "kl", "moons").seeds))
    return out


@reads("results/cpu-verdict/long.json")
def long_readings(d: dict) -> dict:
    """The same cells at twice the budget, settings as tuned: verdict counts, flat cells, CD's JS."""
    report = bench.BenchReport.from_json(d)
    tested = [c for c in report.cells if c.method != "cd"]
    out = {v.value: sum(c.verdict == v for c in tested) for v in (BEATS, TIES, LOSES)}
    assert out[BEATS.value] == 0, "the prose says no f beats CD at twice the budget either"
    assert {(c.method, c.dataset) for c in tested if c.verdict == LOSES} == {
        ("alpha=-0.5", "8gaussians"), ("alpha=-0.5", "moons")}, "the prose: only alpha=-0.5 loses"
    assert word_cell(report, "reverse_kl", "8gaussians").summary["js"].half_width > 0.1, "the prose: a wide spread"
    cd = {c.dataset: c for c in report.cells if c.method == "cd"}
    out.update(comparisons=len(tested), budget=report.protocol["budget"], cd_steps=cd["moons"].steps,
               cd_js_moons=cd["moons"].summary["js"].mean, cd_js_8gaussians=cd["8gaussians"].summary["js"].mean,
               flat=sum(abs(last_fifth_change(c.curve)) < 0.10 for c in report.cells), cells=len(report.cells))
    return out


def commands(verbs) -> None:
    verb(verbs, "pilot", pilot, "CD under each candidate operating point on one toy", "out", "dataset",
         ("names", {"nargs": "*"}), writes="out")
    verb(verbs, "resolution", resolution, "the data widened by a grid cell's jitter, its JS to p", "out",
         writes="out")
    verb(verbs, "run", run, "the verdict at the cpu-exact preset on one toy", "out", "dataset", writes="out")
    verb(verbs, "run-long", run_long, "the verdict's cells at a multiple of its budget, settings as tuned", "out",
         "tuned", "dataset", ("factor", {"type": float}), writes="out")
    verb(verbs, "merge", merge, "the toys in one file, Holm's correction over all", "out", ("parts", {"nargs": "+"}),
         writes="out")
    verb(verbs, "pilot-table", lambda paths: pilot_table(*paths), "the pilot's table", ("paths", {"nargs": "+"}))
    verb(verbs, "table", table, "the verdict's table", "path")
