"""The mean-square edge and stationary spread of the trained game, restricted to its slow modes.

`mean_square.MeanSquare` forms the n²-square operator of the second moment; for the reference critic
(n = 4,355) that is 3.6·10⁸ columns. Here the recursion is written in the coordinates of the step
map's transverse eigenvectors (`nodespace`: J ≈ P R with P = diag(I, Bᵀ), G_node = R P):

    right vectors  V = P U          (U: eigenvectors of G_node, lifted to (θ, ω))
    left vectors   Y = Λ⁻¹ U⁻¹ R    (so that Y V = I)

A mode coordinate c = Y δ then follows c ← (I + ηΛ) c + (η/B) Σ_b D̃_b c + η Y ε, with D̃_s = Y D_s V
the per-sample Jacobian's deviation and ε the minibatch field's noise (per-sample covariance Σ).
Its second moment P = E[c cᴴ] obeys

    P ← M P Mᴴ + (η²/B) E_s[D̃_s P D̃_sᴴ] + (η²/B) Y Σ Yᴴ,   M = I + ηΛ,

the same recursion as `mean_square.MeanSquare` (η² on both noise terms), in another basis. Keeping the
k modes whose |1 + ηλ| is largest (those nearest the unit circle) gives a k²-square operator;
`edge` reports it for growing k, to show where it settles. Left out: the kernel's null directions
(moves of ω the nodes do not see; |1 + ηλ| = 1 exactly, a random walk, not an exponential growth),
and the term Σ c_i ∇²_ω H_i that the lift drops off an equilibrium.

Per-sample contributions are those of `estimator_moments.contributions`, on p's nodes and on standard-normal
nodes through q's exact sampler, with ∇_ωH per sample by reverse mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import brentq
from scipy.sparse.linalg import eigs
from torch.func import grad, jvp, vmap

from .estimator_moments import contributions, standard_nodes
from .game import gradient
from .nodespace import NodeGame, NodeJacobian

Q_NODES = 600  # standard-normal nodes for q's expectations (as `estimator_moments`)
K_LADDER = (2, 4, 8, 16, 32)  # mode counts of the convergence check (then all transverse modes)
HALF_OUTSIDE = 0.674  # a normal's median |x| in standard deviations


@dataclass
class ModeBasis:
    values: np.ndarray  # transverse eigenvalues λ of G_node (m,)
    right: np.ndarray  # V, (n, m): lifted right eigenvectors
    left: np.ndarray  # Y, (m, n): left eigenvectors of P R, Y V = I
    n_theta: int

    @classmethod
    def at(cls, node_game: NodeGame, z) -> "ModeBasis":
        nj = NodeJacobian.at(node_game, z)  # one Hessian and one B for G, V and Y alike
        hess, B, n = nj.hess, nj.B, nj.n_theta
        values, U, Winv = nj.transverse_eigen()
        V = np.vstack([U[:n], B.T @ U[n:]])
        WR_theta = -Winv[:, :n] @ hess[:n, :n] + Winv[:, n:] @ hess[n:, :n]
        WR_omega = (-Winv[:, :n] @ hess[:n, n:] + Winv[:, n:] @ hess[n:, n:]) @ B
        Y = np.hstack([WR_theta, WR_omega]) / values[:, None]
        return cls(values, V, Y, n)


def network_features(game):
    """(∇_θE, ∇_ωH) at each x, with ∇_ωH per point by reverse mode (a wide critic: forward mode
    would carry one tangent per parameter)."""
    def one(omega, x):
        return game.critic.value(omega, x[None])[0]

    def features(theta, omega, x):
        return gradient(game.model, "energy", theta, x), vmap(grad(one), in_dims=(None, 0))(omega, x)

    return features


@dataclass
class ProjectedNoise:
    """Σ and the per-sample Jacobians' deviations in mode coordinates."""

    sigma: np.ndarray  # Y Σ Yᴴ (m, m)
    jacobians: np.ndarray  # D̃_s (s, m, m)
    weights: np.ndarray  # (s,): p's and q's node weights, each side summing to 1


def projected_noise(node_game: NodeGame, z: torch.Tensor, basis: ModeBasis) -> ProjectedNoise:
    game = node_game.game
    theta, omega = game.split(z)
    p = game.data.nodes()
    z_q, w_q = standard_nodes(1, Q_NODES)
    y = game.model.sample(theta, z_q)
    a_q = gradient(game.model, "energy", theta, y)
    abar = (w_q[:, None] * a_q).sum(0).detach()
    hbar = (w_q * game.h(game.r(theta, omega, y))).sum().detach()
    features = network_features(game)

    def per_sample(zz):
        v_p, v_q = contributions(game, zz, p.x, z_q, abar, hbar, features)
        return torch.cat([v_p, v_q])

    Y = basis.left
    sides = [(slice(0, len(p.x)), p.w.numpy()), (slice(len(p.x), None), w_q.numpy())]
    v = per_sample(z).detach().numpy() @ Y.T  # (s, m)
    sigma = sum(_cov(v[side], w) for side, w in sides)
    columns = []
    for t in range(basis.right.shape[1]):
        parts = [jvp(per_sample, (z,), (torch.as_tensor(np.ascontiguousarray(part), dtype=z.dtype),))[1]
                 for part in (basis.right[:, t].real, basis.right[:, t].imag)]
        columns.append((parts[0].detach().numpy() + 1j * parts[1].detach().numpy()) @ Y.T)
    D = np.stack(columns, axis=2)  # D[s, i, t] = (Y j_s V)_{i t}
    for side, w in sides:
        D[side] -= np.einsum("s,sij->ij", w, D[side])
    return ProjectedNoise(sigma, D, np.concatenate([w for _, w in sides]))


def _spectral_radius(T: np.ndarray) -> float:
    """max |eigenvalue|: dense below 400 columns, else ARPACK's largest-modulus one."""
    if len(T) <= 400:
        return float(np.max(np.abs(np.linalg.eigvals(T))))
    value = eigs(T, k=1, which="LM", v0=np.ones(len(T), dtype=T.dtype), tol=1e-10, maxiter=20000,
                 return_eigenvectors=False)
    return float(np.abs(value[0]))


def _cov(v, w):
    d = v - w @ v
    return (w[:, None] * d).T @ d.conj()


@dataclass
class ReducedMeanSquare:
    """The second-moment recursion on the k modes nearest the unit circle (see the module)."""

    values: np.ndarray
    noise: ProjectedNoise
    batch: int
    theta_rows: np.ndarray  # V's θ rows (n_θ, m): mode coordinates to θ
    _kron: np.ndarray | None = None

    @classmethod
    def build(cls, node_game: NodeGame, z, batch: int) -> "ReducedMeanSquare":
        basis = ModeBasis.at(node_game, z)
        return cls(basis.values, projected_noise(node_game, z, basis), batch, basis.right[: basis.n_theta])

    @property
    def modes(self) -> int:
        return len(self.values)

    def selected(self, eta: float, k: int) -> np.ndarray:
        """The k modes with the largest |1 + ηλ|, widened so as not to split a complex pair."""
        modulus = np.abs(1 + eta * self.values)
        order = np.argsort(-modulus, kind="stable")
        k = min(k, self.modes)
        while k < self.modes and np.isclose(modulus[order[k]], modulus[order[k - 1]], rtol=1e-9):
            k += 1
        return np.sort(order[:k])

    def _noise_kron(self) -> np.ndarray:
        """E_s[D̃_s ⊗ conj D̃_s] over all modes, (m², m²), once."""
        if self._kron is None:
            D, w = self.noise.jacobians, self.noise.weights
            m = self.modes
            self._kron = np.einsum("s,sij,skl->ikjl", w, D, D.conj()).reshape(m * m, m * m)
        return self._kron

    def operator(self, eta: float, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(𝒯 on vec P of the selected modes, their indices)."""
        S = self.selected(eta, self.modes if k is None else k)
        M = 1 + eta * self.values[S]
        flat = (S[:, None] * self.modes + S[None, :]).reshape(-1)
        T = np.diag(np.outer(M, M.conj()).reshape(-1)) + eta**2 / self.batch * self._noise_kron()[np.ix_(flat, flat)]
        return T, S

    def radius(self, eta: float, k: int | None = None) -> float:
        return _spectral_radius(self.operator(eta, k)[0])

    def edge(self, eta_hi: float, k: int | None = None) -> float | None:
        """The largest η below ``eta_hi`` with ρ(𝒯) < 1 on (0, η], k modes; the bracket's low end
        moves down by 10× until it is stable, to 1e-8·eta_hi (None past that)."""
        lo = 0.1 * eta_hi
        while self.radius(lo, k) >= 1:
            if lo < 1e-8 * eta_hi:
                return None
            lo /= 10
        if self.radius(eta_hi, k) < 1:
            return eta_hi
        return float(brentq(lambda e: self.radius(e, k) - 1, lo, eta_hi, xtol=1e-6 * eta_hi, rtol=1e-6))

    def edges(self, eta_hi: float) -> dict:
        """k -> the edge with k modes, for K_LADDER and all m transverse modes."""
        ks = sorted({k for k in K_LADDER if k < self.modes} | {self.modes})
        return {k: self.edge(eta_hi, k) for k in ks}

    def moment(self, eta: float, steps: int) -> np.ndarray:
        """θ's covariance after ``steps`` steps from the resting point (P₀ = 0), all transverse modes:
        the recursion iterated, so it holds above the edge too (where no stationary P exists)."""
        T, S = self.operator(eta)
        k = len(S)
        source = (eta**2 / self.batch * self.noise.sigma[np.ix_(S, S)]).reshape(-1)
        P = np.zeros(k * k, dtype=complex)
        for _ in range(steps):
            P = T @ P + source
        V = self.theta_rows[:, S]
        return (V @ P.reshape(k, k) @ V.conj().T).real

    def horizon_edge(self, eta_hi: float, steps: int, ball: float) -> float | None:
        """The η at which half of the runs are predicted to be outside max|θ − θ*| ≤ ``ball`` after
        ``steps`` steps: the larger θ standard deviation reaches ball/0.674 (a normal's median
        |x| is 0.674 sd). Bisected on (1e-4·eta_hi, 2·eta_hi); None if not bracketed there."""
        def excess(eta):
            with np.errstate(all="ignore"):  # past the edge the moment overflows: that is outside the ball
                sd = float(np.sqrt(np.max(np.diag(self.moment(eta, steps)))))
            return sd - ball / HALF_OUTSIDE if np.isfinite(sd) else np.inf

        lo, hi = 1e-4 * eta_hi, 2 * eta_hi
        if excess(lo) >= 0 or excess(hi) < 0:
            return None
        while hi - lo > 1e-4 * eta_hi:  # bisection: brentq's secant steps cannot use an infinite value
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if excess(mid) >= 0 else (mid, hi)
        return (lo + hi) / 2

    def growth(self, eta: float) -> dict:
        """k -> ρ(𝒯) − 1 with k modes at η (K_LADDER and all): the per-step growth of the second
        moment, and how it settles as modes are added."""
        ks = sorted({k for k in K_LADDER if k < self.modes} | {self.modes})
        return {k: self.radius(eta, k) - 1 for k in ks}

    def spread(self, eta: float) -> np.ndarray:
        """The stationary covariance of θ (n_θ, n_θ) at step η, from all transverse modes; raises
        above the edge."""
        T, S = self.operator(eta)
        if not _spectral_radius(T) < 1:
            raise ValueError(f"no stationary second moment at η = {eta:.4g} (above the mean-square edge)")
        k = len(S)
        rhs = (eta**2 / self.batch * self.noise.sigma[np.ix_(S, S)]).reshape(-1)
        P = np.linalg.solve(np.eye(k * k) - T, rhs).reshape(k, k)
        V = self.theta_rows[:, S]
        return (V @ P @ V.conj().T).real
