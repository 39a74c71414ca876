"""`febm calibrate`: the trained game's predictions against measured runs, as numbers.

For each f on a set-up whose p and q share nodes, played with a network critic (the reference
code's 1-64-64-1 tanh by default):

1. the deterministic flow: `flow_steps` full-batch simultaneous GDA steps on the nodes from the
   set-up's start (θ at the exact D_f minimizer, the critic at its seeded initialisation, then
   moved by `WARM_STEPS` Jensen–Shannon critic steps, `nodespace.warm_start`), half at
   η = 1/|λ|max of the start's Jacobian and half at 0.8 of the predicted η_max; the residual |F|
   there is reported with its θ and ω parts and θ's distance to the exact D_f minimizer, not
   hidden (a Levenberg–Marquardt refinement, tried on KL, did not lower |F|: the critic's kernel
   spans 1e5 to 1e-15, and the flow creeps along its slow directions);
2. predicted η_max: the step limit of the Jacobian's largest-modulus eigenvalues there (Arnoldi on
   exact Jacobian–vector products);
3. measured η_max: the stable/unstable boundary of pairs of nonlinear full-batch runs from there
   (`analysis.step_edge`), the second run displaced along the predicted binding mode plus a random
   move the nodes see, with the thresholds fixed in that module;
4. the local rate: the θ-mode's −log|1 + ηλ| from the node-space spectrum there, against pairs of
   runs started along its eigenvector, at η = half the predicted η_max; a ladder of other modes and
   the slowest transverse one are reported beside it (`analysis.local_rate`);
5. time to 0.05 (paper-1d, a tanh MLP critic): the first step at which max(|μ − μ*|, |σ − σ*|) ≤ 0.05,
   predicted by the noise-free flow and measured as the median of seeded minibatch runs at the
   reference code's settings with a 10× step (`training.arrival`, where its thresholds are fixed);
6. the rate from the start (paper-1d, a tanh MLP critic): predicted with the critic at its best
   response from ∇²D_f at the minimizer, measured as the error's decay in noise-free flows of the
   trainer from the standard start (`training.relaxation`).

7. η_ms and the spread (asked for by name: about 17 minutes per f): the second-moment recursion of
   simultaneous SGD at batch 1000 on the transverse modes (`analysis.mean_square_modes`) against
   16 seeded minibatch runs from the resting point (`training.mean_square_runs`): the η at which
   half of them leave the ball max|θ − θ_z| ≤ 0.5 within 1,000 steps, and θ's larger standard
   deviation after 1,000 steps at half the predicted η_max.

Quantities not asked for are keyed in the JSON as null: `not_measured` lists them.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.stats import spearmanr

from ...divergences import resolve
from ...errors import InputError
from ...toy_models import Setup
from ..analysis import local_rate, mean_square_modes, step_edge
from ..analysis.nodespace import WARM_STEPS, NodeGame, shares_nodes
from ..analysis.trained import RestStatus, TrainedAnalysis, network_setup
from ..report import Report
from ..training import arrival, relaxation
from ..training import mean_square_runs as ms_runs
from ..training.arms import ARMS_NEED, arm_for
from ..training.surrogate import require_curvature
from .calibration_targets import DEFAULT_QUANTITIES, FACTOR, MEASURED, QUANTITIES, WITHIN


@dataclass
class CalibrationRow:
    name: str
    predicted: dict
    measured: dict
    residual: float  # |F| where the predictions are made
    theta: list  # (μ, log σ) there
    eigenvalues: list  # the largest-modulus eigenvalues of ∂F/∂z there, as [re, im]
    bracket: list  # measured η_max lies in [lo, hi]
    elapsed_s: float
    status: RestStatus = RestStatus.RESTED  # or why not: the flow overflowed, no finite Jacobian, no step limit
    checkpoints: dict = field(default_factory=dict)  # along the flow: step, residual, eta_max, top_eigenvalue
    path_angle: dict = field(default_factory=dict)  # alpha, cosine, residual along the start → end line
    arrival: dict = field(default_factory=dict)  # time to 0.05: the predicted and measured runs' times
    relaxation: dict = field(default_factory=dict)  # rate_from_start: the measuring flows' fitted rates
    modes: dict = field(default_factory=dict)  # the local rate: modes predicted and measured (`local_rate`)
    equilibrium: dict = field(default_factory=dict)  # the resting point: |F_θ|, |F_ω|, distance to the minimizer
    mean_square: dict = field(default_factory=dict)  # η_ms and spread: the reduced operator and the runs


@dataclass
class CalibrateReport(Report):
    model: str
    critic: str
    rows: list[CalibrationRow]
    summary: dict
    not_measured: list
    settings: dict
    elapsed_s: float
    hold_out: list = field(default_factory=list)
    plot: str | None = None

    def text(self) -> str:
        lines = [f"calibration on {self.model} with critic {self.critic}: predicted vs measured",
                 f"{'f':<22} {'|F|':>8} {'η_max pred':>10} {'measured':>10} {'ratio':>7} "
                 f"{'t0.05 pred':>10} {'measured':>9} {'arrived':>7}"]
        for r in self.rows:
            p, m = r.predicted.get("eta_max"), r.measured.get("eta_max")
            ratio = "" if p is None or m is None else f"{p / m:7.4f}"
            tp, tm = r.predicted.get("time_to_0.05"), r.measured.get("time_to_0.05")
            runs = r.arrival.get("measured")
            arrived = f"{sum(t is not None for t in runs['steps'])}/{len(runs['steps'])}" if runs else ""
            tag = "  (hold-out)" if r.name in self.hold_out else ""
            why = "" if r.status == RestStatus.RESTED else f"  {r.status}"
            lines.append(f"{r.name:<22} {_residual(r.residual):>8} {_num(p):>10} {_num(m):>10} {ratio:>7} "
                         f"{_steps(tp, r, 'predicted'):>10} {_steps(tm, r, 'measured'):>9} {arrived:>7}{tag}{why}")
        for q, s in self.summary.items():
            band = f"×{FACTOR[q]:g}" if q in FACTOR else f"{WITHIN.get(q, 0):.0%}"
            lines.append(f"{q}: Spearman ρ {_num(s['spearman'])}, median |log(pred/meas)| "
                         f"{_num(s['median_abs_log_ratio'])}, within {band}: {s['within']}/{s['n']}")
        lines.append("not measured yet: " + ", ".join(self.not_measured))
        if self.settings.get("link_clip") is not None:
            lines.append(f"links clamped as the trainer's (link_clip {self.settings['link_clip']}) in the game "
                         "analysed and the mean-square runs")
        return "\n".join(lines)

    def all_figures(self) -> dict:
        """The calibration panels, and the flow's figure where η_max was measured (it has a flow)."""
        figures = {"calibration": self.figure()}
        if any(r.checkpoints for r in self.rows):
            from .calibrate_figures import draw_flow

            figures["calibration-flow"] = draw_flow(self)
        return figures

    def figure(self):
        """Predicted against measured, log-log, one panel per measured quantity (`calibrate_figures`)."""
        from .calibrate_figures import draw_calibration

        return draw_calibration(self)


def _residual(x) -> str:
    """|F| as text; not finite (null in JSON) where the flow overflowed."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.1e}"


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _steps(x, row, which: str) -> str:
    """A median time in steps; "> CAP" where fewer than half the runs arrived; blank if not run."""
    runs = row.arrival.get(which)
    if not runs:
        return ""
    return f"{x:.0f}" if x is not None else f">{runs['last_step']}"


def summarize(rows, quantity: str) -> dict:
    pairs = [(r.predicted.get(quantity), r.measured.get(quantity)) for r in rows]
    pairs = [(p, m) for p, m in pairs if p is not None and m is not None and p > 0 and m > 0]
    if not pairs:
        return {"n": 0, "spearman": None, "median_abs_log_ratio": None, "within": 0}
    pred, meas = np.array(pairs).T
    rho = float(spearmanr(pred, meas).statistic) if len(pairs) > 2 else None
    if quantity in FACTOR:
        within = int(np.sum(np.abs(np.log(pred / meas)) <= math.log(FACTOR[quantity])))
    else:
        within = int(np.sum(np.abs(pred / meas - 1) <= WITHIN.get(quantity, 0)))
    return {"n": len(pairs), "spearman": None if rho is None or math.isnan(rho) else rho,
            "median_abs_log_ratio": float(np.median(np.abs(np.log(pred / meas)))), "within": within}


def calibrate_one(spec, s: Setup, flow_steps: int, edge_steps: int, seed: int,
                  warm_steps: int = WARM_STEPS, quantities=DEFAULT_QUANTITIES, time_steps: int = arrival.MAX_STEPS,
                  batch: int = ms_runs.BATCH, link_clip=None) -> CalibrationRow:
    t0 = time.perf_counter()
    div = resolve(spec).validate()
    row = CalibrationRow(div.name, dict.fromkeys(QUANTITIES), dict.fromkeys(QUANTITIES), math.nan, [], [],
                         [None, None], 0.0, RestStatus.RESTED)
    if {"eta_max", "rate", "eta_ms", "spread"} & set(quantities):
        node_game, z, binding = _resting_point(row, div, s, flow_steps, seed, warm_steps, link_clip)
        if "eta_max" in quantities and binding is not None:
            # along the mode that sets the limit plus a random move the nodes see (other unstable modes)
            m = step_edge.measured(node_game.field, z, row.predicted["eta_max"],
                                   binding + node_game.visible_direction(z, seed), steps=edge_steps)
            row.bracket, row.measured["eta_max"] = list(m.bracket), m.eta
        if "rate" in quantities and binding is not None:
            _local_rate(row, node_game, z)
        if {"eta_ms", "spread"} & set(quantities) and binding is not None:
            _mean_square(row, div, s, node_game, z, quantities, seed, batch)
    if "rate_from_start" in quantities:
        _rate_from_start(row, div, s, seed, time_steps)
    if "time_to_0.05" in quantities:
        _time_to_target(row, div, s, seed, time_steps)
    row.elapsed_s = time.perf_counter() - t0
    return row


def _resting_point(row: CalibrationRow, div, s: Setup, flow_steps, seed, warm_steps, link_clip=None):
    """The trained game's resting point (`TrainedAnalysis`), copied into the row: (node game, z, the
    real part of the eigenvector that sets η_max, or None without a step limit)."""
    ta = TrainedAnalysis.build(div, s, link_clip, flow_steps, warm_steps, seed)
    row.status = ta.status
    row.predicted["eta_max"] = ta.eta_max
    row.residual, row.theta = ta.residual, [float(v) for v in ta.theta]
    row.eigenvalues = [[float(v.real), float(v.imag)] for v in ta.eigenvalues]
    row.checkpoints, row.path_angle = ta.checkpoints, ta.path_angle
    row.equilibrium = {"residual_theta": ta.residual_theta, "residual_omega": ta.residual_omega,
                       "distance_to_minimizer": ta.distance_to_minimizer}
    return ta.node_game, ta.z, ta.binding


def _local_rate(row: CalibrationRow, node_game: NodeGame, z) -> None:
    """The θ-mode's rate from the node-space spectrum against pair runs along it (`local_rate`)."""
    found = local_rate.measure(node_game, z, row.predicted["eta_max"])
    row.modes = found.to_json()
    if found.theta_mode is not None:
        row.predicted["rate"], row.measured["rate"] = found.theta_mode.predicted, found.theta_mode.measured
    row.equilibrium.update(kernel_rank=found.kernel_rank, flat_directions=found.flat_directions)


def _mean_square(row: CalibrationRow, div, s: Setup, node_game: NodeGame, z, quantities, seed: int,
                 batch: int = ms_runs.BATCH) -> None:
    """η_ms: the η at which half the runs leave the ball within the horizon, from the second-moment
    recursion on the transverse modes (`mean_square_modes`) and from seeded minibatch runs from z
    (`training.mean_square_runs`); spread: θ's larger standard deviation after the horizon at half
    the predicted η_max, both ways (θ's component with the larger predicted sd)."""
    arm = arm_for(s)
    if arm is None:
        row.mean_square = {"status": "η_ms and the spread need " + ARMS_NEED}
        return
    sizes, data = arm.critic_sizes, arm.data
    eta_max, clip = row.predicted["eta_max"], node_game.game.link_clip  # the runs play the analysed game
    reduced = mean_square_modes.ReducedMeanSquare.build(node_game, z, batch)
    info = {"batch": batch, "horizon": ms_runs.HORIZON, "ball": ms_runs.BALL, "seeds": ms_runs.SEEDS,
            "modes": reduced.modes, "growth_at_half_eta_max": reduced.growth(eta_max / 2)}
    if "eta_ms" in quantities:
        predicted = reduced.horizon_edge(eta_max, ms_runs.HORIZON, ms_runs.BALL)
        runs = ms_runs.edge(div, z, batch, predicted or eta_max, ms_runs.SEEDS, ms_runs.HORIZON, seed, sizes, clip,
                            data=data)
        row.predicted["eta_ms"], row.measured["eta_ms"] = predicted, runs.eta
        info["edge_runs"] = {"bracket": list(runs.bracket), "failed": {f"{k:.6g}": v for k, v in runs.failed.items()}}
    if "spread" in quantities:
        predicted_sd = np.sqrt(np.diag(reduced.moment(eta_max / 2, ms_runs.HORIZON)))
        measured = ms_runs.spread(div, z, eta_max / 2, batch, ms_runs.SEEDS, ms_runs.HORIZON, seed, sizes, clip,
                                  data=data)
        k = int(np.argmax(predicted_sd))  # the component the prediction calls the wider, measured the same
        row.predicted["spread"] = float(predicted_sd[k])
        row.measured["spread"] = None if measured["sd"] is None else measured["sd"][k]
        info["spread"] = {"predicted_sd": predicted_sd.tolist(), **measured}
    row.mean_square = info


def _rate_from_start(row: CalibrationRow, div, s: Setup, seed: int, horizon: int) -> None:
    """The best-response rate −log(1 − η λ_min(∇²D_f)) against the noise-free flows' fitted rate."""
    arm = arm_for(s)
    if arm is None:
        row.relaxation = {"status": "the rate from the start needs " + ARMS_NEED}
        return
    row.predicted["rate_from_start"] = relaxation.predicted_rate(div, data=arm.data)
    row.measured["rate_from_start"], row.relaxation = relaxation.measured_rate(
        div, seed, horizon=horizon, critic_sizes=arm.critic_sizes, data=arm.data)


def _time_to_target(row: CalibrationRow, div, s: Setup, seed: int, horizon: int) -> None:
    """Steps to error ≤ 0.05: the noise-free flow's median against the minibatch runs' median."""
    arm = arm_for(s)
    if arm is None:
        row.arrival = {"status": "time to 0.05 needs " + ARMS_NEED}
        return
    kw = {"critic_sizes": arm.critic_sizes, "data": arm.data}
    predicted = arrival.arrivals(div, "quadrature", arrival.PREDICTION_SEEDS, horizon, seed, **kw)
    cap = arrival.measurement_cap(predicted, horizon)
    measured = arrival.arrivals(div, "iid", arrival.SEEDS, cap, seed, **kw)
    row.predicted["time_to_0.05"], row.measured["time_to_0.05"] = predicted.median, measured.median
    row.arrival = {"predicted": asdict(predicted), "measured": asdict(measured), "cap": cap}


def calibrate(generators, model: str | Setup = "paper-1d", critic="mlp:64,64", seed: int = 0,
              flow_steps: int = 6000, edge_steps: int = 500, hold_out=(), progress: bool = True,
              warm_steps: int = WARM_STEPS, quantities=DEFAULT_QUANTITIES, time_steps: int = arrival.MAX_STEPS,
              batch: int = ms_runs.BATCH, link_clip=None) -> CalibrateReport:
    """Predicted against measured η_max and time to 0.05 (or the ``quantities`` named) for each
    generator (names or expressions); see the module. ``link_clip`` (None, C, (lo, hi) or {f name:
    either}) clamps the links of the game analysed and of the mean-square runs; the time and
    rate-from-start arms always play the reference code's own clamps (`training.reference`)."""
    unknown = sorted(set(quantities) - set(MEASURED))
    if unknown or not quantities:
        raise InputError(f"calibrate measures {', '.join(MEASURED)}; not {', '.join(unknown) or 'nothing'}")
    t0 = time.perf_counter()
    s = network_setup(model, critic, seed)
    if not shares_nodes(s):
        raise InputError(f"{s.name}: calibrate needs p on q_θ's grid (paper-1d with --critic has it)")
    names = list(generators)
    # refused before any work: an f without curvature at 1 has no linear restoring force (its
    # (t-1)**4 game ran past a minute with a residual of 1e67 before this check)
    require_curvature([resolve(n).validate() for n in names])
    from tqdm import tqdm

    rows = []
    for spec in tqdm(names, desc="calibrate", disable=not progress, leave=False):
        rows.append(calibrate_one(spec, s, flow_steps, edge_steps, seed, warm_steps, quantities, time_steps, batch,
                                  link_clip))
    critic_name = getattr(s.critic, "spec", type(s.critic).__name__)
    return CalibrateReport(
        s.name, critic_name, rows, {q: summarize(rows, q) for q in quantities},
        [q for q in QUANTITIES if q not in quantities],
        {"flow_steps": flow_steps, "warm_steps": warm_steps, "edge_steps": edge_steps, "seed": seed,
         "link_clip": link_clip,
         "growth": step_edge.GROWTH,
         "resolution": step_edge.RESOLUTION, "epsilon": step_edge.EPSILON, "within": WITHIN,
         "factor": FACTOR, "arrival": {**arrival.settings(), "max_steps": time_steps},
         "rate": {"theta_share": local_rate.THETA_SHARE, "step_fraction": local_rate.STEP_FRACTION,
                  "epsilon": local_rate.EPSILON, "decay": local_rate.DECAY, "min_steps": local_rate.MIN_STEPS,
                  "max_steps": local_rate.MAX_STEPS, "min_decay": local_rate.MIN_DECAY},
         "mean_square": {"batch": batch, "horizon": ms_runs.HORIZON, "ball": ms_runs.BALL,
                         "seeds": ms_runs.SEEDS, "resolution": ms_runs.RESOLUTION,
                         "half_outside": mean_square_modes.HALF_OUTSIDE},
         "rate_from_start": {"start": relaxation.RATE_START, "end": relaxation.RATE_END, "seeds": relaxation.RATE_SEEDS,
                  "min_points": relaxation.MIN_POINTS}},
        time.perf_counter() - t0, [resolve(h).name for h in hold_out])
