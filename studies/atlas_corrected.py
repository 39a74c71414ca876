"""docs/atlas.md's table of the corrected mean-square numbers on paper-1d, from the atlas's JSON
and the measured classes of the reference-settings runs, with the agreement, Cohen's κ and the
score of always guessing the commonest measured class.

    febm atlas --lr 1e-3 --steps 20000 --json > docs/results/atlas-paper-1d.json
    python studies/atlas_corrected.py docs/results/atlas-paper-1d.json docs/results/paper1d-reference-measured.json
"""

import json
import sys

CLASSES = ("trains", "fragile", "fails")


def _fmt(x) -> str:
    if x is None:
        return "–"
    if x == "inf":
        return "∞"
    return f"{x:.3g}"


def agreement(pairs) -> tuple[float, float, float]:
    """(fraction agreeing, Cohen's κ, fraction of the commonest measured class) over (predicted, measured)."""
    n = len(pairs)
    agree = sum(p == m for p, m in pairs) / n
    chance = sum(sum(p == c for p, _ in pairs) * sum(m == c for _, m in pairs) for c in CLASSES) / n**2
    majority = max(sum(m == c for _, m in pairs) for c in CLASSES) / n
    return agree, (agree - chance) / (1 - chance), majority


def table(result: dict, measured: dict) -> str:
    lines = [f"| f | η_max | η_ms (batch {result['batch']}) | η_ms / η_max | margin (sd) | prediction | measured |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    pairs = []
    for r in result["rows"]:
        ratio = None if not (r["eta_ms"] and r["eta_max_simultaneous"]) else r["eta_ms"] / r["eta_max_simultaneous"]
        m = measured["rows"][r["name"]]["measured"]
        pairs.append((r["prediction"], m))
        lines.append(f"| {r['name']} | {_fmt(r['eta_max_simultaneous'])} | {_fmt(r['eta_ms'])} | {_fmt(ratio)} | "
                     f"{_fmt(r['tail_margin_sd'])} | {r['prediction']} | {m} |")
    agree, kappa, majority = agreement(pairs)
    lines += ["", f"Agreement {agree:.0%} ({round(agree * len(pairs))} of {len(pairs)}), Cohen's κ {kappa:.2f}; "
                  f"always guessing the commonest measured class scores {majority:.1%}."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(json.loads(open(sys.argv[1]).read()), json.loads(open(sys.argv[2]).read())))
