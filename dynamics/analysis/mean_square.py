"""Mean-square stability and stationary spread of linearized simultaneous stochastic gradient
descent–ascent with batch B: the second-moment recursion, from the estimator's per-sample
covariance and per-sample Jacobians (`estimator_moments`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_discrete_lyapunov
from scipy.optimize import brentq

from . import spectrum
from .estimator_moments import estimator_moments, per_sample_jacobians


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
