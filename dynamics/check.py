"""``febm check``: the whole chain for one generator on one toy set-up."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from divergences import divergence as resolve
from divergences.divergence import number

from . import equilibrium, jacobian, simulate, spectrum
from .fields import AlternatingMap, GDAField
from .game import Game


@dataclass
class CheckReport:
    name: str
    model: str
    model_description: str
    lr_ratio: float
    f2_at_1: float | None
    verdict: str
    reason: str
    spectrum: spectrum.Spectrum
    jacobian_agreement: dict
    equilibrium: dict
    eta_max_simultaneous: float | None
    eta_max_alternating: float | None
    critical_lr_ratios: list
    simulation: dict
    notes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        sp_ = self.spectrum
        return {
            "name": self.name,
            "verdict": self.verdict,
            "reason": self.reason,
            "f2_at_1": self.f2_at_1,
            "model": self.model,
            "model_description": self.model_description,
            "lr_ratio": self.lr_ratio,
            "eigenvalues": [[float(e.real), float(e.imag)] for e in sp_.eigenvalues],
            "max_real": _finite(sp_.max_real),
            "predicted_rate": _finite(sp_.transverse_max_real) if self.verdict != "not-applicable" else None,
            "measured_rate": self.simulation.get("flow", {}).get("measured_rate"),
            "tolerance": sp_.tolerance,
            "zero_modes": sp_.zero_modes,
            "gauge_modes": sp_.gauge_modes,
            "eta_max_simultaneous": self.eta_max_simultaneous,
            "eta_max_alternating": self.eta_max_alternating,
            "critical_lr_ratio": self.critical_lr_ratios[0] if self.critical_lr_ratios else None,
            "critical_lr_ratios": self.critical_lr_ratios,
            "jacobian_agreement": self.jacobian_agreement,
            "equilibrium": self.equilibrium,
            "simulation": {k: _public(v) for k, v in self.simulation.items()},
            "notes": self.notes + sp_.notes,
        }

    def text(self) -> str:
        d = self.as_dict()
        agree = ", ".join(f"{k.replace('_', ' ')} {v:.1e}" for k, v in d["jacobian_agreement"].items())
        eq = d["equilibrium"]
        lines = [
            f"febm check {self.name} on {self.model}  (η_ω/η_θ = {self.lr_ratio:g})",
            f"  model        {self.model_description}",
            f"  f''(1)       {self.f2_at_1}",
            f"  equilibrium  known z*: |F| = {eq['known_residual']:.1e}; root-solve from a perturbed "
            f"start: |F| = {eq['solved_residual']:.1e}, distance to z* {eq['solved_distance_to_known']:.1e}",
            f"  Jacobian     {agree}",
            f"  eigenvalues  {_format_eigs(self.spectrum.eigenvalues)}",
            f"  verdict      {self.verdict.upper()}: {self.reason}",
        ]
        flow = d["simulation"].get("flow", {})
        if flow.get("measured_rate") is not None:
            lines.append(f"  rate         predicted {flow['predicted_rate']:.6g}, measured on the nonlinear "
                         f"flow {flow['measured_rate']:.6g} (relative error {flow['relative_error']:.1e})")
        for kind in ("flow", "alternating"):
            if "skipped" in d["simulation"].get(kind, {}):
                lines.append(f"  {kind:12} not simulated: {d['simulation'][kind]['skipped']}")
        if self.verdict not in ("stable", "unstable"):
            lines += [f"  note         {n}" for n in d["notes"]]
            lines.append("  η_max and critical ratios are not defined without exponential rates")
            return "\n".join(lines)
        lines.append(f"  η_max        simultaneous {_fmt(d['eta_max_simultaneous'])}, "
                     f"alternating {_fmt(d['eta_max_alternating'])}")
        alt = d["simulation"].get("alternating", {})
        if alt.get("measured_rate_per_step") is not None:
            lines.append(f"  alternating  at η_θ = {alt['eta_theta']:.4g}: predicted "
                         f"{alt['predicted_rate_per_step']:.6g} per step, measured "
                         f"{alt['measured_rate_per_step']:.6g} over {alt['steps']} steps")
        crit = d["critical_lr_ratios"]
        none = "none in [1e-4, 1e4]: the verdict holds for every ratio"
        lines.append("  critical η_ω/η_θ  " + (", ".join(f"{c:.6g}" for c in crit) if crit else none))
        lines += [f"  note         {n}" for n in d["notes"]]
        return "\n".join(lines)


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def _fmt(x) -> str:
    return "none (no stable step)" if x is None else f"{x:.6g}"


def _format_eigs(eigs, limit=8) -> str:
    shown = sorted(eigs, key=lambda e: (-e.real, -e.imag))
    parts = []
    for e in shown[:limit]:
        if abs(e.imag) < 1e-12:
            parts.append(f"{e.real:.4g}")
        elif e.imag > 0:
            parts.append(f"{e.real:.4g} ± {e.imag:.4g}i")
    extra = len(shown) - limit
    return ", ".join(parts) + (f", … ({extra} more)" if extra > 0 else "")


def _finite(x):
    return None if x is None or not math.isfinite(x) else float(x)


MAX_STEPS = 4000  # longest alternating run in a check
SLOW = 1e-4  # slowest/fastest |Re λ| below which the flow run is skipped (stiff, sloppy models)


def _jacobians(F, z_star, f2):
    """J three ways. Differences are relative to max(‖reference‖, ‖J at f''(1) = 1‖), so a
    Jacobian that vanishes with f''(1) is compared on the game's natural scale."""
    unit = jacobian.unit_closed_form(F, z_star)
    scale = float(np.linalg.norm(unit.numpy()))
    ja = jacobian.autodiff(F, z_star)
    jf = jacobian.finite_difference(F, z_star)
    agreement = {"autodiff_vs_fd": jacobian.relative_difference(jf, ja, scale)}
    if f2 is not None:
        jc = float(f2) * unit
        agreement["autodiff_vs_closed_form"] = jacobian.relative_difference(ja, jc, scale)
        agreement["fd_vs_closed_form"] = jacobian.relative_difference(jf, jc, scale)
    return ja, agreement, scale


def _equilibrium_report(F, z_star, gauge, seed):
    start = simulate.start_point(z_star, 0.05, seed, gauge)
    solved = equilibrium.solve(F, start)
    P = simulate.projector(len(z_star), gauge)
    return {
        "known_residual": equilibrium.residual(F, z_star),
        "solved_residual": solved.residual,
        "solved_distance_to_known": float(np.linalg.norm(P @ (solved.z - z_star).numpy())),
        "solved_success": solved.success,
        "solved_from": "z* + a transverse perturbation of norm 0.05",
    }


def _dominant(eigs):
    if eigs.size == 0:
        return None
    lam = eigs[np.argmax(eigs.real)]
    return lam


def _period(lam, per_step=False):
    if lam is None:
        return None
    angle = abs(np.angle(lam)) if per_step else abs(lam.imag)
    return 2 * np.pi / angle if angle > 1e-9 else None


def _simulate_flow(F, z_star, J, spec, gauge):
    """The nonlinear flow from z* nudged along its slowest mode; the fitted rate vs Re λ."""
    rate = spec.transverse_max_real
    if not math.isfinite(rate) or abs(rate) <= spec.tolerance:
        return {"skipped": "no exponential rate to measure"}
    fastest = float(np.max(np.abs(spec.transverse_eigenvalues)))
    if abs(rate) < SLOW * fastest:
        return {"skipped": f"the slowest mode (|Re λ| = {abs(rate):.2g}) is below {SLOW:g} of the fastest "
                           f"({fastest:.2g}): its linear regime needs perturbations near rounding level "
                           "and runs of ~1/|Re λ|, out of reach in float64"}
    size = 1e-3 if rate < 0 else 1e-8
    z0, lam = simulate.mode_start(z_star, J, size, gauge)
    traj = simulate.flow(F, z_star, z0, (6.0 if rate < 0 else 16.0) / abs(rate), jac=J, gauge=gauge)
    if traj.status == "budget":
        return {"skipped": "the integration exceeded its budget of field evaluations"}
    meas = simulate.measure_rate(traj, _period(lam))
    return {
        "predicted_rate": rate,
        "measured_rate": meas.rate,
        "error": meas.error,
        "relative_error": None if meas.rate is None else abs(meas.rate - rate) / abs(rate),
        "window": meas.window,
        "initial_distance": size,
        "final_distance": float(traj.distances[-1]),
        "diverged": traj.diverged,
        "_trajectory": traj,
    }


def _simulate_alternating(game, G, z_star, n_theta, ratio, eta_max, gauge):
    """Alternating discrete steps at the step size with the fastest predicted contraction."""
    if eta_max is None:
        return {"skipped": "alternating steps are unstable for every step size"}

    def step_matrix(eta):
        return spectrum.alternating_matrix(G, n_theta, eta, ratio * eta)

    etas = eta_max * np.linspace(0.05, 0.95, 19)
    radii = [spectrum.spectral_radius(spectrum.transverse(step_matrix(e), gauge)) for e in etas]
    eta = float(etas[np.argmin(radii)])
    z0, mu = simulate.mode_start(z_star, step_matrix(eta), 1e-3, gauge, discrete=True)
    predicted = float(np.log(np.abs(mu)))
    if 6.0 > MAX_STEPS * abs(predicted):
        return {"skipped": f"the predicted rate per step ({predicted:.2g}) needs more than {MAX_STEPS} steps"}
    steps = max(20, int(6.0 / abs(predicted)))
    traj = simulate.iterate(AlternatingMap(game, eta, ratio * eta), z_star, z0, steps, gauge)
    meas = simulate.measure_rate(traj, _period(mu, per_step=True))
    return {
        "eta_theta": eta,
        "eta_omega": ratio * eta,
        "predicted_rate_per_step": predicted,
        "measured_rate_per_step": meas.rate,
        "relative_error": None if meas.rate is None else abs(meas.rate - predicted) / abs(predicted),
        "steps": len(traj.distances) - 1,
        "_trajectory": traj,
    }


def _verdict(div, spec):
    f2 = div.f2_at_1
    if f2 is None:
        return "not-applicable", (
            f"{div.checks['smooth_at_1'].detail}; the local theory needs f twice differentiable at 1"
        )
    if f2 == 0:
        return "inconclusive", (
            "f''(1) = 0: the Jacobian at the equilibrium is zero, so the dynamics are not "
            "exponentially stable; the linearization decides nothing"
        )
    return spec.verdict, spec.reason


def check(spec_text: str, model: str = "gaussian-1d", lr_ratio: float = 1.0,
          simulate_runs: bool = True, seed: int = 0) -> CheckReport:
    """Derive, linearize and simulate the f-EBM game of ``spec_text`` on ``model``."""
    from toy_models import setup

    div = resolve(spec_text).validate()
    s = setup(model)
    game = Game.from_setup(div, s)
    F = GDAField(game, 1.0, lr_ratio)
    G_field = GDAField(game, 1.0, 1.0)
    z_star = s.z_star
    f2 = div.f2_at_1
    J, agreement, scale = _jacobians(F, z_star, f2)
    G = jacobian.autodiff(G_field, z_star)
    gauge = equilibrium.gauge_directions(G_field, z_star, G)
    spec = spectrum.analyse(J.numpy(), gauge, scale)
    verdict, reason = _verdict(div, spec)
    n_theta = game.dim_theta
    G_np = G.numpy()
    exponential = verdict in ("stable", "unstable")  # else J is zero or undefined: no rates, no ratios
    eta_alt = spectrum.eta_max_alternating(G_np, n_theta, lr_ratio, gauge) if exponential else None
    report = CheckReport(
        name=div.name,
        model=s.name,
        model_description=s.description,
        lr_ratio=lr_ratio,
        f2_at_1=number(f2),
        verdict=verdict,
        reason=reason,
        spectrum=spec,
        jacobian_agreement=agreement,
        equilibrium=_equilibrium_report(G_field, z_star, gauge, seed),
        eta_max_simultaneous=spectrum.eta_max_simultaneous(J.numpy(), gauge) if exponential else None,
        eta_max_alternating=eta_alt,
        critical_lr_ratios=spectrum.critical_ratios(G_np, n_theta, gauge) if exponential else [],
        simulation={},
    )
    if report.equilibrium["known_residual"] > 1e-8:
        report.notes.append(
            f"|F| = {report.equilibrium['known_residual']:.2g} at the realizable point: the estimator is "
            "discontinuous there (h jumps at r = 0, and r is zero only to rounding), so it is not a "
            "robust equilibrium"
        )
    if simulate_runs and exponential:
        report.simulation["flow"] = _simulate_flow(F, z_star, J.numpy(), spec, gauge)
        report.simulation["alternating"] = _simulate_alternating(
            game, G_np, z_star, n_theta, lr_ratio, eta_alt, gauge
        )
    return report
