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


def _outer(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return u[:, :, None] * v[:, None, :]


def moment_form(field: GDAField, z) -> torch.Tensor:
    """∂F/∂z from moments under p and q of the links' derivatives: valid at any point, realizable
    or not (the derivation is in docs/theory.md, "When f matters").

    With a = ∇_θE, b = ∇_ωH, A = ∇²_θE, B = ∇²_ωH at each node, r = H + E, ā = E_q[a] and
    h̄ = E_q[h(r)], the blocks of the Hessian of L are

        L_ωω = E_p[g''bbᵀ + g'B] − E_q[h''bbᵀ + h'B]
        L_ωθ = E_p[g''baᵀ] − E_q[h''baᵀ] + E_q[h' b (a − ā)ᵀ]
        L_θθ = E_p[g''aaᵀ + g'A] − E_q[h''aaᵀ + h'A] + E_q[h'(a(a − ā)ᵀ + (a − ā)aᵀ)]
               + E_q[(h − h̄)A] − E_q[(h − h̄)(a − ā)(a − ā)ᵀ]

    and the flow's Jacobian is diag(η)·[[−L_θθ, −L_θω], [L_ωθ, L_ωω]]. At a realizable point
    (r ≡ 0, p = q) it reduces to f''(1)·diag(η)·[[−(C − μμᵀ), μνᵀ], [−νμᵀ, −K]].
    """
    from .game import hessian_mean

    game = field.game
    theta, omega = game.split(z)
    p, q = game.data.nodes(), game.model.nodes(theta)
    a_p, b_p = game.features(theta, omega, p.x)
    a_q, b_q = game.features(theta, omega, q.x)
    # (c, other) ↦ E[other + c ∇²E] and E[other + c ∇²H] on p's and q's nodes
    A_p, A_q = (hessian_mean(game.model, "energy", theta, nodes) for nodes in (p, q))
    B_p, B_q = (hessian_mean(game.critic, "value", omega, nodes) for nodes in (p, q))
    r_p, r_q = game.r(theta, omega, p.x), game.r(theta, omega, q.x)
    g1, g2 = (f(r_p)[:, None, None] for f in (game.g1, game.g2))
    h0, h1, h2 = (f(r_q)[:, None, None] for f in (game.h, game.h1, game.h2))
    da = a_q - q.mean(a_q)
    dh = h0 - q.mean(h0[:, 0, 0])
    L_oo = B_p(g1, g2 * _outer(b_p, b_p)) - B_q(h1, h2 * _outer(b_q, b_q))
    L_ot = p.mean(g2 * _outer(b_p, a_p)) - q.mean(h2 * _outer(b_q, a_q)) + q.mean(h1 * _outer(b_q, da))
    L_tt = (A_p(g1, g2 * _outer(a_p, a_p)) - A_q(h1, h2 * _outer(a_q, a_q))
            + q.mean(h1 * (_outer(a_q, da) + _outer(da, a_q))) + A_q(dh) - q.mean(dh * _outer(da, da)))
    rates = torch.cat([torch.full((game.dim_theta,), field.eta_theta, dtype=z.dtype),
                       torch.full((game.dim_omega,), field.eta_omega, dtype=z.dtype)])
    top = torch.cat([-L_tt, -L_ot.T], dim=1)
    bottom = torch.cat([L_ot, L_oo], dim=1)
    return rates[:, None] * torch.cat([top, bottom], dim=0)
