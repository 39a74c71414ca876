"""The stochastic estimator's variance: per-sample covariances by quadrature, where the second
moments are infinite (from the links' tails), and the mean-square stability and stationary
spread of linearized stochastic gradient descent–ascent with batch B.

The field F = (−∇_θL, ∇_ωL) is estimated from B samples of p and B samples of q_θ as a sum of
per-sample contributions (the covariance term through its influence function):

    v_p(x) = (−g'(r) a,  g'(r) b)
    v_q(y) = (h'(r) a − (h(r) − h̄)(a − ā),  −h'(r) b)

with a = ∇_θE, b = ∇_ωH, r = H + E, ā = E_q[a], h̄ = E_q[h]. So E_p[v_p] + E_q[v_q] = F and the
minibatch estimate has covariance Σ/B + O(1/B²), Σ = Cov_p(v_p) + Cov_q(v_q). q-expectations are
taken on nodes ε_k of the standard normal that the model's exact sampler maps to q_θ, so that the
per-sample Jacobians are the pathwise ones of the minibatch runs: in 1-D a 600-node Gauss–Legendre
rule on [−12, 12] weighted by the normal density (e^r ≈ p/q carries the data's narrow bumps,
which Gauss–Hermite nodes under-resolve), in 2-D a 40 × 40 Gauss–Hermite rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import solve_discrete_lyapunov
from scipy.optimize import brentq

from ...toy_models import DataDensity, ExactSampler, log_prob
from ...toy_models.quadrature import gauss_hermite_2d, gauss_legendre
from . import spectrum
from .game import Game
from .spectrum import negative_intervals

MOMENTS = {  # the second moments Σ depends on: (side, link, feature)
    "data: g'(r)² |∇θE|²": ("p", "g_prime", "a"),
    "data: g'(r)² |∇ωH|²": ("p", "g_prime", "b"),
    "model: h'(r)² |∇θE|²": ("q", "h_prime", "a"),
    "model: h(r)² |∇θE|²": ("q", "h", "a"),
    "model: h'(r)² |∇ωH|²": ("q", "h_prime", "b"),
}


def _standard_nodes(dim: int, n: int):
    """Nodes and weights for E[φ(ε)], ε ~ N(0, I): n Legendre nodes in 1-D, a Hermite rule in 2-D."""
    if dim == 2:
        return gauss_hermite_2d(40)
    z, w = gauss_legendre(-12.0, 12.0, n)
    w = w * torch.exp(-0.5 * z**2)
    return z, w / w.sum()


def _event_dim(game: Game) -> int:
    x = game.data.nodes().x
    return 1 if x.dim() == 1 else x.shape[1]


def sampler_nodes(game: Game, theta, n: int):
    """Standard-normal nodes z_k and weights w_k whose images y_k = sample(θ, z_k) are q_θ's nodes
    (what the model's exact sampler turns them into); refuses a model without that sampler."""
    if not isinstance(game.model, ExactSampler):
        raise ValueError("the variance analysis needs the model's exact sampler sample(θ, z)")
    z, w = _standard_nodes(_event_dim(game), n)
    return z, w


def contributions(game: Game, z, x_p, z_q, abar=None, hbar=None, features=None):
    """Per-sample contributions (v_p at x_p, v_q at y = sample(θ, z_q)) to the field, (n, dim) each.

    ``abar`` and ``hbar`` fix ā and h̄ (population values); None computes them from z_q itself.
    ``features(θ, ω, x)`` gives (∇_θE, ∇_ωH) at x (default ``game.features``).
    """
    theta, omega = game.split(z)
    features = game.features if features is None else features
    y = game.model.sample(theta, z_q)
    a_p, b_p = features(theta, omega, x_p)
    a_q, b_q = features(theta, omega, y)
    r_p, r_q = game.r(theta, omega, x_p), game.r(theta, omega, y)
    g1, h0, h1 = game.g1(r_p)[:, None], game.h(r_q)[:, None], game.h1(r_q)[:, None]
    abar = a_q.mean(0) if abar is None else abar
    hbar = h0.mean() if hbar is None else hbar
    v_p = torch.cat([-g1 * a_p, g1 * b_p], dim=1)
    v_q = torch.cat([h1 * a_q - (h0 - hbar) * (a_q - abar), -h1 * b_q], dim=1)
    return v_p, v_q


def _weighted_cov(v, w):
    mean = (w[:, None] * v).sum(0)
    d = v - mean
    return (w[:, None, None] * d[:, :, None] * d[:, None, :]).sum(0)


@dataclass
class EstimatorMoments:
    """The field and the per-sample covariance of its minibatch estimate at one point."""

    field: torch.Tensor  # E_p[v_p] + E_q[v_q]: equals F(z) up to quadrature error
    covariance: torch.Tensor  # Σ = Cov_p(v_p) + Cov_q(v_q); the batch-B estimate has Σ/B
    data_part: torch.Tensor  # Cov_p(v_p)
    model_part: torch.Tensor  # Cov_q(v_q)


def _population_means(game: Game, theta, omega, z_q, w_q):
    y = game.model.sample(theta, z_q)
    a_q, _ = game.features(theta, omega, y)
    h0 = game.h(game.r(theta, omega, y))
    return (w_q[:, None] * a_q).sum(0), (w_q * h0).sum()


def estimator_moments(game: Game, z, nodes: int = 600) -> EstimatorMoments:
    """Σ at z by quadrature: p's own nodes, and Gauss–Hermite nodes through q's exact sampler."""
    theta, omega = game.split(z)
    p = game.data.nodes()
    z_q, w_q = sampler_nodes(game, theta, nodes)
    abar, hbar = _population_means(game, theta, omega, z_q, w_q)
    v_p, v_q = contributions(game, z, p.x, z_q, abar, hbar)
    data_part, model_part = _weighted_cov(v_p, p.w), _weighted_cov(v_q, w_q)
    field = (p.w[:, None] * v_p).sum(0) + (w_q[:, None] * v_q).sum(0)
    return EstimatorMoments(field, data_part + model_part, data_part, model_part)


def per_sample_jacobians(game: Game, z, nodes: int = 600):
    """Deviations D_s = j_s − E[j] of the per-sample Jacobians ∂v/∂z (pathwise through the sampler),
    with their weights: the multiplicative noise of a minibatch step. ā and h̄ are held at their
    population values: their derivatives are the same for every sample, so they cancel here."""
    theta, omega = game.split(z)
    p = game.data.nodes()
    z_q, w_q = sampler_nodes(game, theta, nodes)
    abar, hbar = (t.detach() for t in _population_means(game, theta, omega, z_q, w_q))

    def v_p(zz, x):
        return contributions(game, zz, x[None], z_q[:1], abar, hbar)[0][0]

    def v_q(zz, e):
        return contributions(game, zz, p.x[:1], e[None], abar, hbar)[1][0]

    jac_p = torch.func.vmap(torch.func.jacrev(v_p), in_dims=(None, 0))(z, p.x)
    jac_q = torch.func.vmap(torch.func.jacrev(v_q), in_dims=(None, 0))(z, z_q)
    dev = [j - (w[:, None, None] * j).sum(0) for j, w in ((jac_p, p.w), (jac_q, w_q))]
    return torch.cat(dev), torch.cat([p.w, w_q])


@dataclass
class MeanSquare:
    """Linearized simultaneous stochastic GDA with batch B at step η_θ = eta, η_ω = ratio·eta:

        δ_{t+1} = (I + H Ĵ_t) δ_t + H ε_t,   H = diag(η_θ, η_ω),

    with Ĵ = J + (1/B) Σ_b D_b the minibatch Jacobian (multiplicative noise) and ε the minibatch
    field (additive noise, covariance Σ/B). The second moment P follows

        P ← 𝒯(P) + H Σ H / B,   𝒯(P) = M P Mᵀ + (1/B) H E_s[D_s P D_sᵀ] H,   M = I + H J,

    so on row-major vec(P): 𝒯 = M ⊗ M + (H ⊗ H) E_s[D_s ⊗ D_s] / B. H enters the multiplicative
    term once on each side of P: it scales with η², like the additive one. (Before 2026-11-29
    febm applied H ⊗ H twice, η⁴; every mean-square edge it published before then was wrong.)
    """

    G: np.ndarray  # unit-rate Jacobian J at z* (η_θ = η_ω = 1)
    n_theta: int
    sigma: np.ndarray  # per-sample field covariance Σ at z*
    noise: np.ndarray  # E_s[D_s ⊗ D_s] (n² × n²), per sample
    batch: int
    ratio: float = 1.0

    def rates(self, eta: float) -> np.ndarray:
        return spectrum.rate_matrix(self.n_theta, len(self.G), eta, self.ratio * eta)

    def step_matrix(self, eta: float) -> np.ndarray:
        """M = I + H J: the mean step map."""
        return np.eye(len(self.G)) + self.rates(eta) @ self.G

    def operator(self, eta: float) -> np.ndarray:
        """𝒯 acting on vec(P) (row-major), n² × n²."""
        M = self.step_matrix(eta)
        HH = np.kron(self.rates(eta), self.rates(eta))
        return np.kron(M, M) + HH @ self.noise / self.batch

    def step(self, P: np.ndarray, eta: float) -> np.ndarray:
        """One step of the second-moment recursion: 𝒯(P) + H Σ H / B."""
        H = self.rates(eta)
        n = len(self.G)
        return (self.operator(eta) @ P.reshape(-1)).reshape(n, n) + H @ self.sigma @ H / self.batch

    def radius(self, eta: float) -> float:
        """Spectral radius of 𝒯: below 1, the second moment stays bounded. 𝒯 maps positive
        semidefinite P to positive semidefinite (the noise weights are positive), so its spectral
        radius is an eigenvalue with a symmetric eigenvector (Krein–Rutman): the eigenvalues of 𝒯 on
        symmetric P decide it, a matrix of n(n+1)/2 rows instead of n² (6.6x less work at n = 15)."""
        return float(np.max(np.abs(np.linalg.eigvals(symmetric_part(self.operator(eta), len(self.G))))))

    def eta_max(self, eta_hi: float = 1e3, points: int = 241) -> float | None:
        """The largest η_θ with a bounded second moment on (0, η]; None if tiny steps already fail."""
        grid = np.logspace(-6, np.log10(eta_hi), points)
        values = [self.radius(e) - 1 for e in grid]
        if values[0] >= 0:
            return None
        for k in range(1, len(grid)):
            if values[k] >= 0:
                return float(brentq(lambda e: self.radius(e) - 1, grid[k - 1], grid[k], xtol=1e-12, rtol=1e-10))
        return float(grid[-1])

    def edge(self, eta_hi: float) -> float | None:
        """The mean-square edge below ``eta_hi`` (e.g. the deterministic η_max, where ρ(𝒯) ≥ 1 holds
        already): one bisection instead of `eta_max`'s scan. Heavy-tailed per-sample Jacobians can put
        the edge orders of magnitude below η_max, so the bracket's low end moves down by 100× until
        it is stable, to 1e-12·η_max; None if even that fails."""
        lo = 1e-4 * eta_hi
        while self.radius(lo) >= 1:
            if lo < 1e-12 * eta_hi:
                return None
            lo /= 100
        if self.radius(eta_hi) < 1:
            return eta_hi
        return float(brentq(lambda e: self.radius(e) - 1, lo, eta_hi, xtol=1e-10 * eta_hi, rtol=1e-8))

    def stationary(self, eta: float) -> np.ndarray:
        """The stationary covariance P of δ = z − z*: (I − 𝒯) vec P = vec(H Σ H)/B. It exists only
        below the mean-square edge (ρ(𝒯) < 1); above it the solve would return a matrix that is
        no covariance, so this raises."""
        rho = self.radius(eta)
        if not rho < 1:
            raise ValueError(f"no stationary second moment at η_θ = {eta:.4g}: the mean-square operator's "
                             f"spectral radius is {rho:.4g} ≥ 1 (above the edge at batch {self.batch})")
        n = len(self.G)
        H = self.rates(eta)
        rhs = (H @ self.sigma @ H / self.batch).reshape(-1)
        return np.linalg.solve(np.eye(n * n) - self.operator(eta), rhs).reshape(n, n)

    def stationary_additive(self, eta: float) -> np.ndarray:
        """The discrete Lyapunov solution without multiplicative noise: P = M P Mᵀ + HΣH/B."""
        H = self.rates(eta)
        return solve_discrete_lyapunov(self.step_matrix(eta), H @ self.sigma @ H / self.batch)


def symmetric_part(T: np.ndarray, n: int) -> np.ndarray:
    """An n² × n² operator on row-major vec(P) that commutes with P ↦ Pᵀ, restricted to symmetric
    P, in the basis E_kk, E_kl + E_lk (k < l); coordinates read from the upper triangle."""
    i, j = np.triu_indices(n)
    rows = T.reshape(n, n, n, n)[i, j]  # (m, n, n): the rows of the upper triangle
    return rows[:, i, j] + (i != j)[None, :] * rows[:, j, i]


def noise_operator(dev: np.ndarray, w: np.ndarray) -> np.ndarray:
    """E_s[D_s ⊗ D_s] = Σ_s w_s D_s ⊗ D_s as an n² × n² matrix on row-major vec(P)."""
    s, n, _ = dev.shape
    flat = dev.reshape(s, n * n)
    # one matrix product Σ_s w_s vec(D_s) vec(D_s)ᵀ, then (ij)(kl) -> (ik)(jl): 27x faster than einsum
    return ((flat * w[:, None]).T @ flat).reshape(n, n, n, n).transpose(0, 2, 1, 3).reshape(n * n, n * n)


def mean_square(lin, batch: int, ratio: float = 1.0, nodes: int = 600) -> MeanSquare:
    """The mean-square analysis of simultaneous stochastic GDA around the linearization's z*."""
    game = lin.game
    sigma = estimator_moments(game, lin.z_star, nodes).covariance.detach().numpy()
    dev, w = per_sample_jacobians(game, lin.z_star, nodes)
    noise = noise_operator(dev.detach().numpy(), w.detach().numpy())
    return MeanSquare(lin.G, lin.n_theta, sigma, noise, batch, ratio)


# --- where the second moments are finite ------------------------------------------------------
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
    d_p, d_q, rho = _tail_coefficients(game, theta, r, _directions(_event_dim(game)))
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


def field_check(game: Game, z, nodes: int = 600) -> float:
    """|E_p[v_p] + E_q[v_q] − estimate| relative to |F|: the per-sample contributions sum to the
    game's own estimator on the same nodes (two code paths for one quantity)."""
    from ...toy_models import Nodes

    theta, omega = game.split(z)
    m = estimator_moments(game, z, nodes)
    z_q, w_q = sampler_nodes(game, theta, nodes)
    g_t, g_o = game.estimate(theta, omega, game.data.nodes(), Nodes(game.model.sample(theta, z_q), w_q))
    reference = torch.cat([-g_t, g_o])
    return float((m.field - reference).norm()) / max(1.0, float(reference.norm()))
