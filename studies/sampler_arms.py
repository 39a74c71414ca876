"""The exact grid sampler against Langevin, with the bench's protocol: 6 M counted
evaluations per run (the grid arm pays 64² energy evaluations per step, Langevin 21 × 256), 3
seeds, the default network, both arms from the same streams. A pilot, not the verdict: the
operating point where CD learns every toy is still to be found.

    python -m studies sampler_arms run langevin docs/results/sampler-langevin.json
    python -m studies sampler_arms run grid docs/results/sampler-grid.json
    python -m studies sampler_arms table docs/results/sampler-langevin.json docs/results/sampler-grid.json
"""

from febm.dynamics.training import bench
from febm.dynamics.training.bench import Comparison
from febm.dynamics.training.toy2d_training import Toy2DConfig
from febm.threads import limit_threads
from studies import load, verb, write
from studies.readings import reads

DESCRIPTION = "the exact grid sampler against Langevin with the bench's protocol (a pilot)"
METHODS = ["cd", "kl", "jensen_shannon", "reverse_kl"]
SEEDS, BUDGET = 3, 6e6


def run(sampler: str, out_path: str) -> None:
    limit_threads(1)
    report = bench.run(list(bench.DATASETS), METHODS, seeds=SEEDS, budget=BUDGET,
                       config=Toy2DConfig(device="cpu", sampler=sampler), seed=0, progress=True)
    write(out_path, {"sampler": sampler, **report.to_json()})


def table(*paths) -> str:
    arms = [load(p) for p in paths]
    lines = ["| toy | method | " + " | ".join(f"JS, {a['sampler']} (vs CD)" for a in arms) + " |",
             "|" + " --- |" * (2 + len(arms))]
    for cells in zip(*[a["cells"] for a in arms]):
        c0 = cells[0]
        row = [f"{c['summary']['js']['mean']:.3f} ± {c['summary']['js']['half_width']:.3f}"
               + ("" if c["method"] == "cd" else f" ({c['verdict']})") for c in cells]
        lines.append(f"| {c0['dataset']} | {c0['method']} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _arm_readings(d: dict) -> dict:
    """One arm's JS means as ``METHOD_DATASET`` (CD and reverse KL), its time, and the verdict words the prose uses."""
    out = {f"{c['method'].replace('_', '')}_{c['dataset']}": c["summary"]["js"]["mean"] for c in d["cells"]
           if c["method"] in ("cd", "reverse_kl")}
    verdicts = {(c["dataset"], c["method"]): c["verdict"] for c in d["cells"] if c["method"] != "cd"}
    assert Comparison.BEATS.value not in verdicts.values(), "the prose says no f beats CD in either arm"
    assert all(verdicts[s, "jensen_shannon"] == Comparison.TIES.value for s in ("moons", "rings")), \
        "the prose says JS ties CD on moons and rings in both arms"
    out["elapsed_s"] = d["elapsed_s"]
    return out


@reads("sampler-langevin.json")
def langevin(d: dict) -> dict:
    return _arm_readings(d)


@reads("sampler-grid.json")
def grid(d: dict) -> dict:
    out = _arm_readings(d)
    assert min(v for k, v in out.items() if k.startswith("cd_")) > 0.05, "the prose says CD is nowhere near 0.05"
    return out


def commands(verbs) -> None:
    verb(verbs, "run", run, "one arm: the sampler (langevin or grid)", "sampler", "out_path", writes="out_path")
    verb(verbs, "table", lambda paths: table(*paths), "the arms side by side (docs/bench.md)",
         ("paths", {"nargs": "+"}))
