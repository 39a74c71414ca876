"""The reference code's link clip on the zero-forcing f, measured with the bench's
protocol (6 M counted evaluations per run, 3 seeds, the default operating point) beside CD.

    python -m studies link_clip run exact docs/results/link-clip-exact.json
    python -m studies link_clip run 5 docs/results/link-clip-5.json      (the two arms: two processes)
    python -m studies link_clip merge docs/results/link-clip.json docs/results/link-clip-*.json
    python -m studies link_clip table docs/results/link-clip.json        (the Markdown table in docs/bench.md)
"""

import math

from scipy.stats import ttest_ind

from febm.dynamics.training import bench
from febm.dynamics.training.toy2d_training import Toy2DConfig
from febm.threads import limit_threads
from studies import load, verb, write
from studies.readings import reads

DESCRIPTION = "the reference code's link clip on the zero-forcing f, with the bench's protocol beside CD"

METHODS = ["cd", "reverse_kl", "neyman_chi2", "symmetric_chi2", "alpha=-0.5", "alpha=-1"]
SEEDS, BUDGET = 3, 6e6


def run(arm: str, out_path: str) -> None:
    limit_threads(1)
    clip = None if arm == "exact" else float(arm)
    report = bench.run(list(bench.DATASETS), METHODS, seeds=SEEDS, budget=BUDGET,
                       config=Toy2DConfig(device="cpu", link_clip=clip), seed=0, progress=True)
    write(out_path, {"arm": arm, "link_clip": clip, **report.to_json()})


def merge(out_path: str, paths) -> None:
    """The arms side by side, cell by cell, with Welch's p between the first two."""
    arms = [load(p) for p in paths]
    rows = []
    for cells in zip(*[a["cells"] for a in arms]):
        row = {"dataset": cells[0]["dataset"], "method": cells[0]["method"]}
        for arm, cell in zip(arms, cells):
            assert (cell["dataset"], cell["method"]) == (row["dataset"], row["method"])
            js = cell["summary"]["js"]
            row[arm["arm"]] = {"js_mean": js["mean"], "js_half_width": js["half_width"], "n": js["n"],
                               "failed": cell["failed"], "seeds": SEEDS,
                               "js": [s["js"] for s in cell["seeds"] if s["js"] is not None and math.isfinite(s["js"])]}
        a, b = (row[arm["arm"]]["js"] for arm in arms[:2])
        row["welch_p"] = float(ttest_ind(a, b, equal_var=False).pvalue) if min(len(a), len(b)) >= 2 else None
        rows.append(row)
    out = {"methods": METHODS, "seeds": SEEDS, "budget": BUDGET, "arms": [a["arm"] for a in arms],
           "elapsed_s": {a["arm"]: a["elapsed_s"] for a in arms}, "rows": rows}
    write(out_path, out)


def table(path: str) -> str:
    data = load(path)
    arms = data["arms"]
    head = "| toy | method | " + " | ".join(f"JS, {_arm(a)}" for a in arms) + " | Welch p |"
    lines = [head, "|" + " --- |" * (3 + len(arms))]
    for r in data["rows"]:
        cells = [_cell(r[a]) for a in arms]
        p = "—" if r["method"] == "cd" or r["welch_p"] is None else f"{r['welch_p']:.2f}"
        lines.append(f"| {r['dataset']} | {r['method']} | " + " | ".join(cells) + f" | {p} |")
    return "\n".join(lines)


def _arm(arm: str) -> str:
    return "exact links" if arm == "exact" else f"clip ±{arm}"


def _cell(c: dict) -> str:
    if c["n"] == 0 or c["js_mean"] is None:
        return f"all {c['seeds']} failed"
    hw = "" if c["js_half_width"] is None else f" ± {c['js_half_width']:.3f}"
    lost = f" ({c['failed']} of {c['seeds']} failed)" if c["failed"] else ""
    return f"{c['js_mean']:.3f}{hw}{lost}"


@reads("link-clip.json")
def readings(d: dict) -> dict:
    """The cells bench.md's prose quotes: rings' χ²-family rows in both arms, the smallest Welch p,
    the best clipped row against CD, and each arm's time."""
    rows = {(r["dataset"], r["method"]): r for r in d["rows"]}
    ps = sorted((r["welch_p"], r["dataset"], r["method"]) for r in d["rows"] if r["method"] != "cd")
    clipped = {k: r["5"]["js_mean"] for k, r in rows.items() if k[1] != "cd"}
    best = min(clipped, key=clipped.get)
    cd = rows[best[0], "cd"]["5"]["js_mean"]
    assert ps[0][1:] == ("rings", "neyman_chi2"), "the prose names rings, Neyman χ² as the smallest p"
    assert ps[0][0] >= 0.05 / len(ps), "the prose says none passes a Bonferroni correction"
    assert best == ("rings", "reverse_kl"), "the prose names rings, reverse KL as the best clipped row"
    assert all(r["5"]["js_mean"] > rows[k[0], "cd"]["5"]["js_mean"] for k, r in rows.items() if k[1] != "cd"), \
        "the prose says no zero-forcing f comes near CD"
    assert all(rows[s, "cd"]["exact"]["js"] == rows[s, "cd"]["5"]["js"] for s, m in rows if m == "cd"), \
        "the prose says CD's rows are identical in both arms"
    return {
        "rings_neyman_exact": rows["rings", "neyman_chi2"]["exact"]["js_mean"],
        "rings_neyman_clip": rows["rings", "neyman_chi2"]["5"]["js_mean"],
        "rings_alpha_exact": rows["rings", "alpha=-0.5"]["exact"]["js_mean"],
        "rings_alpha_clip": rows["rings", "alpha=-0.5"]["5"]["js_mean"],
        "comparisons": len(ps), "smallest_p": ps[0][0], "bonferroni": 0.05 / len(ps),
        "best_clipped": clipped[best], "best_gap": clipped[best] - cd, "cd_there": cd,
        "exact_s": d["elapsed_s"]["exact"], "clip_s": d["elapsed_s"]["5"],
    }


def commands(verbs) -> None:
    verb(verbs, "run", run, "one arm: exact links or a clip (a number)", "arm", "out_path", writes="out_path")
    verb(verbs, "merge", merge, "the arms' files side by side", "out_path", ("paths", {"nargs": "+"}),
         writes="out_path")
    verb(verbs, "table", table, "the Markdown table in docs/bench.md", "path")
