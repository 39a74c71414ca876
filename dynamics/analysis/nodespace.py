"""The trained game of a network critic, linearized in node space.

When p and q_θ are expectations on the same quadrature nodes x_1..x_n, L depends on the critic's
parameters ω only through its values h = H_ω(x) ∈ Rⁿ. With B = ∂h/∂ω (n × d_ω), c = ∂L/∂h and
the diagonal D = ∂²L/∂h², the field is F = (−∇_θ L, Bᵀc) and its Jacobian is

    J = [[−L_θθ, −L_θh B], [Bᵀ L_hθ, Bᵀ D B + Σ_i c_i ∇²_ω H_i]].

Without the last term (c = 0 at an equilibrium where the network fits log p/q on the nodes),
J = diag(I, Bᵀ) · R with R = [[−L_θθ, −L_θh B], [L_hθ, D B]], and J's non-zero eigenvalues are
those of R · diag(I, Bᵀ) = G_node = [[−L_θθ, −L_θh K], [L_hθ, D K]], K = B Bᵀ the critic's
neural tangent kernel on the nodes: a (d_θ + n)-square matrix however wide the network. G_node
is the unit-rate Jacobian of the game in coordinates (θ, h) with metric K, so every step-size,
ratio and alternating-update formula of `spectrum` applies to it unchanged (the alternating step
map factors the same way). The d_ω − rank K remaining directions are flat: moves of ω that no
node sees. The dropped term is not assumed away: predictions for a network critic come from
Arnoldi on exact Jacobian–vector products of the whole field (`krylov`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, hessian, jacrev

KERNEL_RCOND = 1e-10  # K's eigenvalues below this × the largest are flat directions of the critic


def shares_nodes(game) -> bool:
    """Whether p's nodes are q_θ's fixed grid (what the node-space reduction needs); ``game`` is a
    Game or a Setup (anything with a model and data)."""
    grid = getattr(game.model, "grid", None)
    if grid is None:
        return False
    x = game.data.nodes().x
    return x.shape == grid[0].shape and bool(torch.equal(x, grid[0]))


WIDE = 500  # games with more parameters than this are "wide": no dense Jacobian, no dense root-solve
FLOW_STEPS = 6000  # the flow that locates a wide critic's resting point (calibrate's default too)
WARM_STEPS = 2000  # Jensen–Shannon critic steps at the start's θ before the flow


def warm_start(game, z: torch.Tensor, steps: int | None = None, seed: int = 0) -> torch.Tensor:
    """z with its critic moved by ``steps`` full-batch ascent steps of the Jensen–Shannon game at z's
    θ (held fixed), at η = 1/|λ|max. JS's links are bounded, so this never overflows, and every
    strictly convex f shares its unrestricted maximizer log p/q: from a random critic the χ²-type
    links of the game's own f overflowed within the first steps (first calibration run)."""
    from ...divergences import resolve
    from . import krylov
    from .game import Game
    from .step_edge import gda_steps

    steps = WARM_STEPS if steps is None else steps
    js = NodeGame(Game(resolve("jensen_shannon"), game.model, game.critic, game.data))
    critic_only = js.critic_field(game.split(z)[0])

    # forward mode: an ulp in this step moves the resting point along the critic's flat directions
    # after thousands of steps, and the stored results were computed this way
    top = krylov.largest_modulus(krylov.jacobian_operator(critic_only, z, forward_mode=True), k=1, seed=seed)
    return gda_steps(critic_only, z, 1 / float(np.abs(top[0])), steps)


def is_wide(game) -> bool:
    """A game too large for dense linear algebra (a network critic, or a network energy such as the
    2-D toys' 2-32-32-1: its moment form stacks n × d_θ² per-node terms, 11 GB there), on nodes
    that p and q share."""
    return game.dim_theta + game.dim_omega > WIDE and shares_nodes(game)


@dataclass(frozen=True)
class Field:
    """A vector field twice: ``field(z)`` composes with torch.func (jvp, vmap) for the linear algebra;
    ``field.eager(z)`` is the same F by plain autograd, 1.6× faster per call, for long flows
    (`benchmarks/trained_game.py`). ``linearized(z)``, where given, returns v ↦ ∂F/∂z·v at z from
    one autograd graph built once (Arnoldi's products: `krylov.jacobian_operator`)."""

    functional: Callable
    eager: Callable
    linearized: Callable | None = None

    def __call__(self, z):
        return self.functional(z)

class NodeGame:
    """L(θ, h) on the shared nodes, the critic's node values h(ω) and their Jacobian B(ω)."""

    def __init__(self, game):
        if not shares_nodes(game):
            raise ValueError("the node-space analysis needs p on q_θ's grid")
        self.game = game
        self.x = game.model.grid[0]
        self.p = game.data.nodes().w
        self.n_theta = game.dim_theta
        if hasattr(game.critic, "phi"):  # a linear critic memoizes φ(x): fill it here, not under torch.func
            game.critic.phi(self.x)

    def values(self, omega):
        return self.game.critic.value(omega, self.x)

    def kernel_jacobian(self, omega) -> torch.Tensor:
        """B = ∂h/∂ω, (n, d_ω), by reverse mode (one pass per node)."""
        return jacrev(self.values)(omega)

    def value(self, theta, h):
        """L with the critic given by its node values."""
        model = self.game.model
        if hasattr(model, "energy_and_weights"):  # E once: the flows' costliest part after the network
            energy, q = model.energy_and_weights(theta)
        else:
            energy, q = model.energy(theta, self.x), model.nodes(theta).w
        r = h + energy
        value = (self.p * self.game.g(r)).sum() - (q * self.game.h(r)).sum()
        penalty = getattr(model, "penalty", 0.0)
        if penalty:  # the 2-D trainer's λ·mean(E²) over its p and q samples (q's sampled, so not differentiated)
            value = value + penalty / 2 * ((self.p + q.detach()) * energy**2).sum()
        return value

    def parts(self, z):
        """(F_θ, c, the Hessian of L in (θ, h), B) at z."""
        theta, omega = self.game.split(z)
        h = self.values(omega)
        y = torch.cat([theta, h])
        n = self.n_theta
        g = grad(lambda y: self.value(y[:n], y[n:]))(y)
        hess = hessian(lambda y: self.value(y[:n], y[n:]))(y)
        return -g[:n], g[n:], hess, self.kernel_jacobian(omega)

    @property
    def field(self) -> "Field":
        """F = (−∇_θ L, ∇_ω L) = (−∇_θ L, Bᵀ c), by one reverse pass through L(θ, h(ω)) (the
        critic evaluated once: p and q share its node values)."""
        return Field(self._functional_field, self._eager_field, self._linearized)

    def _functional_field(self, z):
        theta, omega = self.game.split(z)
        g_theta, g_omega = grad(lambda t, w: self.value(t, self.values(w)), argnums=(0, 1))(theta, omega)
        return torch.cat([-g_theta, g_omega])

    def _eager_field(self, z):
        theta, omega = (t.detach().requires_grad_() for t in self.game.split(z))
        g_theta, g_omega = torch.autograd.grad(self.value(theta, self.values(omega)), (theta, omega))
        return torch.cat([-g_theta, g_omega])

    def _linearized(self, z, keep: torch.Tensor | None = None):
        """v ↦ J v at z, J = ∂F/∂z, by reverse over reverse: F's graph and g(u) = Jᵀu (linear in u)
        are built once; each product is then one backward pass of g, J v = ∂(g·v)/∂u. Forward-mode
        jvp through the functional field re-traces the network for every product, many times slower.
        ``keep``: a 0/1 mask applied to F (a field with frozen coordinates)."""
        theta, omega = (t.detach().requires_grad_() for t in self.game.split(z))
        g_theta, g_omega = torch.autograd.grad(self.value(theta, self.values(omega)), (theta, omega),
                                               create_graph=True)
        F = torch.cat([-g_theta, g_omega])
        if keep is not None:
            F = F * keep
        u = torch.zeros_like(F, requires_grad=True)
        g = torch.cat(torch.autograd.grad(F, (theta, omega), u, create_graph=True))

        def product(v: torch.Tensor) -> torch.Tensor:
            (jv,) = torch.autograd.grad(g, u, v, retain_graph=True)
            return jv.detach()

        return product

    def critic_field(self, theta: torch.Tensor) -> Field:
        """(0, ∇_ω L) with θ held at ``theta``: the critic's ascent alone. Its eager form skips the
        energy's gradient, since θ does not move."""
        n, keep = self.n_theta, torch.arange(self.n_theta + self.game.dim_omega) >= self.n_theta

        def eager(z):
            omega = z[n:].detach().requires_grad_()
            (g_omega,) = torch.autograd.grad(self.value(theta, self.values(omega)), (omega,))
            return torch.cat([torch.zeros(n, dtype=z.dtype), g_omega])

        return Field(lambda z: self._functional_field(z) * keep, eager, lambda z: self._linearized(z, keep))

    def visible_direction(self, z, seed: int) -> torch.Tensor:
        """A seeded random unit vector in the directions the nodes see: random θ and Bᵀu for random
        node values u (a move of ω that no node sees is a flat direction)."""
        gen = torch.Generator().manual_seed(seed)
        theta, omega = self.game.split(z)
        u = torch.randn(len(self.x), generator=gen, dtype=z.dtype)
        d = torch.cat([torch.randn(len(theta), generator=gen, dtype=z.dtype), self.kernel_jacobian(omega).T @ u])
        return d / d.norm()


@dataclass
class NodeJacobian:
    """G_node at a point, with the kernel B that lifts its vectors to the full space."""

    G: np.ndarray  # (n_θ + n)-square unit-rate Jacobian in (θ, h) coordinates
    B: np.ndarray  # (n, d_ω)
    c: np.ndarray  # ∂L/∂h: zero where the critic fits log p/q on every node
    n_theta: int
    hess: np.ndarray | None = None  # the Hessian of L in (θ, h) that G is built from

    @classmethod
    def at(cls, node_game: NodeGame, z) -> "NodeJacobian":
        f_theta, c, hess, B = node_game.parts(z)
        n = node_game.n_theta
        K = B @ B.T
        G = torch.cat([torch.cat([-hess[:n, :n], -hess[:n, n:] @ K], 1),
                       torch.cat([hess[n:, :n], hess[n:, n:] @ K], 1)], 0)
        return cls(G.detach().numpy(), B.detach().numpy(), c.detach().numpy(), n, hess.detach().numpy())

    @property
    def kernel(self) -> np.ndarray:
        return self.B @ self.B.T

    def kernel_null(self) -> np.ndarray:
        """Directions (0, u) of node space with K u = 0: zero eigenvalues of G_node that lift to
        nothing (Bᵀu = 0). Orthonormal basis, ((n_θ + n) × k)."""
        evals, evecs = np.linalg.eigh(self.kernel)
        null = evecs[:, evals <= KERNEL_RCOND * max(evals.max(), 1e-300)]
        return np.vstack([np.zeros((self.n_theta, null.shape[1])), null])

    @property
    def rank(self) -> int:
        """The number of directions of ω that the nodes see (numerical rank of K)."""
        return len(self.G) - self.n_theta - self.kernel_null().shape[1]

    def transverse_eigen(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(eigenvalues, right eigenvectors, rows of U⁻¹) of G_node's rank K + n_θ transverse
        eigenvalues: the largest in modulus; the rest are K's null, which lifts to nothing."""
        values, U = np.linalg.eig(self.G)
        keep = np.argsort(-np.abs(values))[: self.rank + self.n_theta]
        return values[keep], U[:, keep], np.linalg.inv(U)[keep]

    def lift(self, u: np.ndarray) -> np.ndarray:
        """(u_θ, u_h) ↦ (u_θ, Bᵀ u_h): an eigenvector of G_node to one of J (c = 0)."""
        return np.concatenate([u[: self.n_theta], self.B.T @ u[self.n_theta:]])
