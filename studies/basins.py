"""The atlas with basin radii (bisected exact flows) on the set-ups named on the command line."""

import json
import sys

from febm.dynamics.commands.atlas import atlas
from febm.threads import limit_threads

limit_threads(1)  # torch and the BLAS under numpy and scipy
out_path, models = sys.argv[1], sys.argv[2:]
result = {}
for model in models:
    report = atlas(model=model, basins=True)
    result[model] = report.to_json()
    for row in report.rows:
        print(model, row.name, row.basin, f"{row.elapsed_s:.0f} s", flush=True)
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=1)
