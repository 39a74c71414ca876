"""Stochastic confirmation of the linearization: batched minibatch f-EBM runs near an
equilibrium, against the rate the Jacobian predicts.

Every run starts at z* + size·v, with v the slowest mode of the discrete update map M, and
takes minibatch steps (samples of p and exact samples of q_θ). Each run has a twin started at
z* that sees the same minibatches (common random numbers). The run-average of the difference
follows M to first order: the shared noise cancels, and so does the drift that noise alone
induces through the curvature of F (without the twins it biases the fitted rate by ~5%). Its
norm decays (or grows) like |μ|^t for the eigenvalue μ of v. Runs are batched with torch.func.vmap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ...divergences import resolve
from ...toy_models import Setup, setup
from ..analysis import Game, oscillation_period, simulate
from ..analysis.local import LocalAnalysis
from ..report import Report
from ..training.minibatch import check_memory, minibatch_run, require_samplers
from ..training.monitor import progress_bar

GROWTH_START = 0.02  # unstable runs start at 0.02·size and grow by e^decay
MAX_STEPS = 3000


@dataclass
class Confirmation:
    """One update order's predicted and measured rate. The JSON keeps the final mean deviation, not
    the per-step curves (loaded back, they are empty)."""

    update: str
    eta_theta: float
    eta_omega: float
    predicted_rate: float  # log|μ| per step
    measured_rate: float | None
    rate_sd: float | None  # bootstrap over runs
    relative_error: float | None
    steps: int
    mean_deviation: np.ndarray = field(default_factory=lambda: np.array([]))  # ‖mean over runs of z − z*‖ per step
    mean_distance: np.ndarray = field(default_factory=lambda: np.array([]))  # mean over runs of ‖z − z_twin‖ per step
    diverged_runs: int = 0  # run pairs that stopped being finite: left out of the measurement
    final_mean_deviation: float | None = None  # the last of mean_deviation (None: no run left)
    json_drop = ("mean_deviation", "mean_distance")


@dataclass
class ConfirmReport(Report):
    name: str
    model: str
    lr_ratio: float
    runs: int
    batch: int
    initial_distance: float
    elapsed_s: float
    stable_flow: bool
    results: dict[str, Confirmation] = field(kw_only=True)  # last in the JSON, after the settings

    def text(self) -> str:
        lines = [f"febm confirm {self.name} on {self.model} (η_ω/η_θ = {self.lr_ratio:g}): "
                 f"{self.runs} coupled run pairs, batch {self.batch}, {self.elapsed_s:.1f} s"]
        for res in self.results.values():
            measured = "n/a" if res.measured_rate is None else f"{res.measured_rate:.5g} ± {res.rate_sd:.1g}"
            err = "" if res.relative_error is None else f"  (relative error {res.relative_error:.1%})"
            lost = (f"; {res.diverged_runs} of {self.runs} run pairs stopped being finite and are left out"
                    if res.diverged_runs else "")
            lines.append(f"  {res.update:12} η_θ = {res.eta_theta:.4g}: predicted {res.predicted_rate:.5g} "
                         f"per step, measured {measured} over {res.steps} steps{err}: {agreement(res)}{lost}")
        return "\n".join(lines)


def agreement(res) -> str:
    """Whether one measured rate agrees with the prediction: within 5%, or within two bootstrap sd."""
    if res.measured_rate is None:
        return "no measurement"
    gap = abs(res.measured_rate - res.predicted_rate)
    if gap <= 0.05 * abs(res.predicted_rate) or (res.rate_sd is not None and gap <= 2 * res.rate_sd):
        return "agrees"
    return "DISAGREES (more than 5% and 2 sd apart)"


def _run(game, data, z0, z_star, eta_t, eta_o, update, steps, runs, batch, seed, bar=None):
    """Batched minibatch runs and their twins from z*; returns (steps + 1, runs, n) differences."""
    gen = torch.Generator().manual_seed(seed)
    Z = torch.cat([z0.repeat(runs, 1), z_star.repeat(runs, 1)])
    traj = minibatch_run(game, data, Z, eta_t, eta_o, update, steps, batch, gen, copies=2, bar=bar)
    return traj[:, :runs] - traj[:, runs:]


def _fit(dev: np.ndarray, period):
    """Least-squares slope of log ‖mean deviation‖ (a real slowest mode); for a complex one,
    the period-aligned two-point rate of `simulate.measure_rate`."""
    if period is None:
        t = np.arange(len(dev), dtype=float)
        return float(np.polyfit(t, np.log(dev), 1)[0])
    traj = simulate.Trajectory(np.arange(len(dev), dtype=float), dev)
    return simulate.measure_rate(traj, period, start_drop=0.5).rate


def _measured(mean_dev: np.ndarray, period) -> float | None:
    """The fitted rate, or None where there is nothing finite to fit (no run left, or a deviation
    that reached 0 or overflowed): printed as "n/a", never as nan ± nan."""
    if len(mean_dev) < 2 or not np.all(np.isfinite(mean_dev)) or np.any(mean_dev <= 0):
        return None
    with np.errstate(all="ignore"):
        rate = _fit(mean_dev, period)
    return rate if rate is not None and np.isfinite(rate) else None


def confirm(spec: str, model: str | Setup = "gaussian-1d", lr_ratio: float = 1.0, runs: int = 128,
            batch: int = 4096, size: float = 0.05, decay: float = 3.0, seed: int = 0,
            updates=("simultaneous", "alternating"), bootstrap: int = 100, progress: bool = True) -> ConfirmReport:
    """Predicted vs measured per-step rates of stochastic simultaneous and alternating GDA.

    ``spec`` is a divergence (name, expression or Divergence), ``model`` a set-up (name,
    ``path/to/file.py:NAME`` or Setup).
    """
    t0 = time.perf_counter()
    div = resolve(spec).validate()
    s = setup(model)
    require_samplers(s)
    game = Game.from_setup(div, s)
    check_memory(game, runs, batch, MAX_STEPS, "febm confirm")
    lin = LocalAnalysis.build(div, s, lr_ratio).require().lin  # exit 2 without an equilibrium
    P = lin.projector()
    results = {}
    for k, update in enumerate(updates):
        edge = lin.eta_max(update, lr_ratio)
        eta = 0.5 * edge if edge is not None else 0.02
        M = lin.step_matrix(update, eta, lr_ratio)
        growing = lin.radius(update, eta, lr_ratio) > 1
        start = size * GROWTH_START if growing else size  # growth is read before it turns nonlinear
        z0, mu = lin.mode_start(M, start, discrete=True)
        predicted = float(np.log(np.abs(mu)))
        steps = int(min(MAX_STEPS, max(20, decay / max(abs(predicted), 1e-9))))
        bar = progress_bar(steps, progress, f"febm confirm: {update}")
        diff = _run(game, s.data, z0, lin.z_star, eta, lr_ratio * eta, update, steps, runs, batch, seed + k, bar)
        bar.close()
        with np.errstate(invalid="ignore", over="ignore"):  # an overflowed run is dropped just below
            dev = diff.numpy() @ P  # (steps + 1, runs, n), transverse
        finite = np.isfinite(dev).all(axis=(0, 2))  # a run pair that overflowed measures nothing
        dev = dev[:, finite]
        live = int(finite.sum())
        mean_dev = np.linalg.norm(dev.mean(axis=1), axis=1) if live else np.array([])
        period = oscillation_period(mu, per_step=True)
        rate = _measured(mean_dev, period)
        rng = np.random.default_rng(seed)
        boots = [] if rate is None else [
            _measured(np.linalg.norm(dev[:, rng.integers(0, live, live)].mean(axis=1), axis=1), period)
            for _ in range(bootstrap)]
        boots = [b for b in boots if b is not None]
        results[update] = Confirmation(
            update, eta, lr_ratio * eta, predicted, rate, float(np.std(boots)) if boots else None,
            None if rate is None else abs(rate - predicted) / abs(predicted), steps, mean_dev,
            np.linalg.norm(dev, axis=2).mean(axis=1) if live else np.array([]), runs - live,
            float(mean_dev[-1]) if len(mean_dev) else None,
        )
    return ConfirmReport(
        div.name, s.name, lr_ratio, runs, batch, size, time.perf_counter() - t0,
        bool(lin.spectrum(lr_ratio).transverse_max_real < 0), results=results,
    )
