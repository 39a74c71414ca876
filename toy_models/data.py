"""Data distributions p with exact expectations: E_p[φ] = sum_i w_i φ(x_i) over fixed nodes."""

from __future__ import annotations

import math

import torch

from .nodes import Nodes
from .protocols import ExactSampler, log_prob
from .quadrature import DTYPE, gauss_hermite, gauss_hermite_2d

_TINY = 1e-7  # uniforms are kept inside (0, 1): the normal quantile is infinite at the ends


class Gaussian:
    """N(mu, sd²) in 1-D."""

    def __init__(self, mu: float, sd: float, n: int = 60):
        self.mu, self.sd = float(mu), float(sd)
        z, w = gauss_hermite(n)
        self._nodes = Nodes(self.mu + self.sd * z, w)

    def nodes(self) -> Nodes:
        return self._nodes

    def log_prob(self, x):
        return -0.5 * ((x - self.mu) / self.sd) ** 2 - math.log(self.sd * math.sqrt(2 * math.pi))

    def sample(self, shape, generator: torch.Generator, device=None, dtype=DTYPE):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return self.mu + self.sd * torch.randn(shape, generator=generator, device=device, dtype=dtype)

    def from_uniform(self, u: torch.Tensor) -> torch.Tensor:
        """The inverse CDF: samples from uniforms in (0, 1) (stratified uniforms give stratified samples)."""
        return self.mu + self.sd * torch.special.ndtri(u)


class GaussianMixture:
    """sum_k π_k N(m_k, s_k²) in 1-D; expectations are weighted per-component Gauss–Hermite sums."""

    def __init__(self, weights, means, sds, n: int = 60):
        total = sum(weights)
        self.weights = [float(p) / total for p in weights]
        self.means = [float(m) for m in means]
        self.sds = [float(s) for s in sds]
        z, w = gauss_hermite(n)
        xs = [m + s * z for m, s in zip(self.means, self.sds)]
        ws = [p * w for p in self.weights]
        self._nodes = Nodes(torch.cat(xs), torch.cat(ws))

    def nodes(self) -> Nodes:
        return self._nodes

    def log_prob(self, x):
        comps = [
            math.log(p) - 0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
            for p, m, s in zip(self.weights, self.means, self.sds)
        ]
        return torch.logsumexp(torch.stack(comps), dim=0)

    def sample(self, shape, generator: torch.Generator, device=None, dtype=DTYPE):
        """Samples of the given shape, drawn on the generator's device."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        kw = {"generator": generator, "device": device, "dtype": dtype}
        cdf = torch.tensor(self.weights, dtype=dtype, device=device).cumsum(0)
        k = torch.searchsorted(cdf[:-1].contiguous(), torch.rand(shape, **kw).contiguous(), right=True)
        m = torch.tensor(self.means, dtype=dtype, device=device)[k]
        s = torch.tensor(self.sds, dtype=dtype, device=device)[k]
        return m + s * torch.randn(shape, **kw)

    def from_uniform(self, u: torch.Tensor) -> torch.Tensor:
        """Samples from uniforms in (0, 1): u picks component k by its place in the cumulative
        weights, and its position inside that slice, rescaled to (0, 1), is the component's normal
        quantile. Measure-preserving, so stratified uniforms give stratified mixture samples."""
        kw = {"dtype": u.dtype, "device": u.device}
        w = torch.tensor(self.weights, **kw)
        upper = w.cumsum(0)
        k = torch.searchsorted(upper[:-1].contiguous(), u.contiguous(), right=True)
        v = ((u - (upper - w)[k]) / w[k]).clamp(_TINY, 1 - _TINY)
        m, s = torch.tensor(self.means, **kw)[k], torch.tensor(self.sds, **kw)[k]
        return m + s * torch.special.ndtri(v)


def paper_mixture(n: int = 60) -> GaussianMixture:
    """The paper's 1-D data: 0.33 N(−1, 0.25²) + 0.67 N(2, (√2)²)."""
    return GaussianMixture([0.33, 0.67], [-1.0, 2.0], [0.25, math.sqrt(2.0)], n)


class Gaussian2D:
    """N(mean, cov) in 2-D with a tensor Gauss–Hermite rule."""

    def __init__(self, mean, cov, n: int = 24):
        self.mean = torch.as_tensor(mean, dtype=DTYPE)
        self.cov = torch.as_tensor(cov, dtype=DTYPE)
        chol = torch.linalg.cholesky(self.cov)
        z, w = gauss_hermite_2d(n)
        self._nodes = Nodes(self.mean + z @ chol.T, w)

    def nodes(self) -> Nodes:
        return self._nodes


class Realizable:
    """p = q_{θ*}: the model itself at a known parameter (the realizable case)."""

    def __init__(self, model, theta_star):
        self.model = model
        self.theta_star = torch.as_tensor(theta_star, dtype=DTYPE)
        nodes = model.nodes(self.theta_star)
        self._nodes = Nodes(nodes.x.detach(), nodes.w.detach())
        self.event_shape = tuple(self._nodes.x.shape[1:])  # () in 1-D, (d,) in d dimensions
        if isinstance(model, ExactSampler):  # exact samples of q_θ* from standard normals
            self.sample = self._sample

    def nodes(self) -> Nodes:
        return self._nodes

    def log_prob(self, x):
        """log q_θ*(x) = −E_θ*(x) − log Z(θ*)."""
        return log_prob(self.model, self.theta_star, x)

    def _sample(self, shape, generator: torch.Generator, device=None, dtype=DTYPE):
        """Points of p: the model's own sampler at θ*, applied to standard normals of ``shape``."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        z = torch.randn(shape + self.event_shape, generator=generator, device=device, dtype=dtype)
        flat = z.reshape((-1,) + self.event_shape)
        return self.model.sample(self.theta_star.to(device=device, dtype=dtype), flat).reshape(z.shape)
