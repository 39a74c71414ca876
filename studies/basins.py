"""The atlas with basin radii (bisected exact flows) on the set-ups named on the command line, and
atlas.md's table of them.

    python -m studies basins run docs/results/basins.json gaussian-1d paper-1d
    python -m studies basins table docs/results/basins.json
    python -m studies basins reversal docs/results/basins-reversal.json  # KL, reverse KL along seed 1
"""

from scipy.stats import spearmanr

from studies import load, verb, without_provenance, write
from studies.readings import reads

DESCRIPTION = "the atlas with basin radii (bisected exact flows) per set-up, and atlas.md's table of them"
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
        write(out_path, result)  # the set-ups so far (this run's file)


def _name(n: str) -> str:
    return NAMES.get(n, n.replace("alpha=", "α = ").replace("-", "−"))


def _radius(b: dict) -> str:
    return f"≥ {b['radius']:g}" if b["radius"] >= 3.0 else f"{b['radius']:.2f}"


def _f3(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def radii(result: dict):
    """{f: (f'''(1), radius per set-up)} over the f with a curvature."""
    result = without_provenance(result)
    models = list(result)
    rows = {r["name"]: r for r in result[models[0]]["rows"] if r["f2_at_1"]}
    return models, {n: (r["f3_at_1"], [next(x for x in result[m]["rows"] if x["name"] == n)["basin"] for m in models])
                    for n, r in rows.items()}


def table(path) -> str:
    """Rows of f with equal f'''(1)-ordered radii grouped; the capped ones in one row."""
    models, data = radii(load(path))
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
    models, data = radii(load(path))
    out = []
    for m, model in enumerate(models):
        f3, r = zip(*[(v[0], v[1][m]["radius"]) for v in data.values()])
        rho = spearmanr(f3, r)
        out.append((model, float(rho.statistic), float(rho.pvalue), len(f3)))
    return out


def table_and_correlation(path) -> str:
    """The table, then Spearman's ρ per set-up."""
    return "\n".join([table(path), *(f"{model}: Spearman ρ {rho:.2f}, p {p:.1g}, {n} f"
                                     for model, rho, p, n in correlation(path))])


@reads("basins-reversal.json")
def reversal_readings(d: dict) -> dict:
    """Along the first random direction: KL's radius, and reverse KL's at the bisection's cap (the
    prose says the order reverses)."""
    kl, rkl = d["random"]["kl"][0], d["random"]["reverse_kl"][0]
    assert rkl >= d["r_max"] > kl, "the prose says the order reverses, reverse KL at the cap"
    return {"kl": kl, "reverse_kl_at_least": d["r_max"], "seed": d["seed"], "model": d["model"]}


@reads("basins.json")
def readings(d: dict) -> dict:
    """Basin radius against f'''(1)/f''(1) (scale-free) and against f'''(1), per set-up."""
    out = {}
    for model, report in without_provenance(d).items():
        rows = [r for r in report["rows"] if r["f2_at_1"]]
        radius = [r["basin"]["radius"] for r in rows]
        ratio = spearmanr([r["f3_at_1"] / r["f2_at_1"] for r in rows], radius)
        raw = spearmanr([r["f3_at_1"] for r in rows], radius)
        cap = max(radius)
        scale = {r["name"]: r["f3_at_1"] / r["f2_at_1"] for r in rows}
        capped_from = min(x for n, x in scale.items() if all(
            r["basin"]["radius"] >= cap for r in rows if scale[r["name"]] >= x))
        by_name = {r["name"]: r["basin"]["radius"] for r in rows}
        out[model] = {"n": len(rows), "rho_ratio": float(ratio.statistic), "p_ratio": float(ratio.pvalue),
                      "rho_f3": float(raw.statistic), "p_f3": float(raw.pvalue), "cap": cap,
                      "capped_from": capped_from, "kl_over_reverse_kl": by_name["kl"] / by_name["reverse_kl"]}
        assert out[model]["rho_ratio"] > 0 and out[model]["rho_f3"] > 0, "the prose says the radius rises"
        assert all(r["basin"]["slowest"] >= cap for r in rows), "the prose says every f returned along the slowest mode"
        elapsed = [r["elapsed_s"] for r in report["rows"]]
        out[model].update(elapsed_min=min(elapsed), elapsed_max=max(elapsed), elapsed_total=sum(elapsed))
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
    write(out_path, {"model": model, "seed": seed, "r_max": 3.0, "steps": 5, "random": radii})


def commands(verbs) -> None:
    verb(verbs, "run", run, "the atlas with basins on each set-up (6 min gaussian-1d, 11 min paper-1d)",
         "out", ("models", {"nargs": "+"}), writes="out")
    verb(verbs, "reversal", reversal, "KL's and reverse KL's radii along seed 1's directions (1 min)", "out",
         writes="out")
    verb(verbs, "table", table_and_correlation, "atlas.md's table and Spearman's ρ per set-up", "path")
