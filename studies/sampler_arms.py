"""The exact grid sampler against Langevin (issue #23 §2), with the bench's protocol: 6 M counted
evaluations per run (the grid arm pays 64² energy evaluations per step, Langevin 21 × 256), 3
seeds, the default network, both arms from the same streams. A pilot, not the verdict: the
operating point where CD learns every toy is still to be found.

    python -m studies sampler_arms run langevin docs/results/sampler-langevin.json
    python -m studies sampler_arms run grid docs/results/sampler-grid.json
    python -m studies sampler_arms table docs/results/sampler-langevin.json docs/results/sampler-grid.json
"""

from febm.dynamics.training import bench
from febm.dynamics.training.toy2d_training import Toy2DConfig
from febm.threads import limit_threads
from studies import load, verb, write

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


def commands(verbs) -> None:
    verb(verbs, "run", run, "one arm: the sampler (langevin or grid)", "sampler", "out_path", writes="out_path")
    verb(verbs, "table", lambda paths: table(*paths), "the arms side by side (docs/bench.md)",
         ("paths", {"nargs": "+"}))
