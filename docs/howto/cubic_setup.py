"""A user-defined set-up for `febm check --model docs/howto/cubic_setup.py:cubic` (see the how-to)."""

import torch

import febm
from febm.toy_models import GridEnergy1D, LinearCritic


def energy(theta, x):
    return 0.5 * x**2 + theta[0] * x + theta[1] * x**2 + 0.1 * theta[2] * x**3 / (1 + 0.01 * x**4)


def features(x):
    return torch.stack([torch.ones_like(x), x, x**2, 0.1 * x**3 / (1 + 0.01 * x**4)], -1)


def cubic() -> febm.Setup:
    model = GridEnergy1D(energy, dim=3, lo=-12.0, hi=12.0, n=400)
    return febm.realizable("cubic", "E = x²/2 + θ·(x, x², x³/(10 + x⁴/10))", model, LinearCritic(features),
                           torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
