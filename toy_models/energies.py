"""Energies E_θ(x) of toy EBMs q_θ = exp(−E_θ)/Z_θ, with exact expectations under q_θ.

Each model takes a flat float64 parameter vector θ and provides
``energy(θ, x)`` (per point), ``nodes(θ)`` (quadrature nodes and weights of q_θ, as
differentiable functions of θ) and ``log_partition(θ)``.
"""

from __future__ import annotations

import math

import torch

from .nodes import Nodes
from .protocols import ClosedFormGradient, ExactSampler
from .quadrature import DTYPE, gauss_hermite, gauss_hermite_2d, gauss_legendre


def gaussian_energy(x, mu, log_sd):
    """E = (x − μ)²/(2σ²) with σ = exp(log σ): febm's one 1-D Gaussian energy (μ and log σ
    broadcast against x: scalars for one model, columns for many runs at once)."""
    return 0.5 * ((x - mu) * torch.exp(-log_sd)) ** 2


def gaussian_energy_gradient(x, mu, log_sd) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂E/∂μ, ∂E/∂log σ) of `gaussian_energy` at each x, in closed form."""
    d = (x - mu) * torch.exp(-log_sd)
    return -d * torch.exp(-log_sd), -(d**2)


class GaussianEnergy1D:
    """E = (x − μ)²/(2σ²).

    ``param="meanlogstd"``: θ = (μ, log σ). ``param="natural"``: θ = (η1, η2) with
    E = η2 x² − η1 x (so σ² = 1/(2η2), μ = η1/(2η2)); the two differ by a constant in E.
    Expectations use Gauss–Hermite nodes moved with θ (reparametrized).
    """

    def __init__(self, param: str = "meanlogstd", n: int = 60):
        if param not in ("meanlogstd", "natural"):
            raise ValueError("param must be 'meanlogstd' or 'natural'")
        self.param = param
        self.dim = 2
        self._z, self._w = gauss_hermite(n)

    def mean_sd(self, theta):
        if self.param == "meanlogstd":
            return theta[0], torch.exp(theta[1])
        sd = torch.sqrt(0.5 / theta[1])
        return theta[0] * sd**2, sd

    def energy(self, theta, x):
        if self.param == "meanlogstd":
            return gaussian_energy(x, theta[0], theta[1])
        return theta[1] * x**2 - theta[0] * x

    def gradient(self, theta, x):
        """∇_θ E at each x: (n, 2), in closed form (faster than autodiff in the flows)."""
        if self.param == "meanlogstd":
            return torch.stack(gaussian_energy_gradient(x, theta[0], theta[1]), dim=-1)
        return torch.stack([-x, x**2], dim=-1)

    def nodes(self, theta) -> Nodes:
        mu, sd = self.mean_sd(theta)
        return Nodes(mu + sd * self._z, self._w)

    def hessian(self, theta, x):
        """∂²E/∂θ² per point, (n, 2, 2), in closed form."""
        if self.param == "natural":
            return torch.zeros(x.shape + (2, 2), dtype=x.dtype)
        s2 = torch.exp(-2 * theta[1])
        d = x - theta[0]
        row0 = torch.stack([s2.expand_as(d), 2 * d * s2], -1)
        return torch.stack([row0, torch.stack([2 * d * s2, 2 * d**2 * s2], -1)], -2)

    def sample(self, theta, z):
        """Exact samples of q_θ from standard normals z."""
        mu, sd = self.mean_sd(theta)
        return mu + sd * z

    def log_partition(self, theta):
        mu, sd = self.mean_sd(theta)
        log_z = torch.log(sd * math.sqrt(2 * math.pi))
        return log_z if self.param == "meanlogstd" else log_z + 0.5 * (mu / sd) ** 2

    def theta_from(self, mu: float, sd: float) -> torch.Tensor:
        if self.param == "meanlogstd":
            return torch.tensor([mu, math.log(sd)], dtype=DTYPE)
        return torch.tensor([mu / sd**2, 0.5 / sd**2], dtype=DTYPE)


class GaussianEnergy2D:
    """E = ½ (x − μ)ᵀ P (x − μ), P = L Lᵀ, L = [[e^a, 0], [b, e^c]]; θ = (μ1, μ2, a, b, c)."""

    def __init__(self, n: int = 24):
        self.dim = 5
        self._z, self._w = gauss_hermite_2d(n)

    @staticmethod
    def cholesky(theta):
        zero = torch.zeros((), dtype=theta.dtype)
        return torch.stack(
            [torch.stack([torch.exp(theta[2]), zero]), torch.stack([theta[3], torch.exp(theta[4])])]
        )

    def energy(self, theta, x):
        d = (x - theta[:2]) @ self.cholesky(theta)  # rows: (x − μ)ᵀ L
        return 0.5 * (d**2).sum(-1)

    def gradient(self, theta, x):
        """∇_θ E at each x: (n, 5), in closed form."""
        L = self.cholesky(theta)
        u = x - theta[:2]
        d = u @ L
        return torch.stack([
            -(d @ L.T)[..., 0], -(d @ L.T)[..., 1],
            d[..., 0] * u[..., 0] * L[0, 0], d[..., 0] * u[..., 1], d[..., 1] * u[..., 1] * L[1, 1],
        ], dim=-1)

    def nodes(self, theta) -> Nodes:
        # cov = P⁻¹ = L⁻ᵀ L⁻¹, so x = μ + L⁻ᵀ z
        inv_t = torch.linalg.inv(self.cholesky(theta)).T
        return Nodes(theta[:2] + self._z @ inv_t.T, self._w)

    def log_partition(self, theta):
        return math.log(2 * math.pi) - theta[2] - theta[4]

    def sample(self, theta, z):
        """Exact samples from standard normals z of shape (n, 2): x = μ + L⁻ᵀ z."""
        return theta[:2] + z @ torch.linalg.inv(self.cholesky(theta))

    @staticmethod
    def theta_from(mean, cov) -> torch.Tensor:
        precision = torch.linalg.inv(torch.as_tensor(cov, dtype=DTYPE))
        chol = torch.linalg.cholesky(precision)
        m = torch.as_tensor(mean, dtype=DTYPE)
        return torch.stack([m[0], m[1], torch.log(chol[0, 0]), chol[1, 0], torch.log(chol[1, 1])])


class ExpFamilyFinite:
    """E = θ·T(x) on a finite support; expectations are exact sums with softmax weights."""

    def __init__(self, support, features):
        self.support = torch.as_tensor(support, dtype=DTYPE)
        self.features = features
        self.dim = features(self.support).shape[-1]

    def energy(self, theta, x):
        return self.features(x) @ theta

    def gradient(self, theta, x):
        return self.features(x)

    def nodes(self, theta) -> Nodes:
        return Nodes(self.support, torch.softmax(-self.energy(theta, self.support), dim=0))

    def log_partition(self, theta):
        return torch.logsumexp(-self.energy(theta, self.support), dim=0)


class GridEnergy1D:
    """Any 1-D energy on [lo, hi], with self-normalized Gauss–Legendre expectations.

    ``energy_fn(θ, x)`` is the energy and ``gradient_fn(θ, x)``, if given, its ∇_θ. Because
    the weights w e^{−E}/Z depend on θ, autodiff through them reproduces the score-function
    (covariance) term exactly.
    """

    def __init__(self, energy_fn, dim: int, lo: float = -12.0, hi: float = 12.0, n: int = 400,
                 gradient_fn=None, sampler=None, grid=None):
        self.energy = energy_fn
        if sampler is not None:  # exact sampling from standard normals, where q_θ is known
            self.sample = sampler
        if gradient_fn is not None:
            self.gradient = gradient_fn
        self.dim = dim
        self._x, self._w = gauss_legendre(lo, hi, n) if grid is None else grid  # grid: (nodes, weights)

    @classmethod
    def on_square(cls, energy_fn, dim: int, lo: float, hi: float, n: int, **kw) -> "GridEnergy1D":
        """The same in 2-D: an n × n tensor Gauss–Legendre grid on [lo, hi]²."""
        x, w = gauss_legendre(lo, hi, n)
        return cls(energy_fn, dim, lo, hi, n, grid=(torch.cartesian_prod(x, x), torch.outer(w, w).reshape(-1)), **kw)

    @property
    def grid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed quadrature nodes and their Gauss–Legendre weights (before exp(−E) reweights them)."""
        return self._x, self._w

    def nodes(self, theta) -> Nodes:
        return Nodes(self._x, self.energy_and_weights(theta)[1])

    def energy_and_weights(self, theta) -> tuple[torch.Tensor, torch.Tensor]:
        """E on the grid and q_θ's normalized weights there, from one evaluation of E."""
        energy = self.energy(theta, self._x)
        return energy, torch.softmax(torch.log(self._w) - energy, dim=0)

    def log_partition(self, theta):
        return torch.logsumexp(torch.log(self._w) - self.energy(theta, self._x), dim=0)


def exp_family_1d(features, base=lambda x: 0.5 * x**2, **grid) -> GridEnergy1D:
    """E = base(x) + θ·T(x) on the real line (base confines q_θ)."""
    dim = features(torch.zeros(1, dtype=DTYPE)).shape[-1]
    return GridEnergy1D(lambda theta, x: base(x) + features(x) @ theta, dim,
                        gradient_fn=lambda theta, x: features(x), **grid)


class WithConstant:
    """E + c, with c an extra last parameter: q_θ is unchanged, but r = H + E moves with c.

    Together with a critic that has a constant feature, (c, ω_const) -> (c + δ, ω_const − δ)
    leaves the game unchanged: a gauge direction and a zero eigenvalue.
    """

    def __init__(self, model):
        self.model = model
        self.dim = model.dim + 1
        if isinstance(model, ExactSampler):  # q_θ does not depend on c
            self.sample = lambda theta, z: model.sample(theta[:-1], z)

    def energy(self, theta, x):
        return self.model.energy(theta[:-1], x) + theta[-1]

    def gradient(self, theta, x):
        if isinstance(self.model, ClosedFormGradient):
            inner = self.model.gradient(theta[:-1], x)
        else:
            inner = torch.func.jacfwd(self.model.energy, argnums=0)(theta[:-1], x)
        return torch.cat([inner, torch.ones_like(inner[..., :1])], dim=-1)

    def nodes(self, theta) -> Nodes:
        return self.model.nodes(theta[:-1])

    def log_partition(self, theta):
        return self.model.log_partition(theta[:-1]) - theta[-1]
