"""One operating point of a 2-D toy's game, predicted and measured: will this f train here?

The game is the bench's (`toy2d_training`): an MLP energy and an MLP critic of one shape, Adam on
both (the critic at `Toy2DConfig.critic_lr_ratio` × lr), the bench's penalty, and exact model samples
from the sampler grid (``sampler="grid"``), so that what is predicted is the objective, not a
sampler's bias. An operating point (lr, batch B, steps S) is played by minibatch runs that draw B
data points and B model points a step.

* error: the grid Jensen–Shannon divergence between the data and q (`toy2d_scoring`), recorded
  every `RECORD_EVERY` steps; time: the median over runs of the first record with error ≤ `TARGET`
  (None when fewer than half arrive);
* dead: a run that stops being finite within S, or ends S with error > `ESCAPE` (worse than the
  start's ≈ 0.53 on moons, toward the ceiling log 2 ≈ 0.69);
* the class by `cells.classify` (the 1-D cells' rule: *dies* at a dead fraction ≥ 0.25).

Predicted, before any run of the cell: a mean-field flow of the same game at B from each measured
run's initialisation (``sampler="expectation"``: E_q exact on the grid, E_p on the data's
Gauss–Hermite nodes; same optimizer and lr), whose Adam second moments are fed the square of a
minibatch gradient at B (``moment_batch``): minibatch Adam's mean step. Without that, Adam's v (its
running mean of squared gradients, which divides the step) collapses at rest, its steps stay about
lr long, and the noise-free flow blows up late, where minibatch runs stay trained, their v held up
by the noise. Minibatch noise at B is measured by short minibatch runs on streams of their own,
from the same starts as the flows. It slows the descent: runs for the budget's first `EARLY_SHARE`
give each flow a dilation (how much longer the flow takes to get where the run got), and a run is
predicted to arrive at the dilated first step at which its flow's error is ≤ `TARGET` (or where
its early run got there itself). And it kills runs: only a minibatch run's own fate counts as a
death, an early run that stops being finite, or a `PROBE_STEPS`-step run from its flow's end that
stops being finite or ends past `ESCAPE`. A flow that stops being finite or ends outside the basin
does not kill its run (the mean-field flows of χ²-type and negative-α f overflow within their first
steps where minibatch Adam survives) and gives it no chance of death; its run arrives if its early
run did, or where the dilated flow got to `TARGET` (an overflowed flow is held at its last finite
state). Along the other flows, the chance that a minibatch step at B kills a run is the chance that
one of its 2B points lands where a link or its derivative is not finite in the runs' float32
(`step_death`): the q-mass of such grid cells and the p-mass of such data nodes, 1 − exp(−Σ p_step)
over the budget, the last state's chance held to S. Every threshold is fixed here, before any
scoring run. The flows' error curves are kept in the prediction, so that a later rule can be scored
on the same flows.

Each earlier version was scored once on moons, and each hold-out was retired after it was seen
(docs/atlas.md): the first (two flows, no probe) missed the spread over initialisations; the second
(eight flows plus the floor) arrived too early at batch 100, where noise slows the whole descent;
the third (the dilation without the floor) arrived too early where the noise throws runs back up
late in the budget; the fourth (the dilation and the floor on the same noise-free flows for both
batches) predicted deaths at batch 1000 where the noise-free flows blew up late and the runs
trained; the fifth (Adam's v fed a minibatch square, the end probe's noise floor added to the flow)
counted flows that overflow at once as deaths and, its floor overshooting the runs' own, called late
arrivals slow. Round 6's rule was chosen on round 5's stored flows of 48 analysis cells, among three
death rules and three weights of the floor. Two ideas tried on the analysis set did not predict the
slowing: Adam's second moments fed a minibatch gradient's square along the mean flow (at batch
100 the flows arrived nearly as early as the noise-free ones; round 5 adopted it later for the
stability it gives, while the dilation supplies the slowing), and the end probe run on with the
flow's Adam moments (its floors, 0.03–0.14, overshot the runs' own).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np
import torch

from ...divergences import resolve
from ...divergences.numeric import exp_bounds_for
from ...errors import InputError
from ...toy_models import mlp, toy2d
from ..report import RunStatus
from . import arrival
from .cells import DEAD_CLASS, CellClass, OperatingPoint, Outcome, classify
from .hazard import link_overflows
from .toy2d_sampler import grid_centres
from .toy2d_training import Run, Toy2DConfig, train_batch

TARGET = 0.05  # grid JS
ESCAPE = 0.6  # final grid JS beyond which a run has left the basin: the start is ≈ 0.53, the ceiling log 2 ≈ 0.69
RECORD_EVERY = 50
MEASURE_SEEDS = 8
PREDICTION_SEEDS = MEASURE_SEEDS  # at each batch, a mean-field flow from each measured run's initialisation
PROBE_STEPS = 300  # minibatch steps from each flow's end that test for escapes under noise at a batch
EARLY_SHARE = 0.2  # the share of the budget over which minibatch runs from the start measure the dilation
SAMPLER_GRID = 64
FLOWS = ("a mean-field flow from each run's start at each batch: exact expectations, Adam's second moments fed a "
         "minibatch gradient's square at the cell's batch")


@dataclass(frozen=True)
class ToyArm:
    """A 2-D toy's game: the dataset and the trainer's settings (networks, Adam, critic ratio,
    penalty, sampler grid, link clamps); an operating point fills lr, batch and steps."""

    dataset: str
    config: Toy2DConfig

    @classmethod
    def bench(cls, dataset: str, hidden=(32, 32), activation: str = "tanh") -> "ToyArm":
        """The bench's networks (2-32-32-1 tanh energy and critic) with exact grid samples."""
        toy2d(dataset)  # refuses an unknown toy with its list
        sizes = (2, *hidden, 1)
        return cls(dataset, Toy2DConfig(sizes=sizes, activation=activation, sampler="grid",
                                        sampler_grid=SAMPLER_GRID))

    def at(self, point: OperatingPoint, sampler: str = "grid") -> Toy2DConfig:
        """The trainer's settings at ``point``: B data points and B grid draws of the model a step."""
        return replace(self.config, lr=point.lr, batch=point.batch, chains=point.batch, steps=point.steps,
                       sampler=sampler)


RULE = (f"dies: at least {DEAD_CLASS:g} of the runs stop being finite within the budget or end it with grid "
        f"JS > {ESCAPE:g}; trains: otherwise, when the median run reaches grid JS ≤ {TARGET:g} within it; "
        "slow: otherwise")

_STEP = re.compile(r"at step (\d+)")


class _Tracker:
    """Each run's first arrival, its death step and its error at every record."""

    def __init__(self, runs: int):
        self.arrived, self.died = [None] * runs, [None] * runs
        self.error = [math.inf] * runs

    def read(self, step: int, scores, status) -> None:
        for k, (sc, st) in enumerate(zip(scores, status)):
            if self.died[k] is not None:
                continue
            if not st.ok:
                found = _STEP.search(st.message)
                self.died[k] = int(found.group(1)) if found else step
                continue
            self.error[k] = sc.js
            if self.arrived[k] is None and sc.js <= TARGET:
                self.arrived[k] = step

    def finish(self) -> None:
        for k, e in enumerate(self.error):
            if self.died[k] is None and not e <= ESCAPE:
                self.died[k] = -1  # ended outside the basin

    def time(self) -> float | None:
        return arrival.median_time([a if d is None else None for a, d in zip(self.arrived, self.died)])

    @property
    def dead_fraction(self) -> float:
        return sum(d is not None for d in self.died) / len(self.died)


def _runs(name: str, point: OperatingPoint, config: Toy2DConfig, count: int) -> list[Run]:
    """Run k of a cell draws from the stream keyed by (f, k): its initialisation and its samples do
    not depend on the cell's other runs, and the flows start where the first measured runs start."""
    return [Run(name, f"toy-cell/{name}/{k}", point.lr, config.critic_lr_ratio, point.steps) for k in range(count)]


def _track(out, tracker: _Tracker, finish: bool = True) -> None:
    """Read every record of ``out``; ``finish`` marks runs that end outside the basin as dead."""
    for step, scores in out.curves:
        tracker.read(step, scores, [_as_at(s, step) for s in out.status])
    if finish:
        tracker.finish()


def _as_at(status, step: int):
    """A run's final status as seen at ``step``: alive (ok) until the step at which it stopped being
    finite."""
    m = None if status.ok else _STEP.search(status.message)
    return RunStatus() if m is not None and int(m.group(1)) > step else status


def measure(spec, arm: ToyArm, point: OperatingPoint, seeds: int = MEASURE_SEEDS, seed: int = 0) -> Outcome:
    """``seeds`` minibatch runs of the cell for all its steps, each on its own stream."""
    d = resolve(spec).validate()
    config = arm.at(point)
    out = train_batch(arm.dataset, _runs(d.name, point, config, seeds), config, seed, {d.name: d},
                      curve_every=_every(point.steps))
    track = _Tracker(seeds)
    _track(out, track)
    finals = [e for e, dead in zip(track.error, track.died) if dead is None]
    time, dead = track.time(), track.dead_fraction
    return Outcome(classify(time, dead), time, dead, float(np.median(finals)) if finals else None,
                   {"arrived": track.arrived, "died": track.died, "final_error": track.error})


def _every(steps: int) -> int:
    """Records every `RECORD_EVERY` steps, or a divisor of the budget so that its last step is read."""
    return math.gcd(RECORD_EVERY, steps)


def predict(spec, arm: ToyArm, lr: float, steps: int, batches, seed: int = 0) -> dict:
    """{batch: Outcome} for each batch at (lr, steps): the mean-field flows at that batch, slowed by
    the dilation that minibatch noise at that batch shows over the budget's first part, and, along
    them, the dead fraction of minibatch runs at that batch (see the module)."""
    d = resolve(spec).validate()
    start = _initial_state(d, arm, OperatingPoint(lr, 1, steps), seed)
    return {b: _predict_at(d, arm, OperatingPoint(lr, b, steps), start, seed) for b in batches}


def _predict_at(d, arm: ToyArm, point: OperatingPoint, start, seed: int) -> Outcome:
    out, track, chances, gaps = _flows(d, arm, point, start, seed)
    floor, probe_dead = _noise_floor(d, arm, point.lr, point.batch, out, track, seed)
    early = _dilation(d, arm, point, start, out.curves, seed)
    arrived, per_run = _fates(track.died, probe_dead, early, chances, gaps)
    time, dead = arrival.median_time(arrived), float(np.mean(per_run))
    return Outcome(classify(time, dead), time, dead,
                   runs={"arrived": arrived, "flow_arrived": track.arrived, "flow_died": track.died,
                         "dilation": early["dilation"], "early_error": early["error"],
                         "early_arrived": early["own"], "early_died": early["died"], "noise_floor": floor,
                         "probe_died": probe_dead,
                         "dead_chance": per_run, "final_error": track.error,
                         "flow_steps": [step for step, _ in out.curves],
                         "flow_error": [[sc.js for sc in scores] for _, scores in out.curves]})


def _fates(flow_died, probe_dead, early: dict, chances, gaps) -> tuple:
    """(arrival, dead chance) per run: a run whose early run stopped being finite or whose end probe
    died is dead (1); the others arrive as ``early`` says (the early run's own arrival within K, or the
    dilated flow's step, read on records that hold a flow's last finite state once it overflowed) and
    die with the chance along their flow, or not at all (0) if the flow stopped being finite or ended
    outside the basin."""
    arrived, dead = [], []
    for k, flow_dead in enumerate(flow_died):
        if probe_dead[k] or early["died"][k]:
            arrived.append(None)
            dead.append(1.0)
            continue
        arrived.append(early["arrival"][k])
        dead.append(0.0 if flow_dead is not None else _dead_fraction([c[k] for c in chances], gaps))
    return arrived, dead


def _flows(d, arm: ToyArm, point: OperatingPoint, start, seed: int) -> tuple:
    """The mean-field flows at the point's batch from the measured runs' starts (exact expectations,
    Adam's second moments fed a minibatch gradient's square at that batch, drawn from streams of the
    flows' own), their tracker, and along them each record's per-run chance that a minibatch step
    dies, with the steps each chance holds."""
    config = replace(arm.at(point, sampler="expectation"), moment_batch=point.batch)
    links, data = _links(d, config), toy2d(arm.dataset)
    chances, marks = [], []

    def watch(step, theta, omega, alive):
        chances.append(step_death(links, data, config, theta, omega, [point.batch])[point.batch])
        marks.append(step)

    runs = [Run(d.name, f"toy-flow/{d.name}/{point.batch}/{k}", point.lr, config.critic_lr_ratio, point.steps)
            for k in range(PREDICTION_SEEDS)]
    out = train_batch(arm.dataset, runs, config, seed, {d.name: d}, curve_every=_every(point.steps), watch=watch,
                      start=start)
    track = _Tracker(PREDICTION_SEEDS)
    _track(out, track)
    return out, track, chances, list(np.diff(marks + [point.steps]))


def _initial_state(d, arm: ToyArm, point: OperatingPoint, seed: int) -> tuple:
    """(θ, ω) at which the cell's runs (and flows) start: their streams' first draws."""
    config = arm.at(point)
    runs = [replace(r, steps=0) for r in _runs(d.name, point, config, PREDICTION_SEEDS)]
    out = train_batch(arm.dataset, runs, config, seed, {d.name: d})
    return out.theta, out.omega


def _dilation(d, arm: ToyArm, point: OperatingPoint, start, flow_curves, seed: int) -> dict:
    """Minibatch runs at the point's batch from each flow's start, on streams of their own, for the
    budget's first `EARLY_SHARE` (K steps); `dilated` turns each run's error at K into a dilation of
    its flow and an arrival. A run already at `TARGET` within K arrives where it did (``own``); one
    that stops being finite dies (leaving the basin early is being slow, not dead)."""
    k_steps = early_steps(point.steps)
    config = arm.at(replace(point, steps=k_steps))
    runs = [Run(d.name, f"toy-early/{d.name}/{point.batch}/{k}", point.lr, config.critic_lr_ratio, k_steps)
            for k in range(PREDICTION_SEEDS)]
    out = train_batch(arm.dataset, runs, config, seed, {d.name: d}, curve_every=_every(k_steps), start=start)
    track = _Tracker(PREDICTION_SEEDS)
    _track(out, track, finish=False)  # an early run far from the basin is slow, not dead
    result = {"arrival": [], "dilation": [], "error": track.error, "own": track.arrived,
              "died": [x is not None for x in track.died]}
    for k in range(PREDICTION_SEEDS):
        dilation, when = dilated(flow_curves, k, track.error[k], track.arrived[k], k_steps, point.steps)
        result["dilation"].append(dilation)
        result["arrival"].append(when)
    return result


def early_steps(steps: int) -> int:
    """K: the budget's first `EARLY_SHARE`, in whole records (at least one, at most the budget)."""
    return min(max(RECORD_EVERY, round(steps * EARLY_SHARE / RECORD_EVERY) * RECORD_EVERY), steps)


def dilated(curves, k: int, error: float, early: int | None, k_steps: int, budget: int,
             floor: float = 0.0) -> tuple:
    """(dilation, arrival) of run k, whose error is taken to be flow k's plus ``floor`` (round 5's
    noise floor; none since round 6), slowed by a dilation: the dilation is K / τ, with τ the flow's
    first recorded step at which flow + floor ≤ ``error`` (the run's at K; the budget when the flow
    never gets there); the arrival is ``early`` (the run's own, within K) or the dilated first step at
    which flow + floor ≤ `TARGET`, None past the budget or without a finite dilation."""
    tau = next((step for step, scores in curves if scores[k].js + floor <= error), budget)
    dilation = k_steps / tau if tau > 0 else math.inf
    flow_time = next((step for step, scores in curves if scores[k].js + floor <= TARGET), None)
    if early is not None:
        return dilation, early
    if flow_time is None or not math.isfinite(dilation) or dilation * flow_time > budget:
        return dilation, None
    return dilation, dilation * flow_time


def _noise_floor(d, arm: ToyArm, lr: float, batch: int, flows, track: _Tracker, seed: int) -> tuple:
    """(floor, died) per flow: minibatch runs at ``batch`` from each finite flow's end (fresh Adam
    moments, their own streams) for `PROBE_STEPS`; a probe that stops being finite or ends with error
    > `ESCAPE` marks its flow's runs as dying. The floor (their mean error over the second half above
    the flow's own end error, ≥ 0) is kept for the record: since round 6 no arrival uses it."""
    n = len(track.died)
    floor, died = [0.0] * n, [False] * n
    alive = [k for k in range(n) if track.died[k] is None]
    if not alive:
        return floor, died
    config = arm.at(OperatingPoint(lr, batch, PROBE_STEPS))
    runs = [Run(d.name, f"toy-probe/{d.name}/{batch}/{k}", lr, config.critic_lr_ratio, PROBE_STEPS) for k in alive]
    probe = train_batch(arm.dataset, runs, config, seed, {d.name: d}, curve_every=_every(PROBE_STEPS),
                        start=(flows.theta[alive], flows.omega[alive]))
    late = [scores for step, scores in probe.curves if step >= PROBE_STEPS // 2]
    for i, k in enumerate(alive):
        if not probe.status[i].ok or not late[-1][i].js <= ESCAPE:
            died[k] = True
            continue
        floor[k] = max(float(np.mean([scores[i].js for scores in late])) - track.error[k], 0.0)
    return floor, died


def _dead_fraction(chances, gaps) -> float:
    """1 − Π (1 − p)^gap: a run survives each step with the chance read at the last mark."""
    log_survive = sum(g * math.log1p(-min(p, 1.0)) if p < 1 else -math.inf for p, g in zip(chances, gaps))
    return float(-math.expm1(log_survive))


def _links(d, config: Toy2DConfig):
    clip = exp_bounds_for(d.name, config.link_clip)
    return d.function("g", "torch", exp_clip=clip), d.function("h", "torch", exp_clip=clip)


def step_death(links, data, config: Toy2DConfig, theta, omega, batches) -> dict:
    """{batch: per-run chance that one minibatch step meets a point whose link value or derivative is
    not finite in float32}: 1 − (1 − m_p)^B (1 − m_q)^B with m_p the data's mass (its nodes) and m_q
    q's mass (grid cells) where that happens."""
    g, h = links
    centres, _ = grid_centres(config, dtype=torch.float32)
    nodes = data.nodes(config.data_nodes)
    x = torch.cat([nodes.x.float(), centres])
    th, om = theta.detach().float(), omega.detach().float()
    with torch.no_grad():
        E = mlp.forward_batched(th, x.expand(len(th), -1, -1), config.sizes, config.activation)
        H = mlp.forward_batched(om, x.expand(len(om), -1, -1), config.sizes, config.activation)
    r = H if config.critic == "residual" else H + E
    m = len(nodes.x)
    bad_p = link_overflows(g, r[:, :m]).double()
    bad_q = link_overflows(h, r[:, m:]).double()
    w_q = torch.softmax(-E[:, m:].double(), dim=-1)
    mass_p = (nodes.w.double() * bad_p).sum(-1)
    mass_q = torch.where(torch.isfinite(w_q), w_q, 0.0).mul(bad_q).sum(-1)
    out = {}
    for b in batches:
        survive = (torch.log1p(-mass_p.clamp(max=1)) + torch.log1p(-mass_q.clamp(max=1))) * b
        out[b] = (-torch.expm1(survive)).tolist()
    return out


def require_toy_arm(setup_name: str, critic_spec) -> ToyArm:
    """The toy arm for ``--model toy2d-NAME --critic mlp:W,...``: the bench's game with that width for
    both networks; an `InputError` for anything else."""
    if not (isinstance(setup_name, str) and setup_name.startswith("toy2d-")):
        raise InputError("runs of a 2-D toy's game need --model toy2d-NAME")
    spec = str(critic_spec)
    if not re.fullmatch(r"mlp:\d+(,\d+)*", spec):
        raise InputError(f"a 2-D toy's game needs --critic mlp:W,... (its energy and critic take that shape), "
                         f"not {spec!r}")
    hidden = tuple(int(w) for w in spec.split(":")[1].split(","))
    return ToyArm.bench(setup_name.removeprefix("toy2d-"), hidden)


__all__ = ["ToyArm", "measure", "predict", "step_death", "require_toy_arm", "dilated", "early_steps", "TARGET",
           "ESCAPE", "CellClass"]
