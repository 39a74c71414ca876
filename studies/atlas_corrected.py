"""docs/atlas.md's paper-1d table: the atlas's predictions (corrected mean-square operator) from
its JSON against the measured classes of the reference-settings runs, with the confusion table,
the agreement, Cohen's κ, the score of always guessing the commonest measured class and
Spearman's ρ.

    febm atlas --lr 1e-3 --steps 20000 --json > docs/results/atlas-paper-1d.json
    python studies/atlas_corrected.py docs/results/atlas-paper-1d.json docs/results/paper1d-reference-measured.json
    python studies/atlas_corrected.py old-edge docs/results/mean-square-old-operator.json kl  # what changed
"""

import json
import sys

from febm.dynamics.files import write_json


def _fmt(x) -> str:
    if x is None:
        return "–"
    if x == "inf":
        return "∞"
    return f"{x:.3g}"


def table(result: dict, measured: dict) -> str:
    """Per f: the corrected predictions, the measured error and class; then the confusion and scores."""
    from against_training import compare_measured

    lines = [f"| f | η_max | η_ms (batch {result['batch']}) | η_ms / η_max | margin (sd) | κ on the path | "
             "flow error at T | prediction | measured error | measured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        ratio = None if not (r["eta_ms"] and r["eta_max_simultaneous"]) else r["eta_ms"] / r["eta_max_simultaneous"]
        m = measured["rows"][r["name"]]
        error = "non-finite" if m["measured_error"] is None else f"{m['measured_error']:g}"
        lines.append(f"| {r['name']} | {_fmt(r['eta_max_simultaneous'])} | {_fmt(r['eta_ms'])} | {_fmt(ratio)} | "
                     f"{_fmt(r['tail_margin_sd'])} | {_fmt(r['tail_index_path'])} | {_fmt(r['predicted_error'])} | "
                     f"{r['prediction']} | {error} | {m['measured']} |")
    return "\n".join(lines) + "\n\n" + compare_measured(result, measured).markdown()


def old_edge(out, names, batch: int = 1000) -> None:
    """The mean-square edge on paper-1d under the operator febm shipped before 2026-11-29 (H ⊗ H on
    both sides of the noise, η⁴) next to the corrected one, from the same Jacobians and noise, so
    theory.md's "what changed" line has a source (a few minutes per f)."""
    import numpy as np

    from febm.dynamics.analysis import mean_square as V
    from febm.dynamics.analysis.local import LocalAnalysis
    from febm.threads import limit_threads

    class OldMeanSquare(V.MeanSquare):
        def operator(self, eta: float) -> np.ndarray:
            M, HH = self.step_matrix(eta), np.kron(self.rates(eta), self.rates(eta))
            return np.kron(M, M) + HH @ self.noise @ HH / self.batch

    limit_threads(1)
    rows = {}
    for name in names:
        la = LocalAnalysis.build(name, "paper-1d")
        eta_max, ms = la.eta_max(), V.mean_square(la.lin, batch)
        old = OldMeanSquare(ms.G, ms.n_theta, ms.sigma, ms.noise, ms.batch, ms.ratio)
        rows[name] = {"eta_max": eta_max, "eta_ms": ms.edge(eta_max), "eta_ms_old": old.edge(eta_max)}
        print(name, rows[name], flush=True)
    write_json(out, {"model": "paper-1d", "batch": batch, "rows": rows})


if __name__ == "__main__":
    if sys.argv[1] == "old-edge":
        old_edge(sys.argv[2], sys.argv[3:])
        sys.exit()
    print(table(json.loads(open(sys.argv[1]).read()), json.loads(open(sys.argv[2]).read())))
