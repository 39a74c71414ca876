"""Langevin samplers against Gaussians, where the stationary law is known in closed form."""

import math

import pytest
import torch

from febm.dynamics.training.samplers import langevin


def _quadratic(x):
    return 0.5 * (x**2).sum(-1)


def test_ula_has_its_known_discretisation_bias():
    """For E = |x|²/2, ULA's chain x' = (1 − h)x + √(2h)ξ is stationary at variance 1/(1 − h/2)."""
    g = torch.Generator().manual_seed(0)
    h = 0.3
    x = torch.zeros(20000, 1, dtype=torch.float64)
    res = langevin(_quadratic, x, 200, h, g)
    assert res.acceptance is None
    assert abs(float(res.x.var()) - 1 / (1 - h / 2)) < 0.03


def test_mala_removes_the_bias():
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(20000, 2, dtype=torch.float64)
    res = langevin(_quadratic, x, 200, 0.3, g, mala=True)
    assert 0.5 < res.acceptance < 1.0
    assert abs(float(res.x.var(0).mean()) - 1) < 0.03
    assert abs(float(res.x.mean())) < 0.02


def test_mala_targets_a_shifted_anisotropic_gaussian():
    scale = torch.tensor([0.5, 2.0], dtype=torch.float64)
    shift = torch.tensor([1.0, -1.0], dtype=torch.float64)

    def energy(x):
        return 0.5 * (((x - shift) / scale) ** 2).sum(-1)

    g = torch.Generator().manual_seed(2)
    res = langevin(energy, torch.zeros(20000, 2, dtype=torch.float64), 400, 0.1, g, mala=True)
    assert torch.allclose(res.x.mean(0), shift, atol=0.06)
    assert torch.allclose(res.x.std(0), scale, rtol=0.05)


@pytest.mark.parametrize("mala", [False, True])
def test_langevin_is_seeded_and_batched(mala):
    x = torch.randn(3, 50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = langevin(_quadratic, x, 10, 0.1, torch.Generator().manual_seed(5), mala=mala).x
    b = langevin(_quadratic, x, 10, 0.1, torch.Generator().manual_seed(5), mala=mala).x
    assert a.shape == (3, 50, 2) and torch.equal(a, b) and math.isfinite(float(a.sum()))


def test_ula_with_a_gradient_function_takes_the_same_steps():
    """`langevin(..., gradient=...)` (the compiled path of the 2-D trainer) draws the same noise in the
    same order and moves the chains as the autograd path does, to rounding."""
    def shifted(x):
        return 0.5 * ((x - 1.0) ** 2).sum(-1) + 0.1 * (x**4).sum(-1)

    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    plain = langevin(shifted, x, 30, 0.05, torch.Generator().manual_seed(3))
    given = langevin(shifted, x, 30, 0.05, torch.Generator().manual_seed(3),
                     gradient=lambda y: torch.func.grad(lambda z: shifted(z).sum())(y))
    assert given.acceptance is None and torch.allclose(plain.x, given.x, rtol=1e-12, atol=1e-12)
