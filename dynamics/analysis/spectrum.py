"""Spectral analysis of a linearized f-EBM game.

All functions take the *unit-rate* Jacobian G of z' = (−∇_θ L, ∇_ω L) at an equilibrium
(as a numpy array) and the number of θ coordinates; learning rates enter explicitly.
Gauge directions (null vectors along which the equilibrium is not isolated) are removed
by passing ``gauge``, an orthonormal basis of them: every verdict is then transverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import brentq

from ..report import Verdict

ZERO_TOL = 1e-9  # |λ| below ZERO_TOL·‖J‖ counts as zero; stated in every report


def rate_matrix(n_theta: int, n: int, eta_theta: float, eta_omega: float) -> np.ndarray:
    return np.diag([eta_theta] * n_theta + [eta_omega] * (n - n_theta))


def complement(n: int, gauge: np.ndarray | None) -> np.ndarray:
    """Orthonormal basis (n × k) of the orthogonal complement of span(gauge); I without a gauge."""
    if gauge is None or gauge.shape[1] == 0:
        return np.eye(n)
    return null_space(gauge.T)


def transverse(A: np.ndarray, gauge: np.ndarray | None) -> np.ndarray:
    """The map induced by A on the quotient by the invariant subspace span(gauge)."""
    if gauge is None or gauge.shape[1] == 0:
        return A
    Q = complement(len(A), gauge)
    return Q.T @ A @ Q


def flow_jacobian(G, n_theta, eta_theta=1.0, eta_omega=1.0):
    return rate_matrix(n_theta, len(G), eta_theta, eta_omega) @ G


def alternating_matrix(G, n_theta, eta_theta, eta_omega) -> np.ndarray:
    """Linearization of one alternating step (ω first, then θ at the new ω)."""
    Gtt, Gto = G[:n_theta, :n_theta], G[:n_theta, n_theta:]
    Got, Goo = G[n_theta:, :n_theta], G[n_theta:, n_theta:]
    It, Io = np.eye(n_theta), np.eye(len(G) - n_theta)
    omega_row = np.hstack([eta_omega * Got, Io + eta_omega * Goo])
    theta_row = np.hstack([It + eta_theta * Gtt, eta_theta * Gto]) + eta_theta * Gto @ np.hstack(
        [eta_omega * Got, eta_omega * Goo]
    )
    return np.vstack([theta_row, omega_row])


def spectral_radius(M) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(M)))) if M.size else 0.0


def max_real(J) -> float:
    return float(np.max(np.linalg.eigvals(J).real)) if J.size else -np.inf


@dataclass
class Spectrum:
    """Eigenvalues of the flow Jacobian and what they imply."""

    eigenvalues: np.ndarray
    transverse_eigenvalues: np.ndarray
    max_real: float  # over all eigenvalues
    transverse_max_real: float  # the predicted local rate: distance ~ exp(rate·t)
    tolerance: float  # |Re λ| <= tolerance counts as zero
    zero_modes: int
    gauge_modes: int
    verdict: Verdict
    reason: str
    notes: list[str] = field(default_factory=list)


def analyse(J: np.ndarray, gauge: np.ndarray | None = None, scale: float | None = None) -> Spectrum:
    """Continuous-time verdict from the eigenvalues of J, transverse to ``gauge``.

    Eigenvalues with |Re λ| <= ZERO_TOL·scale count as zero; ``scale`` defaults to ‖J‖₂
    (pass the norm of the f''(1) = 1 Jacobian so that a Jacobian that vanishes with
    f''(1) reads as zero rather than as rounding noise with a sign).
    """
    eig = np.linalg.eigvals(J)
    scale = max(np.linalg.norm(J, 2) if scale is None else scale, 1e-300)
    tol = ZERO_TOL * scale
    zero = int(np.sum(np.abs(eig) <= tol))
    n_gauge = 0 if gauge is None else gauge.shape[1]
    teig = np.linalg.eigvals(transverse(J, gauge)) if len(J) > n_gauge else np.array([])
    tmax = float(np.max(teig.real)) if teig.size else -np.inf
    notes = []
    if n_gauge:
        notes.append(
            f"{n_gauge} zero eigenvalue(s) from gauge directions (a non-isolated equilibrium); "
            "stability is judged transverse to them"
        )
    if np.linalg.norm(J) <= tol:
        return Spectrum(eig, teig, 0.0, 0.0, tol, len(eig), n_gauge, Verdict.INCONCLUSIVE,
                        "the Jacobian is zero: the linearization decides nothing", notes)
    if tmax < -tol:
        verdict, reason = Verdict.STABLE, f"every transverse eigenvalue has Re λ <= {tmax:.4g} < 0"
    elif tmax > tol:
        verdict, reason = Verdict.UNSTABLE, f"an eigenvalue has Re λ = {tmax:.4g} > 0"
    else:
        verdict = Verdict.INCONCLUSIVE
        reason = f"the largest transverse Re λ is zero within {tol:.1e}: a center direction"
    return Spectrum(eig, teig, float(np.max(eig.real)), tmax, tol, zero, n_gauge, verdict, reason, notes)


def eta_max_simultaneous(J: np.ndarray, gauge=None) -> float | None:
    """Largest step η with |1 + ηλ| < 1 for all transverse λ of J; None if no step works."""
    eig = np.linalg.eigvals(transverse(J, gauge))
    if eig.size == 0 or np.any(eig.real >= 0):
        return None
    return float(np.min(2 * np.abs(eig.real) / np.abs(eig) ** 2))


def stable_steps_simultaneous(J: np.ndarray, gauge=None) -> list[tuple[float, float]]:
    """The step sizes η for which simultaneous GDA is stable: (0, η_max), or none.

    |1 + ηλ| < 1 holds for η in (0, 2|Re λ|/|λ|²) when Re λ < 0 and for no η > 0 otherwise,
    so the stable set is always one interval that starts at 0.
    """
    eta = eta_max_simultaneous(J, gauge)
    return [] if eta is None else [(0.0, eta)]


def stable_steps_alternating(G, n_theta, ratio: float = 1.0, gauge=None, eta_lo: float = 1e-6,
                             eta_hi: float = 1e3, points: int = 241) -> list[tuple[float, float]]:
    """The intervals of η_θ (with η_ω = ratio·η_θ) on which alternating steps are stable.

    Unlike simultaneous steps, these need not start at 0: on shifted-linear at equal rates the
    flow is unstable, yet alternating steps contract for η_θ in about (0.28, 0.47). Scans a
    log grid over [eta_lo, eta_hi] for sign changes of ρ − 1 and refines each edge by bisection;
    an interval that holds at eta_lo is reported from 0. Intervals narrower than the grid's
    spacing (26 points a decade) can be missed.
    """

    def radius(eta):
        return spectral_radius(transverse(alternating_matrix(G, n_theta, eta, ratio * eta), gauge)) - 1

    grid = np.logspace(np.log10(eta_lo), np.log10(eta_hi), points)
    return negative_intervals(radius, grid, first=0.0, xtol=1e-12, rtol=1e-10)


def negative_intervals(fn, grid, first: float | None = None, **tolerances) -> list[tuple[float, float]]:
    """The intervals of the grid's range where fn < 0: sign changes on the grid, each edge refined
    by brentq (``tolerances`` go to it). A run that holds at the grid's start begins at ``first``
    (default: the grid's first point); one that holds at its end ends at the last point."""
    values = [fn(x) for x in grid]
    intervals, start = [], ((float(grid[0]) if first is None else first) if values[0] < 0 else None)
    for k in range(1, len(grid)):
        if (values[k - 1] < 0) == (values[k] < 0):
            continue
        edge = float(brentq(fn, grid[k - 1], grid[k], **tolerances))
        if values[k] < 0:
            start = edge
        else:
            intervals.append((start, edge))
            start = None
    if start is not None:
        intervals.append((start, float(grid[-1])))
    return intervals


def eta_max_alternating(G, n_theta, ratio: float = 1.0, gauge=None, eta_hi: float = 1e3) -> float | None:
    """Largest η_θ (with η_ω = ratio·η_θ) such that alternating steps are stable on (0, η].

    None if even tiny steps are unstable (stable intervals away from 0 may still exist; see
    `stable_steps_alternating`).
    """
    intervals = stable_steps_alternating(G, n_theta, ratio, gauge, eta_hi=eta_hi)
    return intervals[0][1] if intervals and intervals[0][0] == 0.0 else None


def critical_ratios(G, n_theta, gauge=None, lo=1e-4, hi=1e4, points=161) -> list[float]:
    """Values of η_ω/η_θ where the flow's transverse max Re λ changes sign."""

    def growth(log_ratio):
        return max_real(transverse(flow_jacobian(G, n_theta, 1.0, np.exp(log_ratio)), gauge))

    xs = np.linspace(np.log(lo), np.log(hi), points)
    ys = [growth(x) for x in xs]
    roots = []
    for k in range(1, len(xs)):
        if np.sign(ys[k]) != np.sign(ys[k - 1]) and ys[k] != 0:
            roots.append(float(np.exp(brentq(growth, xs[k - 1], xs[k], xtol=1e-13))))
    return roots
