"""``febm check``: the whole chain for one generator on one set-up.

Resolve and validate the divergence, locate the equilibrium, compare the Jacobian three
ways, read the spectrum, the stable step sizes and the critical learning-rate ratios off the
`Linearization`, and measure the rate of the nonlinear flow and of discrete steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...divergences import Divergence
from ...divergences.divergence import number
from ...divergences.validation import NOT_SMOOTH, Regularity, f2_text
from ...toy_models import Setup, with_critic
from .. import memory
from ..analysis import Linearization, equilibrium, oscillation_period, simulate
from ..analysis.local import EQUILIBRIUM_TOL, LocalAnalysis
from ..analysis.spectrum import Spectrum
from ..analysis.trained import RestStatus
from ..report import Report, Verdict, fields_from_json, fields_to_json, finite_or_none
from . import check_plots

MAX_STEPS = 4000  # longest alternating run in a check
SLOW = 1e-4  # slowest/fastest |Re λ| below which the flow run is skipped (stiff, sloppy models)


@dataclass
class Skipped:
    """A simulation that was not run, and why."""

    reason: str
    json_rename = {"reason": "skipped"}


@dataclass
class FlowRun:
    """The nonlinear flow from z* nudged along its slowest mode: the fitted rate against Re λ."""

    predicted_rate: float
    measured_rate: float | None
    error: float | None
    relative_error: float | None
    window: tuple | None
    initial_distance: float
    final_distance: float
    diverged: bool
    trajectory: simulate.Trajectory = field(repr=False)
    json_drop = ("trajectory",)


@dataclass
class StepRun:
    """Discrete steps of one update order at one step size: the fitted rate per step against log|μ|."""

    eta_theta: float
    eta_omega: float
    predicted_rate_per_step: float
    measured_rate_per_step: float | None
    relative_error: float | None
    steps: int
    trajectory: simulate.Trajectory = field(repr=False)
    json_drop = ("trajectory",)


GAP = 1e-4  # a relative autodiff/finite-difference gap above this is explained, not printed bare


def gap_explanation(gap, regularity: Regularity) -> str | None:
    """Why autodiff and finite differences disagree by ``gap`` (relative), or None if they agree."""
    if gap is None or gap <= GAP:
        return None
    if regularity in NOT_SMOOTH:
        return (f"autodiff and finite differences differ by {gap:.2g} (relative) because f is not smooth at t = 1, "
                "which is where every sample sits at the equilibrium (r = H + E = 0): the field has a kink there; "
                "central differences straddle it (across a jump of the field they measure the jump divided by the "
                "step) while autodiff takes one side. Neither is a Jacobian: the linearization does not exist here")
    return (f"autodiff and finite differences differ by {gap:.2g} (relative): the field is not smooth within the "
            "finite-difference step of the equilibrium (a kink of f or of a link that some sample's r = H + E "
            "crosses there) or is badly conditioned; the eigenvalues are autodiff's")


@dataclass
class CheckReport(Report):
    name: str
    model: str
    model_description: str
    lr_ratio: float
    f2_at_1: float | None
    verdict: Verdict
    reason: str
    spectrum: Spectrum | None  # None where the Jacobian is not finite or not reliable
    jacobian_agreement: dict
    equilibrium: dict
    z_star: list
    closed_form: str  # which closed form the Jacobian is compared with
    bias: float | None  # max |θ* − θ of the exact D_f minimizer| (0 when realizable; critic-capacity bias else)
    stable_steps: dict  # update order -> list of (lo, hi) intervals of η_θ
    eta_max_simultaneous: float | None
    eta_max_alternating: float | None
    critical_lr_ratios: list
    flow: FlowRun | Skipped | None = None
    alternating: StepRun | Skipped | None = None
    notes: list = field(default_factory=list)
    regularity: Regularity = Regularity.SMOOTH  # the kind of f at 1
    link_clip: list | None = None  # [lo, hi] of the clamp on every exp inside the links (None: unbounded)
    trained: dict | None = None  # a wide game's resting point, read by `TrainedAnalysis` (`_trained_report`)

    @property
    def simulation(self) -> dict:
        runs = {"flow": self.flow, "alternating": self.alternating}
        return {k: v for k, v in runs.items() if v is not None}

    def to_json(self) -> dict:
        return fields_to_json(CheckRecord.of(self))

    @classmethod
    def from_json(cls, d: dict) -> "CheckReport":
        """Back from the JSON: the spectrum from its eigenvalues, the runs without their trajectories."""
        r = fields_from_json(CheckRecord, d)
        spectrum = None
        if r.eigenvalues:
            rate = r.predicted_rate
            spectrum = Spectrum(np.array([complex(re, im) for re, im in r.eigenvalues]), np.array([]),
                                r.max_real, float("nan") if rate is None else rate, r.tolerance,
                                r.zero_modes, r.gauge_modes, r.verdict, r.reason)
        kinds = {"flow": FlowRun, "alternating": StepRun}
        runs = {k: Skipped(v["skipped"]) if "skipped" in v else kinds[k](**v, trajectory=None)
                for k, v in r.simulation.items()}
        return cls(r.name, r.model, r.model_description, r.lr_ratio, r.f2_at_1, r.verdict, r.reason,
                   spectrum, r.jacobian_agreement, r.equilibrium, r.z_star, r.closed_form, r.bias,
                   {k: [tuple(iv) for iv in v] for k, v in r.stable_steps.items()}, r.eta_max_simultaneous,
                   r.eta_max_alternating, r.critical_lr_ratios, runs.get("flow"), runs.get("alternating"),
                   list(r.notes), r.regularity, r.link_clip, r.trained)

    def text(self) -> str:
        d = CheckRecord.of(self)  # the JSON's values, before `jsonable`
        agree = ", ".join(f"{k.replace('_', ' ')} {_number(v)}"
                          for k, v in d.jacobian_agreement.items()) or "not evaluated"
        eq = d.equilibrium
        if eq["known_residual"] is not None:
            eq_line = (f"known z*: |F| = {_number(eq['known_residual'])}; root-solve from a perturbed start: "
                       f"|F| = {_number(eq['solved_residual'])}, "
                       f"distance to z* {_number(eq['solved_distance_to_known'])}")
        else:  # a flow or solve that overflowed has no finite residual (None in the JSON)
            eq_line = f"solved from {eq['solved_from']}: |F| = {_number(eq['solved_residual'])}"
        if gap_explanation(d.jacobian_agreement.get("autodiff_vs_fd"), self.regularity) is not None:
            agree += " (not a derivative: f is not smooth there, see the note)" if self.regularity in NOT_SMOOTH \
                else " (see the note)"
        lines = [
            f"febm check {self.name} on {self.model}  (η_ω/η_θ = {self.lr_ratio:g})",
            f"  model        {self.model_description}",
            f"  f''(1)       {f2_text(self.f2_at_1, self.regularity)}",
            *([f"  links        every exp(a) inside g and h clamped to a in {_bounds(self.link_clip)}"]
              if self.link_clip else []),
            f"  equilibrium  {eq_line}",
            *([_trained_line(self.trained, eq['tolerance'])] if self.trained else []),
            *([f"  bias         θ* is {self.bias:.3g} from the exact minimizer of D_f over the model family "
               "(the critic's limited capacity)"] if self.bias is not None and eq["known_residual"] is None
              else []),
            f"  Jacobian     {agree}  (closed form: {self.closed_form})",
            f"  eigenvalues  {'not computed' if self.spectrum is None else _format_eigs(self.spectrum.eigenvalues)}",
            f"  verdict      {self.verdict.value.upper()}: {self.reason}",
        ]
        if isinstance(self.flow, FlowRun) and self.flow.measured_rate is not None:
            f = self.flow
            lines.append(f"  rate         predicted {f.predicted_rate:.6g}, measured on the nonlinear "
                         f"flow {f.measured_rate:.6g} (relative error {f.relative_error:.1e})")
        for kind, run in self.simulation.items():
            if isinstance(run, Skipped):
                lines.append(f"  {kind:12} not simulated: {run.reason}")
        if self.verdict not in (Verdict.STABLE, Verdict.UNSTABLE):
            lines += [f"  note         {n}" for n in d.notes]
            lines.append(f"  η_max and critical ratios {'of an equilibrium ' if self.trained else ''}are not defined "
                         "without exponential rates")
            return "\n".join(lines)
        lines.append("  stable steps " + "; ".join(f"{k} {_intervals(v)}" for k, v in self.stable_steps.items()))
        if isinstance(self.alternating, StepRun) and self.alternating.measured_rate_per_step is not None:
            a = self.alternating
            lines.append(f"  alternating  at η_θ = {a.eta_theta:.4g}: predicted {a.predicted_rate_per_step:.6g} "
                         f"per step, measured {a.measured_rate_per_step:.6g} over {a.steps} steps")
        lines.append("  critical η_ω/η_θ  " + _critical(d.critical_lr_ratios, self.lr_ratio, self.verdict))
        if d.equilibrium["known_residual"] is not None:  # realizable: J = f''(1)·J₀, one J₀ for every f
            f2 = f"{float(self.f2_at_1):g}"
            lines.append(f"  shared       J = f''(1)·J₀ here, one J₀ for every f: this verdict holds for every f with "
                         f"f''(1) > 0, its step limits and rates for every f with f''(1) = {f2}; for what depends on "
                         f"f (tails, noise, time) with the network that trains: febm atlas NAME --critic mlp:64,64")
        lines += [f"  note         {n}" for n in d.notes]
        return "\n".join(lines)

    def all_figures(self) -> dict:
        """The spectrum and, when the flow was simulated, its convergence, as matplotlib Figures."""
        if self.spectrum is None:  # no reliable linearization: nothing to draw
            return {}
        return dict(zip(("spectrum", "convergence"), check_plots.figures(self)))

    def figure(self):
        """The spectrum, as a matplotlib Figure (None without a spectrum)."""
        return self.all_figures().get("spectrum")


@dataclass
class CheckRecord:
    """The JSON of ``febm check``: a view of `CheckReport` (the spectrum's numbers, the predicted and
    measured rates, the runs without their trajectories)."""

    name: str
    verdict: Verdict
    reason: str
    f2_at_1: float | None
    regularity: Regularity
    model: str
    model_description: str
    lr_ratio: float
    eigenvalues: list  # [re, im] pairs
    max_real: float | None
    predicted_rate: float | None  # only for a stable or unstable verdict (an exponential rate)
    measured_rate: float | None
    tolerance: float | None
    zero_modes: int | None
    gauge_modes: int | None
    eta_max_simultaneous: float | None
    eta_max_alternating: float | None
    stable_steps: dict  # update order -> [lo, hi] intervals
    critical_lr_ratio: float | None
    critical_lr_ratios: list
    jacobian_agreement: dict
    equilibrium: dict
    z_star: list
    closed_form: str
    bias: float | None
    simulation: dict  # "flow", "alternating" -> a FlowRun, StepRun or Skipped
    notes: list
    link_clip: list | None = None
    trained: dict | None = None

    @classmethod
    def of(cls, c: CheckReport) -> "CheckRecord":
        sp_ = c.spectrum
        flow = c.flow if isinstance(c.flow, FlowRun) else None
        exponential = c.verdict in (Verdict.STABLE, Verdict.UNSTABLE)
        return cls(
            c.name, c.verdict, c.reason, c.f2_at_1, c.regularity, c.model, c.model_description, c.lr_ratio,
            [] if sp_ is None else [[float(e.real), float(e.imag)] for e in sp_.eigenvalues],
            None if sp_ is None else finite_or_none(sp_.max_real),
            finite_or_none(sp_.transverse_max_real) if exponential else None,
            None if flow is None else flow.measured_rate,
            None if sp_ is None else sp_.tolerance,
            None if sp_ is None else sp_.zero_modes,
            None if sp_ is None else sp_.gauge_modes,
            c.eta_max_simultaneous, c.eta_max_alternating,
            {k: [list(iv) for iv in v] for k, v in c.stable_steps.items()},
            c.critical_lr_ratios[0] if c.critical_lr_ratios else None, c.critical_lr_ratios,
            c.jacobian_agreement, c.equilibrium, c.z_star, c.closed_form, c.bias, c.simulation,
            c.notes + ([] if sp_ is None else sp_.notes), c.link_clip, c.trained)


def _critical(ratios, ratio: float, verdict) -> str:
    """The ratios where the verdict flips, which side is which, and a ratio to try."""
    if not ratios:
        return "none in [1e-4, 1e4]: the verdict holds for every ratio"
    shown = ", ".join(f"{c:.6g}" for c in ratios)
    above = [c for c in ratios if c > ratio]
    below = [c for c in ratios if c < ratio]
    stable = verdict == Verdict.STABLE
    now, other = ("stable", "unstable") if stable else ("unstable", "stable")
    sides = []
    if above:
        sides.append(f"{other} just above {above[0]:.3g}" + ("" if stable else
                                                                f" (try --lr-ratio {_round_up(above[0])})"))
    if below:
        sides.append(f"{other} just below {below[-1]:.3g}" + ("" if stable else
                                                                 f" (try --lr-ratio {_round_down(below[-1])})"))
    return f"{shown}: {now} at {ratio:g}; " + "; ".join(sides)


def _round_up(x: float) -> str:
    return f"{float(f'{1.5 * x:.1g}'):g}"


def _round_down(x: float) -> str:
    return f"{float(f'{x / 1.5:.1g}'):g}"


def _intervals(intervals) -> str:
    if not intervals:
        return "none (no stable step)"
    return ", ".join(f"η_θ in ({lo:.4g}, {hi:.4g})" for lo, hi in intervals)


def _format_eigs(eigs, limit=8) -> str:
    shown = sorted(eigs, key=lambda e: (-e.real, -e.imag))
    parts = []
    for e in shown[:limit]:
        if abs(e.imag) < 1e-8 * max(1.0, abs(e)):  # rounding noise of a real pair, not a rotation
            parts.append(f"{e.real:.4g}")
        elif e.imag > 0:
            parts.append(f"{e.real:.4g} ± {e.imag:.4g}i")
    extra = len(shown) - limit
    return ", ".join(parts) + (f", … ({extra} more)" if extra > 0 else "")


def _trained_report(la: LocalAnalysis) -> dict | None:
    """What `TrainedAnalysis` reads at a wide game's resting point: the full-batch step limit of
    simultaneous GDA with one lr for both players, from the largest eigenvalues (`febm calibrate`
    measures it against runs), with that point's |F| and status."""
    ta = la.trained
    if ta is None:
        return None
    return {"residual": finite_or_none(ta.residual), "status": ta.status.name.lower(), "eta_max": ta.eta_max,
            "distance_to_minimizer": ta.distance_to_minimizer}


def _trained_line(t: dict, tolerance: float) -> str:
    where = "the flow's resting point" + ("" if t["residual"] is not None and t["residual"] <= tolerance
                                          else ", not an equilibrium")
    if t["eta_max"] is None:
        return f"  trained game  {RestStatus[t['status'].upper()].value} (at {where})"
    return (f"  trained game  full-batch η_max = {t['eta_max']:.4g} at η_ω = η_θ, at {where} (Arnoldi on "
            "exact products; `febm calibrate` measures it against runs)")


def _equilibrium_report(la: LocalAnalysis, seed: int) -> dict:
    located, lin = la.equilibrium, la.lin
    residual = finite_or_none(located.residual)
    if not la.setup.known or lin is None:
        return {"known_residual": residual if la.setup.known else None,
                "solved_residual": None if la.setup.known else residual, "solved_distance_to_known": None,
                "solved_success": la.has_equilibrium, "solved_from": "the set-up's start",
                "tolerance": EQUILIBRIUM_TOL}
    field_ = lin.field()
    start = simulate.start_point(lin.z_star, 0.05, seed, lin.gauge_basis)
    solved = equilibrium.solve(field_, start)
    return {
        "known_residual": residual,
        "solved_residual": finite_or_none(solved.residual),
        "solved_distance_to_known": float(np.linalg.norm(lin.projector() @ (solved.z - lin.z_star).numpy())),
        "solved_success": solved.success,
        "solved_from": "z* + a transverse perturbation of norm 0.05",
        "tolerance": EQUILIBRIUM_TOL,
    }


def _simulate_flow(lin: Linearization, ratio: float, spectrum: Spectrum) -> FlowRun | Skipped:
    """The nonlinear flow from z* nudged along its slowest mode; the fitted rate vs Re λ."""
    rate = spectrum.transverse_max_real
    if not math.isfinite(rate) or abs(rate) <= spectrum.tolerance:
        return Skipped("no exponential rate to measure")
    fastest = float(np.max(np.abs(spectrum.transverse_eigenvalues)))
    if abs(rate) < SLOW * fastest:
        return Skipped(f"the slowest mode (|Re λ| = {abs(rate):.2g}) is below {SLOW:g} of the fastest "
                       f"({fastest:.2g}): its linear regime needs perturbations near rounding level "
                       "and runs of ~1/|Re λ|, out of reach in float64")
    size = 1e-3 if rate < 0 else 1e-8
    J = lin.jacobian(ratio)
    z0, lam = lin.mode_start(J, size)
    traj = simulate.flow(lin.field(ratio), lin.z_star, z0, (6.0 if rate < 0 else 16.0) / abs(rate), jac=J,
                         gauge=lin.gauge_basis)
    if traj.status is simulate.FlowOutcome.BUDGET:
        return Skipped("the integration exceeded its budget of field evaluations")
    meas = simulate.measure_rate(traj, oscillation_period(lam))
    return FlowRun(
        predicted_rate=rate,
        measured_rate=meas.rate,
        error=meas.error,
        relative_error=None if meas.rate is None else abs(meas.rate - rate) / abs(rate),
        window=meas.window,
        initial_distance=size,
        final_distance=float(traj.distances[-1]),
        diverged=traj.status is simulate.FlowOutcome.ESCAPED,
        trajectory=traj,
    )


def _simulate_steps(lin: Linearization, ratio: float, intervals, update="alternating") -> StepRun | Skipped:
    """Discrete steps at the step size with the fastest predicted contraction, searched inside
    the stable intervals (which need not start at 0)."""
    if not intervals:
        return Skipped(f"{update} steps are unstable for every step size")
    etas = np.concatenate([lo + (hi - lo) * np.linspace(0.05, 0.95, 19) for lo, hi in intervals])
    eta = float(etas[np.argmin([lin.radius(update, e, ratio) for e in etas])])
    z0, mu = lin.mode_start(lin.step_matrix(update, eta, ratio), 1e-3, discrete=True)
    predicted = float(np.log(np.abs(mu)))
    if 6.0 > MAX_STEPS * abs(predicted):
        return Skipped(f"the predicted rate per step ({predicted:.2g}) needs more than {MAX_STEPS} steps")
    steps = max(20, int(6.0 / abs(predicted)))
    traj = simulate.iterate(lin.step_map(update, eta, ratio), lin.z_star, z0, steps, lin.gauge_basis)
    meas = simulate.measure_rate(traj, oscillation_period(mu, per_step=True))
    return StepRun(
        eta_theta=eta,
        eta_omega=ratio * eta,
        predicted_rate_per_step=predicted,
        measured_rate_per_step=meas.rate,
        relative_error=None if meas.rate is None else abs(meas.rate - predicted) / abs(predicted),
        steps=len(traj.distances) - 1,
        trajectory=traj,
    )


def _number(v) -> str:
    return "not finite" if v is None else f"{v:.1e}"


def _bounds(clip: list) -> str:
    lo, hi = clip
    return f"[{'-inf' if lo is None else f'{lo:g}'}, {hi:g}]"


DENSE_COPIES = 3  # n × n float64 arrays alive while a linearization is read: G, the eigen-solver's copy, a product


def _dense_fits(s: Setup) -> None:
    """Refuse a network critic whose game is too large for the dense Jacobian that check reads at an
    equilibrium (mlp:1024,1024,1024,1024 on paper-1d: 3.15 M parameters, 217 TB). Below the
    bound the flow that locates the resting point is also bounded (≈ 40 ns per parameter and
    field evaluation on 500 nodes, 8,000 evaluations)."""
    n = s.model.dim + s.critic.dim
    memory.check(DENSE_COPIES * memory.FLOAT * n**2,
                 f"check with critic {s.critic.spec} ({n:,} parameters, its dense Jacobian at an equilibrium)",
                 hint="use a narrower critic (mlp:64,64 has 4,353 parameters on paper-1d)")


def check(spec: str | Divergence, model: str | Setup = "gaussian-1d", lr_ratio: float = 1.0,
          simulate_runs: bool = True, seed: int = 0, critic=None, link_clip=None) -> CheckReport:
    """Derive, linearize and simulate the f-EBM game of ``spec`` on ``model``.

    ``spec`` is a catalog name, ``family=value``, an expression in t or a Divergence; ``model``
    a registered set-up name, ``path/to/file.py:NAME`` (your own Python file, which is run),
    or a Setup; ``critic`` a network critic for set-ups that take one (``mlp:64,64``); ``link_clip``
    the trainer's clamps inside the links (C, (lo, hi) or {f name: either}; `Game`). The chain
    is one `LocalAnalysis`: without an equilibrium whose residual meets
    its tolerance, or with Jacobians that disagree, the verdict says so and nothing is simulated.
    """
    if critic is not None:  # built (and probed) here, so that its size is bounded before any work
        model, critic = with_critic(model, critic), None
        _dense_fits(model)
    la = LocalAnalysis.build(spec, model, lr_ratio, critic, link_clip)
    s, div, lin = la.setup, la.divergence, la.lin
    notes = []
    if div.affine:
        from .catalog import AFFINE

        notes.append(AFFINE)
    if la.game.link_clip is not None:
        notes.append("clamped links: the field jumps where a node's r crosses a bound, so finite differences "
                     "that straddle one disagree with autodiff; the minibatch field is smooth only in "
                     "expectation")
    elif (why := gap_explanation(la.jacobian_agreement.get("autodiff_vs_fd"), la.regularity[0])) is not None:
        notes.append(why)
    runs = simulate_runs and la.exponential
    return CheckReport(
        name=div.name,
        model=s.name,
        model_description=s.description,
        lr_ratio=lr_ratio,
        f2_at_1=number(div.f2_at_1),
        verdict=la.verdict,
        reason=la.reason,
        spectrum=la.spectrum,
        jacobian_agreement=la.jacobian_agreement,
        equilibrium=_equilibrium_report(la, seed),
        z_star=[finite_or_none(float(v)) for v in la.equilibrium.z],
        closed_form="f''(1)·M (realizable)" if s.known else "moment form (r ≠ 0)",
        bias=la.bias,
        stable_steps=la.stable_steps,
        eta_max_simultaneous=la.eta_max("simultaneous"),
        eta_max_alternating=la.eta_max("alternating"),
        critical_lr_ratios=la.critical_ratios,
        flow=_simulate_flow(lin, lr_ratio, la.spectrum) if runs else None,
        alternating=_simulate_steps(lin, lr_ratio, la.stable_steps["alternating"]) if runs else None,
        notes=notes,
        regularity=la.regularity[0],
        link_clip=None if la.game.link_clip is None else [finite_or_none(b) for b in la.game.link_clip],
        trained=_trained_report(la),
    )
