"""The reference code's 1-D run at its exact settings (`reference.REFERENCE_EXACT`: SGD at 10⁻³ on
(μ, σ) and a 1-64-64-1 tanh critic, batch 1000, its link clamps, 30,000 steps): 8 seeded minibatch
runs against 4 noise-free flows, the final (μ, σ) beside the reference's reported values, and the
time to error ≤ 0.05.

    python studies/reference_arm.py OUT.json NAME ...             (about 35 min per f, one thread)
    python studies/reference_arm.py merge OUT.json PART.json ...  (one process per f, then one file)
    python studies/reference_arm.py text OUT.json CALIBRATION.json (the bullets in docs/trained-game.md)
"""

import json
import sys
import time
from dataclasses import asdict

import torch

from febm.divergences import resolve
from febm.dynamics.files import write_json
from febm.dynamics.training import arrival
from febm.dynamics.training.paper1d import REFERENCE
from febm.dynamics.training.reference import REFERENCE_EXACT
from febm.toy_models import paper_mixture

STEPS = REFERENCE_EXACT.steps


def run(name: str) -> dict:
    t0 = time.perf_counter()
    kw = dict(lr=REFERENCE_EXACT.lr_theta, critic_sizes=REFERENCE_EXACT.critic_sizes, full=True, data=paper_mixture())
    flows = arrival.arrivals(name, "quadrature", arrival.PREDICTION_SEEDS, STEPS, **kw)
    runs = arrival.arrivals(name, "iid", arrival.SEEDS, STEPS, **kw)
    d = resolve(name)
    exact = list(arrival.exact_minimizer(d, paper_mixture()))
    return {"name": d.name, "exact": exact, "reference": REFERENCE.get(d.name),
            "predicted": asdict(flows), "measured": asdict(runs), "elapsed_s": time.perf_counter() - t0}


def merge(out: str, parts) -> None:
    data = [json.load(open(p)) for p in parts]
    assert all(d["settings"] == data[0]["settings"] for d in data)
    write_json(out, {"rows": [r for d in data for r in d["rows"]], "settings": data[0]["settings"]})


def text(path: str, calibration: str) -> str:
    """Per f: where the 8 runs end against the reference's reported (μ, σ) and the exact minimizer,
    and the time to 0.05 (flows against runs) beside calibrate's at 10× the step."""
    d = json.load(open(path))
    faster = {r["name"]: r for r in json.load(open(calibration))["rows"]}
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


if __name__ == "__main__":
    if sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3:])
        sys.exit()
    if sys.argv[1] == "text":
        print(text(sys.argv[2], sys.argv[3]))
        sys.exit()
    torch.set_num_threads(1)
    out, *names = sys.argv[1:]
    rows = [run(n) for n in names]
    settings = {"steps": STEPS, "lr": REFERENCE_EXACT.lr_theta, "batch": REFERENCE_EXACT.batch,
                "critic": list(REFERENCE_EXACT.critic_sizes), "scale_parameter": REFERENCE_EXACT.scale_parameter,
                "upper_clamps": {k: v[1] for k, v in REFERENCE_EXACT.link_clip.items()}, "target": arrival.TARGET}
    write_json(out, {"rows": rows, "settings": settings})
