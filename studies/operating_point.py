"""Pilot runs for a learnable operating point of the 2-D bench.

Each job trains one toy under one named configuration of `CONFIGS` (fixed before any pilot was
measured) with the bench's protocol: CD and two f at equal counted budgets, ``--seeds`` seeds,
each run on its own stream. A job is given wall seconds, not steps: it first times a few steps
of its own batch (beside whatever else shares the machine), then takes the number of CD steps
that fits in ``--seconds``. The budget it reached is recorded with the result.

    python -m studies operating_point run 8gaussians wide-silu --seconds 400 --device cuda --out F.json
    python -m studies operating_point devices --out F.json        # one bench cell on CPU and on CUDA
    python -m studies operating_point table DIR                   # the pilot table for docs/bench.md

Targets (fixed beforehand): CD's grid JS ≤ 0.05 and its held-out NLL within
0.15 nats of the data's own, on all four toys.
"""

import glob
import math
import time
from dataclasses import replace
from pathlib import Path

import torch

from febm.dynamics.report import fields_from_json
from febm.dynamics.training import bench
from febm.dynamics.training.bench import Comparison, holm
from febm.dynamics.training.budget import step_cost
from febm.dynamics.training.toy2d_scoring import held_out_data
from febm.dynamics.training.toy2d_training import Run, Toy2DConfig, train_batch
from febm.threads import limit_threads
from febm.toy_models.toy2d import toy2d
from studies import load, verb, write
from studies.readings import RESULTS, reads

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
    holm_verdict = {(name, dataset, c["method"]): c["verdict"] if p < 0.05 else Comparison.TIES.value
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
        change = last_fifth_change(curve_of(cells["cd"]))
        lines.append(f"| {job['config_name']} | {job['dataset']} | {cells['cd']['steps']} | {_interval(js)} | "
                     f"{_fmt(gap, 2)} | {change:+.0%} | {'yes' if meets else 'no'} | " + " | ".join(verdicts) + " |")
    return "\n".join(lines)


def _verdict(cell: dict, corrected: str) -> str:
    word = cell["verdict"] if corrected == cell["verdict"] else f"{cell['verdict']}; Holm: {corrected}"
    return f"{cell['summary']['js']['mean']:.3f} ({word})"


def curve_of(cell: dict) -> list[bench.CurvePoint]:
    """A bench cell's learning curve, from its JSON."""
    return [fields_from_json(bench.CurvePoint, p) for p in cell["curve"]]


def fifth_before_end(curve: list[bench.CurvePoint]) -> bench.CurvePoint:
    """The curve point nearest 80% of the budget."""
    return min(curve, key=lambda p: abs(p.evaluations - 0.8 * curve[-1].evaluations))


def last_fifth_change(curve: list[bench.CurvePoint]) -> float:
    """The relative change of the mean JS over the last 20% of the budget (the test of a
    flattened curve is |change| < 10%), from the curve point nearest 80% of the budget."""
    return curve[-1].js.mean / fifth_before_end(curve).js.mean - 1


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


# --- readings for docs/bench.md's pilot bullets ------------------------------------------------------

PILOT = RESULTS / "operating-point"
TIES, BEATS = Comparison.TIES.value, Comparison.BEATS.value  # the verdict words of the result files
# the four jobs where the exact arm's CD met both targets that bench.md quotes (one toy each)
CITED = [("round1", "wide-silu-grid", "25gaussians")] + [("round2", "wide-silu-grid", t)
                                                         for t in ("8gaussians", "moons", "rings")]


def _job_numbers(job: dict) -> dict:
    """One job's numbers: CD's steps, JS, NLL above the data's and the change over the last fifth;
    the two f's mean JS, KL's ratio to CD and its non-finite runs; the job's time."""
    cells = {c["method"]: c for c in job["cells"]}
    cd = cells["cd"]["summary"]
    js, kl = cells["jensen_shannon"], cells["kl"]
    gap = cd["nll"]["mean"] - job["data_nll"]
    ratio = kl["summary"]["js"]["mean"] / cd["js"]["mean"]
    return {"cd_steps": job["cd_steps"], "cd_js": cd["js"]["mean"], "cd_js_hw": cd["js"]["half_width"],
            "nll_gap": gap, "meets": cd["js"]["mean"] <= JS_TARGET and gap <= NLL_MARGIN,
            "last_fifth": last_fifth_change(curve_of(cells["cd"])),
            "kl_js": kl["summary"]["js"]["mean"], "js_js": js["summary"]["js"]["mean"],
            "kl_ratio": ratio, "kl_ratio_floor": math.floor(ratio), "kl_ratio_ceil": math.ceil(ratio),
            "kl_failed": kl["failed"], "seeds": len(cells["cd"]["seeds"]),
            "js_verdict": js["verdict"], "kl_verdict": kl["verdict"],
            "exact": job["config"].get("sampler") == "grid",
            "seconds_per_step": job["seconds_per_step"], "wall_s": job["wall_s"]}


def _pilot() -> dict:
    """{(round, configuration, toy): numbers} over both rounds, with the claims bench.md makes
    about the whole pilot asserted."""
    jobs = {(p.parent.name, j["config_name"], j["dataset"]): j
            for p in sorted(PILOT.glob("round*/*.json")) for j in [load(p)]}
    n = {k: _job_numbers(j) for k, j in jobs.items()}
    langevin = [k for k in n if not n[k]["exact"]]
    assert not any(n[k]["meets"] for k in langevin), "the prose says no Langevin configuration meets the targets"
    learned = [k for k in n if n[k]["meets"]]
    assert all(n[k]["js_verdict"] == TIES and n[k]["kl_verdict"] != BEATS for k in learned), \
        "the prose says Jensen–Shannon ties CD and no f beats it where CD learned"
    assert all(n[k]["meets"] is False for k in n if BEATS in (n[k]["js_verdict"], n[k]["kl_verdict"])), \
        "the prose says f beat CD only where CD failed"
    assert all(n[k]["meets"] for k in CITED), "the prose says CD meets both targets in these four"
    assert all(n[k]["last_fifth"] < -0.1 for k in CITED[1:]), "the prose says round 2's curves were still falling"
    rings = min((n[k]["cd_js"], k) for k in langevin if k[2] == "rings")[1]
    assert rings == ("round1", "deep-silu", "rings"), "the prose cites deep SiLU as rings' best Langevin JS"
    moons = [k[1] for _, k in sorted((n[k]["cd_js"], k) for k in langevin if k[2] == "moons")]
    eight = min((n[k]["cd_js"], k) for k in langevin if k[2] == "8gaussians")[1]
    assert moons[:2] == ["deep-silu", "wide-tanh"] and eight[1] == "wide-tanh", "the prose names the closest"
    keys = [(k, m) for k in jobs for m in ("kl", "jensen_shannon")]
    pvalues = {}
    for r in ("round1", "round2"):
        mine = [(k, m) for k, m in keys if k[0] == r]
        cells = [next(c for c in jobs[k]["cells"] if c["method"] == m) for k, m in mine]
        pvalues.update(zip(mine, holm([1.0 if c["p_value"] is None else c["p_value"] for c in cells])))
    survive = sorted(k for (k, m), p in pvalues.items() if p < 0.05 and n[k][f"{'js' if m != 'kl' else 'kl'}_verdict"]
                     == BEATS)
    assert survive == [("round1", "wide-silu", "25gaussians"), ("round1", "wide-silu-lr5", "rings")], \
        "the prose names the two beats that survive Holm's correction"
    assert n[survive[1]]["nll_gap"] <= n[survive[0]]["nll_gap"], "the prose gives their NLL gaps low to high"
    return n


def _round(numbers: dict, name: str) -> dict:
    """One round's spans: the jobs' wall times, and the exact arm's steps, last-fifth changes,
    seconds a step and KL's ratio to CD where CD met the targets."""
    mine = {k: v for k, v in numbers.items() if k[0] == name}
    exact = [v for v in mine.values() if v["exact"] and v["meets"]]
    out = {"jobs": len(mine), "wall_low": min(v["wall_s"] for v in mine.values()),
           "wall_high": max(v["wall_s"] for v in mine.values())}
    if exact:
        out.update(steps_low=min(v["cd_steps"] for v in exact), steps_high=max(v["cd_steps"] for v in exact),
                   fifth_least=max(v["last_fifth"] for v in exact), fifth_most=min(v["last_fifth"] for v in exact),
                   step_s_low=min(v["seconds_per_step"] for v in mine.values() if v["exact"]),
                   step_s_high=max(v["seconds_per_step"] for v in mine.values() if v["exact"]))
    return out


def _job_readings(path: Path):
    def job_readings(d: dict) -> dict:
        numbers = _pilot()
        cited = [numbers[k] for k in CITED]
        return {**_job_numbers(d), "round": _round(numbers, path.parent.name),
                "cited_kl_ratio_floor": min(v["kl_ratio_floor"] for v in cited),
                "cited_kl_ratio_ceil": max(v["kl_ratio_ceil"] for v in cited)}
    return job_readings


for _path in sorted(PILOT.glob("round*/*.json")):
    reads(str(_path.relative_to(RESULTS.parent)))(_job_readings(_path))


@reads("results/operating-point/devices.json")
def device_readings(d: dict) -> dict:
    """One bench cell on the CPU and on CUDA: the mean final JS of CD and KL on each, which the
    prose says agree (statistically: the generators differ)."""
    mean = {dev: {m: sum(v) / len(v) for m, v in d[dev]["js"].items()} for dev in ("cpu", "cuda")}
    assert all(abs(mean["cpu"][m] - mean["cuda"][m]) < 0.01 for m in mean["cpu"]), "the prose says they agree"
    return {"cpu_cd": mean["cpu"]["cd"], "cuda_cd": mean["cuda"]["cd"], "cpu_kl": mean["cpu"]["kl"],
            "cuda_kl": mean["cuda"]["kl"], "seeds": len(d["cpu"]["js"]["cd"]),
            "cpu_s": d["cpu"]["elapsed_s"], "cuda_s": d["cuda"]["elapsed_s"]}
