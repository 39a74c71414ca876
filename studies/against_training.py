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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from febm.dynamics.report import Report, revive

CLASSES = ("trains", "fragile", "fails")
RULES = {
    "paper-1d": "trains: all runs finite and error ≤ 0.05; fails: a run non-finite or error > 0.25; fragile: else",
    "toy2d": "trains: JS ≤ JS(CD) + 0.1 and coverage ≥ 0.9; fails: non-finite, JS ≥ 0.5 or coverage < 0.6; "
             "fragile: else",
}


def paper_1d_outcome(row: dict) -> tuple[str, float]:
    """(class, error) of one divergence's row of a paper-1d report (JSON)."""
    finite = all(s == "ok" for s in row["status"])
    error = row["error"] if finite else float("inf")
    if not finite or error > 0.25:
        return "fails", error
    return ("trains" if error <= 0.05 else "fragile"), error


def toy2d_outcome(method: dict, cd: dict) -> tuple[str, float]:
    """(class, JS) of one method on one dataset, from seed-averaged scores and status."""
    if not method["finite"]:
        return "fails", float("inf")
    js, coverage = method["js"], method["mode_coverage"]
    if js >= 0.5 or coverage < 0.6:
        return "fails", js
    return ("trains" if js <= cd["js"] + 0.1 and coverage >= 0.9 else "fragile"), js


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

    def to_json(self) -> dict:
        return {"model": self.model, "rule": self.rule, "confusion": self.confusion, "classes": list(CLASSES),
                "agreement": self.agreement, "spearman": self.spearman, "spearman_p": self.spearman_p,
                "pairs": [p.__dict__ for p in self.pairs]}

    @classmethod
    def from_json(cls, d: dict) -> "ComparisonReport":
        d = revive(d)
        return cls(d["model"], d["rule"], [Pair(**p) for p in d["pairs"]], spearman=d["spearman"],
                   spearman_p=d["spearman_p"])

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
                       "finite": all(r["status"][method] == "ok" for r in reports)}
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
