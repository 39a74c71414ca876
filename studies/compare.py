"""Atlas predictions against measured training.

    python studies/compare.py ATLAS.json TRAINING.json             # the report as text
    python studies/compare.py ATLAS.json TRAINING.json --markdown  # atlas.md's confusion table and scores
    python studies/compare.py --scores TRAINING.json               # train.md's table: seed 0's JS (coverage)

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
    print(markdown(atlases, training) if "--markdown" in sys.argv[3:] else comparison(atlases, training).text())
