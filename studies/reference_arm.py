"""The reference code's 1-D run at its exact settings (`reference.REFERENCE_EXACT`: SGD at 10⁻³ on
(μ, σ) and a 1-64-64-1 tanh critic, batch 1000, its link clamps, 30,000 steps): 8 seeded minibatch
runs against 4 noise-free flows, the final (μ, σ) beside the reference's reported values, and the
time to error ≤ 0.05.

    python studies/reference_arm.py OUT.json NAME ...
"""

import json
import sys
import time
from dataclasses import asdict

import torch

from febm.divergences import resolve
from febm.dynamics.training import arrival
from febm.dynamics.training.paper1d import REFERENCE
from febm.dynamics.training.reference import REFERENCE_EXACT

STEPS = REFERENCE_EXACT.steps


def run(name: str) -> dict:
    t0 = time.perf_counter()
    kw = dict(lr=REFERENCE_EXACT.lr_theta, critic_sizes=REFERENCE_EXACT.critic_sizes, full=True)
    flows = arrival.arrivals(name, "quadrature", arrival.PREDICTION_SEEDS, STEPS, **kw)
    runs = arrival.arrivals(name, "iid", arrival.SEEDS, STEPS, **kw)
    d = resolve(name)
    return {"name": d.name, "exact": list(arrival.exact_minimizer(d)), "reference": REFERENCE.get(d.name),
            "predicted": asdict(flows), "measured": asdict(runs), "elapsed_s": time.perf_counter() - t0}


if __name__ == "__main__":
    torch.set_num_threads(1)
    out, *names = sys.argv[1:]
    rows = [run(n) for n in names]
    settings = {"steps": STEPS, "lr": REFERENCE_EXACT.lr_theta, "batch": REFERENCE_EXACT.batch,
                "critic": list(REFERENCE_EXACT.critic_sizes), "scale_parameter": REFERENCE_EXACT.scale_parameter,
                "upper_clamps": {k: v[1] for k, v in REFERENCE_EXACT.link_clip.items()}, "target": arrival.TARGET}
    with open(out, "w") as fh:
        json.dump({"rows": rows, "settings": settings}, fh, indent=1)
