"""The tables of docs/bench.md from `febm bench toy2d --plot DIR` JSON files.

    python studies/bench_table.py bench-toy2d.json [more.json ...]

Prints two Markdown tables with a row per method and a column per dataset: the final grid JS
with its verdict against CD, then the held-out NLL; each entry is a mean ± 95% CI over seeds.
The last column counts beats / ties / losses against CD over the datasets.
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def interval(d: dict, digits: int) -> str:
    if d["mean"] is None:
        return "n/a"
    return f"{d['mean']:.{digits}f}" + ("" if d["half_width"] is None else f" ± {d['half_width']:.{digits}f}")


def table(cells, score: str, digits: int, verdicts: bool) -> list[str]:
    datasets = list(dict.fromkeys(c["dataset"] for c in cells))
    methods = list(dict.fromkeys(c["method"] for c in cells))
    by = {(c["dataset"], c["method"]): c for c in cells}
    head = "| method | " + " | ".join(datasets) + (" | beats / ties / loses |" if verdicts else " |")
    lines = [head, "|---" * (len(datasets) + 1 + verdicts) + "|"]
    for m in methods:
        row, tally = [], Counter()
        for d in datasets:
            c = by.get((d, m))
            if c is None:
                row.append("")
                continue
            entry = interval(c["summary"][score], digits)
            if verdicts and c["verdict"]:
                entry += f" ({c['verdict']})"
                tally[c["verdict"]] += 1
            if c["failed"]:
                entry += f", {c['failed']} failed"
            row.append(entry)
        counts = f" | {tally['beats']} / {tally['ties']} / {tally['loses']}" if verdicts and m != "cd" else (
            " | —" if verdicts else "")
        lines.append(f"| {m} | " + " | ".join(row) + counts + " |")
    return lines


def main(paths) -> None:
    cells = [c for p in paths for c in json.load(open(p))["cells"]]
    print("\n".join(table(cells, "js", 3, True)))
    print()
    print("\n".join(table(cells, "nll", 2, False)))


if __name__ == "__main__":
    main(sys.argv[1:])
