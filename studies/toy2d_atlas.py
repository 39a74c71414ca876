"""The atlas on the four 2-D toys (a Gaussian energy against each mixture, on a grid)."""

import json
import sys

from febm.dynamics.commands.atlas import atlas
from febm.threads import limit_threads

limit_threads(1)  # torch and the BLAS under numpy and scipy
out_path = sys.argv[1]
result = {}
for dataset in ["8gaussians", "25gaussians", "moons", "rings"]:
    report = atlas(model=f"toy2d-{dataset}")
    result[dataset] = report.to_json()
    print(report.text(), flush=True)
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=1)
