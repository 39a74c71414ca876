"""docs/paper-1d.md's table of the default run, from its result file.

    febm reproduce paper-1d --json --plot DIR > docs/results/paper-1d.json
    python studies/paper1d_table.py docs/results/paper-1d.json
"""

import json
import sys


def table(result: dict) -> str:
    lines = ["| f | exact (μ, σ) | f-EBM, mean of the seeds (μ, σ) | error | runs finite |",
             "| --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        e, f = r["exact"], r["febm"]
        finite = sum(s == "ok" for s in r["status"])
        lines.append(f"| {r['divergence']} | ({e['mu']:.4f}, {e['sigma']:.4f}) | ({f['mu']:.4f}, {f['sigma']:.4f}) | "
                     f"{r['error']:.4f} | {finite} of {len(r['status'])} |")
    worst = max(result["rows"], key=lambda r: r["error"])
    lines += ["", f"Largest error {worst['error']:.4f} ({worst['divergence']}) against the target "
                  f"{result['tolerance']:g}; {result['seeds']} seeds per f, {result['elapsed_s']:.0f} s on "
                  f"{result['device']} (one thread)."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(json.loads(open(sys.argv[1]).read())))
