"""The trained game's analysis: a network critic's resting point, its spectrum and step limit.

A network critic's game has no dense Jacobian and, in practice, no root to solve for: the
deterministic full-batch flow from the set-up's start (its critic warmed up, `nodespace.warm_start`)
is run to rest (`step_edge.flow_to_rest`), and the largest-modulus eigenvalues of ∂F/∂z there come
from Arnoldi on exact Jacobian–vector products (`step_edge.predicted`). `TrainedAnalysis.build` does
this chain once; `calibrate`, `check --critic` (a wide game's equilibrium is `equilibrium.locate`'s
"flow" method, which keeps its `TrainedAnalysis`) and the trained-game atlas read what they need from it.

The resting point is reported as it is: its residual |F| is kept, never treated as an
equilibrium's (`LocalAnalysis` gives no verdict above its tolerance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import torch

from ...divergences import Divergence, resolve
from ...threads import serial
from ...toy_models import Setup, with_critic
from . import nodespace, step_edge
from .game import Game
from .nodespace import FLOW_STEPS, WARM_STEPS, NodeGame, warm_start


class RestStatus(StrEnum):
    """What the flow to rest gave (its value is the sentence reports have always carried)."""

    RESTED = "measured"
    NOT_FINITE = "the flow stopped being finite"
    NO_JACOBIAN = "Jacobian–vector products not finite (overflowing or saturated links)"
    NO_STEP_LIMIT = "an eigenvalue with Re λ ≥ 0 among the largest: no step is stable"


def network_setup(model: str | Setup, critic, seed: int = 0) -> Setup:
    """The set-up ``model`` played with ``critic`` (a spelling like ``mlp:64,64`` or a critic object);
    a Setup is taken as it is."""
    return model if isinstance(model, Setup) else with_critic(model, critic, seed)


def resting_point(game: Game, setup: Setup, flow_steps: int = FLOW_STEPS, warm_steps: int = WARM_STEPS,
                  seed: int = 0, record: bool = True):
    """(start, z, checkpoints): the warmed-up start and where the flow of ``flow_steps`` steps ends;
    with ``record`` every checkpoint carries an Arnoldi run (`step_edge.flow_to_rest`)."""
    field_ = NodeGame(game).field
    start = warm_start(game, setup.initial_guess(game.divergence), warm_steps, seed)
    z, checkpoints = step_edge.flow_to_rest(field_, start, flow_steps, seed, record=record)
    return start, z, checkpoints


@dataclass(frozen=True)
class TrainedAnalysis:
    """One divergence on one set-up with a network critic, analysed at the flow's resting point."""

    divergence: Divergence
    setup: Setup
    node_game: NodeGame
    start: torch.Tensor  # the warmed-up start of the flow
    z: torch.Tensor  # where the flow came to rest
    residual: float  # |F(z)|
    residual_theta: float
    residual_omega: float
    distance_to_minimizer: float | None  # max |θ − θ of the exact D_f minimizer|
    eta_max: float | None  # full-batch simultaneous GDA's step limit from the largest eigenvalues
    eigenvalues: np.ndarray  # the largest-modulus eigenvalues of ∂F/∂z at z
    binding: torch.Tensor | None  # the real part of the eigenvector that sets eta_max
    status: RestStatus
    checkpoints: dict = field(default_factory=dict)  # along the flow: step, residual, eta_max, top eigenvalue
    path_angle: dict = field(default_factory=dict)

    @classmethod
    def build(cls, spec, setup: Setup, link_clip=None, flow_steps: int | None = None,
              warm_steps: int | None = None, seed: int = 0, record: bool = True) -> "TrainedAnalysis":
        """Flow to rest, then Arnoldi there. ``link_clip``: the trainer's clamps inside the links
        (`Game`); ``flow_steps``, ``warm_steps``: `nodespace`'s defaults where None; ``record``: an
        Arnoldi run at every checkpoint of the flow (the step limit's drift)."""
        game = Game.from_setup(resolve(spec).validate(), setup, link_clip)
        return cls.of_game(game, setup, flow_steps, warm_steps, seed, record)

    @classmethod
    @serial()  # loops of small operations (the numbers are the same with any thread count)
    def of_game(cls, game: Game, setup: Setup, flow_steps: int | None = None, warm_steps: int | None = None,
                seed: int = 0, record: bool = True) -> "TrainedAnalysis":
        """`build` for a game already made (`equilibrium.locate`'s "flow" method)."""
        flow_steps = nodespace.FLOW_STEPS if flow_steps is None else flow_steps
        warm_steps = nodespace.WARM_STEPS if warm_steps is None else warm_steps
        div, node_game = game.divergence, NodeGame(game)
        start, z, checkpoints = resting_point(game, setup, flow_steps, warm_steps, seed, record)
        F = node_game.field(z)
        residual = float(F.norm())
        finite = math.isfinite(residual)
        eta, eigs, binding = step_edge.predicted(node_game.field, z, seed=seed) if finite else (None, [], None)
        n = game.dim_theta
        reference = setup.reference_theta(div)
        distance = None if reference is None or not finite else float((z[:n] - reference).abs().max())
        return cls(div, setup, node_game, start, z, residual, float(F[:n].norm()), float(F[n:].norm()), distance,
                   eta, np.asarray(eigs), binding, _status(residual, eigs, eta), checkpoints,
                   step_edge.path_angle(node_game.field, start, z))

    @property
    def flow_message(self) -> str:
        """|F| along the flow to rest, for a report (`equilibrium.locate`'s "flow" method)."""
        steps = self.checkpoints["step"]
        trend = ", ".join(f"{r:.2g}" for r in self.checkpoints["residual"])
        every = f"every {steps[1] - steps[0]} steps" if len(steps) > 1 else "at the start"
        return f"the flow came to |F| = {self.residual:.2g} after {steps[-1]} steps (|F| {every}: {trend})"

    @property
    def game(self) -> Game:
        return self.node_game.game

    @property
    def theta(self) -> torch.Tensor:
        return self.z[: self.game.dim_theta]

    @property
    def rested(self) -> bool:
        """A finite resting point with a finite spectrum and a step limit: predictions can be read."""
        return self.status is RestStatus.RESTED


def _status(residual: float, eigenvalues, eta) -> RestStatus:
    if not math.isfinite(residual):
        return RestStatus.NOT_FINITE
    if len(eigenvalues) == 0 or not np.all(np.isfinite(eigenvalues)):
        return RestStatus.NO_JACOBIAN
    if eta is None:
        return RestStatus.NO_STEP_LIMIT
    return RestStatus.RESTED
