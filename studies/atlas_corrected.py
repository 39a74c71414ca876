"""docs/atlas.md's paper-1d table: the atlas's predictions (corrected mean-square operator) from
its JSON against the measured classes of the reference-settings runs, with the confusion table,
the agreement, Cohen's κ, the score of always guessing the commonest measured class and
Spearman's ρ.

    febm atlas --lr 1e-3 --steps 20000 --json > docs/results/atlas-paper-1d.json
    python -m studies atlas_corrected table docs/results/atlas-paper-1d.json \
        docs/results/paper1d-reference-measured.json
    python -m studies atlas_corrected old-edge docs/results/mean-square-old-operator.json kl  # what changed
"""

from febm.dynamics.commands.atlas import Prediction
from studies import load, verb, write
from studies.compare import compare_measured, scores
from studies.readings import RESULTS, reads

FAILS, FRAGILE, TRAINS = Prediction.FAILS, Prediction.FRAGILE, Prediction.TRAINS

DESCRIPTION = "atlas.md's paper-1d table (corrected mean-square operator) against measured classes; the old edge"


def _fmt(x) -> str:
    if x is None:
        return "–"
    if x == "inf":
        return "∞"
    return f"{x:.3g}"


def table(result: dict, measured: dict) -> str:
    """Per f: the corrected predictions, the measured error and class; then the confusion and scores."""
    lines = [f"| f | η_max | η_ms (batch {result['batch']}) | η_ms / η_max | margin (sd) | tail index on the path | "
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


@reads("atlas-paper-1d.json")
def atlas_paper_1d(d: dict) -> dict:
    """The atlas's classes on paper-1d against measured training (paper1d-reference-measured.json)."""
    measured = load(RESULTS / "paper1d-reference-measured.json")["rows"]
    out = scores(compare_measured(d, {"rows": measured}))
    rows = {r["name"]: r for r in d["rows"]}
    kl = rows["kl"]
    out["kl_eta_ms_share"] = kl["eta_ms"] / kl["eta_max_simultaneous"]
    assert out["kappa"] < 0.4 and out["majority"] > out["agreement"], "the prose says no better than the majority"
    out.update(_bullets(rows, measured))
    return out


def _bullets(rows: dict, measured: dict) -> dict:
    """The numbers atlas.md's bullets under the paper-1d table quote, with the words around them asserted."""
    def error(n):
        return measured[n]["measured_error"]

    fails = sorted(n for n, r in rows.items() if r["prediction"] == FAILS)
    assert fails == ["alpha=2", "pearson_chi2", "symmetric_chi2"] and all(
        measured[n]["measured"] == FAILS for n in fails), "the prose names the predicted failures, which failed"
    heavy = ["kl", "jeffreys"]
    assert all(rows[n]["prediction"] == FRAGILE and measured[n]["measured"] == FAILS for n in heavy), \
        "the prose says KL and Jeffreys were called fragile and failed"
    slow = sorted(n for n in rows if measured[n]["measured"] == FAILS and error(n) is not None)
    assert slow == ["alpha=-0.5", "gan", "jensen_shannon", "le_cam", "squared_hellinger"], "the prose names the slow f"
    assert all(rows[n]["predicted_error"] < error(n) for n in slow), "the prose says the flow is faster than training"
    trains = [n for n, r in rows.items() if r["prediction"] == TRAINS]
    missed = sorted(n for n in trains if measured[n]["measured"] != TRAINS)
    assert missed == ["alpha=-0.5", "alpha=0.5", "reverse_kl"] and all(
        rows[n]["tail_index_path"] > 2 and rows[n]["tail_margin_sd"] > 3 for n in missed), \
        "the prose names three predicted trains that did not, with a finite variance and a margin above 3 sd"
    assert [n for n in trains if n not in missed] == ["alpha=0.9"], "the prose says α = 0.9 trained as predicted"
    tiny = [rows[n]["eta_ms"] / rows[n]["eta_max_simultaneous"] for n in ("neyman_chi2", "alpha=-1")]
    return {"fail_kappa": max(rows[n]["tail_index_path"] for n in fails),
            "heavy_kappa": max(rows[n]["tail_index_path"] for n in heavy),
            "slow_low": min(error(n) for n in slow), "slow_high": max(error(n) for n in slow),
            "slow_flow_low": min(rows[n]["predicted_error"] for n in slow),
            "slow_flow_high": max(rows[n]["predicted_error"] for n in slow),
            "alpha09_error": error("alpha=0.9"), "reverse_kl_error": error("reverse_kl"),
            "alpha05_error": error("alpha=0.5"), "alpha_m05_error": error("alpha=-0.5"),
            "kl_eta_ms": rows["kl"]["eta_ms"], "zero_forcing_eta_ms_share": max(tiny),
            "zero_forcing_kappa": rows["neyman_chi2"]["tail_index_equilibrium"]}


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
    write(out, {"model": "paper-1d", "batch": batch, "rows": rows})


def commands(verbs) -> None:
    verb(verbs, "table", lambda atlas, measured: table(load(atlas), load(measured)),
         "the table, the confusion and the scores (docs/atlas.md)", "atlas", "measured")
    verb(verbs, "old-edge", old_edge, "the mean-square edge under the withdrawn η⁴ operator beside the corrected one",
         "out", ("names", {"nargs": "+"}), writes="out")
