"""Atlas predictions against measured training.

    python studies/compare.py ATLAS.json TRAINING.json             # the report as text
    python studies/compare.py ATLAS.json TRAINING.json --markdown  # atlas.md's confusion table and scores
    python studies/compare.py --scores TRAINING.json               # train.md's table: seed 0's JS (coverage)
    python studies/compare.py ATLAS.json TRAINING.json --readings  # atlas.md's bullets under the toys' table

paper-1d: ATLAS.json is `febm atlas --lr 1e-3 --steps 20000 --json`, TRAINING.json the output of
paper1d_reference.py. Toys: the outputs of toy2d_atlas.py and toy2d_training.py
(docs/results/toy2d-atlas.json and docs/results/toy2d-training.json).
"""

import json
import sys

from against_training import compare_paper_1d, compare_toy2d


def comparison(atlases: dict, training: dict):
    return compare_paper_1d(atlases, training) if "rows" in atlases else compare_toy2d(atlases, training)


def markdown(atlases: dict, training: dict) -> str:
    return comparison(atlases, training).markdown("JS" if "rows" not in atlases else "error")


def toy_readings(atlases: dict, training: dict) -> str:
    """atlas.md's bullets under the toys' confusion table, computed from the two result files."""
    from against_training import seed_average

    report = comparison(atlases, training)
    pairs = report.pairs

    def cases(pred, meas):
        return [p.case for p in pairs if p.predicted == pred and p.measured in meas]

    n_trains, n_fails = (sum(p.predicted == c for p in pairs) for c in ("trains", "fails"))
    failed_trains, failed_fails = cases("trains", ("fails",)), cases("fails", ("fails",))
    wrong = cases("fails", ("trains",))
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
    datasets = list(training)
    names = {"8gaussians": "8 Gaussians", "25gaussians": "25 Gaussians"}
    runs = {d: training[d][seed] for d in datasets}
    lines = ["| method | " + " | ".join(names.get(d, d) for d in datasets) + " |",
             "| --- | " + " | ".join("---" for _ in datasets) + " |"]
    for method in runs[datasets[0]]["scores"]:
        cells = [runs[d]["scores"][method] for d in datasets]
        lines.append(f"| {method} | " + " | ".join(f"{c['js']:.3f} ({c['mode_coverage']:.2f})" for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--scores":
        print(scores_table(json.load(open(sys.argv[2]))))
        sys.exit()
    atlases, training = (json.load(open(p)) for p in sys.argv[1:3])
    if "--readings" in sys.argv[3:]:
        print(toy_readings(atlases, training))
    else:
        print(markdown(atlases, training) if "--markdown" in sys.argv[3:] else comparison(atlases, training).text())
