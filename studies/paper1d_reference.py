"""paper-1d under the reference code's settings (paper1d.REFERENCE_SETTINGS), every curved catalog f.

    python -m studies paper1d_reference run OUT.json [STEPS] [SEEDS]   (31 min: 20,000 steps, 2 seeds)
"""

import time
from dataclasses import replace

from studies import verb, write

DESCRIPTION = "paper-1d under the reference code's settings, the 16 curved catalog f"


def run(out_path, steps: int = 20000, seeds: int = 2) -> str:
    """Train and write the report; returns its text."""
    from febm.dynamics.training import paper1d
    from febm.dynamics.training.toy2d_training import all_methods
    from febm.threads import limit_threads

    limit_threads(1)  # torch and the BLAS under numpy and scipy
    config = replace(paper1d.REFERENCE_SETTINGS, steps=steps, device="cpu", record_every=100)
    t0 = time.time()
    report = paper1d.run(seeds=seeds, config=config, names=all_methods()[1:], seed=0, progress=True)
    write(out_path, {**report.to_json(), "steps": steps, "wall_s": time.time() - t0})
    return report.text()


def commands(verbs) -> None:
    verb(verbs, "run", run, "train every curved f under the reference's settings", "out_path",
         ("steps", {"nargs": "?", "type": int, "default": 20000}), ("seeds", {"nargs": "?", "type": int, "default": 2}),
         writes="out_path")
