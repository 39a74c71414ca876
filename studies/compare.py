"""The atlas's predictions against measured training: a confusion table and a rank correlation.

Measured outcomes, by stated rules:

* paper-1d under the reference code's settings (`paper1d.REFERENCE_SETTINGS`): the error is
  max(|μ − μ*|, |σ − σ*|) of the seed-mean fit against the exact D_f minimizer. "trains" if every
  run stays finite and the error is at most 0.05; "fails" if a run stops being finite or the error
  exceeds 0.25; "fragile" in between.
* the 2-D toys (``febm toy2d``): the grid JS to the data and the mode coverage, averaged over seeds,
  against contrastive divergence on the same dataset and seeds. "trains" if JS ≤ JS(CD) + 0.1 and
  coverage ≥ 0.9; "fails" if a run stops being finite, JS ≥ 0.5 or coverage < 0.6; "fragile" else.

The rank correlation is Spearman's, between the predicted class (trains < fragile < fails) and
the measured error (paper-1d) or JS (toys).

    python -m studies compare text ATLAS.json TRAINING.json      # the report as text
    python -m studies compare markdown ATLAS.json TRAINING.json  # atlas.md's confusion table and scores
    python -m studies compare readings ATLAS.json TRAINING.json  # atlas.md's bullets under the toys' table
    python -m studies compare scores TRAINING.json               # train.md's table: seed 0's JS (coverage)

paper-1d: ATLAS.json is `febm atlas --lr 1e-3 --steps 20000 --json`, TRAINING.json the output of
``paper1d_reference run``. Toys: the outputs of ``toy2d_atlas run`` and ``toy2d_training run``
(docs/results/toy2d-atlas.json and docs/results/toy2d-training.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from febm.dynamics.commands.atlas import Prediction
from febm.dynamics.report import Report, RunState
from studies import without_provenance
from studies.readings import RESULTS, reads

DESCRIPTION = "the atlas's predicted classes against measured training: confusion table, Cohen's κ, Spearman's ρ"

TRAINS, FRAGILE, FAILS = (c.value for c in (Prediction.TRAINS, Prediction.FRAGILE, Prediction.FAILS))
CLASSES = (TRAINS, FRAGILE, FAILS)  # the atlas's words, in rank order
RULES = {
    "paper-1d": "trains: all runs finite and error ≤ 0.05; fails: a run non-finite or error > 0.25; fragile: else",
    "toy2d": "trains: JS ≤ JS(CD) + 0.1 and coverage ≥ 0.9; fails: non-finite, JS ≥ 0.5 or coverage < 0.6; "
             "fragile: else",
}


def paper_1d_outcome(row: dict) -> tuple[str, float]:
    """(class, error) of one divergence's row of a paper-1d report (JSON)."""
    finite = all(s == RunState.OK.value for s in row["status"])
    error = row["error"] if finite else float("inf")
    if not finite or error > 0.25:
        return FAILS, error
    return (TRAINS if error <= 0.05 else FRAGILE), error


def toy2d_outcome(method: dict, cd: dict) -> tuple[str, float]:
    """(class, JS) of one method on one dataset, from seed-averaged scores and status."""
    if not method["finite"]:
        return FAILS, float("inf")
    js, coverage = method["js"], method["mode_coverage"]
    if js >= 0.5 or coverage < 0.6:
        return FAILS, js
    return (TRAINS if js <= cd["js"] + 0.1 and coverage >= 0.9 else FRAGILE), js


@dataclass
class Pair:
    case: str  # "divergence" or "dataset / divergence"
    predicted: str
    measured: str
    error: float


@dataclass
class ComparisonReport(Report):
    model: str
    rule: str
    pairs: list[Pair]
    confusion: list[list[int]] = field(default_factory=list)  # rows: predicted, columns: measured
    agreement: float = 0.0
    spearman: float | None = None
    spearman_p: float | None = None
    classes: list[str] = field(init=False, default_factory=lambda: list(CLASSES))  # the confusion's order
    json_order = ("model", "rule", "confusion", "classes", "agreement", "spearman", "spearman_p", "pairs")

    def __post_init__(self):
        self.confusion = [[sum(1 for p in self.pairs if p.predicted == a and p.measured == b) for b in CLASSES]
                          for a in CLASSES]
        self.agreement = sum(p.predicted == p.measured for p in self.pairs) / max(len(self.pairs), 1)
        from scipy.stats import spearmanr

        ranks = [CLASSES.index(p.predicted) for p in self.pairs]
        errors = [min(p.error, 1e9) for p in self.pairs]
        if len(set(ranks)) > 1 and len(set(errors)) > 1:
            rho, pval = spearmanr(ranks, errors)
            self.spearman, self.spearman_p = float(rho), float(pval)

    def scores(self) -> tuple[float, float]:
        """(Cohen's κ, the agreement of always guessing the commonest measured class)."""
        c = np.array(self.confusion)
        n = c.sum()
        chance = float(c.sum(1) @ c.sum(0)) / n**2
        return (self.agreement - chance) / (1 - chance), c.sum(0).max() / n

    def markdown(self, error: str = "error") -> str:
        """The confusion table and one line of scores, as the docs print them."""
        kappa, majority = self.scores()
        agreeing = sum(p.predicted == p.measured for p in self.pairs)
        lines = ["| | measured trains | measured fragile | measured fails |", "| --- | --- | --- | --- |"]
        lines += [f"| predicted {c} | " + " | ".join(map(str, row)) + " |" for c, row in zip(CLASSES, self.confusion)]
        rho = "undefined" if self.spearman is None else f"{self.spearman:.2f} (p = {self.spearman_p:.1g})"
        lines += ["", f"Agreement {self.agreement:.0%} ({agreeing} of {len(self.pairs)}), Cohen's κ {kappa:.2f}; "
                      f"always guessing the commonest measured class scores {majority:.1%}. Spearman's ρ between the "
                      f"predicted class and the measured {error} is {rho}."]
        return "\n".join(lines)

    def text(self) -> str:
        lines = [f"atlas prediction against measured training on {self.model} ({len(self.pairs)} cases)",
                 f"  measured outcome: {self.rule}",
                 "  " + "predicted / measured".ljust(22) + "".join(f"{c:>9}" for c in CLASSES)]
        for c, row in zip(CLASSES, self.confusion):
            lines.append(f"  {c:22}" + "".join(f"{n:9d}" for n in row))
        rho = "n/a" if self.spearman is None else f"{self.spearman:.2f} (p = {self.spearman_p:.2g})"
        lines.append(f"  agreement {self.agreement:.0%}; Spearman ρ between predicted class and error {rho}")
        lines += [f"  {p.case:32} predicted {p.predicted:8} measured {p.measured:8} error {p.error:.3g}"
                  for p in self.pairs]
        return "\n".join(lines)


def compare_paper_1d(atlas_json: dict, training_json: dict) -> ComparisonReport:
    predicted = {r["name"]: r["prediction"] for r in atlas_json["rows"]}
    pairs = []
    for row in training_json["rows"]:
        if row["divergence"] in predicted:
            measured, error = paper_1d_outcome(row)
            pairs.append(Pair(row["divergence"], predicted[row["divergence"]], measured, error))
    return ComparisonReport("paper-1d", RULES["paper-1d"], pairs)


def compare_measured(atlas_json: dict, measured_json: dict) -> ComparisonReport:
    """paper-1d's predictions against the stored measured classes (non-finite runs: error ∞)."""
    pairs = []
    for r in atlas_json["rows"]:
        m = measured_json["rows"][r["name"]]
        error = float("inf") if m["measured_error"] is None else m["measured_error"]
        pairs.append(Pair(r["name"], r["prediction"], m["measured"], error))
    return ComparisonReport("paper-1d", RULES["paper-1d"], pairs)


def seed_average(reports: list[dict]) -> dict:
    """Per method, the seed-mean JS, coverage and KL, and whether every seed stayed finite."""
    out = {}
    for method in reports[0]["scores"]:
        scores = [r["scores"][method] for r in reports]
        out[method] = {"js": float(np.mean([s["js"] for s in scores])),
                       "mode_coverage": float(np.mean([s["mode_coverage"] for s in scores])),
                       "finite": all(r["status"][method] == RunState.OK.value for r in reports)}
    return out


def compare_toy2d(atlases: dict, trainings: dict) -> ComparisonReport:
    """``atlases``: dataset -> atlas JSON; ``trainings``: dataset -> list of toy2d JSON reports (seeds);
    the datasets that both have."""
    pairs = []
    for dataset, reports in trainings.items():
        if dataset not in atlases:
            continue
        avg = seed_average(reports)
        predicted = {r["name"]: r["prediction"] for r in atlases[dataset]["rows"]}
        for method, scores in avg.items():
            if method in predicted:
                measured, js = toy2d_outcome(scores, avg["cd"])
                pairs.append(Pair(f"{dataset} / {method}", predicted[method], measured, js))
    return ComparisonReport("toy2d", RULES["toy2d"], pairs)


def comparison(atlases: dict, training: dict) -> ComparisonReport:
    """paper-1d's comparison when ``atlases`` is one atlas (it has rows), else the toys'."""
    atlases, training = without_provenance(atlases), without_provenance(training)
    return compare_paper_1d(atlases, training) if "rows" in atlases else compare_toy2d(atlases, training)


def markdown(atlases: dict, training: dict) -> str:
    return comparison(atlases, training).markdown("JS" if "rows" not in atlases else "error")


def toy_readings(atlases: dict, training: dict) -> str:
    """atlas.md's bullets under the toys' confusion table, computed from the two result files."""
    atlases, training = without_provenance(atlases), without_provenance(training)
    report = comparison(atlases, training)
    pairs = report.pairs

    def cases(pred, meas):
        return [p.case for p in pairs if p.predicted == pred and p.measured in meas]

    n_trains, n_fails = (sum(p.predicted == c for p in pairs) for c in (TRAINS, FAILS))
    failed_trains, failed_fails = cases(TRAINS, (FAILS,)), cases(FAILS, (FAILS,))
    wrong = cases(FAILS, (TRAINS,))
    cd = {d: seed_average(runs)["cd"] for d, runs in training.items() if d in atlases}
    cd_js = ", ".join(f"{d} {c['js']:.2f}" for d, c in cd.items())
    cd_cov = ", ".join(f"{d} {c['mode_coverage']:.2f}" for d, c in cd.items())
    lines = [f"- **Predicted to train, failed: {len(failed_trains)} of {n_trains}.**"
             + (f" {', '.join(failed_trains)}." if failed_trains else ""),
             f"- **Predicted to fail, failed: {len(failed_fails)} of {n_fails}.**",
             f"- **Predicted to fail, trained: {len(wrong)}.**" + (f" {', '.join(wrong)}." if wrong else ""),
             f"- CD itself, seed mean at this budget: JS {cd_js}; mode coverage {cd_cov}."]
    return "\n".join(lines)


def scores_table(training: dict, seed: int = 0) -> str:
    """Per method, each dataset's grid JS and (in brackets) mode coverage for one seed's run."""
    training = without_provenance(training)
    datasets = list(training)
    names = {"8gaussians": "8 Gaussians", "25gaussians": "25 Gaussians"}
    runs = {d: training[d][seed] for d in datasets}
    lines = ["| method | " + " | ".join(names.get(d, d) for d in datasets) + " |",
             "| --- | " + " | ".join("---" for _ in datasets) + " |"]
    for method in runs[datasets[0]]["scores"]:
        cells = [runs[d]["scores"][method] for d in datasets]
        lines.append(f"| {method} | " + " | ".join(f"{c['js']:.3f} ({c['mode_coverage']:.2f})" for c in cells) + " |")
    return "\n".join(lines)


def scores(report: ComparisonReport) -> dict:
    """The readings of one comparison: agreement, κ, the majority's score, Spearman's ρ and the
    confusion table's cells the docs quote."""
    kappa, majority = report.scores()
    c = report.confusion
    return {"agreement": report.agreement, "kappa": float(kappa), "majority": float(majority), "n": len(report.pairs),
            "agreeing": sum(p.predicted == p.measured for p in report.pairs),
            "measured_trains": sum(row[0] for row in c),
            "spearman": report.spearman, "spearman_p": report.spearman_p,
            "fails_predicted": sum(c[2]), "fails_right": c[2][2],
            "trains_predicted": sum(c[0]), "trains_right": c[0][0], "trains_failed": c[0][2]}


@reads("toy2d-atlas.json")
def atlas_toys(d: dict) -> dict:
    """The atlas's classes on the four 2-D toys against measured training (toy2d-training.json)."""
    from studies import load

    out = scores(comparison(d, load(RESULTS / "toy2d-training.json")))
    assert out["trains_failed"] == 0, "the prose says none predicted to train failed"
    return out


def _two(function):
    """A renderer of (ATLAS.json, TRAINING.json) paths, for the command line."""
    from studies import load

    return lambda atlas, training: function(load(atlas), load(training))


def commands(verbs) -> None:
    from studies import load, verb

    verb(verbs, "text", _two(lambda a, t: comparison(a, t).text()), "the comparison as text", "atlas", "training")
    verb(verbs, "markdown", _two(markdown), "atlas.md's confusion table and scores", "atlas", "training")
    verb(verbs, "readings", _two(toy_readings), "atlas.md's bullets under the toys' table", "atlas", "training")
    verb(verbs, "scores", lambda training: scores_table(load(training)),
         "train.md's table: seed 0's JS and (mode coverage) per method and toy", "training")
