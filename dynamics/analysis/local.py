"""One local analysis of an f-EBM game: equilibrium → linearization → spectrum → verdict.

`LocalAnalysis.build(divergence, set-up, ratio)` does the chain once; check, atlas, confirm and
spread read what they need from it. It never gives a verdict it has not earned:

- f must be twice differentiable at 1 with f''(1) > 0 (`Divergence.regularity`), else the verdict
  is NOT_APPLICABLE (a kink, infinite curvature, a jump in f'') or INCONCLUSIVE (f''(1) = 0);
- the equilibrium's residual ‖F(z*)‖ must be finite and at most `EQUILIBRIUM_TOL`, else the
  verdict is NO_EQUILIBRIUM;
- the autodiff and finite-difference Jacobians (and the closed or moment form) must be finite
  and agree to `JACOBIAN_TOL`, and their disagreement (times the Jacobian's scale) must be
  smaller than the distance of the rightmost transverse eigenvalue from the imaginary axis, so
  that it could not flip the verdict; else the verdict is UNRELIABLE.

Only then does the spectrum decide STABLE, UNSTABLE or INCONCLUSIVE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...divergences import Divergence, resolve
from ...divergences.validation import LINEARIZABLE
from ...errors import InputError
from ...toy_models import Setup, setup, with_critic
from ..report import Verdict
from . import jacobian
from .equilibrium import Equilibrium, locate
from .game import Game
from .linearization import Linearization, edge
from .nodespace import is_wide
from .spectrum import Spectrum

EQUILIBRIUM_TOL = 1e-8  # ‖F(z*)‖ above this: no equilibrium (solves reach 1e-12; healthy set-ups 1e-15)
JACOBIAN_TOL = 1e-3  # relative disagreement of the Jacobian's evaluations (healthy set-ups: ≤ 1e-9)
UPDATE_ORDERS = ("simultaneous", "alternating")


@dataclass
class LocalAnalysis:
    """The local analysis of one divergence on one set-up at one rate ratio η_ω/η_θ."""

    divergence: Divergence
    setup: Setup
    ratio: float
    game: Game
    equilibrium: Equilibrium
    regularity: tuple[str, str]  # (kind, message) of f at 1
    lin: Linearization | None = None  # None where the Jacobian is not finite
    spectrum: Spectrum | None = None
    jacobian_agreement: dict = field(default_factory=dict)
    jacobian_scale: float = 1.0
    verdict: Verdict = Verdict.INCONCLUSIVE
    reason: str = ""
    _flippable: bool = False  # the Jacobians agree to JACOBIAN_TOL, but not enough to fix the verdict

    @classmethod
    def build(cls, spec: str | Divergence, model: str | Setup, ratio: float = 1.0, critic=None,
              link_clip=None, method: str = "auto") -> "LocalAnalysis":
        """``critic``: a network critic for the set-up (``mlp:64,64``, a file, a critic object), if
        the set-up takes one (paper-1d); ``link_clip``: clamps inside the links, as the trainer's
        (`Game`); ``method``: how the equilibrium is found (`equilibrium.METHODS`; "auto" picks the
        known one, a wide game's resting point (`trained.resting_point`) or a dense root-solve)."""
        div = resolve(spec).validate()
        s = setup(model) if critic is None else with_critic(model, critic)
        game = Game.from_setup(div, s, link_clip)
        out = cls(div, s, ratio, game, locate(game, s, method=method), div.regularity)
        out._linearize()
        out.verdict, out.reason = out._judge()
        return out

    # --- the chain ----------------------------------------------------------------------
    def _linearize(self) -> None:
        if not math.isfinite(self.equilibrium.residual):
            return
        if is_wide(self.game) and not self.has_equilibrium:  # thousands of dense columns for nothing
            return
        lin = Linearization.at(self.game, self.equilibrium.z)
        if not np.all(np.isfinite(lin.G)):
            self.jacobian_agreement = {"autodiff_vs_fd": None}
            return
        self.lin = lin
        self.jacobian_agreement, self.jacobian_scale = _agreement(lin, self.ratio, self.divergence.f2_at_1,
                                                                  self.setup.known)
        if self.jacobians_agree:
            self.spectrum = lin.spectrum(self.ratio, self.jacobian_scale)
            margin = abs(self.spectrum.transverse_max_real)
            if self.worst_disagreement * self.jacobian_scale >= margin > self.spectrum.tolerance:
                self.spectrum, self._flippable = None, True

    def _judge(self) -> tuple[Verdict, str]:
        unlinearizable = regularity_verdict(self.regularity)
        if unlinearizable is not None:
            return unlinearizable
        if not self.has_equilibrium:
            solver = str(self.equilibrium.message).splitlines()[0].rstrip(".")
            return Verdict.NO_EQUILIBRIUM, (
                f"the best point found has |F| = {self.equilibrium.residual:.2g}, above the tolerance "
                f"{EQUILIBRIUM_TOL:g} (solver: {solver})")
        if self._flippable:
            return Verdict.UNRELIABLE, (
                f"the Jacobian's evaluations disagree by {self.worst_disagreement:.2g} (relative), enough "
                "to move the rightmost eigenvalue across Re λ = 0")
        if not self.jacobians_agree:
            worst = self.worst_disagreement
            return Verdict.UNRELIABLE, (
                "the Jacobian is not reliable: " + ("it is not finite" if worst is None else
                                                    f"its evaluations disagree by {worst:.2g} "
                                                    f"(tolerance {JACOBIAN_TOL:g})"))
        return self.spectrum.verdict, self.spectrum.reason

    # --- what the commands read ------------------------------------------------------------
    @property
    def has_equilibrium(self) -> bool:
        r = self.equilibrium.residual
        return math.isfinite(r) and r <= EQUILIBRIUM_TOL

    @property
    def worst_disagreement(self) -> float | None:
        values = list(self.jacobian_agreement.values())
        if not values or any(v is None or not math.isfinite(v) for v in values):
            return None
        return max(values)

    @property
    def jacobians_agree(self) -> bool:
        worst = self.worst_disagreement
        return worst is not None and worst <= JACOBIAN_TOL

    @property
    def usable(self) -> bool:
        """An equilibrium, a reliable Jacobian and an f with a finite f''(1) > 0: something to work from."""
        return self.spectrum is not None and self.has_equilibrium and self.regularity[0] in LINEARIZABLE

    @property
    def exponential(self) -> bool:
        """Whether rates, stable steps and critical ratios are defined (a STABLE or UNSTABLE verdict)."""
        return self.verdict in (Verdict.STABLE, Verdict.UNSTABLE)

    @property
    def theta(self):
        return self.game.split(self.equilibrium.z)[0]

    @cached_property
    def stable_steps(self) -> dict:
        """update order -> intervals of η_θ with stable steps (empty without exponential rates)."""
        return {u: self.lin.stable_steps(u, self.ratio) if self.exponential else [] for u in UPDATE_ORDERS}

    def eta_max(self, update: str = "simultaneous") -> float | None:
        return edge(self.stable_steps[update])

    @cached_property
    def critical_ratios(self) -> list[float]:
        return self.lin.critical_ratios() if self.exponential else []

    @property
    def bias(self) -> float | None:
        """max |θ* − θ of the exact D_f minimizer| (0 when realizable; the critic's limited capacity else)."""
        reference = self.setup.reference_theta(self.divergence)
        return None if reference is None or not self.has_equilibrium else float((self.theta - reference).abs().max())

    def require(self) -> "LocalAnalysis":
        """This analysis, or an `InputError` naming why there is no linearization to work from."""
        if not self.usable:
            raise InputError(f"{self.divergence.name} on {self.setup.name}: {self.reason}")
        return self


def regularity_verdict(regularity: tuple[str, str]) -> tuple[Verdict, str] | None:
    """The verdict an f without a finite f''(1) > 0 gets before any equilibrium is sought (None for
    an f that can be linearized): INCONCLUSIVE for f''(1) = 0, NOT_APPLICABLE otherwise."""
    kind, message = regularity
    if kind in LINEARIZABLE:
        return None
    return (Verdict.INCONCLUSIVE if kind == "zero-curvature" else Verdict.NOT_APPLICABLE), message


def _agreement(lin: Linearization, ratio: float, f2, realizable: bool) -> tuple[dict, float]:
    """J three ways. At a realizable equilibrium the closed form is f''(1)·diag(η)·M and differences
    are relative to max(‖reference‖, ‖J at f''(1) = 1‖), so a Jacobian that vanishes with f''(1)
    is compared on the game's natural scale; off realizability it is the moment form."""
    F, z = lin.field(ratio), lin.z_star
    ja = jacobian.autodiff(F, z)
    jf = jacobian.finite_difference(F, z)
    if realizable:
        unit = jacobian.unit_closed_form(F, z)
        scale = float(np.linalg.norm(unit.numpy()))
        jc = None if f2 is None else float(f2) * unit
    else:
        scale = float(np.linalg.norm(ja.numpy()))
        jc = jacobian.moment_form(F, z)
    agreement = {"autodiff_vs_fd": _finite(jacobian.relative_difference(jf, ja, scale))}
    if jc is not None:
        agreement["autodiff_vs_closed_form"] = _finite(jacobian.relative_difference(ja, jc, scale))
        agreement["fd_vs_closed_form"] = _finite(jacobian.relative_difference(jf, jc, scale))
    return agreement, scale


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
