"""Compute budgets for the 2-D benchmark, counted in gradient evaluations.

One evaluation is one point through a network, forward and backward. Per training step a run
spends, on its energy E_θ: (Langevin steps + 1) × chains evaluations for the sampler (the chains'
starting gradient, then one per step) and 2 × batch for the loss (data and model points); an
f-EBM run also spends 2 × batch on its critic H_ω. CD has no critic, so at an equal budget it
takes more steps. tests/commands/test_bench.py counts the points that reach the networks and compares.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepCost:
    energy: int  # energy-gradient evaluations per step
    critic: int  # critic-gradient evaluations per step

    @property
    def total(self) -> int:
        return self.energy + self.critic


def step_cost(method: str, config) -> StepCost:
    """The evaluations one step of ``method`` ("cd" or an f) costs under a `Toy2DConfig`."""
    sampler_kind = getattr(config, "sampler", "langevin")
    if sampler_kind in ("grid", "expectation"):
        sampler = config.sampler_grid**2  # one energy evaluation per cell
    else:
        sampler = (config.langevin_steps + 1) * config.chains
    # the noise-free arm: every cell centre and every data node (counted as about as many) for 2 × batch
    loss = 2 * config.sampler_grid**2 if sampler_kind == "expectation" else 2 * config.batch
    return StepCost(energy=sampler + loss, critic=0 if method == "cd" else loss)


def steps_within(budget: float, method: str, config) -> int:
    """The most whole steps of ``method`` that fit in ``budget`` evaluations (at least one)."""
    return max(int(budget // step_cost(method, config).total), 1)
