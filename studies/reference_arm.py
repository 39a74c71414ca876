"""The reference code's 1-D run at its exact settings (`reference.REFERENCE_EXACT`: SGD at 10⁻³ on
(μ, σ) and a 1-64-64-1 tanh critic, batch 1000, its link clamps, 30,000 steps): 8 seeded minibatch
runs against 4 noise-free flows, the final (μ, σ) beside the reference's reported values, and the
time to error ≤ 0.05.

    python -m studies reference_arm run OUT.json NAME ...             (about 35 min per f, one thread)
    python -m studies reference_arm merge OUT.json PART.json ...      (one process per f, then one file)
    python -m studies reference_arm text OUT.json CALIBRATION.json    (the bullets in docs/trained-game.md)
"""

import time
from dataclasses import asdict

import torch

from febm.divergences import resolve
from febm.dynamics.training import arrival
from febm.dynamics.training.paper1d import REFERENCE
from febm.dynamics.training.reference import REFERENCE_EXACT
from febm.toy_models import paper_mixture
from studies import concatenate, load, verb, write
from studies.readings import reads

DESCRIPTION = "trained-game.md's arm at the reference code's exact settings: 4 flows and 8 runs per f"
STEPS = REFERENCE_EXACT.steps


def measure(name: str) -> dict:
    """One f's flows and runs."""
    t0 = time.perf_counter()
    kw = dict(lr=REFERENCE_EXACT.lr_theta, critic_sizes=REFERENCE_EXACT.critic_sizes, full=True, data=paper_mixture())
    flows = arrival.arrivals(name, "quadrature", arrival.PREDICTION_SEEDS, STEPS, **kw)
    runs = arrival.arrivals(name, "iid", arrival.SEEDS, STEPS, **kw)
    d = resolve(name)
    exact = list(arrival.exact_minimizer(d, paper_mixture()))
    return {"name": d.name, "exact": exact, "reference": REFERENCE.get(d.name),
            "predicted": asdict(flows), "measured": asdict(runs), "elapsed_s": time.perf_counter() - t0}


def run(out: str, names) -> None:
    """The named f, one after another, into one file."""
    torch.set_num_threads(1)
    rows = [measure(n) for n in names]
    settings = {"steps": STEPS, "lr": REFERENCE_EXACT.lr_theta, "batch": REFERENCE_EXACT.batch,
                "critic": list(REFERENCE_EXACT.critic_sizes), "scale_parameter": REFERENCE_EXACT.scale_parameter,
                "upper_clamps": {k: v[1] for k, v in REFERENCE_EXACT.link_clip.items()}, "target": arrival.TARGET}
    write(out, {"rows": rows, "settings": settings})


def merge(out: str, parts) -> None:
    """The parts' rows in one file (the parts were measured under the same settings)."""
    first, rows = concatenate(parts, "rows", same=("settings",))
    write(out, {"rows": rows, "settings": first["settings"]})


@reads("reference-arm.json")
def readings(d: dict) -> dict:
    """How long one f's flows and runs took (minutes, one thread); where Jensen–Shannon's runs end and
    how many steps its flows took at 10× the step (calibration-paper-1d.json). Asserts the words of
    trained-game.md's bullets on KL, Pearson χ², reverse KL and Jensen–Shannon at the reference's step."""
    from studies.readings import RESULTS

    minutes = [r["elapsed_s"] / 60 for r in d["rows"]]
    rows = {r["name"]: r for r in d["rows"]}
    quick = {r["name"]: r["arrival"] for r in load(RESULTS / "calibration-paper-1d.json")["rows"]}
    steps = d["settings"]["steps"]

    def medians(arrivals):
        return [arrival.Arrival(**arrivals[k]).median for k in ("predicted", "measured")]

    def off(point, exact):
        return max(abs(a - b) for a, b in zip(point, exact))

    kl, pearson, rkl, js = (rows[n] for n in ("kl", "pearson_chi2", "reverse_kl", "jensen_shannon"))
    assert max(kl["measured"]["final_error"]) <= 0.01, "the prose says every KL run ends within 0.01"
    (kl_flow, kl_runs), (kl_flow_10, kl_runs_10) = medians(kl), medians(quick["kl"])
    assert all(abs(a / b / 10 - 1) < 0.1 for a, b in ((kl_flow, kl_flow_10), (kl_runs, kl_runs_10))), \
        "the prose says ten times the step takes a tenth of the steps"
    assert abs((kl_flow / kl_runs) / (kl_flow_10 / kl_runs_10) - 1) < 0.05, "the prose says the same factor"
    flows, runs = (arrival.Arrival(**pearson[k]) for k in ("predicted", "measured"))
    assert flows.arrived == len(flows.steps) and 2 * runs.arrived > len(runs.steps), \
        "the prose says all Pearson χ² flows and most runs arrive"
    assert runs.median / flows.median > 2, "the prose says the flows miss the runs by far more than a factor 2"
    assert all(1 / 2 <= a / b <= 2 for a, b in (medians(rkl), medians(quick["reverse_kl"]))), \
        "the prose says reverse KL's flows are within a factor 2 of its runs at both steps"
    js_flow_10 = arrival.Arrival(**quick["jensen_shannon"]["predicted"]).median
    ends = js["measured"]["final_error"]
    assert all(a.arrived == 0 for a in (arrival.Arrival(**js[k]) for k in ("predicted", "measured"))) \
        and 10 * js_flow_10 > steps, "the prose says Jensen–Shannon does not reach 0.05 in the reference's steps"
    assert off(js["reference"], js["exact"]) <= 0.01 < min(ends), \
        "the prose says the reported point is within 0.01 of the minimizer and the runs end farther"
    return {"minutes_low": min(minutes), "minutes_high": max(minutes), "f": len(minutes),
            "steps": steps, "js_flow_steps_10x": js_flow_10, "js_end_low": min(ends), "js_end_high": max(ends)}


def text(path: str, calibration: str) -> str:
    """Per f: where the 8 runs end against the reference's reported (μ, σ) and the exact minimizer,
    and the time to 0.05 (flows against runs) beside calibrate's at 10× the step."""
    d = load(path)
    faster = {r["name"]: r for r in load(calibration)["rows"]}
    out = []
    for r in d["rows"]:
        ends = torch.tensor([f for f in r["measured"]["final"] if all(map(_finite, f))], dtype=torch.float64)
        mu, sd = ends.mean(0), ends.std(0)
        ref = "none reported" if r["reference"] is None else f"({r['reference'][0]:.4f}, {r['reference'][1]:.4f})"
        flows, runs = (arrival.Arrival(**r[k]) for k in ("predicted", "measured"))
        quick = faster.get(r["name"], {}).get("arrival", {})
        quick_times = [arrival.Arrival(**quick[k]).median if k in quick else None for k in ("predicted", "measured")]
        out.append(
            f"- **{r['name']}.** After {d['settings']['steps']:,} steps the {len(ends)} finite runs of "
            f"{len(r['measured']['final'])} end at (μ, σ) = ({mu[0]:.4f} ± {sd[0]:.4f}, {mu[1]:.4f} ± {sd[1]:.4f}) "
            f"(mean ± sd); the reference code reported {ref}, the exact minimizer is "
            f"({r['exact'][0]:.4f}, {r['exact'][1]:.4f}); each run's final error is "
            f"{min(runs.final_error):.3f}–{max(runs.final_error):.3f}. Time to 0.05: flows {_steps(flows.median)}, "
            f"runs {_steps(runs.median)} ({runs.arrived} of {len(runs.steps)} arrived); at 10× the step, "
            + ("neither arrived." if quick_times == [None, None] else
               f"{_steps(quick_times[0])} and {_steps(quick_times[1])}."))
    return "\n".join(out)


def _finite(x) -> bool:
    return x is not None and x == x and abs(x) != float("inf")


def _steps(t) -> str:
    return "none arrived" if t is None else f"{t:,.0f}"


def commands(verbs) -> None:
    verb(verbs, "run", run, "the flows and runs of the named f (about 35 min per f)", "out",
         ("names", {"nargs": "+"}), writes="out")
    verb(verbs, "merge", merge, "the parts (one process per f) in one file", "out", ("parts", {"nargs": "+"}),
         writes="out")
    verb(verbs, "text", text, "the bullets in docs/trained-game.md", "path", "calibration")
