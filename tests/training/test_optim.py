"""The stacked-run optimizers (`training.optim`): Adam's first step in closed form, and the second
moment fed from another gradient's square."""

import torch

from febm.dynamics.training.optim import Adam


def test_adam_s_first_step_is_the_gradient_over_its_root_second_moment():
    """Bias correction makes step 1 m̂ = g and v̂ = the square fed in: g / (√v̂ + ε), ±1 for v̂ = g²."""
    g = torch.tensor([[0.3, -2.0, 1e-3]], dtype=torch.float64)
    assert torch.allclose(Adam(g).direction(g), torch.sign(g), atol=1e-4)
    square = torch.tensor([[0.09, 16.0, 1.0]], dtype=torch.float64)  # noise adds to the mean's square
    expected = g / (square.sqrt() + 1e-8)
    assert torch.allclose(Adam(g).direction(g, square), expected)


def test_a_larger_second_moment_shortens_every_later_step():
    g = torch.full((1, 4), 0.5, dtype=torch.float64)
    plain, fed = Adam(g), Adam(g)
    for _ in range(20):
        a, b = plain.direction(g), fed.direction(g, g * g + 1.0)
    assert torch.all(b.abs() < a.abs()) and torch.allclose(a, torch.ones_like(a))
