"""Stochastic confirmation of the linearization: batched minibatch f-EBM runs near a
realizable equilibrium, against the rate the Jacobian predicts.

Every run starts at z* + size·v, with v the slowest mode of the discrete update map M, and
takes minibatch steps (exact samples of p = q_θ* and of q_θ). Each run has a twin started at
z* that sees the same minibatches (common random numbers). The run-average of the difference
follows M to first order: the shared noise cancels, and so does the drift that noise alone
induces through the curvature of F (without the twins it biases the fitted rate by ~5%). Its
norm decays (or grows) like |μ|^t for the eigenvalue μ of v. Runs are batched with torch.func.vmap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import vmap

from divergences import divergence as resolve

from . import equilibrium, jacobian, simulate, spectrum
from .fields import GDAField
from .game import Game

GROWTH_START = 0.02  # unstable runs start at 0.02·size and grow by e^decay
MAX_STEPS = 3000


@dataclass
class Confirmation:
    update: str
    eta_theta: float
    eta_omega: float
    predicted_rate: float  # log|μ| per step
    measured_rate: float | None
    rate_sd: float | None  # bootstrap over runs
    relative_error: float | None
    steps: int
    mean_deviation: np.ndarray  # ‖mean over runs of z − z*‖ per step (transverse)
    mean_distance: np.ndarray  # mean over runs of ‖z − z_twin‖ per step

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if not isinstance(v, np.ndarray)}
        d["final_mean_deviation"] = float(self.mean_deviation[-1])
        return d


def _step_map(G, n_theta, eta, ratio, update):
    if update == "alternating":
        return spectrum.alternating_matrix(G, n_theta, eta, ratio * eta)
    return np.eye(len(G)) + spectrum.flow_jacobian(G, n_theta, eta, ratio * eta)


def _run(game, sample_p, z0, z_star, eta_t, eta_o, update, steps, runs, batch, seed):
    """Batched minibatch runs and their twins from z*; returns (steps + 1, runs, n) differences."""
    gen = torch.Generator().manual_seed(seed)
    grads = vmap(game.sample_gradients)
    model = game.model
    n_t = game.dim_theta
    Z = torch.cat([z0.repeat(runs, 1), z_star.repeat(runs, 1)])
    shape = (runs, batch) + sample_p.event_shape

    def twice(x):
        return torch.cat([x, x])

    def minibatch_grads(Z):
        theta, omega = Z[:, :n_t], Z[:, n_t:]
        x_p = twice(sample_p(torch.randn(shape, generator=gen, dtype=Z.dtype)))
        x_q = vmap(model.sample)(theta, twice(torch.randn(shape, generator=gen, dtype=Z.dtype)))
        return grads(theta, omega, x_p, x_q)

    out = [Z]
    for _ in range(steps):
        g_t, g_o = minibatch_grads(Z)
        if update == "alternating":
            Z = torch.cat([Z[:, :n_t], Z[:, n_t:] + eta_o * g_o], dim=1)
            g_t, _ = minibatch_grads(Z)
            Z = torch.cat([Z[:, :n_t] - eta_t * g_t, Z[:, n_t:]], dim=1)
        else:
            Z = torch.cat([Z[:, :n_t] - eta_t * g_t, Z[:, n_t:] + eta_o * g_o], dim=1)
        out.append(Z)
    traj = torch.stack(out)
    return traj[:, :runs] - traj[:, runs:]


class _DataSampler:
    """Exact samples of p = q_θ* from standard normals."""

    def __init__(self, model, theta_star, event_shape):
        self.model, self.theta_star, self.event_shape = model, theta_star, event_shape

    def __call__(self, z):
        return vmap(lambda zz: self.model.sample(self.theta_star, zz))(z)


def _fit(dev: np.ndarray, period):
    """Least-squares slope of log ‖mean deviation‖ (a real slowest mode); for a complex one,
    the period-aligned two-point rate of :func:`simulate.measure_rate`."""
    if period is None:
        t = np.arange(len(dev), dtype=float)
        return float(np.polyfit(t, np.log(dev), 1)[0])
    traj = simulate.Trajectory(np.arange(len(dev), dtype=float), dev, False)
    return simulate.measure_rate(traj, period, start_drop=0.5).rate


def confirm(spec_text: str, model: str = "gaussian-1d", lr_ratio: float = 1.0, runs: int = 128,
            batch: int = 4096, size: float = 0.05, decay: float = 3.0, seed: int = 0,
            updates=("simultaneous", "alternating"), bootstrap: int = 100) -> dict:
    """Predicted vs measured per-step rates of stochastic simultaneous and alternating GDA."""
    from toy_models import setup

    t0 = time.perf_counter()
    div = resolve(spec_text).validate()
    s = setup(model)
    if not hasattr(s.model, "sample"):
        raise ValueError(f"model {model!r} has no exact sampler from standard normals")
    game = Game.from_setup(div, s)
    z_star = s.z_star
    G = jacobian.autodiff(GDAField(game), z_star).numpy()
    gauge = equilibrium.gauge_directions(GDAField(game), z_star, torch.as_tensor(G))
    P = simulate.projector(len(z_star), gauge)
    event = tuple(s.data.nodes().x.shape[1:])  # () in 1-D, (2,) in 2-D
    sample_p = _DataSampler(s.model, s.theta_star, event)
    eta_sim = spectrum.eta_max_simultaneous(spectrum.flow_jacobian(G, game.dim_theta, 1.0, lr_ratio), gauge)
    eta_alt = spectrum.eta_max_alternating(G, game.dim_theta, lr_ratio, gauge)
    results = {}
    for k, update in enumerate(updates):
        edge = eta_sim if update == "simultaneous" else eta_alt
        eta = 0.5 * edge if edge is not None else 0.02
        M = _step_map(G, game.dim_theta, eta, lr_ratio, update)
        growing = spectrum.spectral_radius(spectrum.transverse(M, gauge)) > 1
        start = size * GROWTH_START if growing else size  # growth is read before it turns nonlinear
        z0, mu = simulate.mode_start(z_star, M, start, gauge, discrete=True)
        predicted = float(np.log(np.abs(mu)))
        steps = int(min(MAX_STEPS, max(20, decay / max(abs(predicted), 1e-9))))
        diff = _run(game, sample_p, z0, z_star, eta, lr_ratio * eta, update, steps, runs, batch, seed + k)
        dev = diff.numpy() @ P  # (steps + 1, runs, n), transverse
        mean_dev = np.linalg.norm(dev.mean(axis=1), axis=1)
        period = 2 * np.pi / abs(np.angle(mu)) if abs(np.angle(mu)) > 1e-9 else None
        rate = _fit(mean_dev, period)
        rng = np.random.default_rng(seed)
        boots = [_fit(np.linalg.norm(dev[:, rng.integers(0, runs, runs)].mean(axis=1), axis=1), period)
                 for _ in range(bootstrap)]
        boots = [b for b in boots if b is not None]
        results[update] = Confirmation(
            update, eta, lr_ratio * eta, predicted, rate, float(np.std(boots)) if boots else None,
            None if rate is None else abs(rate - predicted) / abs(predicted), steps, mean_dev,
            np.linalg.norm(dev, axis=2).mean(axis=1),
        )
    return {
        "name": div.name, "model": s.name, "lr_ratio": lr_ratio, "runs": runs, "batch": batch,
        "initial_distance": size, "results": results, "elapsed_s": time.perf_counter() - t0,
        "stable_flow": bool(np.max(np.linalg.eigvals(spectrum.transverse(
            spectrum.flow_jacobian(G, game.dim_theta, 1.0, lr_ratio), gauge)).real) < 0),
    }


def as_json(out: dict) -> dict:
    d = {k: v for k, v in out.items() if k != "results"}
    d["results"] = {k: v.as_dict() for k, v in out["results"].items()}
    return d


__all__ = ["Confirmation", "as_json", "confirm"]
