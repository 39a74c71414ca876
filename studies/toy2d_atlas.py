"""The atlas on the 2-D toys (a Gaussian energy against each mixture, on a grid).

    python studies/toy2d_atlas.py OUT.json [DATASET ...]   # default: all four
    python studies/toy2d_atlas.py --merge OUT.json PART.json ...
"""

import json
import sys

from febm.dynamics.files import write_json

DATASETS = ["8gaussians", "25gaussians", "moons", "rings"]


def run(out_path, datasets):
    from febm.dynamics.commands.atlas import atlas
    from febm.threads import limit_threads

    limit_threads(1)  # torch and the BLAS under numpy and scipy
    result = {}
    for dataset in datasets:
        report = atlas(model=f"toy2d-{dataset}")
        result[dataset] = report.to_json()
        print(report.text(), flush=True)
        write_json(out_path, result)


def merge(out_path, parts):
    result = {}
    for p in parts:
        result.update(json.load(open(p)))
    write_json(out_path, {d: result[d] for d in DATASETS if d in result})


if __name__ == "__main__":
    if sys.argv[1] == "--merge":
        merge(sys.argv[2], sys.argv[3:])
    else:
        run(sys.argv[1], sys.argv[2:] or DATASETS)
