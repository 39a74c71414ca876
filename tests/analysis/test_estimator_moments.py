"""The estimator's moments (analysis/estimator_moments.py): the moment form of the Jacobian, and
the per-sample contributions and their covariance against minibatch estimates."""

import pytest
import torch

from febm.dynamics.analysis import jacobian
from febm.dynamics.analysis.estimator_moments import estimator_moments, field_check

from problems import cached_setup, equilibrium, field, game


@pytest.mark.parametrize("name, model", [("pearson_chi2", "paper-1d"), ("jensen_shannon", "mlp-1d"),
                                         ("(t-1)*atan(t-1)", "expfam-finite")])
def test_moment_form_holds_away_from_any_equilibrium(name, model):
    """On models with fixed nodes the moment form is the exact Hessian of the quadrature of L."""
    z = equilibrium(name, model).z
    z = z + 0.05 * torch.randn(z.shape, generator=torch.Generator().manual_seed(0), dtype=z.dtype)
    F = field(name, model, 0.7, 1.3)
    assert jacobian.relative_difference(jacobian.moment_form(F, z), jacobian.autodiff(F, z)) < 1e-10


def test_moment_form_reduces_to_f2_times_the_f_independent_matrix_at_a_realizable_point():
    F = field("alpha=-0.5", "gaussian-2d", 1.0, 2.0)
    z = cached_setup("gaussian-2d").z_star
    assert jacobian.relative_difference(jacobian.moment_form(F, z), jacobian.closed_form(F, z)) < 1e-12


def test_per_sample_contributions_sum_to_the_field():
    g = game("pearson_chi2", "paper-1d")
    z = equilibrium("pearson_chi2", "paper-1d").z + 0.02
    assert field_check(g, z) < 1e-10


def test_per_sample_covariance_matches_minibatch_estimates():
    """Σ by quadrature against the covariance of 4000 independent batch-64 estimates (× 64), each
    diagonal entry within 4 standard errors of the Monte Carlo. The whitened critic features are
    heavy-tailed, so the Monte Carlo error is a few percent even here; the quadrature is exact."""
    g = game("jensen_shannon", "paper-1d")
    z = equilibrium("jensen_shannon", "paper-1d").z
    sigma = torch.diagonal(estimator_moments(g, z).covariance)
    gen = torch.Generator().manual_seed(0)
    theta, omega = g.split(z)
    B, draws = 64, 4000
    x_p = cached_setup("paper-1d").data.sample((draws, B), gen)
    x_q = g.model.sample(theta, torch.randn(draws, B, generator=gen, dtype=torch.float64))
    gt, go = torch.func.vmap(g.sample_gradients, in_dims=(None, None, 0, 0))(theta, omega, x_p, x_q)
    est = torch.cat([-gt, go], dim=1)
    squares = (est - est.mean(0)) ** 2 * B
    se = squares.std(0) / draws**0.5
    assert torch.all((squares.mean(0) - sigma).abs() < 4 * se + 1e-3 * sigma)
