"""Pilot runs for a learnable operating point of the 2-D bench (issue #23 §1, §2).

Each job trains one toy under one named configuration of `CONFIGS` (fixed before any pilot was
measured) with the bench's protocol: CD and two f at equal counted budgets, ``--seeds`` seeds,
each run on its own stream. A job is given wall seconds, not steps: it first times a few steps
of its own batch (beside whatever else shares the machine), then takes the number of CD steps
that fits in ``--seconds``. The budget it reached is recorded with the result.

    python -m studies operating_point run 8gaussians wide-silu --seconds 400 --device cuda --out F.json
    python -m studies operating_point devices --out F.json        # one bench cell on CPU and on CUDA
    python -m studies operating_point table DIR                   # the pilot table for docs/bench.md

Targets (the issue's, fixed beforehand): CD's grid JS ≤ 0.05 and its held-out NLL within
0.15 nats of the data's own, on all four toys.
"""

import glob
import math
import time
from dataclasses import replace

import torch

from febm.dynamics.training import bench
from febm.dynamics.training.budget import step_cost
from febm.dynamics.training.toy2d_scoring import held_out_data
from febm.dynamics.training.toy2d_training import Run, Toy2DConfig, train_batch
from febm.threads import limit_threads
from febm.toy_models.toy2d import toy2d
from studies import load, verb, write

DESCRIPTION = "bench.md's operating-point pilot: CD, KL and JS under six configurations at a wall-time budget"

METHODS = ["cd", "kl", "jensen_shannon"]
JS_TARGET, NLL_MARGIN = 0.05, 0.15
WIDE = {"sizes": (2, 128, 128, 1), "activation": "silu"}
CONFIGS = {
    "default": {},
    "wide-tanh": {"sizes": (2, 128, 128, 1)},
    "wide-silu": WIDE,
    "wide-silu-lr5": {**WIDE, "lr": 5e-3},
    "deep-silu": {"sizes": (2, 128, 128, 128, 1), "activation": "silu"},
    "wide-silu-grid": {**WIDE, "sampler": "grid", "sampler_grid": 160},
}
PROBE_STEPS, MAX_CD_STEPS = 12, 60_000


def config_of(name: str, device: str) -> Toy2DConfig:
    return replace(Toy2DConfig(device=device), **CONFIGS[name])


def seconds_per_step(dataset: str, config: Toy2DConfig, seeds: int) -> float:
    runs = [Run(m, f"probe/{m}/{s}", config.lr, config.critic_lr_ratio, PROBE_STEPS + 3)
            for m in METHODS for s in range(seeds)]
    train_batch(dataset, [replace(r, steps=3) for r in runs], config, seed=1)  # warm-up (CUDA init)
    t0 = time.perf_counter()
    train_batch(dataset, runs, config, seed=1)
    return (time.perf_counter() - t0) / (PROBE_STEPS + 3)


def run(dataset: str, name: str, seconds: float, device: str, seeds: int, out: str) -> None:
    limit_threads(1)
    start = time.perf_counter()
    config = config_of(name, device)
    per_step = seconds_per_step(dataset, config, seeds)
    left = seconds - (time.perf_counter() - start)
    cd_steps = max(min(int(0.8 * left / per_step), MAX_CD_STEPS), 1)  # 20% for scoring the curves
    budget = cd_steps * step_cost("cd", config).total
    report = bench.run([dataset], METHODS, seeds=seeds, budget=budget, config=config, seed=0, progress=False)
    result = {"dataset": dataset, "config_name": name, "config": CONFIGS[name], "seconds_per_step": per_step,
              "cd_steps": cd_steps, "budget": budget, "data_nll": data_nll(dataset),
              "wall_s": time.perf_counter() - start, **report.to_json()}
    write(out, result)


def data_nll(dataset: str) -> float:
    """The data's own held-out NLL (nats), the floor a model's NLL is measured against."""
    data = toy2d(dataset)
    return float(-data.log_prob(held_out_data(data).to(torch.float64)).mean())


def devices(out: str, seeds: int = 4) -> None:
    """The same bench cell (8 Gaussians, CD and KL, 0.6 M) on the CPU and on CUDA. The streams are
    seeded alike, but CPU and CUDA generators draw different numbers: agreement is statistical."""
    limit_threads(1)
    result = {}
    for device in ("cpu", "cuda"):
        t0 = time.perf_counter()
        report = bench.run(["8gaussians"], ["cd", "kl"], seeds=seeds, budget=6e5,
                           config=Toy2DConfig(device=device), progress=False)
        result[device] = {"elapsed_s": time.perf_counter() - t0,
                          "js": {c.method: [s.js for s in c.seeds] for c in report.cells}}
    write(out, result)


def table(folder: str) -> str:
    """Per configuration and toy: CD's final JS and NLL above the data's, the steps it reached, and
    the two f's verdicts against CD."""
    jobs = [load(p) for p in sorted(glob.glob(f"{folder}/*.json"))]
    keys = [(j["config_name"], j["dataset"], c) for j in jobs for c in j["cells"] if c["method"] != "cd"]
    adjusted = holm([1.0 if c["p_value"] is None else c["p_value"] for _, _, c in keys])
    holm_verdict = {(name, dataset, c["method"]): c["verdict"] if p < 0.05 else "ties"
                    for (name, dataset, c), p in zip(keys, adjusted)}
    lines = ["| configuration | toy | CD steps | CD JS | CD NLL − data | last 20% | meets target | KL vs CD "
             "| Jensen–Shannon vs CD |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for job in sorted(jobs, key=lambda j: (list(CONFIGS).index(j["config_name"]), j["dataset"])):
        cells = {c["method"]: c for c in job["cells"]}
        cd = cells["cd"]["summary"]
        js, nll = cd["js"], cd["nll"]
        gap = None if nll["mean"] is None else nll["mean"] - job["data_nll"]
        meets = js["mean"] is not None and js["mean"] <= JS_TARGET and gap is not None and gap <= NLL_MARGIN
        verdicts = [_verdict(cells[m], holm_verdict[job["config_name"], job["dataset"], m]) for m in METHODS[1:]]
        change = last_fifth_change(cells["cd"]["curve"])
        lines.append(f"| {job['config_name']} | {job['dataset']} | {cells['cd']['steps']} | {_interval(js)} | "
                     f"{_fmt(gap, 2)} | {change:+.0%} | {'yes' if meets else 'no'} | " + " | ".join(verdicts) + " |")
    return "\n".join(lines)


def holm(p_values) -> list[float]:
    """Holm's step-down adjustment for the comparisons of one table, in input order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _verdict(cell: dict, corrected: str) -> str:
    word = cell["verdict"] if corrected == cell["verdict"] else f"{cell['verdict']}; Holm: {corrected}"
    return f"{cell['summary']['js']['mean']:.3f} ({word})"


def last_fifth_change(curve: list[dict]) -> float:
    """The relative change of the mean JS over the last 20% of the budget (the issue's test of a
    flattened curve is |change| < 10%), from the curve point nearest 80% of the budget."""
    end = curve[-1]["evaluations"]
    before = min(curve, key=lambda p: abs(p["evaluations"] - 0.8 * end))
    return curve[-1]["js"]["mean"] / before["js"]["mean"] - 1


def _interval(i: dict) -> str:
    if i["mean"] is None:
        return "n/a"
    return f"{i['mean']:.3f}" + ("" if i["half_width"] is None else f" ± {i['half_width']:.3f}")


def _fmt(x, digits: int) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def commands(verbs) -> None:
    verb(verbs, "run", run, "one toy under one configuration, given wall seconds",
         ("dataset", {"choices": bench.DATASETS}),
         ("config", {"choices": list(CONFIGS)}), ("--seconds", {"type": float, "required": True}),
         ("--device", {"default": "cuda"}), ("--seeds", {"type": int, "default": 3}), ("--out", {"required": True}),
         writes="out")
    verb(verbs, "devices", devices, "one bench cell on the CPU and on CUDA", ("--out", {"required": True}),
         writes="out")
    verb(verbs, "table", table, "the pilot table for docs/bench.md, from a folder of jobs", "folder")
