"""The stationary spread of minibatch GDA at an equilibrium: predicted (mean-square analysis of the
linearization, `.analysis.mean_square`) against measured (many seeded runs started at z*).

Runs take simultaneous steps with batch B and η_θ = fraction·η_ms, η_ω = ratio·η_θ, where η_ms is
the mean-square edge at batch B (a stationary second moment exists only below it; near it the
multiplicative noise of the minibatch Jacobian is a large part of the spread). After a
burn-in of five relaxation times of the second moment (ρ(𝒯) per step), the deviations z_t − z* of every run and
step are pooled; their covariance is compared with the stationary P. The error bar is the sd of
the per-run traces over √runs (runs are independent; steps within a run are not).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ...divergences import resolve
from ...errors import InputError
from ...toy_models import Setup, setup
from ..analysis import Game
from ..analysis.local import LocalAnalysis
from ..analysis.mean_square import mean_square
from ..report import Report
from ..training.minibatch import check_memory, minibatch_run, require_samplers


@dataclass
class SpreadReport(Report):
    name: str
    model: str
    batch: int
    eta_theta: float
    lr_ratio: float
    eta_max: float  # deterministic edge of simultaneous steps
    eta_ms: float  # mean-square edge with batch B; η_θ is a fraction of it
    runs: int
    steps: int
    burn_in: int
    predicted_trace: float  # trace of the stationary P (transverse coordinates)
    predicted_additive_trace: float  # the same without multiplicative noise (plain Lyapunov)
    measured_trace: float
    measured_sd: float  # sd of measured_trace over independent runs
    relative_error: float
    diverged_runs: int  # runs that stopped being finite (heavy tails); left out of the measurement
    predicted_theta_sd: list = field(default_factory=list)
    measured_theta_sd: list = field(default_factory=list)
    elapsed_s: float = 0.0

    def text(self) -> str:
        return (f"{self.name} on {self.model}, batch {self.batch}, η_θ = {self.eta_theta:.4g} "
                f"(η_max {self.eta_max:.4g}, mean-square edge {self.eta_ms:.4g}): stationary tr P predicted "
                f"{self.predicted_trace:.4g} (additive noise only {self.predicted_additive_trace:.4g}), measured "
                f"{self.measured_trace:.4g} ± {self.measured_sd:.2g} over {self.runs - self.diverged_runs} runs × "
                f"{self.steps} steps (relative error {self.relative_error:.1%})"
                + (f"; {self.diverged_runs} of {self.runs} runs stopped being finite" if self.diverged_runs else ""))


MAX_BURN = 100_000  # burn-in steps: past them the fraction is too near 0 or 1 for the runs to settle


def _burn_in(lin, ms, eta: float, lr_ratio: float) -> float:
    """Five relaxation times of the second moment, in steps (inf where it does not relax).

    It relaxes at ρ(𝒯) per step, slower than the mean (ρ(M)²) near the edge. Near a fraction of 0
    or 1, ρ → 1 and the burn-in grows without bound: the cause of the hangs at --spread 1e-9 and
    0.999999 (1.5e11 and 9e6 steps for kl on gaussian-1d at batch 2); at 1e-300, ρ rounds to
    above 1."""
    relax = -np.log(max(ms.radius(eta), lin.radius("simultaneous", eta, lr_ratio) ** 2))
    return float(np.ceil(5 / relax)) if relax > 0 and np.isfinite(relax) else float("inf")


def _shown(steps: float) -> str:
    return "never ends: ρ(𝒯) rounds to 1" if not np.isfinite(steps) else f"takes {steps:,.0f} steps"


def spread(spec, model: str | Setup = "gaussian-1d", batch: int = 256, fraction: float = 0.5,
           lr_ratio: float = 1.0, runs: int = 64, steps: int = 1500, seed: int = 0) -> SpreadReport:
    """Predicted and measured stationary covariance of simultaneous minibatch GDA at z*, with
    η_θ = ``fraction`` of the mean-square edge at batch B (0 < fraction < 1)."""
    t0 = time.perf_counter()
    if not 0 < fraction < 1:
        raise InputError(f"the spread's fraction of the mean-square edge must be in (0, 1), not {fraction:g}: "
                         "above the edge there is no stationary spread to predict")
    div = resolve(spec).validate()
    s = setup(model)
    require_samplers(s)
    game = Game.from_setup(div, s)
    lin = LocalAnalysis.build(div, s, lr_ratio).require().lin  # exit 2 without an equilibrium
    eta_max = lin.eta_max("simultaneous", lr_ratio)
    ms = mean_square(lin, batch, lr_ratio)
    eta_ms = None if eta_max is None else ms.edge(eta_max)
    if eta_ms is None:
        raise InputError(f"{div.name} on {s.name}: no step size keeps the second moment bounded at batch {batch}")
    eta = fraction * eta_ms
    burn = _burn_in(lin, ms, eta, lr_ratio)
    if burn > MAX_BURN:
        raise InputError(f"--spread {fraction:g}: the second moment relaxes too slowly there (a burn-in of five "
                         f"relaxation times {_shown(burn)}; at most {MAX_BURN:,} steps); "
                         f"at 0.5 it {_shown(_burn_in(lin, ms, 0.5 * eta_ms, lr_ratio))}: "
                         "choose one further from 0 and from 1")
    check_memory(game, runs // 2 + 1, batch, burn + steps, "febm confirm --spread")
    gen = torch.Generator().manual_seed(seed)
    Z = lin.z_star.repeat(runs, 1)
    burn = int(burn)
    traj = minibatch_run(game, s.data, Z, eta, lr_ratio * eta, "simultaneous", burn + steps, batch, gen)
    Q = lin.projector()
    alive = torch.isfinite(traj).all(dim=2).all(dim=0).numpy()
    if not alive.any():  # no spread was measured: not a nan over 0 runs
        raise InputError(f"{div.name} on {s.name}: all {runs} runs stopped being finite at {fraction:g} of the "
                         f"mean-square edge with batch {batch}; no spread to measure (try a larger --batch or a "
                         "smaller --spread)")
    dev = (traj[burn + 1:, alive] - lin.z_star).numpy() @ Q  # (steps, live runs, n)
    centred = dev - dev.mean(axis=(0, 1))
    per_run = np.einsum("tri,tri->r", centred, centred) / steps
    P = Q @ ms.stationary(eta) @ Q
    predicted, measured = float(np.trace(P)), float(per_run.mean())
    n_t = game.dim_theta
    cov = np.einsum("tri,trj->ij", centred, centred) / (steps * int(alive.sum()))
    return SpreadReport(
        div.name, s.name, batch, eta, lr_ratio, eta_max, eta_ms, runs, steps, burn, predicted,
        float(np.trace(Q @ ms.stationary_additive(eta) @ Q)), measured,
        float(per_run.std() / np.sqrt(max(len(per_run), 1))), abs(measured - predicted) / predicted,
        int(runs - alive.sum()),
        [float(v) for v in np.sqrt(np.diag(P)[:n_t])], [float(v) for v in np.sqrt(np.diag(cov)[:n_t])],
        time.perf_counter() - t0,
    )
