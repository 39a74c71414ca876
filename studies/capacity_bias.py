"""theory.md's capacity table: on paper-1d with a critic of K Gaussian bumps (plus 1, x, x²), the
distance of the restricted game's equilibrium from the exact minimizer of D_f, max over μ and σ.

    python -m studies capacity_bias run docs/results/capacity-bias.json
    python -m studies capacity_bias table docs/results/capacity-bias.json
"""

from febm.dynamics.analysis.local import EQUILIBRIUM_TOL
from studies import load, verb, write

DESCRIPTION = "theory.md's capacity table: a K-bump critic's equilibrium against the exact minimizer of D_f"
NAMES = {"reverse_kl": "reverse KL", "neyman_chi2": "Neyman χ²", "jensen_shannon": "Jensen–Shannon",
         "pearson_chi2": "Pearson χ²"}
BUMPS = (0, 2, 6, 10, 16, 24)


def run(out):
    import torch

    from febm.divergences import resolve
    from febm.dynamics.analysis import Game, locate
    from febm.toy_models import paper_mixture
    from febm.toy_models.exact_fit import fit_gaussian
    from febm.toy_models.misspecified import paper_1d

    torch.set_num_threads(1)
    p = paper_mixture()
    rows = {}
    for name in NAMES:
        d = resolve(name)
        exact = fit_gaussian(d.function("f"), lambda x: p.log_prob(torch.as_tensor(x)).numpy())
        rows[name] = {}
        for k in BUMPS:
            s = paper_1d(k)
            located = locate(Game.from_setup(d, s), s)
            z = located.z
            rows[name][str(k)] = {"distance": max(abs(float(z[0]) - exact.mu), abs(float(z[1].exp()) - exact.sigma)),
                                  "residual": float(located.residual)}
            print(name, k, rows[name][str(k)], flush=True)
    write(out, {"bumps": list(BUMPS), "rows": rows})


def _cell(c: dict) -> str:
    """The distance; a cell whose |F| is above febm's equilibrium tolerance is marked."""
    x = c["distance"]
    text = f"{x:.3g}" if x >= 0.01 else f"{x:.2g}"
    return text if c["residual"] <= EQUILIBRIUM_TOL else f"{text} (not an equilibrium: \\|F\\| = {c['residual']:.0e})"


def table(path) -> str:
    d = load(path)
    lines = ["| f | " + " | ".join(f"m = {k}" for k in d["bumps"]) + " |", "| --- |" + " --- |" * len(d["bumps"])]
    for name, row in d["rows"].items():
        lines.append(f"| {NAMES[name]} | " + " | ".join(_cell(row[str(k)]) for k in d["bumps"]) + " |")
    return "\n".join(lines)


def commands(verbs) -> None:
    verb(verbs, "run", run, "the equilibria for 4 f and K bumps", "out", writes="out")
    verb(verbs, "table", table, "theory.md's table", "path")
