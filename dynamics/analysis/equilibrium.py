"""Equilibria of a vector field: the known realizable one, and root-solving from a start."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import null_space
from scipy.optimize import root

from .jacobian import autodiff, moment_form


@dataclass
class Equilibrium:
    z: torch.Tensor
    residual: float  # ‖F(z)‖
    success: bool
    message: str
    trained: object = None  # the `trained.TrainedAnalysis` whose resting point this is ("flow" method)


def residual(field, z) -> float:
    return float(torch.linalg.norm(field(z)))


def solve(field, z0: torch.Tensor, tol: float = 1e-12, max_evals: int = 100, jacobian=autodiff) -> Equilibrium:
    """Root of F from z0 (Levenberg–Marquardt; tolerates gauges). ``jacobian(field, z)`` defaults
    to autodiff; the moment form is an exact, cheaper alternative for a GDAField."""

    def fun(x):
        return field(torch.as_tensor(x, dtype=z0.dtype)).numpy()

    def jac(x):
        return jacobian(field, torch.as_tensor(x, dtype=z0.dtype)).numpy()

    options = {"xtol": 1e-14, "ftol": 1e-14, "maxiter": max_evals}
    with np.errstate(all="ignore"):
        sol = root(fun, z0.numpy(), jac=jac, method="lm", options=options)
    z = torch.as_tensor(sol.x, dtype=z0.dtype)
    res = residual(field, z)
    return Equilibrium(z, res, bool(res < tol), sol.message)


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


def best_critic(game, theta: torch.Tensor, omega0: torch.Tensor, iterations: int = 200) -> torch.Tensor | None:
    """argmax_ω L(θ, ω) by damped Newton ascent, from ``omega0``; None where L is not finite at the start.

    The gradient and Hessian in ω are the ω-parts of the field and of its moment-form Jacobian
    (exact, no autograd). A step (−∇²L + λI)⁻¹∇L is taken only if L rises and stays finite;
    otherwise λ grows. L is concave in ω near its maximum, so this converges where a root-solve
    on the field stalls in a local minimum of |F|² (the triangular and Pearson games on paper-1d),
    and it never steps into overflow (the χ²-type links from a poor critic).
    """
    from .fields import GDAField

    field, n = GDAField(game), game.dim_theta

    def value(w):
        return float(game.value(theta, w))

    w = omega0.detach().clone()
    v = value(w)
    if not np.isfinite(v):
        return None
    damping, eye = 1e-3, torch.eye(len(w), dtype=w.dtype)
    for _ in range(iterations):
        z = torch.cat([theta, w])
        grad = field(z)[n:]
        if float(grad.norm()) <= 1e-11 * max(1.0, abs(v)):
            break
        hess = moment_form(field, z)[n:, n:]
        if not (torch.isfinite(grad).all() and torch.isfinite(hess).all()):
            break
        while damping < 1e12:
            # gelsd: torch's default gelsy gave different last bits in each process
            trial = w + torch.linalg.lstsq(-hess + damping * eye, grad[:, None], driver="gelsd").solution[:, 0]
            v_trial = value(trial)
            if np.isfinite(v_trial) and v_trial >= v:
                w, v, damping = trial, v_trial, max(damping / 4, 1e-9)
                break
            damping *= 8
        else:
            break
    return w


def _warm_critic(game, theta, omega0):
    """The critic maximized first for Jensen–Shannon (bounded links: always finite), then for the
    game's own f. Every strictly convex f has the same unrestricted maximizer log p/q, so JS's
    restricted one is a safe start where a least-squares fit makes χ²-type links explode."""
    from ...divergences import resolve
    from .game import Game

    js = Game(resolve("jensen_shannon"), game.model, game.critic, game.data)
    omega = best_critic(js, theta, omega0)
    return None if omega is None else best_critic(game, theta, omega)


def _known(game, setup, tol):
    from .fields import GDAField

    z = setup.z_star
    return Equilibrium(z, residual(GDAField(game), z), True, "known in advance")


def _flow(game, setup, tol):
    from .trained import TrainedAnalysis

    ta = TrainedAnalysis.of_game(game, setup, record=False)
    # a success only below tol: a resting point that is not an equilibrium reads as one that is not
    return Equilibrium(ta.z, ta.residual, ta.residual < tol, ta.flow_message, trained=ta)


def _root(game, setup, tol):
    """The critic maximized first at the start's θ (Jensen–Shannon, then f), then the whole
    unit-rate field root-solved from there; the start itself is the fallback. The finite root with
    the smallest residual is returned."""
    from .fields import GDAField

    field = GDAField(game)
    z0 = setup.initial_guess(game.divergence)
    theta0, omega0 = game.split(z0)
    omega = _warm_critic(game, theta0, omega0)
    best = None
    for start in ([torch.cat([theta0, omega])] if omega is not None else []) + [z0]:
        found = solve(field, start, tol, max_evals=100, jacobian=moment_form)
        if np.isfinite(found.residual) and (best is None or found.residual < best.residual):
            best = found
        if best is not None and best.success:
            break
    return best if best is not None else Equilibrium(z0, float("nan"), False, "no finite root found")


# how an equilibrium is found: "known" (a realizable set-up's, for every f), "root" (a dense
# Levenberg–Marquardt solve) or "flow" (a wide game's resting point, kept as a `TrainedAnalysis`)
METHODS = {"known": _known, "root": _root, "flow": _flow}


def auto_method(game, setup) -> str:
    """"known" where the set-up knows its equilibrium, "flow" for a wide game (a network critic or
    energy: no dense root-solve, `nodespace.is_wide`), "root" otherwise."""
    from .nodespace import is_wide

    if setup.known:
        return "known"
    return "flow" if is_wide(game) else "root"


def locate(game, setup, tol: float = 1e-12, method: str = "auto") -> Equilibrium:
    """The equilibrium of ``game`` on ``setup`` by ``method`` (one of `METHODS`, or "auto":
    `auto_method`)."""
    from ...errors import UnknownName

    if method == "auto":
        method = auto_method(game, setup)
    if method not in METHODS:
        raise UnknownName("equilibrium method", method, ("auto", *METHODS))
    return METHODS[method](game, setup, tol)
