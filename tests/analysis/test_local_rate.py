"""The trained game's local rate: predicted from the node-space spectrum, measured by runs along
eigenvectors (`analysis.local_rate`)."""

import math

import numpy as np
import pytest
import torch
from linear_node_game import linear_node_game

from febm.dynamics.analysis import local_rate, step_edge


def test_pair_rate_is_the_step_maps_modulus_for_real_and_rotating_modes():
    """On z ← z + η A z the pair shrinks by |1 + ηλ| a step along an eigenvector: exactly for a real λ,
    and, through the spanned area, for a complex pair although |Δ| itself oscillates."""
    A = torch.tensor([[-0.2, 3.0, 0.0], [-1.0, -0.2, 0.0], [0.0, 0.0, -0.5]], dtype=torch.float64)
    field = lambda z: A @ z  # noqa: E731
    eta, z = 0.05, torch.zeros(3, dtype=torch.float64)
    values, vectors = np.linalg.eig(A.numpy())
    for k in range(3):
        if values[k].imag < 0:
            continue
        direction = torch.as_tensor(vectors[:, k].real.copy(), dtype=torch.float64)
        rotating = values[k].imag != 0
        measured = local_rate.pair_rate(field, z, direction, eta, 400, rotating=rotating)
        assert measured == pytest.approx(-math.log(abs(1 + eta * values[k])), rel=1e-9)
        if rotating:  # the norm's slope is biased by the turning: the reason for the area
            plain = local_rate.pair_rate(field, z, direction, eta, 400)
            assert abs(plain / measured - 1) > 1e-3


def test_measuring_steps_bounds():
    assert local_rate.measuring_steps(local_rate.MIN_DECAY / local_rate.MAX_STEPS / 2) is None  # too slow
    assert local_rate.measuring_steps(local_rate.DECAY / local_rate.MIN_STEPS * 2) is None  # too fast
    assert local_rate.measuring_steps(0.01) == math.ceil(local_rate.DECAY / 0.01)
    assert local_rate.measuring_steps(1e-4) == local_rate.MAX_STEPS


def test_every_measured_mode_matches_the_spectrum_for_a_critic_linear_in_omega():
    """With ∇²_ω H = 0 the lift is exact, so at a resting point with |F| ≈ 1e-9 pair runs along each
    transverse eigenvector decay at the predicted −log|1 + ηλ| (real and complex modes)."""
    _, node_game, z, residual = linear_node_game()
    assert residual[-1] < 1e-8
    eta_max = step_edge.predicted(node_game.field, z, k=3)[0]
    found = local_rate.measure(node_game, z, eta_max)
    assert found.kernel_rank == 3 and found.flat_directions == 0
    assert found.theta_mode.theta_share > local_rate.THETA_SHARE and found.eta == pytest.approx(eta_max / 2)
    modes = [found.theta_mode, *found.ladder]
    assert any(m.eigenvalue[1] != 0 for m in modes)  # a rotating pair is among them
    for m in modes:
        assert m.measured == pytest.approx(m.predicted, rel=1e-5)
    assert found.slowest.predicted == min(m.predicted for m in modes)
