"""Vector fields and discrete maps of the f-EBM game: the dynamics as first-class objects.

Each takes and returns one flat float64 vector z = (θ, ω) (θ only for contrastive divergence).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .game import Game, gradient


@dataclass(frozen=True)
class GDAField:
    """Simultaneous gradient descent–ascent flow: θ' = −η_θ ∇_θ L, ω' = +η_ω ∇_ω L."""

    game: Game
    eta_theta: float = 1.0
    eta_omega: float = 1.0

    def __call__(self, z):
        theta, omega = self.game.split(z)
        g_theta, g_omega = self.game.gradients(theta, omega)
        return torch.cat([-self.eta_theta * g_theta, self.eta_omega * g_omega])

    @property
    def dim(self):
        return self.game.dim_theta + self.game.dim_omega


@dataclass(frozen=True)
class SimultaneousMap:
    """One simultaneous GDA step: θ ← θ − η_θ ∇_θ L and ω ← ω + η_ω ∇_ω L at the same point."""

    game: Game
    eta_theta: float
    eta_omega: float

    def __call__(self, z):
        return z + GDAField(self.game, self.eta_theta, self.eta_omega)(z)


@dataclass(frozen=True)
class AlternatingMap:
    """One alternating step, as in the reference code: ω first, then θ at the new ω."""

    game: Game
    eta_theta: float
    eta_omega: float

    def __call__(self, z):
        theta, omega = self.game.split(z)
        omega = omega + self.eta_omega * self.game.gradients(theta, omega)[1]
        theta = theta - self.eta_theta * self.game.gradients(theta, omega)[0]
        return torch.cat([theta, omega])


UPDATES = {"simultaneous": SimultaneousMap, "alternating": AlternatingMap}


@dataclass(frozen=True)
class CDField:
    """Maximum-likelihood (contrastive divergence) flow on θ: θ' = −η (E_p[∇θE] − E_q[∇θE])."""

    game: Game
    eta: float = 1.0

    def __call__(self, theta):
        model = self.game.model
        p, q = self.game.data.nodes(), model.nodes(theta)
        a_p, a_q = gradient(model, "energy", theta, p.x), gradient(model, "energy", theta, q.x)
        return -self.eta * (p.mean(a_p) - q.mean(a_q))
