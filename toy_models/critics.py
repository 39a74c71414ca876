"""Variational functions H_ω(x): linear in features, or a small MLP."""

from __future__ import annotations

import numpy as np
import torch

from . import mlp
from .nodes import Nodes
from .quadrature import DTYPE


def polynomial(degree: int, constant: bool = True):
    """φ(x) = (1, x, ..., x^degree) for 1-D x (without the 1 if ``constant`` is False)."""
    powers = list(range(0 if constant else 1, degree + 1))
    return lambda x: torch.stack([x**k for k in powers], dim=-1)


def quadratic_2d(constant: bool = True):
    """φ(x) = (1, x1, x2, x1², x1 x2, x2²) for 2-D x."""

    def features(x):
        x1, x2 = x[..., 0], x[..., 1]
        cols = [x1, x2, x1**2, x1 * x2, x2**2]
        return torch.stack(([torch.ones_like(x1)] if constant else []) + cols, dim=-1)

    return features


def rbf(centers, width: float, constant: bool = True):
    """φ(x) = (1, exp(−(x − c_j)²/(2 width²))_j) for 1-D x."""
    c = torch.as_tensor(centers, dtype=DTYPE)

    def features(x):
        bumps = torch.exp(-0.5 * ((x.unsqueeze(-1) - c) / width) ** 2)
        return torch.cat([torch.ones_like(bumps[..., :1]), bumps], -1) if constant else bumps

    return features


class LinearCritic:
    """H_ω(x) = offset(x) + ω·φ(x)."""

    def __init__(self, features, offset=None):
        self.features = features
        self.offset = offset
        self.dim = None  # set on first use: depends on the features

    def value(self, omega, x):
        h = self.features(x) @ omega
        return h if self.offset is None else h + self.offset(x)

    def gradient(self, omega, x):
        return self.features(x)

    def fit(self, target, nodes: Nodes) -> tuple[torch.Tensor, float]:
        """Weighted least squares ω for H_ω ≈ target on the nodes, and the RMS residual."""
        phi = self.features(nodes.x)
        y = target(nodes.x) - (0 if self.offset is None else self.offset(nodes.x))
        sw = nodes.w.sqrt().unsqueeze(-1)
        # numpy's SVD-based lstsq: torch's CPU lstsq differed in the last bits between runs
        A, b = (phi * sw).detach().numpy(), (y.unsqueeze(-1) * sw).detach().numpy()
        omega = torch.as_tensor(np.linalg.lstsq(A, b, rcond=None)[0][:, 0], dtype=phi.dtype)
        residual = (nodes.w * (phi @ omega - y) ** 2).sum().sqrt()
        return omega, float(residual)

    def with_dim(self, x_example):
        self.dim = self.features(x_example).shape[-1]
        return self


class MLPCritic:
    """H_ω(x) = offset(x) + MLP_ω(x) with tanh hidden layers."""

    def __init__(self, sizes=(1, 16, 1), offset=None):
        self.sizes = tuple(sizes)
        self.offset = offset
        self.dim = mlp.param_count(self.sizes)

    def value(self, omega, x):
        h = mlp.forward(omega, x, self.sizes)
        return h if self.offset is None else h + self.offset(x)


class NegatedEnergyCritic:
    """H_ω(x) = −E_ω(x) for a model's own energy family: realizable at ω* = θ*.

    The energy's output bias and the critic's shift r = H + E in opposite ways, so
    equal moves of both are a gauge direction.
    """

    def __init__(self, model):
        self.model = model
        self.dim = model.dim

    def value(self, omega, x):
        return -self.model.energy(omega, x)
