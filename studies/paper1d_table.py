"""docs/paper-1d.md's table of the default run, from its result file, and the readings it quotes.

    febm reproduce paper-1d --json --plot DIR > docs/results/paper-1d.json
    python -m studies paper1d_table table docs/results/paper-1d.json
"""

from febm.dynamics.report import RunState
from studies import load, verb
from studies.readings import reads

DESCRIPTION = "paper-1d.md's table of febm's default run (febm reproduce paper-1d)"


def table(result: dict) -> str:
    lines = ["| f | exact (μ, σ) | f-EBM, mean of the seeds (μ, σ) | error | runs finite |",
             "| --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        e, f = r["exact"], r["febm"]
        finite = sum(s == RunState.OK.value for s in r["status"])
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
    zero_forcing = [r["febm"][k] for r in d["rows"] if r["divergence"] in ("neyman_chi2", "alpha=-1", "alpha=-0.5")
                    for k in ("mu_sd", "sigma_sd")]
    out = {"n": len(d["rows"]), "largest_error": worst["error"], "worst": worst["divergence"],
           "within": sum(r["within_tolerance"] for r in d["rows"]),
           "zf_sd_low": min(zero_forcing), "zf_sd_high": max(zero_forcing),
           "zf_scatter_low": min(zero_forcing) / 2, "zf_scatter_high": max(zero_forcing) / 2,
           "elapsed_s": d["elapsed_s"]}
    assert out["within"] == out["n"], "the summary says every f meets the target on master seed 0"
    return out


def master_seeds_table(path: str) -> str:
    """The default run on master seeds 0–15, per f, as benchmarks/paper1d_master_seeds.py's ``table``
    command prints it."""
    import importlib.util
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "benchmarks" / "paper1d_master_seeds.py"
    spec = importlib.util.spec_from_file_location("paper1d_master_seeds", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.table(load(path))


def commands(verbs) -> None:
    verb(verbs, "table", lambda path: table(load(path)), "the table and its summary line", "path")
