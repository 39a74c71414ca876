"""The f-EBM game and its Jacobian: estimator vs autodiff, and three Jacobians that agree."""

import numpy as np
import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.analysis import equilibrium, jacobian
from febm.dynamics.analysis.fields import AlternatingMap, CDField, GDAField, SimultaneousMap
from febm.dynamics.analysis.game import Game

from problems import ALL_MODELS, CORE_MODELS, NUMERIC_CONJUGATE, SMOOTH, cached_setup, field, game


def _off_equilibrium(model, seed=1, size=0.2):
    z = cached_setup(model).z_star
    g = torch.Generator().manual_seed(seed)
    return z + size * torch.randn(z.shape, generator=g, dtype=z.dtype)


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "jensen_shannon", "pearson_chi2", "jeffreys",
                                  NUMERIC_CONJUGATE])
@pytest.mark.parametrize("model", ["gaussian-1d", "gaussian-2d", "expfam-finite", "mlp-1d"])
def test_estimator_with_covariance_term_equals_gradient_of_L(name, model):
    """The paper's estimator (with Cov_q(h(r), ∇E)) is the exact gradient of L off equilibrium.

    Models with θ-dependent weights on fixed nodes make the identity exact in the quadrature
    itself; on moving Gauss–Hermite nodes the two sides differ by the quadrature error of a
    non-polynomial integrand (1e-9 for the atan generator in 2-D).
    """
    gm = game(name, model)
    theta, omega = gm.split(_off_equilibrium(model, size=0.05))
    est = gm.gradients(theta, omega)
    auto = gm.autodiff_gradients(theta, omega)
    tol = 1e-8 if model.startswith("gaussian") else 1e-12
    for a, b in zip(est, auto):
        assert torch.allclose(a, b, atol=tol, rtol=0)


def test_covariance_term_is_needed():
    gm = game("kl", "gaussian-1d")
    theta, omega = gm.split(_off_equilibrium("gaussian-1d"))
    q = gm.model.nodes(theta)
    a = gm.model.gradient(theta, q.x)
    h = gm.h(gm.r(theta, omega, q.x))
    cov = q.mean(h[:, None] * a) - q.mean(h) * q.mean(a)
    assert float(cov.norm()) > 1e-2  # dropping it would give a wrong gradient


@pytest.mark.parametrize("model", ALL_MODELS)
@pytest.mark.parametrize("name", ["kl", "squared_hellinger", NUMERIC_CONJUGATE])
def test_known_equilibrium_has_zero_residual(name, model):
    assert equilibrium.residual(field(name, model), cached_setup(model).z_star) < 1e-12


@pytest.mark.parametrize("model", ["gaussian-1d", "gaussian-2d", "expfam-finite", "shifted-linear"])
def test_root_solve_returns_to_the_known_equilibrium(model):
    F = field("kl", model)
    z_star = cached_setup(model).z_star
    sol = equilibrium.solve(F, _off_equilibrium(model, seed=3, size=0.05))
    assert sol.success and sol.residual < 1e-12
    assert float((sol.z - z_star).norm()) < 1e-8


THREE_WAY = (
    [(name, model, 1.7) for model in CORE_MODELS for name in SMOOTH]  # every divergence, 3 models
    + [(name, model, 0.6) for model in ("gaussian-1d-natural", "shifted-linear", "gauge", "mlp-1d")
       for name in ("kl", "jensen_shannon", NUMERIC_CONJUGATE)]
)


@pytest.mark.parametrize("name, model, ratio", THREE_WAY)
def test_three_jacobians_agree(name, model, ratio):
    F = field(name, model, 1.0, ratio)
    z = cached_setup(model).z_star
    ja = jacobian.autodiff(F, z)
    assert jacobian.relative_difference(jacobian.finite_difference(F, z), ja) < 1e-8
    assert jacobian.relative_difference(jacobian.closed_form(F, z), ja) < 1e-8


@pytest.mark.parametrize("model", ["gaussian-1d", "mlp-1d"])
def test_forward_and_reverse_autodiff_agree(model):
    F = field("jensen_shannon", model)
    z = _off_equilibrium(model)
    assert jacobian.relative_difference(jacobian.autodiff(F, z, "forward"), jacobian.autodiff(F, z)) < 1e-12
    with pytest.raises(ValueError):
        jacobian.autodiff(F, z, "sideways")


@pytest.mark.parametrize("model", CORE_MODELS + ["shifted-linear"])
def test_jacobian_is_f2_times_one_f_independent_matrix(model):
    """Locally every f gives the same dynamics up to time rescaling by f''(1)."""
    z = cached_setup(model).z_star
    reference = jacobian.autodiff(field("kl", model), z)  # f''(1) = 1
    for name in SMOOTH:
        J = jacobian.autodiff(field(name, model), z)
        f2 = float(resolve(name).f2_at_1)
        assert jacobian.relative_difference(J / f2, reference) < 1e-9, name


def test_closed_form_matrix_structure():
    """Symmetric part −f''(1)·blockdiag(C − μμᵀ, K): C − μμᵀ ≻ 0 and K ≻ 0 on the Gaussian."""
    gm = game("kl", "gaussian-1d")
    M = jacobian.f_independent_matrix(gm, cached_setup("gaussian-1d").z_star).numpy()
    n = gm.dim_theta
    sym = (M + M.T) / 2
    assert np.allclose(sym[:n, n:], 0, atol=1e-14)
    assert np.all(np.linalg.eigvalsh(-sym) > 0)
    assert np.max(np.linalg.eigvals(M).real) < 0


def test_closed_form_needs_f2():
    s = cached_setup("gaussian-1d")
    F = GDAField(Game.from_setup(resolve("total_variation"), s))
    with pytest.raises(ValueError, match="undefined"):
        jacobian.closed_form(F, s.z_star)


def test_parametric_divergence_must_be_bound():
    with pytest.raises(ValueError, match="bind"):
        Game.from_setup(resolve("alpha"), cached_setup("gaussian-1d"))


def test_discrete_maps_fix_the_equilibrium():
    gm = game("kl", "gaussian-1d")
    z = cached_setup("gaussian-1d").z_star
    for step in (SimultaneousMap(gm, 0.1, 0.2), AlternatingMap(gm, 0.1, 0.2)):
        assert float((step(z) - z).norm()) < 1e-15


def test_alternating_map_updates_omega_first():
    gm = game("kl", "gaussian-1d")
    z = _off_equilibrium("gaussian-1d")
    theta, omega = gm.split(z)
    omega1 = omega + 0.3 * gm.gradients(theta, omega)[1]
    theta1 = theta - 0.2 * gm.gradients(theta, omega1)[0]
    assert torch.allclose(AlternatingMap(gm, 0.2, 0.3)(z), torch.cat([theta1, omega1]), atol=0, rtol=0)


def test_contrastive_divergence_jacobian_is_minus_fisher():
    """CD: θ' = −(E_p[∇E] − E_q[∇E]); at p = q_θ* its Jacobian is −Cov_q(∇E)."""
    s = cached_setup("expfam-finite")
    gm = game("kl", "expfam-finite")
    cd = CDField(gm)
    assert float(cd(s.theta_star).norm()) < 1e-14
    J = jacobian.autodiff(cd, s.theta_star)
    q = s.model.nodes(s.theta_star)
    T = s.model.features(q.x)
    m = q.mean(T)
    fisher = q.mean(T[:, :, None] * T[:, None, :]) - torch.outer(m, m)
    assert torch.allclose(J, -fisher, atol=1e-12, rtol=0)
