"""2-D toy datasets, generated in code: 8 Gaussians, a 25-Gaussian grid, two moons, rings.

Each is a Gaussian mixture (moons and rings place many small components along their curves),
so its density is known exactly: that is what the 2-D scores compare a trained EBM against.
"""

from __future__ import annotations

import math

import torch

from ..registry import Registry
from .nodes import Nodes
from .quadrature import DTYPE, gauss_hermite_2d


class Mixture2D:
    """Equal-weight isotropic Gaussian mixture: centers (K, 2), one standard deviation."""

    def __init__(self, name: str, centers, sd: float):
        self.name = name
        self.centers = torch.as_tensor(centers, dtype=DTYPE)
        self.sd = float(sd)

    def sample(self, shape, generator: torch.Generator, device=None, dtype=DTYPE):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        kw = {"generator": generator, "device": device}
        k = torch.randint(len(self.centers), shape, **kw)
        noise = torch.randn(shape + (2,), dtype=dtype, **kw)
        return self.centers.to(device=device, dtype=dtype)[k] + self.sd * noise

    def nodes(self, n: int = 6) -> Nodes:
        """Exact expectations: an n × n Gauss–Hermite rule on every component, weighted 1/K."""
        z, w = gauss_hermite_2d(n)
        x = (self.centers[:, None, :] + self.sd * z[None]).reshape(-1, 2)
        return Nodes(x, (w[None] / len(self.centers)).expand(len(self.centers), -1).reshape(-1))

    def log_prob(self, x):
        c = self.centers.to(device=x.device, dtype=x.dtype)
        d2 = ((x[..., None, :] - c) ** 2).sum(-1)
        log_norm = math.log(len(c)) + math.log(2 * math.pi * self.sd**2)
        return torch.logsumexp(-0.5 * d2 / self.sd**2, dim=-1) - log_norm


def eight_gaussians(radius: float = 2.0, sd: float = 0.1) -> Mixture2D:
    angles = torch.arange(8, dtype=DTYPE) * (2 * math.pi / 8)
    return Mixture2D("8gaussians", radius * torch.stack([angles.cos(), angles.sin()], -1), sd)


def grid25(spacing: float = 1.0, sd: float = 0.08) -> Mixture2D:
    ticks = (torch.arange(5, dtype=DTYPE) - 2) * spacing
    return Mixture2D("25gaussians", torch.cartesian_prod(ticks, ticks), sd)


def two_moons(points: int = 100, sd: float = 0.1) -> Mixture2D:
    s = torch.linspace(0, math.pi, points, dtype=DTYPE)
    upper = torch.stack([s.cos(), s.sin()], -1)
    lower = torch.stack([1 - s.cos(), 0.5 - s.sin()], -1)
    return Mixture2D("moons", torch.cat([upper, lower]) * 1.5 - torch.tensor([0.75, 0.375], dtype=DTYPE), sd)


def rings(radii=(0.75, 1.5, 2.25), points: int = 120, sd: float = 0.08) -> Mixture2D:
    s = torch.arange(points, dtype=DTYPE) * (2 * math.pi / points)
    circle = torch.stack([s.cos(), s.sin()], -1)
    return Mixture2D("rings", torch.cat([r * circle for r in radii]), sd)


TOY2D: Registry = Registry("2-D dataset")
for _name, _builder in (("8gaussians", eight_gaussians), ("25gaussians", grid25), ("moons", two_moons),
                        ("rings", rings)):
    TOY2D.register(_name, _builder)


def toy2d(name: str) -> Mixture2D:
    return TOY2D[name]()
