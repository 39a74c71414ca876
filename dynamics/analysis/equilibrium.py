"""Equilibria of a vector field: the known realizable one, and root-solving from a start."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import null_space
from scipy.optimize import root

from .jacobian import autodiff


@dataclass
class Equilibrium:
    z: torch.Tensor
    residual: float  # ‖F(z)‖
    success: bool
    message: str


def residual(field, z) -> float:
    return float(torch.linalg.norm(field(z)))


def solve(field, z0: torch.Tensor, tol: float = 1e-12, max_evals: int = 100) -> Equilibrium:
    """Root of F from z0 (Levenberg–Marquardt with the autodiff Jacobian; tolerates gauges)."""

    def fun(x):
        return field(torch.as_tensor(x, dtype=z0.dtype)).numpy()

    def jac(x):
        return autodiff(field, torch.as_tensor(x, dtype=z0.dtype)).numpy()

    options = {"xtol": 1e-14, "ftol": 1e-14, "maxiter": max_evals}
    sol = root(fun, z0.numpy(), jac=jac, method="lm", options=options)
    z = torch.as_tensor(sol.x, dtype=z0.dtype)
    res = residual(field, z)
    return Equilibrium(z, res, res < tol, sol.message)


def gauge_directions(field, z_star, J: torch.Tensor, eps: float = 1e-2, tol: float = 1e-10):
    """Null vectors of J along which F stays zero at distance eps: the equilibrium is not
    isolated there. Returns an orthonormal basis (numpy, n × k)."""
    J_np = J.numpy()
    scale = max(np.linalg.norm(J_np, 2), 1e-300)
    null = null_space(J_np, rcond=1e-9) if scale > 0 else np.eye(len(J_np))
    keep = []
    for k in range(null.shape[1]):
        v = torch.as_tensor(null[:, k], dtype=z_star.dtype)
        if residual(field, z_star + eps * v) <= tol * max(1.0, scale):
            keep.append(null[:, k])
    return np.stack(keep, axis=1) if keep else np.zeros((len(J_np), 0))


def locate(game, setup, tol: float = 1e-12) -> Equilibrium:
    """The equilibrium of ``game`` on ``setup``: the known one (realizable set-ups), or a root
    of the unit-rate field solved from the set-up's start (which may depend on the divergence)."""
    from .fields import GDAField

    field = GDAField(game)
    if setup.known:
        z = setup.z_star
        return Equilibrium(z, residual(field, z), True, "known in advance")
    return solve(field, setup.initial_guess(game.divergence), tol)
