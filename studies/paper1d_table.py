"""docs/paper-1d.md's table of the default run, from its result file, and the readings it quotes.

    febm reproduce paper-1d --json --plot DIR > docs/results/paper-1d.json
    python -m studies paper1d_table table docs/results/paper-1d.json
"""

from studies import load, verb
from studies.readings import reads

DESCRIPTION = "paper-1d.md's table of febm's default run (febm reproduce paper-1d)"


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


@reads("paper-1d.json")
def readings(d: dict) -> dict:
    """febm's default paper-1d run on master seed 0: the largest error against the exact minimizers."""
    worst = max(d["rows"], key=lambda r: r["error"])
    out = {"n": len(d["rows"]), "largest_error": worst["error"], "worst": worst["divergence"],
           "within": sum(r["within_tolerance"] for r in d["rows"])}
    assert out["within"] == out["n"], "the summary says every f meets the target on master seed 0"
    return out


def commands(verbs) -> None:
    verb(verbs, "table", lambda path: table(load(path)), "the table and its summary line", "path")
