"""Equilibria of the restricted game (analysis/equilibrium.py): where they are on paper-1d, the
KL one is the exact minimizer, and the critic's capacity bias."""

import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.analysis import jacobian
from febm.toy_models import paper_mixture
from febm.toy_models.exact_fit import fit_gaussian

from problems import (
    SMOOTH,
    equilibrium,
    field,
)


def test_kl_restricted_equilibrium_is_the_exact_minimizer():
    """With E's features (1, x, x²) in the critic's span, KL's critic optimality forces moment
    matching: the restricted equilibrium is exactly the KL minimizer, whatever the bumps."""
    p = paper_mixture()
    exact = fit_gaussian(resolve("kl").function("f"), lambda x: p.log_prob(torch.as_tensor(x)).numpy())
    z = equilibrium("kl", "paper-1d").z
    assert abs(float(z[0]) - exact.mu) < 1e-7 and abs(float(z[1].exp()) - exact.sigma) < 1e-7


def test_critic_capacity_bias_shrinks_with_more_bumps():
    from febm.dynamics.analysis import Game, locate
    from febm.toy_models.misspecified import paper_1d

    d = resolve("reverse_kl")
    p = paper_mixture()
    exact = fit_gaussian(d.function("f"), lambda x: p.log_prob(torch.as_tensor(x)).numpy())
    bias = {}
    for k in (0, 10, 24):
        s = paper_1d(k)
        z = locate(Game.from_setup(d, s), s).z
        bias[k] = max(abs(float(z[0]) - exact.mu), abs(float(z[1].exp()) - exact.sigma))
    assert bias[0] > 0.3 > 0.05 > bias[10] > bias[24]


# --- misspecified equilibria and the general Jacobian -------------------------------------------
@pytest.mark.parametrize("name", SMOOTH)
def test_paper_1d_equilibrium_and_three_jacobians(name):
    """Every curved f: the restricted game has an equilibrium, and autodiff, finite differences and
    the moment form of the Jacobian (which holds at r ≠ 0) agree to 1e-8 there."""
    eq = equilibrium(name, "paper-1d")
    assert eq.success and eq.residual < 1e-12
    F = field(name, "paper-1d", 1.0, 1.7)
    ja = jacobian.autodiff(F, eq.z)
    assert jacobian.relative_difference(jacobian.finite_difference(F, eq.z), ja) < 1e-8
    assert jacobian.relative_difference(jacobian.moment_form(F, eq.z), ja) < 1e-8
