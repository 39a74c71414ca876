"""theory.md's capacity table: on paper-1d with a critic of K Gaussian bumps (plus 1, x, x²), the
distance of the restricted game's equilibrium from the exact minimizer of D_f, max over μ and σ.

    python studies/capacity_bias.py run docs/results/capacity-bias.json
    python studies/capacity_bias.py table docs/results/capacity-bias.json
"""

import json
import sys

import torch

from febm.divergences import resolve
from febm.dynamics.analysis import Game, locate
from febm.dynamics.files import write_json
from febm.toy_models import paper_mixture
from febm.toy_models.exact_fit import fit_gaussian
from febm.toy_models.misspecified import paper_1d

NAMES = {"reverse_kl": "reverse KL", "neyman_chi2": "Neyman χ²", "jensen_shannon": "Jensen–Shannon",
         "pearson_chi2": "Pearson χ²"}
BUMPS = (0, 2, 6, 10, 16, 24)


def run(out):
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
    write_json(out, {"bumps": list(BUMPS), "rows": rows})


TOLERANCE = 1e-8  # febm's equilibrium tolerance on |F|: a cell above it is marked


def _cell(c: dict) -> str:
    x = c["distance"]
    text = f"{x:.3g}" if x >= 0.01 else f"{x:.2g}"
    return text if c["residual"] <= TOLERANCE else f"{text} (not an equilibrium: \\|F\\| = {c['residual']:.0e})"


def table(path) -> str:
    d = json.load(open(path))
    lines = ["| f | " + " | ".join(f"m = {k}" for k in d["bumps"]) + " |", "| --- |" + " --- |" * len(d["bumps"])]
    for name, row in d["rows"].items():
        lines.append(f"| {NAMES[name]} | " + " | ".join(_cell(row[str(k)]) for k in d["bumps"]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    command, path = sys.argv[1:]
    run(path) if command == "run" else print(table(path))
