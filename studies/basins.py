"""The atlas with basin radii (bisected exact flows) on the set-ups named on the command line, and
atlas.md's table of them.

    python studies/basins.py run docs/results/basins.json gaussian-1d paper-1d
    python studies/basins.py table docs/results/basins.json
    python studies/basins.py reversal docs/results/basins-reversal.json  # KL, reverse KL along seed 1
"""

import json
import sys

from scipy.stats import spearmanr

from febm.dynamics.files import write_json

NAMES = {"kl": "KL", "reverse_kl": "reverse KL", "jensen_shannon": "JS", "gan": "GAN",
         "squared_hellinger": "squared Hellinger", "pearson_chi2": "Pearson χ²", "neyman_chi2": "Neyman χ²",
         "jeffreys": "Jeffreys", "triangular": "triangular", "le_cam": "Le Cam", "symmetric_chi2": "symmetric χ²"}


def run(out_path, models):
    from febm.dynamics.commands.atlas import atlas
    from febm.threads import limit_threads

    limit_threads(1)  # torch and the BLAS under numpy and scipy
    result = {}
    for model in models:
        report = atlas(model=model, basins=True)
        result[model] = report.to_json()
        for row in report.rows:
            print(model, row.name, row.basin, f"{row.elapsed_s:.0f} s", flush=True)
        write_json(out_path, result)


def _name(n: str) -> str:
    return NAMES.get(n, n.replace("alpha=", "α = ").replace("-", "−"))


def _radius(b: dict) -> str:
    return f"≥ {b['radius']:g}" if b["radius"] >= 3.0 else f"{b['radius']:.2f}"


def _f3(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def radii(result: dict):
    """{f: (f'''(1), radius per set-up)} over the f with a curvature."""
    models = list(result)
    rows = {r["name"]: r for r in result[models[0]]["rows"] if r["f2_at_1"]}
    return models, {n: (r["f3_at_1"], [next(x for x in result[m]["rows"] if x["name"] == n)["basin"] for m in models])
                    for n, r in rows.items()}


def table(path) -> str:
    """Rows of f with equal f'''(1)-ordered radii grouped; the capped ones in one row."""
    models, data = radii(json.load(open(path)))
    lines = ["| f | f'''(1) | " + " | ".join(f"radius, {m}" for m in models) + " |",
             "| --- | --- | " + " | ".join("---" for _ in models) + " |"]
    groups: dict = {}
    for n, (f3, basins) in sorted(data.items(), key=lambda kv: (min(b["radius"] for b in kv[1][1]) >= 3, kv[1][0])):
        capped = all(b["radius"] >= 3 for b in basins)
        key = ("capped",) if capped else (f3, tuple(_radius(b) for b in basins))
        groups.setdefault(key, []).append((n, f3, basins))
    for members in groups.values():
        f3s = sorted({m[1] for m in members})
        f3 = _f3(f3s[0]) if len(f3s) == 1 else f"{_f3(f3s[0])} to {_f3(f3s[-1])}"
        names = ", ".join(_name(m[0]) for m in members)
        lines.append(f"| {names} | {f3} | " + " | ".join(_radius(b) for b in members[0][2]) + " |")
    return "\n".join(lines)


def correlation(path) -> list:
    """Spearman's ρ between f'''(1) and the radius, and its p-value, per set-up."""
    models, data = radii(json.load(open(path)))
    out = []
    for m, model in enumerate(models):
        f3, r = zip(*[(v[0], v[1][m]["radius"]) for v in data.values()])
        rho = spearmanr(f3, r)
        out.append((model, float(rho.statistic), float(rho.pvalue), len(f3)))
    return out


def reversal(out_path, model: str = "gaussian-1d", seed: int = 1) -> None:
    """KL's and reverse KL's radii along the atlas's two random directions drawn with another seed:
    the direction where their order reverses (atlas.md)."""
    from febm.dynamics.analysis import basins
    from febm.dynamics.analysis.local import LocalAnalysis
    from febm.threads import limit_threads

    limit_threads(1)
    radii = {}
    for name in ("kl", "reverse_kl"):
        lin = LocalAnalysis.build(name, model).lin
        radii[name] = basins.basin(lin, random_directions=2, seed=seed, r_max=3.0, steps=5).random
        print(name, radii[name], flush=True)
    write_json(out_path, {"model": model, "seed": seed, "r_max": 3.0, "steps": 5, "random": radii})


if __name__ == "__main__":
    command, path, *rest = sys.argv[1:]
    if command == "run":
        run(path, rest)
    elif command == "reversal":
        reversal(path)
    else:
        print(table(path))
        for model, rho, p, n in correlation(path):
            print(f"{model}: Spearman ρ {rho:.2f}, p {p:.1g}, {n} f")
