"""What a toy set-up's parts must provide. febm checks these with ``isinstance``.

An energy model, a critic and a data source are duck-typed objects. The optional
capabilities (a closed-form gradient, an exact sampler) are separate protocols, so code
asks ``isinstance(model, ExactSampler)`` instead of probing attributes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from .nodes import Nodes


def log_prob(model: "EnergyModel", theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log q_θ(x) = −E_θ(x) − log Z_θ, for any energy model (febm's one copy of this identity)."""
    return -model.energy(theta, x) - model.log_partition(theta)


@runtime_checkable
class EnergyModel(Protocol):
    """q_θ(x) = exp(−E_θ(x))/Z_θ with exact expectations.

    ``nodes(θ)`` are quadrature nodes and weights of q_θ. They must be differentiable in θ
    (moving nodes, or θ-dependent weights on fixed nodes): the covariance term of ∇_θ L,
    and every Jacobian, are taken through them.
    """

    dim: int

    def energy(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...

    def nodes(self, theta: torch.Tensor) -> Nodes: ...

    def log_partition(self, theta: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class Critic(Protocol):
    """H_ω(x), the variational function; H + E estimates log p/q_θ."""

    dim: int

    def value(self, omega: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class DataSource(Protocol):
    """The data density p, through fixed quadrature nodes and weights."""

    def nodes(self) -> Nodes: ...


@runtime_checkable
class ClosedFormGradient(Protocol):
    """Optional: ∇ of the energy or critic in its parameters, per point, shape (n, dim).

    Faster than autodiff in the flows; febm falls back to ``torch.func.jacfwd`` without it.
    """

    def gradient(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class ClosedFormHessian(Protocol):
    """Optional: the per-point Hessian in the parameters, shape (n, dim, dim) (closed-form Jacobians
    off a realizable equilibrium need it; febm falls back to autodiff)."""

    def hessian(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class ExactSampler(Protocol):
    """Optional, for a model: exact samples of q_θ from standard normals z (``febm confirm``)."""

    def sample(self, theta: torch.Tensor, z: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class DataSampler(Protocol):
    """Optional, for data: ``sample(shape, generator)`` draws points of p (the stochastic runs)."""

    def sample(self, shape, generator: torch.Generator, device=None, dtype=torch.float64) -> torch.Tensor: ...


@runtime_checkable
class DataDensity(Protocol):
    """Optional, for data: log p(x). The exact D_f minimizer and the ideal critic log p/q need it."""

    def log_prob(self, x: torch.Tensor) -> torch.Tensor: ...
