"""The Markdown tables of docs/bench.md, rendered from the bench's result files in docs/figures
(one table per result file and score):

    python studies/bench_tables.py docs/figures/bench-toy2d.json js
    python studies/bench_tables.py docs/figures/bench-toy2d.json nll
"""

import json
import sys


def table(path, metric: str = "js") -> str:
    cells = json.load(open(path))["cells"]
    datasets = list(dict.fromkeys(c["dataset"] for c in cells))  # in the run's order
    methods = list(dict.fromkeys(c["method"] for c in cells))
    by = {(c["dataset"], c["method"]): c for c in cells}
    tally = metric == "js"
    head = "| method | " + " | ".join(datasets) + (" | beats / ties / loses |" if tally else " |")
    lines = [head, "|" + "---|" * (len(datasets) + 1 + tally)]
    digits = 3 if metric == "js" else 2
    for m in methods:
        row, counts = [], {"beats": 0, "ties": 0, "loses": 0}
        for d in datasets:
            c = by[d, m]
            s = c["summary"][metric]
            text = f"{s['mean']:.{digits}f} ± {s['half_width']:.{digits}f}"
            if tally and m != "cd":
                text += f" ({c['verdict']})"
                counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
            if c["failed"]:
                text += f", {c['failed']} failed"
            row.append(text)
        end = ("—" if m == "cd" else f"{counts['beats']} / {counts['ties']} / {counts['loses']}") if tally else None
        lines.append(f"| {m} | " + " | ".join(row) + (f" | {end} |" if tally else " |"))
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(*sys.argv[1:]))
