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

import numpy as np

from ...divergences import Divergence, resolve
from ...divergences.validation import LINEARIZABLE, Regularity
from ...errors import InputError
from ...toy_models import Setup, setup, with_critic
from ..report import Verdict, finite_or_none
from . import jacobian
from .equilibrium import Equilibrium, locate
from .game import Game
from .linearization import Linearization, edge
from .nodespace import is_wide
from .spectrum import Spectrum

EQUILIBRIUM_TOL = 1e-8  # ‖F(z*)‖ above this: no equilibrium (solves reach 1e-12; healthy set-ups 1e-15)
JACOBIAN_TOL = 1e-3  # relative disagreement of the Jacobian's evaluations (healthy set-ups: ≤ 1e-9)
UPDATE_ORDERS = ("simultaneous", "alternating")


@dataclass(frozen=True)
class LocalAnalysis:
    """The local analysis of one divergence on one set-up at one rate ratio η_ω/η_θ: built once by
    `build`, never changed after."""

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
    stable_steps: dict = field(default_factory=dict)  # update order -> intervals of η_θ with stable steps
    critical_ratios: list[float] = field(default_factory=list)  # η_ω/η_θ where the verdict flips

    @classmethod
    def build(cls, spec: str | Divergence, model: str | Setup, ratio: float = 1.0, critic=None,
              link_clip=None, method: str = "auto") -> "LocalAnalysis":
        """``critic``: a network critic for the set-up (``mlp:64,64``, a file, a critic object), if
        the set-up takes one (paper-1d); ``link_clip``: clamps inside the links, as the trainer's
        (`Game`); ``method``: how the equilibrium is found (`equilibrium.METHODS`; "auto" picks the
        known one, a wide game's resting point (a `TrainedAnalysis`, kept as `trained`) or a dense root-solve)."""
        div = resolve(spec).validate()
        s = setup(model) if critic is None else with_critic(model, critic)
        game = Game.from_setup(div, s, link_clip)
        located = locate(game, s, method=method)
        lin, spectrum, agreement, scale, flippable = _linearize(game, s, div, located, ratio)
        verdict, reason = _judge(div.regularity, located, agreement, flippable, spectrum)
        exponential = verdict in (Verdict.STABLE, Verdict.UNSTABLE)  # rates, steps and ratios are defined
        steps = {u: lin.stable_steps(u, ratio) if exponential else [] for u in UPDATE_ORDERS}
        ratios = lin.critical_ratios() if exponential else []
        return cls(div, s, ratio, game, located, div.regularity, lin, spectrum, agreement, scale, verdict, reason,
                   steps, ratios)

    # --- what the commands read ------------------------------------------------------------
    @property
    def has_equilibrium(self) -> bool:
        return _has_equilibrium(self.equilibrium)

    @property
    def worst_disagreement(self) -> float | None:
        return _worst(self.jacobian_agreement)

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

    @property
    def trained(self):
        """The `trained.TrainedAnalysis` whose resting point was located (a wide game), else None."""
        return self.equilibrium.trained

    def eta_max(self, update: str = "simultaneous") -> float | None:
        return edge(self.stable_steps[update])

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


def regularity_verdict(regularity: tuple[Regularity, str]) -> tuple[Verdict, str] | None:
    """The verdict an f without a finite f''(1) > 0 gets before any equilibrium is sought (None for
    an f that can be linearized): INCONCLUSIVE for f''(1) = 0, NOT_APPLICABLE otherwise."""
    kind, message = regularity
    if kind in LINEARIZABLE:
        return None
    return (Verdict.INCONCLUSIVE if kind == Regularity.ZERO_CURVATURE else Verdict.NOT_APPLICABLE), message


# --- the chain ----------------------------------------------------------------------------
def _has_equilibrium(located: Equilibrium) -> bool:
    r = located.residual
    return math.isfinite(r) and r <= EQUILIBRIUM_TOL


def _worst(agreement: dict) -> float | None:
    values = list(agreement.values())
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return None
    return max(values)


def _linearize(game: Game, s: Setup, div: Divergence, located: Equilibrium, ratio: float):
    """(linearization, spectrum, Jacobian agreement, Jacobian scale, flippable): the spectrum only
    where the Jacobians agree, and then dropped again (flippable) when their disagreement could move
    the rightmost transverse eigenvalue across the imaginary axis."""
    if not math.isfinite(located.residual):
        return None, None, {}, 1.0, False
    if is_wide(game) and not _has_equilibrium(located):  # thousands of dense columns for nothing
        return None, None, {}, 1.0, False
    lin = Linearization.at(game, located.z)
    if not np.all(np.isfinite(lin.G)):
        return None, None, {"autodiff_vs_fd": None}, 1.0, False
    agreement, scale = _agreement(lin, ratio, div.f2_at_1, s.known)
    worst = _worst(agreement)
    if worst is None or worst > JACOBIAN_TOL:
        return lin, None, agreement, scale, False
    spectrum = lin.spectrum(ratio, scale)
    margin = abs(spectrum.transverse_max_real)
    if worst * scale >= margin > spectrum.tolerance:
        return lin, None, agreement, scale, True
    return lin, spectrum, agreement, scale, False


def _judge(regularity, located: Equilibrium, agreement: dict, flippable: bool,
           spectrum: Spectrum | None) -> tuple[Verdict, str]:
    unlinearizable = regularity_verdict(regularity)
    if unlinearizable is not None:
        return unlinearizable
    if not _has_equilibrium(located):
        solver = str(located.message).splitlines()[0].rstrip(".")
        return Verdict.NO_EQUILIBRIUM, (
            f"the best point found has |F| = {located.residual:.2g}, above the tolerance "
            f"{EQUILIBRIUM_TOL:g} (solver: {solver})")
    worst = _worst(agreement)
    if flippable:
        return Verdict.UNRELIABLE, (
            f"the Jacobian's evaluations disagree by {worst:.2g} (relative), enough "
            "to move the rightmost eigenvalue across Re λ = 0")
    if worst is None or worst > JACOBIAN_TOL:
        return Verdict.UNRELIABLE, (
            "the Jacobian is not reliable: " + ("it is not finite" if worst is None else
                                                f"its evaluations disagree by {worst:.2g} "
                                                f"(tolerance {JACOBIAN_TOL:g})"))
    return spectrum.verdict, spectrum.reason


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
    agreement = {"autodiff_vs_fd": finite_or_none(jacobian.relative_difference(jf, ja, scale))}
    if jc is not None:
        agreement["autodiff_vs_closed_form"] = finite_or_none(jacobian.relative_difference(ja, jc, scale))
        agreement["fd_vs_closed_form"] = finite_or_none(jacobian.relative_difference(jf, jc, scale))
    return agreement, scale
