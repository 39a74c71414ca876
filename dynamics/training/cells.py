"""One operating point of the trained game, predicted and measured: will this f train here?

An operating point is (f, set-up with a network critic, lr for both players, batch B, budget S),
played as the reference code plays it (`arrival.config`: SGD, critic step first, σ stepped directly,
its link clamps). Its outcome is three numbers and a class:

* time: the median over runs of the first recorded step with error ≤ `TARGET` (error: max over
  (μ, σ) of the distance to the exact D_f minimizer); None when fewer than half arrive within S;
* dead fraction: the runs that stop being finite within S, or have left the basin at its end
  (error > `ESCAPE`; a run that wanders off and comes back is not dead);
* the class, by `classify`: *dies* when at least `DEAD_CLASS` of the runs die, else *trains* when the
  median run arrives within S, else *slow*.

Predicted: `PREDICTION_SEEDS` noise-free flows (expectations on `QUADRATURE_NODES` quantile
midpoints, the measured runs' first critic initialisations) give the time; the chance that a
minibatch step at B kills a run (`hazard.step_death`) along those flows, held at the flow's last
state for the rest of the budget, gives the dead fraction. Measured: seeded i.i.d. minibatch runs
of exactly that game for all S steps. Every threshold is fixed here, before any scoring run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import torch

from ...divergences import resolve
from ...errors import InputError
from . import arrival, hazard
from .trainer import GAUSSIAN, BatchedGaussianFEBM

TARGET = arrival.TARGET  # 0.05
ESCAPE = 2.0  # error beyond which a run has left the basin (the standard start is ≈ 1 from every minimizer)
DEAD_CLASS = 0.25  # a cell dies when at least this fraction of its runs die
PREDICTION_SEEDS = 4
MEASURE_SEEDS = 8
QUADRATURE_NODES = 1000  # the noise-free flow's expectations, whatever the cell's batch
HAZARD_EVERY = 50  # steps between evaluations of the step's death chance along the flow
MAX_STEPS = 200_000
MAX_BATCH = 100_000  # 8 runs × 2 batches × a 64-wide network: ~0.5 GB of activations in float32


class CellClass(StrEnum):
    TRAINS = "trains"
    SLOW = "slow"
    DIES = "dies"


RULE = (f"dies: at least {DEAD_CLASS:g} of the runs stop being finite within the budget or end it outside the "
        f"basin (error > {ESCAPE:g}); trains: otherwise, when the median run reaches error ≤ {TARGET:g} within it; "
        "slow: otherwise")


def classify(time: float | None, dead_fraction: float) -> CellClass:
    if dead_fraction >= DEAD_CLASS:
        return CellClass.DIES
    return CellClass.TRAINS if time is not None else CellClass.SLOW


@dataclass(frozen=True)
class OperatingPoint:
    lr: float
    batch: int
    steps: int

    def __post_init__(self):
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"an operating point's lr must be a positive number, not {self.lr}")
        if not 1 <= self.batch <= MAX_BATCH:
            raise InputError(f"an operating point's batch must be in [1, {MAX_BATCH:,}], not {self.batch}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise InputError(f"an operating point's steps must be in [1, {MAX_STEPS:,}], not {self.steps}")

    @property
    def label(self) -> str:
        return f"lr {self.lr:g}, batch {self.batch}, {self.steps} steps"


@dataclass
class Outcome:
    """A cell's numbers and class, predicted or measured."""

    cls: CellClass
    time: float | None  # median steps to error ≤ TARGET (None: the median run does not arrive)
    dead_fraction: float | None
    final_error: float | None = None  # measured: median final error of the runs that stayed finite
    runs: dict = field(default_factory=dict)  # per run: arrival step, death step, final error


def _config(point: OperatingPoint, sampling: str, critic_sizes, link_clip, every: int = 10):
    """The trainer's settings for the cell; records every ``every`` steps, or a divisor of the budget so
    that its last step is read."""
    cfg = replace(arrival.config(point.lr, point.steps, critic_sizes), batch=point.batch, sampling=sampling,
                  record_every=math.gcd(every, point.steps))
    return cfg if link_clip == "reference" else replace(cfg, link_clip=link_clip)


class _Tracker:
    """First arrival and death of each run, read at every recorded step; a run that ends the budget
    outside the basin dies there (`finish`)."""

    def __init__(self, runs: int, minimizer: torch.Tensor):
        self.minimizer = minimizer
        self.arrived, self.died = [None] * runs, [None] * runs
        self.error = torch.full((runs,), math.inf, dtype=torch.float64)
        self.step = 0

    def __call__(self, step, theta, alive) -> None:
        live = alive.cpu()
        self.step = step
        self.error = (GAUSSIAN.mean_sd(theta.detach().cpu().double()) - self.minimizer).abs().amax(dim=1)
        for k, e in enumerate(self.error.tolist()):
            if self.died[k] is not None:
                continue
            if not live[k]:
                self.died[k] = step
            elif self.arrived[k] is None and e <= TARGET:
                self.arrived[k] = step

    def finish(self) -> None:
        for k, e in enumerate(self.error.tolist()):
            if self.died[k] is None and not e <= ESCAPE:
                self.died[k] = self.step

    @property
    def settled(self) -> bool:
        return all(a is not None or d is not None for a, d in zip(self.arrived, self.died))

    def time(self) -> float | None:
        return arrival.median_time([a if d is None else None for a, d in zip(self.arrived, self.died)])

    @property
    def dead_fraction(self) -> float:
        return sum(d is not None for d in self.died) / len(self.died)


def measure(spec, arm, point: OperatingPoint, seeds: int = MEASURE_SEEDS, seed: int = 0,
            link_clip="reference") -> Outcome:
    """``seeds`` i.i.d. minibatch runs of the cell for all its steps; run k draws from its own stream
    (`trainer.run_keys`), so its numbers do not depend on the other runs. ``link_clip``: "reference"
    (the reference code's clamps, the default), None or the trainer's forms."""
    d = resolve(spec).validate()
    trainer = BatchedGaussianFEBM([d] * seeds, arm.data, _config(point, "iid", arm.critic_sizes, link_clip), seed)
    track = _Tracker(seeds, torch.tensor(arrival.exact_minimizer(d, arm.data)))

    def look(step, theta, alive) -> bool:
        track(step, theta, alive)
        return all(d is not None for d in track.died)

    trainer.train(until=look)
    track.finish()
    finals = [e for e, dead in zip(track.error.tolist(), track.died) if dead is None]
    time, dead = track.time(), track.dead_fraction
    return Outcome(classify(time, dead), time, dead, float(np.median(finals)) if finals else None,
                   {"arrived": track.arrived, "died": track.died, "final_error": track.error.tolist()})


def predict(spec, arm, lr: float, steps: int, batches, seed: int = 0, link_clip="reference") -> dict:
    """{batch: Outcome} for each batch at (lr, steps): the noise-free flows' time and, along them,
    the dead fraction of minibatch runs at that batch (see the module)."""
    d = resolve(spec).validate()
    flow_point = OperatingPoint(lr, QUADRATURE_NODES, steps)
    trainer = BatchedGaussianFEBM([d] * PREDICTION_SEEDS, arm.data,
                                  _config(flow_point, "quadrature", arm.critic_sizes, link_clip, HAZARD_EVERY), seed)
    track = _Tracker(PREDICTION_SEEDS, torch.tensor(arrival.exact_minimizer(d, arm.data)))
    chances: dict = {b: [] for b in batches}
    marks: list = []  # the step at which each chance was read; it holds until the next mark

    def look(step, theta, alive) -> bool:
        for b, p in hazard.step_death(trainer, theta, trainer.omega, batches, lr).items():
            chances[b].append(p.tolist())
        marks.append(step)
        track(step, theta, alive)
        return track.settled

    look(0, trainer.theta, torch.ones(PREDICTION_SEEDS, dtype=torch.bool))
    trainer.train(until=look)
    track.finish()
    gaps = list(np.diff(marks + [steps]))  # the last state's chance holds for the rest of the budget
    time = track.time()
    out = {}
    for b in batches:
        per_run = [1.0 if track.died[k] is not None else
                   hazard.dead_fraction([c[k] for c in chances[b]], gaps) for k in range(PREDICTION_SEEDS)]
        dead = float(np.mean(per_run))
        out[b] = Outcome(classify(time, dead), time, dead,
                         runs={"arrived": track.arrived, "flow_died": track.died, "dead_chance": per_run,
                               "step_death_start": chances[b][0], "step_death_end": chances[b][-1]})
    return out
