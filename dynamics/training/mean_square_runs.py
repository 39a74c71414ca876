"""The mean-square edge measured: seeded minibatch runs of the trained game from its resting point.

`SEEDS` runs of simultaneous SGD (step η on both players, θ = (μ, log σ), batch B i.i.d. from p and
from q_θ, no clip, no schedule: the recursion `analysis.mean_square_modes` linearizes) start at the
full-batch flow's resting point z on paper-1d with the network critic. A run fails when it stops
being finite or θ leaves the ball max|θ − θ_z| ≤ `BALL` within `HORIZON` steps. The measured edge
at batch B is the η at which half of the runs fail: bisection on log η until the bracket is
`RESOLUTION` wide (relative). Thresholds fixed here before measuring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from .reference import REFERENCE_EXACT
from .trainer import BatchedGaussianFEBM

SEEDS = 16
BATCH = 1000  # the reference code's
HORIZON = 1000
BALL = 0.5  # in (μ, log σ)
RESOLUTION = 0.1  # the final bracket's relative width
SPAN = 4.0  # the first bracket: [guess / SPAN, guess · SPAN], widened until it holds the edge


@dataclass
class EdgeRuns:
    eta: float | None  # the bracket's geometric midpoint (None: not bracketed)
    bracket: tuple  # (largest η with fewer than half failing, smallest with at least half)
    failed: dict  # η -> runs failed of SEEDS
    batch: int
    horizon: int


def config(eta: float, batch: int, horizon: int, critic_sizes, link_clip=None) -> object:
    return replace(REFERENCE_EXACT, lr_theta=eta, lr_omega=eta, batch=batch, steps=horizon, update="simultaneous",
                   scale_parameter="log_sigma", critic_sizes=tuple(critic_sizes), record_every=10,
                   link_clip=link_clip, dtype=torch.float32)


def runs(div, z: torch.Tensor, eta: float, batch: int, seeds: int = SEEDS, horizon: int = HORIZON,
         seed: int = 0, critic_sizes=(1, 64, 64, 1), link_clip=None, *, data) -> tuple[torch.Tensor, torch.Tensor]:
    """``seeds`` runs from z for ``horizon`` steps (fewer once every run has failed): (which runs
    stopped being finite or left the ball, each run's θ at the end). ``link_clip``: the trainer's
    clamps (None: the exact links)."""
    trainer = BatchedGaussianFEBM([div] * seeds, data,
                                  config(eta, batch, horizon, critic_sizes, link_clip), seed=seed)
    theta0 = z[:2].to(trainer.theta.dtype)
    trainer.theta = theta0.expand(seeds, 2).clone()
    trainer.omega = z[2:].to(trainer.omega.dtype).expand(seeds, -1).clone()
    out = torch.zeros(seeds, dtype=torch.bool)

    def until(step, theta, alive):
        nonlocal out
        far = (theta.detach().cpu() - theta0).abs().amax(dim=1) > BALL
        out |= far | ~alive.cpu()
        return bool(out.all())

    result = trainer.train(until=until)
    return out, result.theta.detach().cpu().double()


def failures(div, z, eta, batch, seeds=SEEDS, horizon=HORIZON, seed=0, critic_sizes=(1, 64, 64, 1),
             link_clip=None, *, data) -> int:
    """How many of ``seeds`` runs from z stop being finite or leave the ball within ``horizon`` steps."""
    return int(runs(div, z, eta, batch, seeds, horizon, seed, critic_sizes, link_clip, data=data)[0].sum())


def spread(div, z, eta, batch, seeds=SEEDS, horizon=HORIZON, seed=0, critic_sizes=(1, 64, 64, 1),
           link_clip=None, *, data) -> dict:
    """θ's standard deviation over the runs that stayed in the ball, after ``horizon`` steps at η,
    with a bootstrap-free standard error (sd/√(2(n−1)), the normal approximation)."""
    failed, theta = runs(div, z, eta, batch, seeds, horizon, seed, critic_sizes, link_clip, data=data)
    kept = theta[~failed]
    if len(kept) < 3:
        return {"sd": None, "stderr": None, "kept": len(kept)}
    sd = (kept - z[:2].double()).pow(2).mean(0).sqrt()  # about the start, as the recursion's P is
    return {"sd": sd.tolist(), "stderr": (sd / math.sqrt(2 * len(kept))).tolist(), "kept": len(kept)}


def edge(div, z: torch.Tensor, batch: int, guess: float, seeds: int = SEEDS, horizon: int = HORIZON,
         seed: int = 0, critic_sizes=(1, 64, 64, 1), link_clip=None, *, data) -> EdgeRuns:
    """The η at which half of the runs fail, bracketed from ``guess``; every η tried is recorded."""
    failed: dict = {}

    def unstable(eta):
        failed[eta] = failures(div, z, eta, batch, seeds, horizon, seed, critic_sizes, link_clip, data=data)
        return 2 * failed[eta] >= seeds

    lo, hi = guess / SPAN, guess * SPAN
    while unstable(lo) and lo > guess * 1e-4:
        lo, hi = lo / SPAN, lo
    while not unstable(hi) and hi < guess * 1e4:
        lo, hi = hi, hi * SPAN
    if not (lo in failed and hi in failed and 2 * failed[lo] < seeds <= 2 * failed[hi]):
        return EdgeRuns(None, (lo, hi), failed, batch, horizon)
    while hi / lo > 1 + RESOLUTION:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return EdgeRuns(math.sqrt(lo * hi), (lo, hi), failed, batch, horizon)
