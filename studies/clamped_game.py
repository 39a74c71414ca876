"""The reference code's link clamps in the trained game: KL's exp(min(u, 3))
and Pearson χ²'s exp(min(·, 6)), on paper-1d with the reference's 1-64-64-1 critic.

Two measurements, both with the clamps that the reference code's runs use:

* ``calibrate``: `febm calibrate F --link-clip reference --quantities eta_max,rate` for KL and Pearson
  χ²: the clamped game's resting point (from θ at the exact minimizer, as calibrate starts), its
  predicted η_max and rate against the measured ones;
* ``stall``: the time-to-0.05 arm's runs for Pearson χ² (`training.arrival`: the reference's start
  (μ, σ) = (0, 1), lr 10⁻², batch 1000) over `STALL_STEPS` steps, its 4 noise-free flows (1000
  quantile midpoints) and its 8 minibatch runs (i.i.d.): where each ends, how far θ moved over the
  last two thirds of the steps, and the share of the last batch's p and q points whose r lies
  beyond the clamp, with both players' gradient norms there.

    python -m studies clamped_game run docs/results/clamped-game.json       (about 10 min)
    python -m studies clamped_game stall NEW.json docs/results/clamped-game.json
                                 (the stall part again, 3 min, into a new file beside the rest of the old)
    python -m studies clamped_game text docs/results/clamped-game.json docs/results/calibration-paper-1d.json
                                                        (the bullets in docs/trained-game.md)
"""

import math
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
from studies import load, verb, write

DESCRIPTION = "trained-game.md's clamped game: KL and Pearson χ² with the reference's link clamps, and the stall"
NAMES = ["kl", "pearson_chi2"]
STALL_STEPS = 3000  # the flows' θ stopped moving by step 1010 in a 20,000-step look (fixed before this run)


def run(out: str) -> None:
    limit_threads(1)
    t0 = time.perf_counter()
    report = calibrate(NAMES, "paper-1d", "mlp:64,64", quantities=("eta_max", "rate"), progress=False,
                       link_clip=REFERENCE_CLAMPS)
    result = {"calibrate": report.to_json(),
              "stall": stalls(),
              "minimizer": {n: list(arrival.exact_minimizer(resolve(n), paper_mixture())) for n in NAMES}}
    result["elapsed_s"] = time.perf_counter() - t0
    write(out, result)


def stall(name: str, sampling: str, runs: int) -> dict:
    """``runs`` of the time arm for ``name`` with the reference's clamps (`arrival`), by ``sampling``."""
    d = resolve(name)
    cfg = replace(arrival.config(arrival.LR, STALL_STEPS), sampling=sampling, record_every=10)
    trainer = BatchedGaussianFEBM([d] * runs, paper_mixture(), cfg, seed=0)
    third = {}

    def until(step, theta, alive):
        if step == STALL_STEPS // 3:
            third["theta"] = GAUSSIAN.mean_sd(theta.detach().double())
        return False

    trainer.train(until=until)
    x_p, z = trainer.sample(cfg.batch)
    mu_sd = GAUSSIAN.mean_sd(trainer.theta)
    x_q = mu_sd[:, :1] + mu_sd[:, 1:] * z
    hi = REFERENCE_CLAMPS[name][1]
    beyond = {k: (trainer.critic(trainer.omega, x) + trainer.energy(trainer.theta, x) > hi).double().mean(1).tolist()
              for k, x in (("p", x_p), ("q", x_q))}
    g_theta, g_omega = trainer.gradients(x_p, x_q, ("theta", "omega"))
    minimizer = torch.tensor(arrival.exact_minimizer(d, paper_mixture()))
    final = GAUSSIAN.mean_sd(trainer.theta.detach().double())
    return {"steps": STALL_STEPS, "clamp": hi, "final": final.tolist(),
            "error": (final - minimizer).abs().amax(dim=1).tolist(), "from_step": STALL_STEPS // 3,
            "moved": (final - third["theta"]).abs().amax(dim=1).tolist(),
            "beyond_clamp": beyond, "grad_theta": g_theta.norm(dim=1).tolist(),
            "grad_omega": g_omega.norm(dim=1).tolist()}


def stall_again(out: str, base: str) -> None:
    """``base``'s result with the stall part measured again, as a new file ``out``."""
    limit_threads(1)
    result = load(base)
    result["stall"] = stalls()
    write(out, result)


def stalls() -> dict:
    arms = (("quadrature", arrival.PREDICTION_SEEDS), ("iid", arrival.SEEDS))
    return {s: stall("pearson_chi2", s, k) for s, k in arms}


def text(path: str, calibration: str) -> str:
    d = load(path)
    rows = {r["name"]: r for r in d["calibrate"]["rows"]}
    exact = next(r for r in load(calibration)["rows"] if r["name"] == "kl")
    out = []
    for name, label in (("kl", "KL"), ("pearson_chi2", "Pearson χ²")):
        r = rows[name]
        pred, meas = r["predicted"], r["measured"]
        out.append(f"- **{label}, clamped.** The flow comes to |F| = {r['residual']:.2g}, "
                   f"{r['equilibrium']['distance_to_minimizer']:.2g} from the exact minimizer; η_max predicted "
                   f"{_num(pred['eta_max'])}, measured {_num(meas['eta_max'])}; rate predicted {_num(pred['rate'])}, "
                   f"measured {_num(meas['rate'])}.")
    kl = rows["kl"]
    out.append(f"- **The clamp changes KL's game.** Exact links (the calibration above): η_max "
               f"{_num(exact['predicted']['eta_max'])} and rate {_num(exact['predicted']['rate'])}; the "
               f"reference's clamp: {_num(kl['predicted']['eta_max'])} and {_num(kl['predicted']['rate'])} "
               f"({kl['predicted']['eta_max'] / exact['predicted']['eta_max']:.2f}× and "
               f"{kl['predicted']['rate'] / exact['predicted']['rate']:.2f}×).")
    for arm, label in (("quadrature", "noise-free flows"), ("iid", "minibatch runs")):
        s = d["stall"][arm]
        err = ", ".join(f"{e:.2f}" for e in s["error"])
        every = all(v == 1.0 for side in s["beyond_clamp"].values() for v in side)
        share = "every" if every else f"{min(min(v) for v in s['beyond_clamp'].values()):.0%} of the"
        out.append(f"- **Pearson χ², {len(s['error'])} {label} from the reference's start.** After {s['steps']} "
                   f"steps they end {err} from the minimizer, and from step {s['from_step']} on θ moved by at "
                   f"most {max(s['moved']):.1g}. At the end {share} point of the last batch (p and q) has r "
                   f"above the clamp ({s['clamp']:g}), where g' = h' = 0: the critic's gradient norm is "
                   f"{max(s['grad_omega']):.1g} and θ's at most {max(s['grad_theta']):.1g}.")
    return "\n".join(out)


def _num(x) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.4g}"


def commands(verbs) -> None:
    verb(verbs, "run", run, "calibrate KL and Pearson χ² with the clamps, and the stall (about 10 min)", "out",
         writes="out")
    verb(verbs, "stall", stall_again, "the stall part again (3 min): BASE's result with it, as a new file",
         "out", "base", writes="out")
    verb(verbs, "text", text, "the bullets in docs/trained-game.md", "path", "calibration")
