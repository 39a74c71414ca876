"""The local rate on paper-1d: how fast the error falls near the minimizer.

Predicted (a two-timescale reading): with the critic at its best response, θ descends D_f itself,
since ∇_θ L(θ, ω*(θ)) = ∇_θ D_f(p‖q_θ) (the envelope theorem; H + E = log p/q maximizes L for every
strictly convex f). SGD on (μ, σ) with step η then shrinks the slowest error component by
1 − η λ_min per step, λ_min the smallest eigenvalue of ∇²D_f at θ* in (μ, σ): the rate is
−log(1 − η λ_min) per step. The critic's own dynamics are left out; where it lags θ, the measured
rate falls below the prediction.

Measured: the noise-free flows of `arrival` (sampling "quadrature", the reference's settings with
its step `arrival.LR`) run on from the standard start until the error is ≤ `RATE_END`; the rate is
minus the least-squares slope of log(error) against the step over the stretch from the first
error ≤ `RATE_START` to the first ≤ `RATE_END`. Thresholds fixed here before measuring.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...divergences import resolve
from ...toy_models.exact_fit import divergence_to_gaussian
from ...toy_models.quadrature import gauss_legendre
from . import arrival

RATE_START, RATE_END = 0.02, 0.002  # the error window of the fit
RATE_SEEDS = 2  # critic initialisations of the measuring flows
MIN_POINTS = 10  # recorded errors a fit needs
HESSIAN_STEP = 1e-3  # central differences of D_f in (μ, σ)


def divergence_hessian(spec, data) -> tuple[np.ndarray, tuple[float, float]]:
    """∇²D_f(p‖N(μ, σ²)) in (μ, σ) at the exact minimizer, by central differences of quadrature."""
    d = resolve(spec).validate()
    f = d.function("f")
    x, w = (a.numpy() for a in gauss_legendre(-20.0, 24.0, 1500))
    log_p = data.log_prob(torch.as_tensor(x)).numpy()
    mu, sigma = arrival.exact_minimizer(d, data)
    h = HESSIAN_STEP

    def D(dm, ds):
        return divergence_to_gaussian(f, log_p, mu + dm, sigma + ds, x, w)

    steps = ((h, 0.0), (0.0, h))
    H = np.empty((2, 2))
    for i, a in enumerate(steps):
        for j, b in enumerate(steps):
            H[i, j] = (D(a[0] + b[0], a[1] + b[1]) - D(a[0] - b[0], a[1] - b[1])
                       - D(-a[0] + b[0], -a[1] + b[1]) + D(-a[0] - b[0], -a[1] - b[1])) / (4 * h * h)
    return (H + H.T) / 2, (mu, sigma)


def predicted_rate(spec, lr: float = arrival.LR, *, data) -> float | None:
    """−log(1 − η λ_min) per step; None where ∇²D_f is not positive definite (no local rate)."""
    lam = float(np.linalg.eigvalsh(divergence_hessian(spec, data)[0]).min())
    return -math.log(1 - lr * lam) if 0 < lr * lam < 1 else None


def fitted_rate(steps, errors) -> float | None:
    """Minus the slope of log(error) against the step, from the first error ≤ RATE_START to the
    first ≤ RATE_END (or the end); None with fewer than MIN_POINTS there or a non-finite error."""
    steps, errors = np.asarray(steps, float), np.asarray([np.nan if e is None else e for e in errors], float)
    below = np.nonzero(errors <= RATE_START)[0]
    if len(below) == 0:
        return None
    end = np.nonzero(errors <= RATE_END)[0]
    stop = end[0] + 1 if len(end) else len(errors)
    s, e = steps[below[0]:stop], errors[below[0]:stop]
    if len(s) < MIN_POINTS or not np.all(np.isfinite(e)) or np.any(e <= 0):
        return None
    return float(-np.polyfit(s, np.log(e), 1)[0])


def measured_rate(spec, seed: int = 0, lr: float = arrival.LR, horizon: int = arrival.MAX_STEPS,
                  critic_sizes=(1, 64, 64, 1), *, data) -> tuple[float | None, dict]:
    """The median fitted rate of `RATE_SEEDS` noise-free flows, and the flows' record."""
    run = arrival.arrivals(spec, "quadrature", RATE_SEEDS, horizon, seed, lr=lr, critic_sizes=critic_sizes,
                           target=RATE_END, trace=True, data=data)
    trace = run.trace
    rates = [fitted_rate(trace["step"], [row[k] for row in trace["error"]]) for k in range(RATE_SEEDS)]
    found = [r for r in rates if r is not None]
    median = float(np.median(found)) if found and len(found) * 2 >= len(rates) else None
    return median, {"rates": rates, "arrived": run.steps, "non_finite": run.non_finite, "last_step": run.last_step}
