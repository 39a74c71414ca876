"""The exact minimizer of D_f(p ‖ q_{μ,σ}) over Gaussians q, by quadrature and optimization.

D_f(P‖Q) = E_Q[f(p/q)] = ∫ q f(p/q) dx is evaluated with a fine Gauss–Legendre rule in
log space (q·f(p/q) computed from log p − log q, so the tails neither overflow nor
underflow) and minimized over (μ, log σ) with scipy's Nelder–Mead, then polished.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quadrature import gauss_legendre

INFINITE = 1e300  # the objective where D_f is not finite: the fitter moves away from it


@dataclass
class GaussianFit:
    mu: float
    sigma: float
    value: float  # D_f at the minimizer
    success: bool
    message: str


def divergence_to_gaussian(f_np, log_p, mu: float, sigma: float, x: np.ndarray, w: np.ndarray) -> float:
    """∫ q f(p/q) dx for q = N(μ, σ²) (scipy's log-density), on the nodes x with weights w."""
    from scipy.stats import norm

    return divergence_on_nodes(f_np, log_p, norm.logpdf(x, mu, sigma), w)


def divergence_on_nodes(f_np, log_p: np.ndarray, log_q: np.ndarray, w: np.ndarray) -> float:
    """Σ w q f(p/q) from log p and log q at the nodes. Where q underflows, q f(p/q) → 0 for the
    generators here (f(t) grows at most like t²); NaN or ∞ where D_f is not finite."""
    q = np.exp(log_q)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        integrand = q * f_np(np.exp(log_p - log_q))
    return float(np.sum(w * np.where(q > 0, integrand, 0.0)))


def fit_gaussian(f_np, log_p, start=(0.0, 1.0), lo=-20.0, hi=24.0, nodes=1500) -> GaussianFit:
    """argmin over (μ, σ) of D_f(p‖N(μ, σ²)); ``log_p`` is a numpy callable."""
    from scipy.optimize import minimize

    x, w = (a.numpy() for a in gauss_legendre(lo, hi, nodes))  # cached: numpy's rule is an eigensolve
    lp = log_p(x)

    def objective(v):
        value = divergence_to_gaussian(f_np, lp, v[0], np.exp(v[1]), x, w)
        return value if np.isfinite(value) else INFINITE

    v0 = np.array([start[0], np.log(start[1])])
    coarse = minimize(objective, v0, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-10})
    fine = minimize(objective, coarse.x, method="BFGS", options={"gtol": 1e-10})
    best = fine if fine.fun <= coarse.fun else coarse
    if best.fun >= INFINITE:  # never finite: the start is returned, and it is no minimizer
        return GaussianFit(float(best.x[0]), float(np.exp(best.x[1])), float("inf"), False,
                           "D_f(p‖q) is infinite for every Gaussian q the fitter tried")
    return GaussianFit(float(best.x[0]), float(np.exp(best.x[1])), float(best.fun),
                       bool(coarse.success), str(best.message))


def minimize_divergence(f_np, log_p: np.ndarray, log_q, w: np.ndarray, theta0) -> tuple[np.ndarray, float, bool]:
    """argmin over θ of D_f(p‖q_θ) = Σ w q f(p/q) on fixed nodes, for any model family.

    ``log_p`` holds log p at the nodes and ``log_q(θ)`` returns log q_θ there (normalized).
    Nelder–Mead, then BFGS from its result; returns (θ, D_f, success).
    """
    from scipy.optimize import minimize

    def objective(theta):
        value = divergence_on_nodes(f_np, log_p, log_q(theta), w)
        return value if np.isfinite(value) else INFINITE

    theta0 = np.asarray(theta0, dtype=float)
    coarse = minimize(objective, theta0, method="Nelder-Mead",
                      options={"xatol": 1e-6, "fatol": 1e-12, "maxiter": 4000 * len(theta0)})
    fine = minimize(objective, coarse.x, method="BFGS", options={"gtol": 1e-10})
    best = fine if fine.fun <= coarse.fun else coarse
    return best.x, float(best.fun), bool(coarse.success or fine.success)
