"""The mean-square operator against a Monte Carlo of the recursion it claims to describe,

    δ ← (I + H Ĵ) δ + H ε,   Ĵ = J + (1/B) Σ_b D_b,   Cov ε = Σ / B,

run near the mean-square edge, where the multiplicative term decides (far below it, at a few
percent of η_max, an error in that term barely moves the spread). Tolerances are the Monte
Carlo's own standard errors, so the tests hold on any machine; each also shows that the
operator febm used before (H ⊗ H applied twice, η⁴) is rejected by the same comparison.
"""

from __future__ import annotations

import numpy as np
import pytest

from febm.dynamics.analysis import mean_square as V
from febm.dynamics.analysis.estimator_moments import per_sample_jacobians
from febm.dynamics.analysis.mean_square import mean_square

from problems import linearization

N_DRAWS = 200_000
SE_LIMIT = 5.0  # |MC − predicted| ≤ 5 standard errors per entry


def _toy(seed: int = 1, n: int = 3, n_theta: int = 1, samples: int = 7, batch: int = 4):
    """A stable J, per-sample Jacobian deviations D_s (weighted, mean zero) and a field covariance."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    G = -(A @ A.T / n + 0.5 * np.eye(n)) + 0.6 * (A - A.T)  # Re λ < 0, rotating
    w = rng.uniform(0.5, 1.5, samples)
    w /= w.sum()
    D = rng.normal(size=(samples, n, n)) * 0.9
    D -= np.einsum("s,sij->ij", w, D)  # deviations: weighted mean zero
    B = rng.normal(size=(n, n))
    sigma = B @ B.T / n
    return V.MeanSquare(G, n_theta, sigma, V.noise_operator(D, w), batch, ratio=1.3), D, w


def _old_operator(ms: V.MeanSquare, eta: float) -> np.ndarray:
    """The operator febm shipped before: H ⊗ H on both sides of the noise (η⁴)."""
    M = ms.step_matrix(eta)
    HH = np.kron(ms.rates(eta), ms.rates(eta))
    return np.kron(M, M) + HH @ ms.noise @ HH / ms.batch


def _simulate(ms: V.MeanSquare, D, w, eta: float, P0: np.ndarray, steps: int, seed: int):
    """N_DRAWS independent runs of the linear recursion from δ0 ~ N(0, P0); per-draw δδᵀ at the end."""
    rng = np.random.default_rng(seed)
    n = len(ms.G)
    H = ms.rates(eta)
    delta = rng.multivariate_normal(np.zeros(n), P0, size=N_DRAWS)
    chol = np.linalg.cholesky(ms.sigma / ms.batch) if ms.sigma.any() else np.zeros((n, n))
    for _ in range(steps):
        picks = rng.choice(len(w), size=(N_DRAWS, ms.batch), p=w)
        J_hat = ms.G + D[picks].mean(axis=1)  # (N, n, n)
        eps = rng.normal(size=(N_DRAWS, n)) @ chol.T
        delta = delta + np.einsum("ij,njk,nk->ni", H, J_hat, delta) + eps @ H.T
    return delta[:, :, None] * delta[:, None, :]


def _edge_step(ms: V.MeanSquare, fraction: float) -> float:
    eta_ms = ms.eta_max(eta_hi=10.0)
    assert eta_ms is not None
    return fraction * eta_ms


@pytest.mark.parametrize("steps", [1, 4])
def test_operator_matches_a_monte_carlo_of_the_recursion_near_the_edge(steps):
    ms, D, w = _toy()
    eta = _edge_step(ms, 0.9)  # the multiplicative term is a large part of 𝒯 here
    n = len(ms.G)
    P0 = np.eye(n) + 0.3 * np.ones((n, n))
    outer = _simulate(ms, D, w, eta, P0, steps, seed=steps)
    mc, se = outer.mean(0), outer.std(0) / np.sqrt(N_DRAWS)
    P_new, P_old = P0.copy(), P0.copy()
    H = ms.rates(eta)
    add = H @ ms.sigma @ H / ms.batch
    old = _old_operator(ms, eta)
    for _ in range(steps):
        P_new = ms.step(P_new, eta)
        P_old = (old @ P_old.reshape(-1)).reshape(n, n) + add
    assert np.all(np.abs(mc - P_new) <= SE_LIMIT * se), np.max(np.abs(mc - P_new) / se)
    assert np.max(np.abs(mc - P_old) / se) > 4 * SE_LIMIT  # the η⁴ operator is far outside


def test_edge_is_where_the_simulated_second_moment_stops_contracting():
    """On both sides of the predicted edge (no additive noise) the simulated second moment follows
    the operator, and iterated long enough it shrinks below the edge and grows above it."""
    ms, D, w = _toy()
    quiet = V.MeanSquare(ms.G, ms.n_theta, 0 * ms.sigma, ms.noise, ms.batch, ms.ratio)
    n = len(ms.G)
    for fraction, grows in ((0.7, False), (1.4, True)):
        eta = _edge_step(quiet, fraction)
        P = np.eye(n)
        for _ in range(6):
            P = quiet.step(P, eta)
        trace = np.trace(_simulate(quiet, D, w, eta, np.eye(n), 6, seed=11), axis1=1, axis2=2)
        assert abs(trace.mean() - np.trace(P)) <= SE_LIMIT * trace.std() / np.sqrt(N_DRAWS)
        T = np.linalg.matrix_power(quiet.operator(eta), 60)
        assert bool(np.trace((T @ np.eye(n).reshape(-1)).reshape(n, n)) > n) is grows


def test_multiplicative_noise_scales_with_eta_squared():
    ms, _, _ = _toy()
    n = len(ms.G)
    for eta in (0.01, 0.1, 1.0):
        extra = ms.operator(eta) - np.kron(ms.step_matrix(eta), ms.step_matrix(eta))
        H = ms.rates(eta) / eta
        expected = eta**2 * np.kron(H, H) @ ms.noise / ms.batch
        # the difference of two operators cancels digits: compare on the size of ‖M ⊗ M‖
        np.testing.assert_allclose(extra, expected, rtol=0, atol=1e-9 * (1 + np.abs(expected).max()))
    assert ms.operator(0.0).shape == (n * n, n * n)


def test_stationary_solves_the_fixed_point_of_the_recursion():
    ms, _, _ = _toy()
    eta = _edge_step(ms, 0.5)
    P = ms.stationary(eta)
    np.testing.assert_allclose(ms.step(P, eta), P, rtol=1e-9, atol=1e-12)
    assert np.all(np.linalg.eigvalsh((P + P.T) / 2) > 0)  # a covariance


def test_real_game_noise_matches_a_monte_carlo_of_its_own_per_sample_jacobians():
    """On gaussian-1d with KL the operator assembled from the game's per-sample Jacobians agrees
    with one step of the recursion that draws those Jacobians as a minibatch would."""
    from problems import linearization

    lin = linearization("kl", "gaussian-1d")
    ms = V.mean_square(lin, batch=2, nodes=200)
    dev, w = per_sample_jacobians(lin.game, lin.z_star, nodes=200)
    D, w = dev.detach().numpy(), w.detach().numpy()
    n_p = len(lin.game.data.nodes().w)  # the first n_p deviations are p's, the rest q's
    np.testing.assert_allclose([w[:n_p].sum(), w[n_p:].sum()], 1.0, rtol=1e-12)  # the operator sums E_p + E_q
    parts = [(D[:n_p], w[:n_p] / w[:n_p].sum()), (D[n_p:], w[n_p:] / w[n_p:].sum())]
    eta = 0.9 * ms.edge(lin.eta_max("simultaneous"))
    rng = np.random.default_rng(5)
    n = len(ms.G)
    delta = rng.normal(size=(N_DRAWS, n))
    D_bar = sum(Ds[rng.choice(len(ws), size=(N_DRAWS, ms.batch), p=ws)].mean(1) for Ds, ws in parts)
    H = ms.rates(eta)
    new = delta + np.einsum("ij,njk,nk->ni", H, ms.G + D_bar, delta)
    outer = new[:, :, None] * new[:, None, :]
    mc, se = outer.mean(0), outer.std(0) / np.sqrt(N_DRAWS)
    predicted = (ms.operator(eta) @ np.eye(n).reshape(-1)).reshape(n, n)
    assert np.all(np.abs(mc - predicted) <= SE_LIMIT * se), np.max(np.abs(mc - predicted) / se)


@pytest.mark.parametrize("seed, n", [(1, 3), (2, 5), (3, 8)])
def test_radius_on_symmetric_matrices_is_the_whole_operators(seed, n):
    """`radius` reads the eigenvalues of 𝒯 on symmetric P only (a positive map's spectral radius has a
    positive semidefinite eigenvector). The whole n² × n² operator's eigenvalues, an independent
    computation, give the same radius at every step from far below to far above the edge."""
    ms, _, _ = _toy(seed, n=n, n_theta=n // 2, samples=2 * n)
    edge = ms.eta_max(eta_hi=10.0)
    for eta in np.geomspace(0.05, 3.0, 7) * edge:
        whole = np.max(np.abs(np.linalg.eigvals(ms.operator(eta))))
        assert ms.radius(eta) == pytest.approx(whole, rel=1e-9)


def test_noise_operator_applies_the_weighted_sandwich():
    """E_s[D_s ⊗ D_s] on row-major vec(P) is Σ_s w_s D_s P D_sᵀ, for a P that is not symmetric too."""
    rng = np.random.default_rng(4)
    D, w, P = rng.normal(size=(6, 4, 4)), rng.uniform(size=6), rng.normal(size=(4, 4))
    direct = np.einsum("s,sij,jk,slk->il", w, D, P, D)
    assert np.allclose((V.noise_operator(D, w) @ P.reshape(-1)).reshape(4, 4), direct, rtol=1e-12, atol=1e-12)


def test_mean_square_edge_is_below_the_deterministic_one_and_grows_with_the_batch():
    """Multiplicative noise (the minibatch Jacobian) lowers the step at which the second moment
    explodes; it reaches the deterministic edge only as B → ∞. On paper-1d with KL (K = 10) the
    pathwise per-sample Jacobians are heavy-tailed: η_ms/η_max is 3.5·10⁻⁴ at B = 16, 0.082 at
    B = 4096 and 0.99998 at B = 10⁶ (the operator scales the multiplicative term with η²)."""
    lin = linearization("kl", "paper-1d")
    eta = lin.eta_max("simultaneous")
    ms = mean_square(lin, batch=16)
    edges = {}
    for b in (16, 4096, 10**6):  # bisections below η_max; Σ and the D_s do not depend on B
        ms.batch = b
        edges[b] = ms.edge(eta)
    assert edges[16] < edges[4096] < edges[10**6] < eta and edges[10**6] > 0.999 * eta
    two_digits = [round(edges[b] / eta, 1 - int(np.floor(np.log10(edges[b] / eta)))) for b in (16, 4096)]
    assert two_digits == [3.5e-4, 0.082]  # quoted in docs/theory.md
    ms.batch = 16
    assert edges[16] == pytest.approx(ms.eta_max(points=61), rel=1e-6)  # a scan from 1e-6 agrees
    ms.batch = 10**9
    # as B → ∞ the stationary covariance tends to the discrete Lyapunov solution, at rate 1/B
    P, Pa = ms.stationary(0.1 * eta), ms.stationary_additive(0.1 * eta)
    scale = np.abs(Pa).max()
    assert np.allclose(P, Pa, rtol=0, atol=1e-4 * scale) and not np.allclose(P, Pa, rtol=0, atol=1e-9 * scale)
    with pytest.raises(ValueError, match="no stationary second moment"):
        mean_square(lin, batch=4096).stationary(0.1 * eta)  # above that batch's edge


@pytest.mark.parametrize("name, model, batch, fraction", [
    ("kl", "gaussian-1d", 256, 0.8),
    ("jensen_shannon", "gaussian-1d", 256, 0.8),
    ("squared_hellinger", "gaussian-1d", 256, 0.5),  # at 0.8·η_ms it loses 30 of 32 runs (the study)
    pytest.param("jensen_shannon", "paper-1d", 1024, 0.1, marks=pytest.mark.slow),  # 2× off at 0.3
])
def test_predicted_spread_matches_minibatch_runs(name, model, batch, fraction):
    """The stationary covariance of the mean-square analysis against 32 seeded runs started at z*,
    at steps up to 0.8 of the mean-square edge η_ms. Where the theory misses (closer to the edge,
    smaller batches, paper-1d above 0.1·η_ms) is measured in studies/mean_square_edge.py and
    reported in docs/theory.md; these are the points where it holds."""
    from febm.dynamics.commands.spread import spread

    report = spread(name, model, batch=batch, fraction=fraction, runs=32, steps=600, seed=1)
    assert report.diverged_runs == 0
    assert report.relative_error < 0.1, report.text()
    assert abs(report.measured_trace - report.predicted_trace) < 4 * report.measured_sd + 0.05 * report.predicted_trace
