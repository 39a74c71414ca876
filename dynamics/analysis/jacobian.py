"""The Jacobian of a flow at a point, three ways: autodiff, finite differences, closed form."""

from __future__ import annotations

import torch

from .fields import GDAField


def autodiff(field, z, mode: str = "reverse") -> torch.Tensor:
    """∂F/∂z by autodiff.

    ``mode="reverse"`` uses torch.autograd.functional.jacobian, one backward pass per output;
    ``mode="forward"`` uses torch.func.jacfwd. They are independent code paths (tests compare
    them). Reverse is the default because jacfwd's first call in a process imports
    torch._dynamo (about 1 s), which would dominate a cold ``febm check``.
    """
    if mode == "forward":
        from torch.func import jacfwd

        return jacfwd(field)(z)
    if mode != "reverse":
        raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    return torch.autograd.functional.jacobian(field, z, strategy="reverse-mode")


def finite_difference(field, z, step: float = 1e-5) -> torch.Tensor:
    """Central differences, fourth order (Richardson): error O(step⁴) + O(eps/step)."""
    n = z.numel()
    cols = []
    for i in range(n):
        h = step * max(1.0, abs(float(z[i])))
        e = torch.zeros_like(z)
        e[i] = h
        d1 = (field(z + e) - field(z - e)) / (2 * h)
        d2 = (field(z + 2 * e) - field(z - 2 * e)) / (4 * h)
        cols.append((4 * d1 - d2) / 3)
    return torch.stack(cols, dim=1)


def f_independent_matrix(game, z_star) -> torch.Tensor:
    """[[−(C − μμᵀ), μνᵀ], [−νμᵀ, −K]]: the Jacobian at a realizable equilibrium, over f''(1)."""
    theta, omega = game.split(z_star)
    mu, nu, C, K = game.feature_moments(theta, omega)
    top = torch.cat([-(C - torch.outer(mu, mu)), torch.outer(mu, nu)], dim=1)
    bottom = torch.cat([-torch.outer(nu, mu), -K], dim=1)
    return torch.cat([top, bottom], dim=0)


def unit_closed_form(field: GDAField, z_star) -> torch.Tensor:
    """diag(η) M: the closed-form Jacobian of the same game with f''(1) = 1."""
    game = field.game
    rates = torch.cat([
        torch.full((game.dim_theta,), field.eta_theta, dtype=z_star.dtype),
        torch.full((game.dim_omega,), field.eta_omega, dtype=z_star.dtype),
    ])
    return rates[:, None] * f_independent_matrix(game, z_star)


def closed_form(field: GDAField, z_star) -> torch.Tensor:
    """J* = f''(1) diag(η) M at a realizable equilibrium (THEORY.md); needs f''(1) defined."""
    f2 = field.game.divergence.f2_at_1
    if f2 is None:
        raise ValueError("f'' is undefined at 1: no closed-form Jacobian")
    return float(f2) * unit_closed_form(field, z_star)


def relative_difference(a: torch.Tensor, b: torch.Tensor, scale: float = 0.0) -> float:
    """‖a − b‖ / max(‖b‖, scale, tiny), in the Frobenius norm."""
    denominator = max(float(torch.linalg.norm(b)), scale, 1e-300)
    return float(torch.linalg.norm(a - b)) / denominator
