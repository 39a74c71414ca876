"""Where the stochastic estimator's second moments are finite: the tail exponents and tail indices
of the per-sample contributions (`estimator_moments`), from the links' tails and the quadratic growth
of log p, log q and the critic's r, and how far stationary noise keeps a point from that edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...toy_models import DataDensity, log_prob
from .estimator_moments import event_dim
from .game import Game
from .spectrum import negative_intervals

MOMENTS = {  # the second moments Σ depends on: (side, link, feature)
    "data: g'(r)² |∇θE|²": ("p", "g_prime", "a"),
    "data: g'(r)² |∇ωH|²": ("p", "g_prime", "b"),
    "model: h'(r)² |∇θE|²": ("q", "h_prime", "a"),
    "model: h(r)² |∇θE|²": ("q", "h", "a"),
    "model: h'(r)² |∇ωH|²": ("q", "h_prime", "b"),
}


def _quadratic_coefficient(f, directions: torch.Tensor, radius: float = 1e3) -> torch.Tensor:
    """lim f(t v)/t² along each direction v: the second difference at t = T, 2T, 3T (exact for
    quadratics, so constant and linear terms drop out)."""
    t = torch.tensor([radius, 2 * radius, 3 * radius], dtype=directions.dtype)
    pts = t[:, None, None] * directions[None]  # (3, m, d)
    vals = f(pts.reshape(-1, directions.shape[1]).squeeze(-1)).reshape(3, -1)
    return (vals[2] - 2 * vals[1] + vals[0]) / (2 * radius**2)


def _directions(dim: int, count: int = 72) -> torch.Tensor:
    if dim == 1:
        return torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    angles = torch.arange(count, dtype=torch.float64) * (2 * np.pi / count)
    return torch.stack([angles.cos(), angles.sin()], -1)


@dataclass
class Finiteness:
    """Tail exponents and tail indices of the estimator's second moments at one point.

    ``exponents``: the quadratic coefficient d + 2kρ of the log of each squared integrand (worst
    direction); the second moment is finite iff it is below 0. ``tail_index``: the largest κ with
    E|v|^κ < ∞ for that per-sample contribution v, κ = −d/(kρ) where the link grows (∞ where it
    does not): κ ≤ 1 means an infinite mean, 1 < κ ≤ 2 an infinite variance (heavy-tailed SGD).
    """

    exponents: dict  # moment -> worst quadratic exponent over directions
    finite: dict  # moment -> bool (exponent < 0)
    tail_index: dict  # moment -> κ (inf when no link grows along any direction)

    @property
    def all_finite(self) -> bool:
        return all(self.finite.values())

    @property
    def worst(self) -> tuple[str, float]:
        name = max(self.exponents, key=self.exponents.get)
        return name, self.exponents[name]

    @property
    def min_tail_index(self) -> float:
        return min(self.tail_index.values())


def _tail_coefficients(game: Game, theta, r, dirs):
    def log_q(x):
        return log_prob(game.model, theta, x)

    with torch.no_grad():
        d_p = _quadratic_coefficient(game.data.log_prob, dirs)
        d_q = _quadratic_coefficient(log_q, dirs)
        rho = _quadratic_coefficient(r if r is not None else lambda x: game.data.log_prob(x) - log_q(x), dirs)
    return d_p, d_q, rho


def finiteness(game: Game, theta, r=None) -> Finiteness:
    """Which second moments of Σ are finite at θ, with the critic's r(x) = H + E (default: the
    ideal critic r = log p − log q_θ, which every strictly convex f shares).

    Along a direction v, log p ≈ d_p t², log q ≈ d_q t² and r ≈ ρ t²; a link that grows like
    e^{k u} on the side r goes contributes e^{2kρt²} to the squared integrand, so the moment is
    finite iff d + 2kρ < 0 (polynomial factors from the features only matter at equality, which
    counts as infinite).
    """
    if not isinstance(game.data, DataDensity):
        raise ValueError("finiteness needs the data's log_prob")
    tails = game.divergence.tails
    d_p, d_q, rho = _tail_coefficients(game, theta, r, _directions(event_dim(game)))
    exponents, finite, index = {}, {}, {}
    for name, (side, link, _) in MOMENTS.items():
        k = torch.where(rho > 0, torch.full_like(rho, tails.rate(link, 1)),
                        torch.full_like(rho, tails.rate(link, -1)))
        d = d_p if side == "p" else d_q
        k_rho = torch.where(rho == 0, torch.zeros_like(rho), k * rho)  # k may be ±∞ (superexponential)
        exponents[name] = float((d + 2 * k_rho).max())
        finite[name] = exponents[name] < -1e-12
        growing = k_rho > 1e-15
        kappa = torch.where(growing, -d / torch.where(growing, k_rho, torch.ones_like(rho)),
                            torch.full_like(rho, float("inf")))
        index[name] = float(kappa.min())
    return Finiteness(exponents, finite, index)


def tail_margin(game: Game, z, P: np.ndarray, step: float = 1e-5) -> float:
    """How many stationary standard deviations the worst tail exponent (with the game's own critic)
    lies below 0, where a second moment turns infinite: −e(z*)/√(∇eᵀ P ∇e).

    Runs whose critic fluctuates across that edge meet infinite-variance gradients; seen on
    paper-1d, where squared Hellinger (K = 6) lost all 64 minibatch runs at a margin of −0.046.
    """
    def worst(zz):
        theta, omega = game.split(zz)
        return finiteness(game, theta, r=lambda x: game.r(theta, omega, x)).worst[1]

    e0 = worst(z)
    unit = torch.eye(len(z), dtype=z.dtype)
    grad = np.array([(worst(z + step * e) - worst(z - step * e)) / (2 * step) for e in unit])
    sd = float(np.sqrt(max(grad @ P @ grad, 0.0)))
    return float("inf") if sd == 0 else -e0 / sd


def window(game: Game, theta_of, lo: float, hi: float, points: int = 200) -> list[tuple[float, float]]:
    """The intervals of a scalar s in [lo, hi] where every second moment is finite at θ = theta_of(s),
    with the ideal critic; edges refined by bisection on the worst exponent."""

    def margin(s):
        return finiteness(game, theta_of(s)).worst[1]

    return negative_intervals(margin, np.linspace(lo, hi, points), xtol=1e-12)
