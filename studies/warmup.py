"""paper-1d.md's item 4: Neyman χ² over 16 runs (master seed 0, the default run otherwise) with
a 300-step critic warm-up against the default 1000: the bias and the per-run sd of (μ, σ).

    python -m studies warmup run OUT.json STEPS     # one arm (run both, then merge)
    python -m studies warmup merge OUT.json PART.json ...
    python -m studies warmup text docs/results/paper-1d-warmup.json
"""

import json
from dataclasses import replace

from studies import load, union, verb, write

DESCRIPTION = "paper-1d.md's item 4: Neyman χ² with a 300-step critic warm-up against the default 1000"
NAME, SEEDS = "neyman_chi2", 16


def run(out, warmup: int) -> None:
    from febm.dynamics.training import paper1d
    from febm.threads import limit_threads

    limit_threads(1)
    report = paper1d.run(seeds=SEEDS, seed=0, config=replace(paper1d.DEFAULT_CONFIG, critic_warmup=warmup),
                         names=[NAME], progress=False)
    r = json.loads(report.json_text())["rows"][0]
    write(out, {str(warmup): {"exact": r["exact"], "febm": r["febm"], "status": r["status"]}})


def merge(out, parts) -> None:
    """The arms (one part each) in one file."""
    arms = union(parts)
    write(out, {"divergence": NAME, "seeds": SEEDS, "master_seed": 0, "arms": arms})


def _bias_sd(arm: dict) -> tuple[str, str]:
    e, m = arm["exact"], arm["febm"]
    return (f"({m['mu'] - e['mu']:+.4f}, {m['sigma'] - e['sigma']:+.4f})".replace("-", "−"),
            f"({m['mu_sd']:.4f}, {m['sigma_sd']:.4f})")


def text(path) -> str:
    arms = load(path)["arms"]
    (b0, s0), (b1, s1) = _bias_sd(arms["300"]), _bias_sd(arms["1000"])
    return (f"Over {SEEDS} runs of Neyman χ², the default 1000-step warm-up instead of 300 moved the bias "
            f"from {b0} to {b1} and the sd from {s0} to {s1}")


def commands(verbs) -> None:
    verb(verbs, "run", run, "one arm: the warm-up steps (2 min)", "out", ("warmup", {"type": int}), writes="out")
    verb(verbs, "merge", merge, "the arms in one file", "out", ("parts", {"nargs": "+"}), writes="out")
    verb(verbs, "text", text, "the sentence in docs/paper-1d.md", "path")
