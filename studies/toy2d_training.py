"""The four 2-D toys: CD and every curved catalog f, seeds 0 and 1 (per-run random streams)."""

import sys

from febm.dynamics.files import write_json
from febm.dynamics.training.toy2d_training import Toy2DConfig, all_methods, train_toy2d
from febm.threads import limit_threads

limit_threads(1)  # torch and the BLAS under numpy and scipy
out_path = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
result = {}
for dataset in ["8gaussians", "25gaussians", "moons", "rings"]:
    result[dataset] = []
    for seed in (0, 1):
        report = train_toy2d(dataset, all_methods(), Toy2DConfig(steps=steps, device="cpu"), seed=seed)
        result[dataset].append(report.to_json())
        print(dataset, seed, f"{report.elapsed_s:.0f} s", flush=True)
        write_json(out_path, result)
