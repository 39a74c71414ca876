"""The local rate of the trained game: predicted from its spectrum, measured by runs started along
its eigenvectors.

Predicted: at a resting point z of the full-batch flow on the nodes, the node-space Jacobian G_node
(`nodespace`, dense: (n_θ + n)-square however wide the critic) has rank K + n_θ transverse
eigenvalues λ; the others are the kernel's null directions, which lift to nothing. Simultaneous GDA
with step η shrinks the mode of λ by |1 + ηλ| a step: its rate is −log|1 + ηλ| per step. The
θ-mode is the slowest transverse eigenvalue whose eigenvector, lifted to (θ, ω), has at least
`THETA_SHARE` of its squared norm in θ: the mode that sets how fast μ and σ settle.

Measured: a pair of nonlinear runs from z and from z + ε·v (v the real part of the lifted
eigenvector) takes `steps` full-batch steps of size η; the rate is minus the least-squares slope
of log |pair distance| against the step. A pair cancels the drift of a point that is only nearly an
equilibrium. The lift drops Σ_i c_i ∇²_ω H_i (c = ∂L/∂h, not zero off an equilibrium), so the
measurement tests the node-space reduction as well as the linearization.

A mode whose predicted decay over `MAX_STEPS` is below `MIN_DECAY` e-folds, or that falls `DECAY`
e-folds in under `MIN_STEPS` steps, is reported with its time constant and not measured. Thresholds
fixed here before measuring (the fastest-mode bound after a first run: a mode at 8.7 e-folds a step
measured 0.11, the slower modes' traces in its start vector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...threads import serial
from ..report import JsonFields
from .nodespace import NodeGame, NodeJacobian
from .step_edge import pair_run

THETA_SHARE = 0.5  # lifted eigenvector's squared-norm share in θ that makes a θ-mode
STEP_FRACTION = 0.5  # the measuring step: this fraction of the predicted η_max
EPSILON = 1e-6  # the pair's initial distance
DECAY = 3.0  # e-folds a measuring run aims for: steps = DECAY / predicted rate, within the bounds below
MIN_STEPS, MAX_STEPS = 20, 3000
MIN_DECAY = 0.3  # predicted e-folds over MAX_STEPS below which a mode is too slow to measure
RECORDS = 60  # pair distances recorded per run, for the fit
LADDER = 3  # besides the θ-mode: the slowest measurable, the fastest, and one between (by rate)


@dataclass
class Mode:
    eigenvalue: tuple[float, float]  # λ of G_node, (re, im)
    theta_share: float
    predicted: float  # −log|1 + ηλ| per step
    measured: float | None = None
    steps: int = 0  # of the measuring run (0: not measured)
    note: str = ""


@dataclass
class LocalRate(JsonFields):
    eta: float
    theta_mode: Mode | None  # None where no transverse eigenvector is mostly θ
    slowest: Mode  # the slowest transverse eigenvalue (often a critic mode too slow to measure)
    ladder: list  # other measured modes, slowest first
    kernel_rank: int  # directions of ω the nodes see
    flat_directions: int  # d_ω − rank: moves of ω that no node sees


def transverse_modes(nj: NodeJacobian, eta: float):
    """(eigenvalues, lifted real unit eigenvectors, θ-shares, per-step rates) of the transverse
    eigenvalues of G_node, slowest first."""
    values, vectors, _ = nj.transverse_eigen()
    lifted = np.stack([nj.lift(vectors[:, k]) for k in range(len(values))], axis=1)
    share = np.sum(np.abs(lifted[: nj.n_theta]) ** 2, axis=0) / np.sum(np.abs(lifted) ** 2, axis=0)
    rates = -np.log(np.abs(1 + eta * values))
    order = np.argsort(rates)
    real = lifted.real[:, order]
    return values[order], real / np.linalg.norm(real, axis=0), share[order], rates[order]


@serial()  # a step of two runs on the nodes: too small to split between threads
def pair_rate(field, z: torch.Tensor, direction: torch.Tensor, eta: float, steps: int,
              rotating: bool = False) -> float | None:
    """Minus the fitted slope of log |pair distance| over ``steps`` steps of size η from z and
    z + ε·direction; None if a run stops being finite. ``rotating`` (a complex pair): the slope of
    half the log area that Δ_t and Δ_{t+1} span instead. In the pair's invariant plane that area
    shrinks by exactly |1 + ηλ|² a step, while |Δ_t| oscillates as Δ turns (an 18% error from
    |Δ| on a linear critic's complex modes)."""
    every = max(1, steps // RECORDS)
    run = pair_run(getattr(field, "eager", field), z, direction, eta, steps, EPSILON)
    ks, logs, (_, previous) = [], [], next(run)
    for k, gap in run:
        if k % every == 0 or k == steps:
            size = _area(previous, gap) if rotating else float(gap.norm())
            if not math.isfinite(size) or size <= 0:
                return None
            ks.append(k)
            logs.append(math.log(size) / (2 if rotating else 1))
        previous = gap
    return float(-np.polyfit(ks, logs, 1)[0])


def _area(u: torch.Tensor, v: torch.Tensor) -> float:
    """|u ∧ v|, the area of the parallelogram u and v span."""
    uu, vv, uv = float(u @ u), float(v @ v), float(u @ v)
    return math.sqrt(max(uu * vv - uv * uv, 0.0))


def measuring_steps(rate: float) -> int | None:
    """Steps for DECAY e-folds, at most MAX_STEPS; None for a mode too slow (under MIN_DECAY e-folds
    in MAX_STEPS) or too fast (DECAY e-folds in under MIN_STEPS steps: the other modes' traces in
    the start vector outlast it, so no slope can be fitted) to measure."""
    if rate * MAX_STEPS < MIN_DECAY or DECAY / rate < MIN_STEPS:
        return None
    return int(min(MAX_STEPS, math.ceil(DECAY / rate)))


def unmeasured(m: Mode) -> str:
    """Why a mode was not measured."""
    if m.predicted <= 0:
        return f"does not decay: |1 + ηλ| ≥ 1 (λ = {m.eigenvalue[0]:.3g} {m.eigenvalue[1]:+.3g}i)"
    slow = m.predicted * MAX_STEPS < MIN_DECAY
    return f"too {'slow' if slow else 'fast'} to measure: time constant {1 / m.predicted:.3g} steps"


def measure(node_game: NodeGame, z: torch.Tensor, eta_max: float) -> LocalRate:
    """The θ-mode, the slowest transverse mode and a ladder of others, predicted and measured at
    η = STEP_FRACTION·η_max. Of a complex pair, only the member with Im λ ≥ 0 is listed."""
    eta = STEP_FRACTION * eta_max
    nj = NodeJacobian.at(node_game, z)
    values, vectors, share, rates = transverse_modes(nj, eta)
    listed = [k for k in range(len(values)) if values[k].imag >= 0]
    found: dict[int, Mode] = {}

    def mode(k: int) -> Mode:
        if k not in found:
            m = Mode((float(values[k].real), float(values[k].imag)), float(share[k]), float(rates[k]))
            steps = measuring_steps(m.predicted)
            if steps is None:
                m.note = unmeasured(m)
            else:
                direction = torch.as_tensor(vectors[:, k], dtype=z.dtype)
                m.measured = pair_rate(node_game.field, z, direction, eta, steps, rotating=values[k].imag != 0)
                m.steps = steps
            found[k] = m
        return found[k]

    theta = [k for k in listed if share[k] >= THETA_SHARE]
    measurable = [k for k in listed if measuring_steps(rates[k]) is not None and k not in theta[:1]]
    picks = sorted({measurable[0], measurable[len(measurable) // 2], measurable[-1]}) if measurable else []
    return LocalRate(eta, mode(theta[0]) if theta else None, mode(listed[0]), [mode(k) for k in picks[:LADDER]],
                     nj.rank, node_game.game.dim_omega - nj.rank)
