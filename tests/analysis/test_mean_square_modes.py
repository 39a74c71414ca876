"""The mean-square recursion of the trained game on its transverse modes (`mean_square_modes`) and
the runs that measure its edge (`training.mean_square_runs`)."""

import numpy as np
import pytest
import torch
from linear_node_game import linear_node_game

from febm.divergences import resolve
from febm.dynamics.analysis import jacobian, mean_square_modes
from febm.dynamics.analysis.estimator_moments import estimator_moments, per_sample_jacobians
from febm.dynamics.analysis.fields import GDAField
from febm.dynamics.analysis.mean_square import MeanSquare, noise_operator
from febm.dynamics.training import mean_square_runs
from febm.dynamics.training.arms import arm_for
from febm.toy_models.critics import parse_critic
from febm.toy_models.misspecified import paper_1d


@pytest.fixture(scope="module")
def linear_game():
    game, node_game, z, _ = linear_node_game()
    return game, node_game, z


def test_the_mode_recursion_is_the_full_operator_in_another_basis(linear_game):
    """With ∇²_ω H = 0 and every mode kept, the reduced operator is `mean_square.MeanSquare`'s up to a
    change of basis: the same spectral radius at every η and the same stationary θ covariance."""
    game, node_game, z = linear_game
    G = jacobian.autodiff(GDAField(game), z).numpy()
    sigma = estimator_moments(game, z).covariance.detach().numpy()
    dev, w = per_sample_jacobians(game, z)
    full = MeanSquare(G, 2, sigma, noise_operator(dev.detach().numpy(), w.detach().numpy()), 100)
    reduced = mean_square_modes.ReducedMeanSquare.build(node_game, z, 100)
    assert reduced.modes == 5
    for eta in (0.01, 0.1, 1.0):
        assert reduced.radius(eta) == pytest.approx(full.radius(eta), rel=1e-9)
    np.testing.assert_allclose(reduced.spread(0.03), full.stationary(0.03)[:2, :2], rtol=1e-8)


def test_the_iterated_moment_tends_to_the_stationary_one_below_the_edge(linear_game):
    _, node_game, z = linear_game
    reduced = mean_square_modes.ReducedMeanSquare.build(node_game, z, 100)
    eta = 0.03
    assert reduced.radius(eta) < 1
    np.testing.assert_allclose(reduced.moment(eta, 20000), reduced.spread(eta), rtol=1e-6)
    assert np.all(np.diag(reduced.moment(eta, 10)) < np.diag(reduced.moment(eta, 100)))  # it grows from 0


def test_the_horizon_edge_is_where_the_predicted_sd_reaches_the_ball(linear_game):
    _, node_game, z = linear_game
    reduced = mean_square_modes.ReducedMeanSquare.build(node_game, z, 100)
    ball, steps = 0.05, 200
    eta = reduced.horizon_edge(0.07, steps, ball)
    sd = lambda e: np.sqrt(np.max(np.diag(reduced.moment(e, steps))))  # noqa: E731
    assert sd(eta * 0.999) < ball / mean_square_modes.HALF_OUTSIDE < sd(eta * 1.001)


def test_runs_from_a_point_fail_at_a_huge_step_and_not_at_a_tiny_one():
    critic = parse_critic("mlp:4")
    s = paper_1d(critic=critic)
    div = resolve("jensen_shannon").validate()
    z = torch.cat([s.reference_theta(div), critic.init(0)])
    kw = dict(seeds=4, horizon=30, critic_sizes=critic.sizes, data=arm_for(s).data)
    assert mean_square_runs.failures(div, z, 1e-5, 64, **kw) == 0
    assert mean_square_runs.failures(div, z, 50.0, 64, **kw) == 4
    spread = mean_square_runs.spread(div, z, 1e-3, 64, **kw)
    assert spread["kept"] == 4 and 0 < max(spread["sd"]) < 0.05
