"""The linearization of an f-EBM game at an equilibrium, as one object.

It holds the unit-rate Jacobian G of z' = (−∇_θ L, ∇_ω L) at z*, the split of z into θ and
ω, and the gauge directions; everything local follows from it: the flow Jacobian at a
learning-rate ratio, the step matrix of an update rule, stable step sizes, critical
ratios and the slowest mode. check, confirm and the figures all start here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import equilibrium, jacobian, simulate, spectrum
from .fields import UPDATES, GDAField
from .game import Game


@dataclass
class Linearization:
    game: Game
    z_star: torch.Tensor
    G: np.ndarray  # unit-rate Jacobian at z* (η_θ = η_ω = 1)
    gauge_basis: np.ndarray  # orthonormal basis (n × k) of directions along which z* is not isolated

    @classmethod
    def at(cls, game: Game, z_star: torch.Tensor) -> "Linearization":
        """Autodiff Jacobian of the unit-rate field at ``z_star``, and its gauge directions."""
        field = GDAField(game)
        G = jacobian.autodiff(field, z_star)
        return cls(game, z_star, G.numpy(), equilibrium.gauge_directions(field, z_star, G))

    @property
    def n_theta(self) -> int:
        return self.game.dim_theta

    def field(self, ratio: float = 1.0) -> GDAField:
        """The flow with η_θ = 1 and η_ω = ratio."""
        return GDAField(self.game, 1.0, ratio)

    def jacobian(self, ratio: float = 1.0) -> np.ndarray:
        """diag(η) G with η_θ = 1 and η_ω = ratio."""
        return spectrum.flow_jacobian(self.G, self.n_theta, 1.0, ratio)

    def step_matrix(self, update: str, eta: float, ratio: float = 1.0) -> np.ndarray:
        """The linear map of one discrete step with η_θ = eta and η_ω = ratio·eta."""
        if update == "alternating":
            return spectrum.alternating_matrix(self.G, self.n_theta, eta, ratio * eta)
        if update == "simultaneous":
            return np.eye(len(self.G)) + spectrum.flow_jacobian(self.G, self.n_theta, eta, ratio * eta)
        raise ValueError(f"update must be one of {', '.join(UPDATES)}, not {update!r}")

    def step_map(self, update: str, eta: float, ratio: float = 1.0):
        """The nonlinear discrete step whose linearization is `step_matrix`."""
        return UPDATES[update](self.game, eta, ratio * eta)

    def transverse(self, A: np.ndarray) -> np.ndarray:
        return spectrum.transverse(A, self.gauge_basis)

    def projector(self) -> np.ndarray:
        return simulate.projector(len(self.G), self.gauge_basis)

    def radius(self, update: str, eta: float, ratio: float = 1.0) -> float:
        """Transverse spectral radius of one step: below 1 is stable."""
        return spectrum.spectral_radius(self.transverse(self.step_matrix(update, eta, ratio)))

    def spectrum(self, ratio: float = 1.0, scale: float | None = None) -> spectrum.Spectrum:
        return spectrum.analyse(self.jacobian(ratio), self.gauge_basis, scale)

    def stable_steps(self, update: str, ratio: float = 1.0) -> list[tuple[float, float]]:
        """Intervals of η_θ on which ``update`` steps are stable (they need not start at 0)."""
        if update == "simultaneous":
            return spectrum.stable_steps_simultaneous(self.jacobian(ratio), self.gauge_basis)
        return spectrum.stable_steps_alternating(self.G, self.n_theta, ratio, self.gauge_basis)

    def eta_max(self, update: str, ratio: float = 1.0) -> float | None:
        """The largest η_θ with stable steps on all of (0, η]; None if tiny steps are unstable."""
        return edge(self.stable_steps(update, ratio))

    def critical_ratios(self) -> list[float]:
        """Values of η_ω/η_θ where the flow's transverse max Re λ changes sign."""
        return spectrum.critical_ratios(self.G, self.n_theta, self.gauge_basis)

    def mode_start(self, A: np.ndarray, size: float, discrete: bool = False):
        """z* plus ``size`` along the slowest transverse mode of A, and that mode's eigenvalue."""
        return simulate.mode_start(self.z_star, A, size, self.gauge_basis, discrete=discrete)


def edge(intervals) -> float | None:
    """The end of the stable interval that starts at 0, if there is one."""
    return intervals[0][1] if intervals and intervals[0][0] == 0.0 else None


def oscillation_period(lam, per_step: bool = False) -> float | None:
    """2π over the rotation of an eigenvalue: |Im λ| for a flow, arg μ per discrete step."""
    if lam is None:
        return None
    angle = abs(np.angle(lam)) if per_step else abs(lam.imag)
    return 2 * np.pi / angle if angle > 1e-9 else None
