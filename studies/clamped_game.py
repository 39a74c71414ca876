"""The reference code's link clamps in the trained game (issues #20 §2, #23 §3): KL's exp(min(u, 3))
and Pearson χ²'s exp(min(·, 6)), on paper-1d with the reference's 1-64-64-1 critic.

Two measurements, both with the clamps that the reference code's runs use:

* ``calibrate``: `febm calibrate F --link-clip reference --quantities eta_max,rate` for KL and Pearson
  χ²: the clamped game's resting point (from θ at the exact minimizer, as calibrate starts), its
  predicted η_max and rate against the measured ones;
* ``stall``: the time-to-0.05 arm's runs for Pearson χ² (`training.arrival`: the reference's start
  (μ, σ) = (0, 1), lr 10⁻², batch 1000) over `STALL_STEPS` steps, its 4 noise-free flows (1000
  quantile midpoints) and its 8 minibatch runs (i.i.d.): where each ends, the last step at which θ
  still moved, and the share of the last batch's p and q points whose r lies beyond the clamp,
  with both players' gradient norms there.

    python studies/clamped_game.py run docs/results/clamped-game.json       (about 10 min)
    python studies/clamped_game.py text docs/results/clamped-game.json      (the bullets in docs/trained-game.md)
"""

import json
import math
import sys
import time
from dataclasses import replace

import torch

from febm.divergences import resolve
from febm.dynamics.commands.calibrate import calibrate
from febm.dynamics.training import arrival
from febm.dynamics.training.reference import REFERENCE_CLAMPS
from febm.dynamics.training.trainer import GAUSSIAN, BatchedGaussianFEBM
from febm.threads import limit_threads
from febm.toy_models import paper_mixture

NAMES = ["kl", "pearson_chi2"]
STALL_STEPS = 3000  # the flows' θ stopped moving by step 1010 in a 20,000-step look (fixed before this run)


def run(out: str) -> None:
    limit_threads(1)
    t0 = time.perf_counter()
    report = calibrate(NAMES, "paper-1d", "mlp:64,64", quantities=("eta_max", "rate"), progress=False,
                       link_clip=REFERENCE_CLAMPS)
    result = {"calibrate": report.to_json(),
              "stall": {s: stall("pearson_chi2", s, k) for s, k in (("quadrature", arrival.PREDICTION_SEEDS),
                                                                     ("iid", arrival.SEEDS))},
              "minimizer": {n: list(arrival.exact_minimizer(resolve(n))) for n in NAMES}}
    result["elapsed_s"] = time.perf_counter() - t0
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1)


def stall(name: str, sampling: str, runs: int) -> dict:
    """``runs`` of the time arm for ``name`` with the reference's clamps (`arrival`), by ``sampling``."""
    d = resolve(name)
    cfg = replace(arrival.config(arrival.LR, STALL_STEPS), sampling=sampling, record_every=10)
    trainer = BatchedGaussianFEBM([d] * runs, paper_mixture(), cfg, seed=0)
    last_move = [0] * trainer.runs
    previous = trainer.theta.detach().clone()

    def until(step, theta, alive):
        nonlocal previous
        moved = (theta.detach() != previous).any(dim=1)
        for k in range(trainer.runs):
            if moved[k]:
                last_move[k] = step
        previous = theta.detach().clone()
        return False

    trainer.train(until=until)
    x_p, z = trainer.sample(cfg.batch)
    mu_sd = GAUSSIAN.mean_sd(trainer.theta)
    x_q = mu_sd[:, :1] + mu_sd[:, 1:] * z
    hi = REFERENCE_CLAMPS[name][1]
    beyond = {k: (trainer.critic(trainer.omega, x) + trainer.energy(trainer.theta, x) > hi).double().mean(1).tolist()
              for k, x in (("p", x_p), ("q", x_q))}
    g_theta, g_omega = trainer._grads(trainer.theta, trainer.omega, x_p, x_q, ("theta", "omega"))
    minimizer = torch.tensor(arrival.exact_minimizer(d))
    final = GAUSSIAN.mean_sd(trainer.theta.detach().double())
    return {"steps": STALL_STEPS, "clamp": hi, "final": final.tolist(),
            "error": (final - minimizer).abs().amax(dim=1).tolist(), "last_move": last_move,
            "beyond_clamp": beyond, "grad_theta": g_theta.norm(dim=1).tolist(),
            "grad_omega": g_omega.norm(dim=1).tolist()}


def text(path: str) -> str:
    d = json.load(open(path))
    rows = {r["name"]: r for r in d["calibrate"]["rows"]}
    out = []
    for name, label in (("kl", "KL"), ("pearson_chi2", "Pearson χ²")):
        r = rows[name]
        pred, meas = r["predicted"], r["measured"]
        out.append(f"- **{label}, clamped.** The flow comes to |F| = {r['residual']:.2g}, "
                   f"{r['equilibrium']['distance_to_minimizer']:.2g} from the exact minimizer; η_max predicted "
                   f"{_num(pred['eta_max'])}, measured {_num(meas['eta_max'])}; rate predicted {_num(pred['rate'])}, "
                   f"measured {_num(meas['rate'])}.")
    for arm, label in (("quadrature", "noise-free flows"), ("iid", "minibatch runs")):
        s = d["stall"][arm]
        err = ", ".join(f"{e:.2f}" for e in s["error"])
        share = min(min(s["beyond_clamp"]["p"]), min(s["beyond_clamp"]["q"]))
        out.append(f"- **Pearson χ², {len(s['error'])} {label} from the reference's start.** After {s['steps']} "
                   f"steps they end {err} from the minimizer; θ last moved at step {max(s['last_move'])}. "
                   f"At the end at least {share:.0%} of the last batch's p and q points have r above the "
                   f"clamp ({s['clamp']:g}), where g' = h' = 0: the critic's gradient norm is at most "
                   f"{max(s['grad_omega']):.1g} and θ's {max(s['grad_theta']):.1g}.")
    return "\n".join(out)


def _num(x) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.4g}"


if __name__ == "__main__":
    {"run": lambda: run(sys.argv[2]), "text": lambda: print(text(sys.argv[2]))}[sys.argv[1]]()
