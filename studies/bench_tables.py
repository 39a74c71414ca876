"""docs/bench.md from the bench's result files (`febm bench toy2d --plot DIR`, in docs/figures):
its Markdown tables (one per result file and score), the bullets that read them, the readings it
quotes, the merge of bench runs made in several processes, and the learning-curve figures.

    python -m studies bench_tables table docs/figures/bench-toy2d.json js     # or nll
    python -m studies bench_tables tables BENCH.json [MORE.json ...]          # both tables, several files
    python -m studies bench_tables verdict docs/figures/bench-toy2d.json      # the bullets under them
    python -m studies bench_tables modes docs/figures/bench-toy2d.json        # the zero-forcing f's coverage
    python -m studies bench_tables long docs/figures/bench-toy2d-long.json    # the 30 M run's readings
    python -m studies bench_tables residual docs/figures/bench-toy2d.json docs/figures/bench-toy2d-residual.json
    python -m studies bench_tables merge OUT.json OUT.png PART.json ...       # runs on different datasets
    python -m studies bench_tables figures                                    # redraw docs/figures' curves

Each table has a row per method and a column per dataset; an entry is a mean ± 95% CI over seeds,
with its verdict against CD in the JS table; the last column counts beats / ties / losses.
"""

from collections import Counter
from pathlib import Path

from febm.dynamics.training.bench import Comparison
from studies import concatenate, load, verb, write_report
from studies.readings import reads

FIGURES_DIR = Path(__file__).resolve().parent.parent / "docs" / "figures"
VERDICTS = BEATS, TIES, LOSES = (Comparison.BEATS.value, Comparison.TIES.value, Comparison.LOSES.value)  # JSON words
DESCRIPTION = "bench.md's tables, bullets and readings from the bench's results; merge parts; redraw the curves"


def interval(d: dict, digits: int) -> str:
    """mean ± half-width; "n/a" where no run gave a score."""
    if d["mean"] is None:
        return "n/a"
    return f"{d['mean']:.{digits}f}" + ("" if d["half_width"] is None else f" ± {d['half_width']:.{digits}f}")


def cells_table(cells, metric: str = "js") -> str:
    """The table of one score over ``cells`` (of one or more result files); JS's has the verdicts."""
    datasets = list(dict.fromkeys(c["dataset"] for c in cells))  # in the run's order
    methods = list(dict.fromkeys(c["method"] for c in cells))
    by = {(c["dataset"], c["method"]): c for c in cells}
    tally = metric == "js"
    head = "| method | " + " | ".join(datasets) + (" | beats / ties / loses |" if tally else " |")
    lines = [head, "|" + "---|" * (len(datasets) + 1 + tally)]
    digits = 3 if metric == "js" else 2
    for m in methods:
        row, counts = [], Counter()
        for d in datasets:
            c = by.get((d, m))
            if c is None:
                row.append("")
                continue
            text = interval(c["summary"][metric], digits)
            if tally and m != "cd" and c["verdict"]:
                text += f" ({c['verdict']})"
                counts[c["verdict"]] += 1
            if c["failed"]:
                text += f", {c['failed']} failed"
            row.append(text)
        end = ("—" if m == "cd" else f"{counts['beats']} / {counts['ties']} / {counts['loses']}") if tally else None
        lines.append(f"| {m} | " + " | ".join(row) + (f" | {end} |" if tally else " |"))
    return "\n".join(lines)


def table(path, metric: str = "js") -> str:
    """One result file's table of ``metric`` (js, nll, ...)."""
    return cells_table(load(path)["cells"], metric)


def tables(*paths) -> str:
    """The JS table and the NLL table over the cells of several result files."""
    cells = [c for p in paths for c in load(p)["cells"]]
    return cells_table(cells, "js") + "\n\n" + cells_table(cells, "nll")


ZERO_FORCING = ("reverse_kl", "neyman_chi2", "symmetric_chi2", "alpha=-1", "alpha=-0.5")
BOUNDED = ("kl", "jensen_shannon", "gan", "squared_hellinger", "alpha=0.5", "alpha=0.9", "triangular", "le_cam")
NAMES = {"8gaussians": "8 Gaussians", "25gaussians": "25 Gaussians", "moons": "moons", "rings": "rings",
         "neyman_chi2": "Neyman χ²", "alpha=-0.5": "α = −0.5", "reverse_kl": "reverse KL"}


def _span(values, digits=2) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.{digits}f}" if f"{lo:.{digits}f}" == f"{hi:.{digits}f}" else f"{lo:.{digits}f}–{hi:.{digits}f}"


def verdict(path) -> str:
    """The bullets that read the 6 M table: counts, where the ties are, the bounded and the
    zero-forcing f, the cost per step and the runs lost."""
    cells = load(path)["cells"]
    by = {(c["dataset"], c["method"]): c for c in cells}
    febm = [c for c in cells if c["method"] != "cd"]
    js = lambda c: c["summary"]["js"]["mean"]  # noqa: E731
    counts = {v: sum(c["verdict"] == v for c in febm) for v in VERDICTS}
    tie_sets = []
    for d in dict.fromkeys(c["dataset"] for c in febm if c["verdict"] == TIES):
        tied = [js(c) for c in febm if c["dataset"] == d and c["verdict"] == TIES]
        tie_sets.append(f"{NAMES[d]} ({len(tied)} f at JS {_span(tied, 3)}, CD {js(by[d, 'cd']):.3f})")
    hq = [by["8gaussians", m]["summary"]["high_quality"]["mean"] for m in BOUNDED]
    zf = [c for c in febm if c["method"] in ZERO_FORCING]
    zf_js = sorted(js(c) for c in zf)
    low = min(zf, key=js)
    modes = [c["summary"]["mode_coverage"]["mean"] for c in zf]
    nll = [c["summary"]["nll"]["mean"] for c in zf]
    cd, f = by["8gaussians", "cd"], by["8gaussians", "kl"]
    extra = f["evaluations"] / f["steps"] / (cd["evaluations"] / cd["steps"]) - 1
    lost = [c for c in febm if c["failed"]]
    lost_text = ", ".join(f"{NAMES.get(c['method'], c['method'])} on {NAMES[c['dataset']]}" for c in lost)
    return "\n".join([
        f"- **No f beats CD on any dataset.** Of {len(febm)} comparisons, {counts['beats']} win, {counts['loses']} "
        f"lose and {counts['ties']} tie. The ties are on {' and '.join(tie_sets)}: where every method is still "
        "far from the data, or sits on the same plateau.",
        "- The best f are the ones with bounded or logarithmic links (KL, JS, GAN, squared Hellinger,",
        "  α = 0.5, α = 0.9, triangular, Le Cam). They cover every mode but put more mass between",
        f"  them: on 8 Gaussians their high-quality fraction is {_span(hq)} against CD's "
        f"{cd['summary']['high_quality']['mean']:.2f}.",
        f"- The zero-forcing f (reverse KL, Neyman χ², symmetric χ², α = −1, α = −0.5) lose on all four datasets: "
        f"JS {_span(zf_js[1:])} but for {NAMES.get(low['method'], low['method'])} on {NAMES[low['dataset']]} "
        f"({js(low):.2f}), "
        f"{_span(modes)} of the modes, NLL {_span(nll, 1)} nats.",
        f"- The f-EBM runs spend {extra:.0%} more per step (the critic), so CD takes {cd['steps']} steps to their "
        f"{f['steps']}.",
        f"- {len(lost)} of {sum(len(c['seeds']) for c in febm)} f-EBM runs stopped being finite ({lost_text}).",
    ])


CHI2 = ("neyman_chi2", "symmetric_chi2", "alpha=-1", "alpha=-0.5")  # the χ²-type zero-forcing f


def _cells(path) -> dict:
    return {(c["dataset"], c["method"]): c for c in load(path)["cells"]}


def zero_forcing_modes(path) -> str:
    """The span of the zero-forcing f's mode coverage at 6 M, as percentages ("39–71%")."""
    return zero_forcing_modes_of(load(path))


def zero_forcing_modes_of(d: dict) -> str:
    modes = [c["summary"]["mode_coverage"]["mean"] for c in d["cells"] if c["method"] in ZERO_FORCING]
    return f"{min(modes):.0%}".rstrip("%") + "–" + f"{max(modes):.0%}"


def residual_effect(default_path, residual_path) -> str:
    """The residual critic's effect, per seed, against the default critic: Welch tests for the
    χ²-type f on every dataset (helped: lower mean JS at p < 0.05), and the moons readings."""
    from scipy.stats import ttest_ind

    a, b = _cells(default_path), _cells(residual_path)
    js = lambda c: c["summary"]["js"]["mean"]  # noqa: E731
    seeds = lambda c: [s["js"] for s in c["seeds"]]  # noqa: E731
    chi2 = [k for k in b if k[1] in CHI2]
    helped = sum(js(b[k]) < js(a[k]) and ttest_ind(seeds(a[k]), seeds(b[k]), equal_var=False).pvalue < 0.05
                 for k in chi2)
    ney, rkl = ("moons", "neyman_chi2"), ("moons", "reverse_kl")
    modes = [c["summary"]["mode_coverage"]["mean"] for c in (a[ney], b[ney])]
    return (f"(Welch p < 0.05 in {helped} of {len(chi2)} comparisons; on moons Neyman χ² goes from JS "
            f"{js(a[ney]):.3f} to {js(b[ney]):.3f} and from {modes[0]:.0%} to {modes[1]:.0%} of the modes), and "
            f"hurts reverse KL (moons {js(a[rkl]):.3f} → {js(b[rkl]):.3f})")


def long_run(path) -> str:
    """The readings of the 30 M run, one per line: CD against its targets, and where f-EBM loses."""
    by = _cells(path)
    s = lambda d, m: by[d, m]["summary"]  # noqa: E731
    i = lambda d, m: f"{s(d, m)['js']['mean']:.3f} ± {s(d, m)['js']['half_width']:.3f}"  # noqa: E731
    cover = lambda d: f"mode coverage {s(d, 'cd')['mode_coverage']['mean']:.3f}"  # noqa: E731
    cd_js = lambda d: f"{s(d, 'cd')['js']['mean']:.3f}"  # noqa: E731
    hard = [(d, m) for d in ("25gaussians", "rings") for m in ("kl", "jensen_shannon")]
    gaps = [s(*k)["js"]["mean"] - s(k[0], "cd")["js"]["mean"] for k in hard]
    return "\n".join([
        f"Moons: JS {i('moons', 'cd')}, within the 0.05 target, {cover('moons')}.",
        f"8 Gaussians: {i('8gaussians', 'cd')}, {cover('8gaussians')};",
        f"Rings: {cd_js('rings')} and the 25-Gaussian grid: {cd_js('25gaussians')},",
        f"(8 Gaussians {i('8gaussians', 'jensen_shannon')} against {i('8gaussians', 'cd')})",
        f"both lose (p ≤ {max(by[k]['p_value'] for k in hard):.2f}), by {min(gaps):.2f}–{max(gaps):.2f} in JS.",
    ])


def _verdicts(d: dict) -> dict:
    cells = [c for c in d["cells"] if c["method"] != "cd"]
    out = {v: sum(c["verdict"] == v for c in cells) for v in VERDICTS}
    out["comparisons"] = len(cells)
    assert out[BEATS] == 0, "the prose says no f beats CD"
    return out


def _by(d: dict) -> dict:
    return {(c["dataset"], c["method"]): c for c in d["cells"]}


def _js(c: dict) -> float:
    return c["summary"]["js"]["mean"]


@reads("figures/bench-toy2d.json")
def bench_short(d: dict) -> dict:
    """f-EBM against CD at the 6 M budget: verdicts of every f-EBM cell, the run's size and cost per
    step, the data's own NLL, and how far behind CD the best f on 8 Gaussians trail."""
    from studies.operating_point import data_nll

    out = _verdicts(d)
    by = _by(d)
    protocol = d["protocol"]
    config, cost = protocol["config"], protocol["step_cost"]
    assert cost["cd"]["energy"] == (config["langevin_steps"] + 1) * config["chains"] + 2 * config["batch"]
    best = sorted(_js(by["8gaussians", m]) for m in BOUNDED)[:2]
    curve = [(p["evaluations"] / 1e6, p["js"]["mean"]) for p in by["8gaussians", "cd"]["curve"]]
    crossing = next(e0 + (e1 - e0) * (j0 - best[1]) / (j0 - j1)
                    for (e0, j0), (e1, j1) in zip(curve, curve[1:]) if j0 >= best[1] > j1)
    out.update({
        "runs": sum(len(c["seeds"]) for c in d["cells"]),
        "minutes": d["elapsed_s"] / 60,
        "sampler_evaluations": config["langevin_steps"] + 1,
        "chains": config["chains"],
        "cd_per_step": cost["cd"]["energy"],
        "febm_per_step": sum(cost["f-EBM"].values()),
        "best_8g_low": best[0],
        "best_8g_high": best[1],
        "cd_had_at": round(crossing * 2) / 2,  # M evaluations, to the nearest half
        "modes": zero_forcing_modes_of(d),
        **{f"data_nll_{name}": data_nll(name) for name in ("8gaussians", "25gaussians", "moons", "rings")},
    })
    return out


@reads("figures/bench-toy2d-long.json")
def bench_long(d: dict) -> dict:
    """The 30 M run: CD, KL and Jensen–Shannon; verdicts per dataset, the run's size, CD's curve on
    8 Gaussians, and the p of KL's narrow loss on moons."""
    out = _verdicts(d)
    by = _by(d)
    curve = {round(p["evaluations"] / 1e6): p["js"]["mean"] for p in by["8gaussians", "cd"]["curve"]}
    kl_moons = by["moons", "kl"]
    assert kl_moons["verdict"] == LOSES, "the prose says KL loses narrowly on moons"
    for name in ("rings", "25gaussians"):  # "both still falling at 30 M"
        js = [p["js"]["mean"] for p in by[name, "cd"]["curve"]]
        assert js[-1] < js[len(js) * 4 // 5]
    out.update({
        "runs": sum(len(c["seeds"]) for c in d["cells"]),
        "minutes": d["elapsed_s"] / 60,
        "cd_steps": by["8gaussians", "cd"]["steps"],
        "febm_steps": by["8gaussians", "kl"]["steps"],
        "cd_8g_at_18": curve[18], "cd_8g_at_24": curve[24], "cd_8g_at_30": curve[30],
        "kl_moons_p": kl_moons["p_value"],
    })
    s = lambda name, m: by[name, m]["summary"]  # noqa: E731
    hard = [(name, m) for name in ("25gaussians", "rings") for m in ("kl", "jensen_shannon")]
    gaps = [_js(by[k]) - _js(by[k[0], "cd"]) for k in hard]
    assert all(by[k]["verdict"] == LOSES for k in hard), "the prose says both lose on 25 Gaussians and rings"
    for name in ("moons", "8gaussians"):
        out[f"cd_{name}"] = interval(s(name, "cd")["js"], 3)
        out[f"cd_{name}_modes"] = s(name, "cd")["mode_coverage"]["mean"]
    assert s("moons", "cd")["js"]["mean"] <= 0.05 < s("8gaussians", "cd")["js"]["mean"], \
        "the prose says CD meets the target on moons, not on 8 Gaussians"
    out.update({"cd_rings_js": _js(by["rings", "cd"]), "cd_25gaussians_js": _js(by["25gaussians", "cd"]),
                "js_8gaussians": interval(s("8gaussians", "jensen_shannon")["js"], 3),
                "hard_p_max": max(by[k]["p_value"] for k in hard),
                "hard_gap_low": min(gaps), "hard_gap_high": max(gaps)})
    return out


@reads("figures/bench-toy2d-tuned.json")
def bench_tuned(d: dict) -> dict:
    """The tuned run (8 Gaussians and moons): what each method chose, CD's and Jensen–Shannon's JS on
    8 Gaussians against the untuned run, and the p of the two ties there."""
    by = _by(d)
    untuned = _by(load(FIGURES_DIR / "bench-toy2d.json"))
    assert {c["lr"] for c in d["cells"]} == {0.004}, "the prose says every method chose lr 4·10⁻³"
    assert {c["critic_lr_ratio"] for c in d["cells"]} == {2.0, 5.0}, "the prose says the ratio split between 2 and 5"
    assert all(c["verdict"] == LOSES for (s, m), c in by.items() if s == "moons" and m != "cd"), \
        "the prose says every f still loses on moons"
    return {
        "minutes_each": d["elapsed_s"] / 2 / 60,
        "cd_8g_untuned": _js(untuned["8gaussians", "cd"]), "cd_8g": _js(by["8gaussians", "cd"]),
        "js_8g_untuned": _js(untuned["8gaussians", "jensen_shannon"]), "js_8g": _js(by["8gaussians", "jensen_shannon"]),
        "p_js_8g": by["8gaussians", "jensen_shannon"]["p_value"],
        "p_hellinger_8g": by["8gaussians", "squared_hellinger"]["p_value"],
    }


def merge(out_json: str, out_png: str, parts) -> str:
    """`febm bench toy2d` runs on different datasets (e.g. two processes) as one report, and its
    learning curves; returns the report's text."""
    import matplotlib

    matplotlib.use("Agg")
    from febm.dynamics.files import save_figure
    from febm.dynamics.training.bench import BenchReport

    first, cells = concatenate(parts, "cells")
    loaded = [load(p) for p in parts]
    merged = {k: v for k, v in first.items() if k != "plot"}
    merged["cells"] = cells
    merged["protocol"] = dict(first["protocol"], datasets=[d for p in loaded for d in p["protocol"]["datasets"]])
    merged["elapsed_s"] = sum(p["elapsed_s"] for p in loaded)
    report = BenchReport.from_json(merged)
    write_report(out_json, report)
    save_figure(report.figure(), out_png, dpi=110)
    return report.text()


def figures() -> str:
    """Redraw the bench's learning-curve figures in docs/figures from the JSON results beside them
    (no training) through `febm figures`, so that docs/figures/manifest.json records each figure's
    result file and its SHA-256; the same as `febm figures --only bench-toy2d bench-toy2d-tuned
    bench-toy2d-long bench-toy2d-residual --out docs/figures`."""
    from febm.dynamics.commands.figures import FIGURES, render

    names = [name for name in FIGURES if name.startswith("bench-toy2d")]
    return render("docs/figures", only=names, progress=False).text()


def commands(verbs) -> None:
    verb(verbs, "table", table, "one result file's table of a score (js: with verdicts; nll; ...)",
         "path", ("metric", {"nargs": "?", "default": "js"}))
    verb(verbs, "tables", lambda paths: tables(*paths),
         "the JS and NLL tables over the cells of one or more result files", ("paths", {"nargs": "+"}))
    verb(verbs, "verdict", verdict, "the bullets under the 6 M table", "path")
    verb(verbs, "modes", zero_forcing_modes, "the zero-forcing f's span of mode coverage", "path")
    verb(verbs, "long", long_run, "the 30 M run's readings", "path")
    verb(verbs, "residual", residual_effect, "the residual critic's effect against the default critic",
         "default_path", "residual_path")
    verb(verbs, "merge", merge, "bench runs on different datasets as one report (JSON and PNG)",
         "out_json", "out_png", ("parts", {"nargs": "+"}), writes="out_json")
    verb(verbs, "figures", figures, "redraw the bench's curves in docs/figures through febm figures")
