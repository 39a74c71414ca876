"""Variational functions H_ω(x): linear in features, or a small MLP."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError, printable
from . import mlp
from .nodes import Nodes
from .quadrature import DTYPE

PROBE_POINTS = 4  # inputs a user's network is tried on before any work


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


def quadratic_rbf(k: int, lo: float, hi: float):
    """φ(x) = (1, x, x², k Gaussian bumps) for 1-D x; the bumps' centers are evenly spaced on
    [lo, hi] and their width is the spacing, so they overlap and tile the interval."""
    centers = torch.linspace(lo, hi, k, dtype=DTYPE) if k > 1 else torch.tensor([(lo + hi) / 2], dtype=DTYPE)
    width = 0.5 * ((hi - lo) / (k - 1) if k > 1 else (hi - lo) / 2)  # wider bumps are nearly quadratic
    bumps = rbf(centers, width, constant=False)

    def features(x):
        quad = torch.stack([torch.ones_like(x), x, x**2], -1)
        return quad if k == 0 else torch.cat([quad, bumps(x)], -1)

    return features


def quadratic_rbf_2d(centers, width: float):
    """φ(x) = (1, x1, x2, x1², x1 x2, x2², exp(−|x − c_j|²/(2 width²))_j) for 2-D x."""
    c = torch.as_tensor(centers, dtype=DTYPE)
    quad = quadratic_2d()

    def features(x):
        d2 = ((x[..., None, :] - c) ** 2).sum(-1)
        return torch.cat([quad(x), torch.exp(-0.5 * d2 / width**2)], -1)

    return features


def whitened(features, nodes: Nodes):
    """The same features mixed linearly so that E[φφᵀ] = I under ``nodes`` (Cholesky).

    The critic's function space, and so the game's equilibrium, are unchanged; its coordinates
    are orthonormal, so nearly collinear features (overlapping bumps) do not make the
    linearization sloppy.
    """
    phi = features(nodes.x)
    gram = (nodes.w[:, None, None] * phi[:, :, None] * phi[:, None, :]).sum(0)
    inv_t = torch.linalg.inv(torch.linalg.cholesky(gram)).T

    def orthonormal(x):
        return features(x) @ inv_t

    return orthonormal


def rbf(centers, width: float, constant: bool = True):
    """φ(x) = (1, exp(−(x − c_j)²/(2 width²))_j) for 1-D x."""
    c = torch.as_tensor(centers, dtype=DTYPE)

    def features(x):
        bumps = torch.exp(-0.5 * ((x.unsqueeze(-1) - c) / width) ** 2)
        return torch.cat([torch.ones_like(bumps[..., :1]), bumps], -1) if constant else bumps

    return features


def _plain(x) -> bool:
    """A tensor that no torch.func transform or autograd tracks (safe to memoize results of)."""
    return type(x) is torch.Tensor and not x.requires_grad and not torch._C._functorch.is_functorch_wrapped_tensor(x)


class LinearCritic:
    """H_ω(x) = offset(x) + ω·φ(x).

    φ is memoized for the last few node tensors it was called with (the same objects): a field
    evaluation asks for φ at fixed quadrature nodes several times, and flows ask thousands of times.
    """

    _MEMO = 4

    def __init__(self, features, offset=None):
        self.features = features
        self.offset = offset
        self.dim = None  # set on first use: depends on the features
        self._memo: list = []

    def phi(self, x):
        for seen, value in self._memo:
            if seen is x:
                return value
        value = self.features(x)
        if _plain(x):
            self._memo = [(x, value), *self._memo][: self._MEMO]
        return value

    def value(self, omega, x):
        h = self.phi(x) @ omega
        return h if self.offset is None else h + self.offset(x)

    def gradient(self, omega, x):
        return self.phi(x)

    def hessian(self, omega, x):
        """∇²_ω H = 0 at every point: the critic is linear in ω."""
        phi = self.phi(x)
        return torch.zeros(phi.shape + phi.shape[-1:], dtype=phi.dtype)

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
        """Set ``dim`` from the features of an example input, and return the critic."""
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

    def init(self, seed: int = 0) -> torch.Tensor:
        """torch.nn.Linear's initialisation, from ``seed``."""
        return mlp.init(self.sizes, torch.Generator().manual_seed(seed))

    @property
    def spec(self) -> str:
        return "mlp:" + ",".join(str(s) for s in self.sizes[1:-1])


class ModuleCritic:
    """H_ω(x) = module(x) for the user's own torch.nn.Module, its parameters flattened into ω.

    ``value`` calls the module through torch.func.functional_call, so every transform (grad,
    jvp, vmap) sees ω. The module takes x with a trailing feature axis, (n, d), and returns
    (n,) or (n, 1); 1-D inputs are given as (n, 1).
    """

    def __init__(self, module: torch.nn.Module, name: str = "module"):
        self.module = module.to(DTYPE)
        self.names = [k for k, _ in module.named_parameters()]
        self.shapes = [p.shape for _, p in module.named_parameters()]
        self.dim = sum(p.numel() for _, p in module.named_parameters())
        self.spec = name
        if self.dim == 0:
            raise InputError(f"critic {name} has no parameters; a critic needs at least one trainable "
                             "parameter (torch.nn.Identity has none)")

    def _unflatten(self, omega):
        out, k = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = shape.numel()
            out[name] = omega[k : k + size].reshape(shape)
            k += size
        return out

    def value(self, omega, x):
        return self._call(omega, x).reshape(len(x))

    def init(self, seed: int = 0) -> torch.Tensor:
        """The module's own parameters (the seed does not redraw them)."""
        return torch.cat([p.detach().reshape(-1) for p in self.module.parameters()]).to(DTYPE)

    def probe(self, x) -> None:
        """Call the module once on a few of the set-up's inputs ``x`` before any work, so that a
        module that cannot play the game is refused with one line saying what is wrong and what
        is expected (instead of a traceback, or a NaN game, deep inside the analysis)."""
        x = x[:PROBE_POINTS]
        width = 1 if x.dim() == 1 else x.shape[-1]
        takes = next((m.in_features for m in self.module.modules() if hasattr(m, "in_features")), None)
        if takes is not None and takes != width:
            raise InputError(f"critic {self.spec} takes inputs of width {takes}, but this set-up's x has {width} "
                             f"feature(s): give a module whose first layer takes {width}")
        omega = self.init().requires_grad_(True)
        try:
            out = self._call(omega, x)
        except Exception as exc:  # the user's module: report what it said, on one line
            raise InputError(f"critic {self.spec} fails on a batch of this set-up's inputs, shape "
                             f"{tuple(self._inputs(x).shape)} (float64): {printable(str(exc), 120)}") from None
        self._check_output(out, len(x))

    def _check_output(self, out, n: int) -> None:
        what = f"critic {self.spec}"
        if not isinstance(out, torch.Tensor):
            raise InputError(f"{what} returns a {type(out).__name__}; it must return a tensor of shape (n,) or (n, 1)")
        if tuple(out.shape) not in ((n,), (n, 1)):
            raise InputError(f"{what} returns shape {tuple(out.shape)} for {n} inputs; expected ({n},) or ({n}, 1), "
                             "one value per input")
        if out.dtype != DTYPE:
            raise InputError(f"{what} returns {str(out.dtype).removeprefix('torch.')} although its parameters were "
                             "cast to float64 (a constant or a cast inside forward?); the game is played in float64")
        if not torch.isfinite(out).all():
            raise InputError(f"{what} returns non-finite values (nan or inf) at its initial parameters; "
                             "expected finite values")
        if not out.requires_grad:
            raise InputError(f"{what}'s output does not depend on its parameters; expected a function of them")

    @staticmethod
    def _inputs(x):
        return x.unsqueeze(-1) if x.dim() == 1 else x

    def _call(self, omega, x):
        return torch.func.functional_call(self.module, self._unflatten(omega), (self._inputs(x),))


def parse_critic(spec: str, input_dim: int = 1):
    """A network critic from its spelling: ``mlp:64,64`` (tanh, widths of the hidden layers)."""
    kind, _, widths = spec.partition(":")
    if kind != "mlp":
        raise InputError(f"a critic is mlp:W1,W2,... (tanh hidden widths) or path/to/file.py:NAME, not {spec!r}")
    try:  # ASCII digits only: int() also reads '４' as 4
        hidden = tuple(int(w) for w in widths.split(",")) if widths.isascii() else ()
    except ValueError:
        hidden = ()
    if not hidden or any(not 1 <= w <= 1024 for w in hidden) or len(hidden) > 4:
        raise InputError(f"mlp critic widths are 1 to 4 integers in [1, 1024], like mlp:64,64; got {spec!r}")
    return MLPCritic((input_dim, *hidden, 1))


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
