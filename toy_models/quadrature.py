"""Quadrature rules: numpy's Gauss–Hermite and Gauss–Legendre nodes as float64 tensors."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

DTYPE = torch.float64


def gauss_hermite(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes z and weights w with sum w φ(z) ≈ E[φ(Z)], Z ~ N(0, 1) (exact to degree 2n−1)."""
    z, w = _reference(n, "hermite_e")
    return torch.tensor(z, dtype=DTYPE), torch.tensor(w / np.sqrt(2 * np.pi), dtype=DTYPE)


def gauss_hermite_2d(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Tensor-product rule for Z ~ N(0, I_2): nodes (n², 2), weights (n²,)."""
    z, w = gauss_hermite(n)
    zz = torch.cartesian_prod(z, z)
    ww = torch.outer(w, w).reshape(-1)
    return zz, ww


def gauss_legendre(lo: float, hi: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights with sum w φ(x) ≈ ∫_lo^hi φ(x) dx."""
    x, w = _reference(n, "legendre")
    half = (hi - lo) / 2
    return torch.tensor(lo + half * (x + 1), dtype=DTYPE), torch.tensor(half * w, dtype=DTYPE)


@lru_cache(maxsize=16)
def _reference(n: int, family: str) -> tuple[np.ndarray, np.ndarray]:
    """numpy's nodes and weights on the reference interval, computed once per n: numpy solves a dense
    n × n eigenproblem (about 0.6 s at n = 1200), and the misspecified set-ups ask again and again."""
    rule = np.polynomial.legendre.leggauss if family == "legendre" else np.polynomial.hermite_e.hermegauss
    nodes, weights = rule(n)
    nodes.flags.writeable = weights.flags.writeable = False
    return nodes, weights
