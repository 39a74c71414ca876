"""Basins of attraction of the exact flow: how far from the equilibrium the nonlinear dynamics
still converge. The linearization decides only infinitesimal perturbations; far away f''' and
the links' tails act (the α atlas showed the time to converge growing with α).

A start converges when the unit-rate flow comes back within 1% of its initial distance before
time 30/|Re λ_slowest|, without escaping past ``escape`` or leaving the finite numbers (LSODA at
relative tolerance 1e-4: the question is where the flow goes, not its rate). The radius
along a direction is bisected geometrically between 1e-3 and ``r_max``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from . import simulate
from .jacobian import moment_form


@dataclass
class Basin:
    """Largest perturbations (Euclidean in z = (θ, ω)) from which the flow still converges."""

    slowest: float  # along ± the slowest mode (the smaller of the two signs)
    random: list[float] = field(default_factory=list)  # along seeded random transverse directions
    capped: bool = False  # True when a radius reached r_max (the basin is at least that large)

    @property
    def radius(self) -> float:
        return min([self.slowest, *self.random])

    def to_json(self) -> dict:
        return {"slowest": self.slowest, "random": self.random, "radius": self.radius, "capped": self.capped}


def outcome(lin, z0: torch.Tensor, ratio: float = 1.0, escape: float = 10.0, horizon: float = 30.0,
            rtol: float = 1e-4) -> str:
    """Where the flow from z0 goes: "arrived" (within 1% of its starting distance to z*), "escaped"
    (past ``escape`` times that distance, or out of the finite numbers) or "stalled" (neither by
    ``horizon``/|Re λ|)."""
    rate = abs(lin.spectrum(ratio).transverse_max_real)
    if not np.isfinite(rate) or rate == 0:
        return "stalled"
    start = float(np.linalg.norm(lin.projector() @ (z0 - lin.z_star).numpy()))
    F = lin.field(ratio)
    try:
        traj = simulate.flow(F, lin.z_star, z0, horizon / rate, jac=lambda z: moment_form(F, z), gauge=lin.gauge_basis,
                             blowup=escape * start, points=50, max_evals=5000, arrive=0.01 * start, rtol=rtol)
    except ValueError:  # the event search met non-finite values
        return "escaped"
    if traj.status == "arrived":
        return "arrived"
    return "escaped" if traj.status == "escaped" else "stalled"


def state_at(lin, z0: torch.Tensor, t: float, ratio: float = 1.0) -> torch.Tensor | None:
    """The exact flow's state at time t from z0 (None if it leaves the finite numbers first)."""
    F = lin.field(ratio)
    y0 = (z0 - lin.z_star).numpy()
    from scipy.integrate import solve_ivp

    def rhs(_, y):
        return F(lin.z_star + torch.as_tensor(y, dtype=z0.dtype)).numpy()

    with np.errstate(all="ignore"):
        sol = solve_ivp(rhs, (0, t), y0, method="LSODA", rtol=1e-5, atol=1e-9,
                        jac=lambda _, y: moment_form(F, lin.z_star + torch.as_tensor(y, dtype=z0.dtype)).numpy())
    if sol.status < 0 or not np.all(np.isfinite(sol.y[:, -1])):
        return None
    return lin.z_star + torch.as_tensor(sol.y[:, -1], dtype=z0.dtype)


def journey(lin, z0: torch.Tensor, t_state: float, ratio: float = 1.0, escape: float = 10.0,
            horizon: float = 30.0, max_evals: int = 5000) -> tuple[str, torch.Tensor | None]:
    """`outcome` and `state_at` (at ``t_state``) from one integration, not two: to
    ``t_state`` first, then on to the outcome's horizon only if it is still undecided."""
    from scipy.integrate import solve_ivp

    rate = abs(lin.spectrum(ratio).transverse_max_real)
    if not np.isfinite(rate) or rate == 0:
        return "stalled", state_at(lin, z0, t_state, ratio)
    F, z_star, P, end = lin.field(ratio), lin.z_star, lin.projector(), horizon / rate
    y0 = (z0 - z_star).numpy()
    start = float(np.linalg.norm(P @ y0))
    evals, budget = [0], [np.inf]  # the state at t_state has no evaluation budget, as in state_at

    def rhs(_, y):
        evals[0] += 1
        if evals[0] > budget[0]:
            raise simulate._Budget
        return F(z_star + torch.as_tensor(y, dtype=z0.dtype)).numpy()

    def escaped(_, y):
        return np.linalg.norm(P @ y) - escape * start

    def arrived(_, y):
        return np.linalg.norm(P @ y) - 0.01 * start

    escaped.terminal = True

    def run(t0, t1, y):
        with np.errstate(all="ignore"):
            return solve_ivp(rhs, (t0, t1), y, method="LSODA", rtol=1e-5, atol=1e-9, events=[escaped, arrived],
                             jac=lambda _, y: moment_form(F, z_star + torch.as_tensor(y, dtype=z0.dtype)).numpy())

    def verdict(sol):
        t_esc = sol.t_events[0][0] if len(sol.t_events[0]) else np.inf
        t_arr = sol.t_events[1][0] if len(sol.t_events[1]) else np.inf
        if min(t_esc, t_arr) > end:
            return None
        return "arrived" if t_arr < t_esc else "escaped"

    first = run(0.0, t_state, y0)
    finite = first.status >= 0 and np.all(np.isfinite(first.y[:, -1])) and not len(first.t_events[0])
    state = z_star + torch.as_tensor(first.y[:, -1], dtype=z0.dtype) if finite else None
    went = verdict(first) or ("escaped" if not finite and t_state <= end else None)
    if went is None and finite and end > t_state:
        arrived.terminal, evals[0], budget[0] = True, 0, max_evals
        try:
            went = verdict(run(t_state, end, first.y[:, -1]))
        except (simulate._Budget, ValueError):
            went = None
    return went or "stalled", state


def converges(lin, z0: torch.Tensor, ratio: float = 1.0, escape: float = 10.0) -> bool:
    """Whether the flow from z0 returns within 1% of its starting distance to z*."""
    return outcome(lin, z0, ratio, escape) == "arrived"


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
