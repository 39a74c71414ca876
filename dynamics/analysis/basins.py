"""Basins of attraction of the exact flow: how far from the equilibrium the nonlinear dynamics
still converge. The linearization decides only infinitesimal perturbations; far away f''' and
the links' tails act (the α atlas showed the time to converge growing with α).

A start converges when the unit-rate flow comes back within 1% of its initial distance before
time 30/|Re λ_slowest|, without escaping past ``escape`` or leaving the finite numbers (LSODA at
relative tolerance 1e-4: the question is where the flow goes, not its rate). The radius
along a direction is bisected geometrically between 1e-3 and ``r_max``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..report import JsonFields
from . import simulate
from .jacobian import moment_form
from .simulate import Budget, FlowOutcome, SaveAt, Stop


@dataclass(frozen=True)
class Basin(JsonFields):
    """Largest perturbations (Euclidean in z = (θ, ω)) from which the flow still converges."""

    slowest: float  # along ± the slowest mode (the smaller of the two signs)
    random: list[float] = field(default_factory=list)  # along seeded random transverse directions
    radius: float = field(init=False)  # the smallest of them
    capped: bool = False  # True when a radius reached r_max (the basin is at least that large)

    def __post_init__(self):
        object.__setattr__(self, "radius", min([self.slowest, *self.random]))


def outcome(lin, z0: torch.Tensor, ratio: float = 1.0, escape: float = 10.0, horizon: float = 30.0,
            rtol: float = 1e-4) -> FlowOutcome:
    """Where the flow from z0 goes: "arrived" (within 1% of its starting distance to z*), "escaped"
    (past ``escape`` times that distance, or out of the finite numbers) or "stalled" (neither by
    ``horizon``/|Re λ|)."""
    rate = abs(lin.spectrum(ratio).transverse_max_real)
    if not np.isfinite(rate) or rate == 0:
        return FlowOutcome.STALLED
    start = float(np.linalg.norm(lin.projector() @ (z0 - lin.z_star).numpy()))
    F = lin.field(ratio)
    try:
        traj = simulate.flow(F, lin.z_star, z0, horizon / rate, jac=lambda z: moment_form(F, z), gauge=lin.gauge_basis,
                             save=SaveAt(points=50), stop=Stop(blowup=escape * start, arrive=0.01 * start),
                             budget=Budget(max_evals=5000, rtol=rtol))
    except ValueError:  # the event search met non-finite values
        return FlowOutcome.ESCAPED
    if traj.status is FlowOutcome.ARRIVED:
        return FlowOutcome.ARRIVED
    return FlowOutcome.ESCAPED if traj.status is FlowOutcome.ESCAPED else FlowOutcome.STALLED


def state_at(lin, z0: torch.Tensor, t: float, ratio: float = 1.0) -> torch.Tensor | None:
    """The exact flow's state at time t from z0 (None if it leaves the finite numbers first)."""
    F = lin.field(ratio)
    return simulate.flow(F, lin.z_star, z0, t, jac=lambda z: moment_form(F, z), save=_JOURNEY_SAVE,
                         stop=Stop(blowup=np.inf), budget=_JOURNEY, remove_residual=False).final


# where the flow goes, not how fast: LSODA's own steps, tighter tolerances, no residual removed, no cap
_JOURNEY_SAVE, _JOURNEY = SaveAt(points=None), Budget(max_evals=None, rtol=1e-5, atol=1e-9)
_ONWARD = {"rtol": 1e-4, "atol": 1e-8}  # past t_state only the outcome is read: `outcome`'s tolerance


def journey(lin, z0: torch.Tensor, t_state: float, ratio: float = 1.0, escape: float = 10.0,
            horizon: float = 30.0, max_evals: int = 5000) -> tuple[FlowOutcome, torch.Tensor | None]:
    """`outcome` and `state_at` (at ``t_state``) from one integration, not two: to
    ``t_state`` first, then on to the outcome's horizon only if it is still undecided."""
    rate = abs(lin.spectrum(ratio).transverse_max_real)
    if not np.isfinite(rate) or rate == 0:
        return FlowOutcome.STALLED, state_at(lin, z0, t_state, ratio)
    F, z_star, end = lin.field(ratio), lin.z_star, horizon / rate
    start = float(np.linalg.norm(lin.projector() @ (z0 - z_star).numpy()))
    common = {"jac": lambda z: moment_form(F, z), "gauge": lin.gauge_basis, "save": _JOURNEY_SAVE,
              "remove_residual": False}
    stop = Stop(blowup=escape * start, arrive=0.01 * start)

    def verdict(traj) -> FlowOutcome | None:
        if min(traj.t_escaped, traj.t_arrived) > end:
            return None
        return FlowOutcome.ARRIVED if traj.t_arrived < traj.t_escaped else FlowOutcome.ESCAPED

    first = simulate.flow(F, z_star, z0, t_state, stop=replace(stop, arrive_terminal=False), budget=_JOURNEY,
                          **common)
    finite = first.final is not None and first.t_escaped == np.inf
    state = first.final if finite else None
    went = verdict(first) or (FlowOutcome.ESCAPED if not finite and t_state <= end else None)
    if went is None and finite and end > t_state:
        try:
            went = verdict(simulate.flow(F, z_star, z0, end, t0=t_state, y0=first.final_deviation, stop=stop,
                                         budget=Budget(max_evals=max_evals, **_ONWARD), **common))
        except ValueError:  # the event search met non-finite values
            went = None
    return went or FlowOutcome.STALLED, state


def converges(lin, z0: torch.Tensor, ratio: float = 1.0, escape: float = 10.0) -> bool:
    """Whether the flow from z0 returns within 1% of its starting distance to z*."""
    return outcome(lin, z0, ratio, escape) is FlowOutcome.ARRIVED


def radius(lin, direction: np.ndarray, r_max: float = 10.0, steps: int = 8, ratio: float = 1.0) -> float:
    """The largest r ≤ r_max with convergence from z* + r·direction (geometric bisection)."""
    v = torch.as_tensor(direction / np.linalg.norm(direction), dtype=lin.z_star.dtype)
    if converges(lin, lin.z_star + r_max * v, ratio):
        return r_max
    lo, hi = 1e-3, r_max
    if not converges(lin, lin.z_star + lo * v, ratio):
        return 0.0
    for _ in range(steps):
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if converges(lin, lin.z_star + mid * v, ratio) else (lo, mid)
    return lo


def basin(lin, random_directions: int = 0, seed: int = 0, r_max: float = 10.0, steps: int = 8,
          ratio: float = 1.0) -> Basin:
    """Radii along ± the slowest mode and along seeded random transverse directions."""
    z1, _ = lin.mode_start(lin.jacobian(ratio), 1.0)
    v = (z1 - lin.z_star).numpy()
    slowest = min(radius(lin, s * v, r_max, steps, ratio) for s in (1, -1))
    rng = np.random.default_rng(seed)
    Q = lin.projector()
    random = [radius(lin, Q @ rng.standard_normal(len(v)), r_max, steps, ratio) for _ in range(random_directions)]
    return Basin(slowest, random, capped=any(r >= r_max for r in [slowest, *random]))
