"""Many 1-D Gaussian EBMs at once, E_θ(x) = (x − μ)²/(2σ²) with θ = (μ, log σ) per run.

Parameters are stacked as θ of shape (R, 2) and points as x of shape (R, n): run r uses
row r. This is the model of the paper's 1-D experiment; the stochastic trainers use it.
"""

from __future__ import annotations

import math

import torch

from .energies import gaussian_energy, gaussian_energy_gradient
from .protocols import log_prob


class BatchedGaussian1D:
    """Energy, its parameter gradient, exact samples and log-density of R Gaussian EBMs (the energy
    and its gradient are `energies.gaussian_energy`'s, log q is `protocols.log_prob`)."""

    @staticmethod
    def energy(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return gaussian_energy(x, theta[:, :1], theta[:, 1:])

    @staticmethod
    def mean_gradient(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The batch mean of ∇_θ E over each run's points, (R, 2), in closed form."""
        d_mu, d_log_sd = gaussian_energy_gradient(x, theta[:, :1], theta[:, 1:])
        return torch.stack([d_mu.mean(1), d_log_sd.mean(1)], dim=1)

    @staticmethod
    def sample(theta: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Exact samples x = μ + σ z from standard normals z of shape (R, n)."""
        return theta[:, :1] + torch.exp(theta[:, 1:]) * z

    @staticmethod
    def log_partition(theta: torch.Tensor) -> torch.Tensor:
        """log Z = log σ + ½ log 2π per run, (R, 1)."""
        return theta[:, 1:] + 0.5 * math.log(2 * math.pi)

    @classmethod
    def log_prob(cls, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return log_prob(cls, theta, x)

    @staticmethod
    def mean_sd(theta: torch.Tensor) -> torch.Tensor:
        """(μ, σ) per run, shape (R, 2)."""
        return torch.stack([theta[:, 0], torch.exp(theta[:, 1])], dim=1)

    @staticmethod
    def initial(runs: int, mu: float, sigma: float, **kw) -> torch.Tensor:
        return torch.tensor([[mu, math.log(sigma)]], **kw).repeat(runs, 1)
