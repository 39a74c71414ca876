"""The four 2-D toys: CD and every curved catalog f, seeds 0 and 1 (per-run random streams).

    python -m studies toy2d_training run OUT.json [STEPS]   (25 min at 1000 steps)
"""

from studies import verb, write

DESCRIPTION = "the four 2-D toys trained: CD and 16 curved f, seeds 0 and 1"
DATASETS = ["8gaussians", "25gaussians", "moons", "rings"]


def run(out_path, steps: int = 1000) -> None:
    from febm.dynamics.training.toy2d_training import Toy2DConfig, all_methods, train_toy2d
    from febm.threads import limit_threads

    limit_threads(1)  # torch and the BLAS under numpy and scipy
    result = {}
    for dataset in DATASETS:
        result[dataset] = []
        for seed in (0, 1):
            report = train_toy2d(dataset, all_methods(), Toy2DConfig(steps=steps, device="cpu"), seed=seed)
            result[dataset].append(report.to_json())
            print(dataset, seed, f"{report.elapsed_s:.0f} s", flush=True)
            write(out_path, result)  # the runs so far (this run's file)


def commands(verbs) -> None:
    verb(verbs, "run", run, "train and score every method on the four toys", "out_path",
         ("steps", {"nargs": "?", "type": int, "default": 1000}), writes="out_path")
