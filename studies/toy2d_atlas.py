"""The atlas on the 2-D toys (a Gaussian energy against each mixture, on a grid).

    python -m studies toy2d_atlas run OUT.json [DATASET ...]   # default: all four
    python -m studies toy2d_atlas merge OUT.json PART.json ...
"""

from studies import union, verb, write

DESCRIPTION = "the atlas on the four 2-D toys (13-25 min per toy)"
DATASETS = ["8gaussians", "25gaussians", "moons", "rings"]


def run(out_path, datasets=None):
    from febm.dynamics.commands.atlas import atlas
    from febm.threads import limit_threads

    limit_threads(1)  # torch and the BLAS under numpy and scipy
    result = {}
    for dataset in datasets or DATASETS:
        report = atlas(model=f"toy2d-{dataset}")
        result[dataset] = report.to_json()
        print(report.text(), flush=True)
        write(out_path, result)  # the toys so far (this run's file)


def merge(out_path, parts):
    """The parts' toys (one part each) in one file, in the order of ``DATASETS``."""
    result = union(parts)
    write(out_path, {d: result[d] for d in DATASETS if d in result})


def commands(verbs) -> None:
    verb(verbs, "run", run, "the atlas on the named toys (default: all four)", "out_path",
         ("datasets", {"nargs": "*"}), writes="out_path")
    verb(verbs, "merge", merge, "the parts in one file", "out_path", ("parts", {"nargs": "+"}), writes="out_path")
