"""What the measuring arms need from a set-up: the 1-D Gaussian trainer's data and critic.

The measuring arms (`arrival`, `mean_square_runs`, `relaxation`, `cells`) run
`trainer.BatchedGaussianFEBM`: a 1-D Gaussian EBM against data it can sample, with a tanh MLP
critic. `arm_for` reads these from any set-up that has them (paper-1d with ``--critic mlp:…``
today), so no arm names a set-up or its data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InputError
from ...toy_models.critics import MLPCritic
from ...toy_models.misspecified import GaussianGrid1D


@dataclass(frozen=True)
class GaussianArm:
    """The trainer's view of a set-up: data to sample (with ``sample``, ``log_prob`` and
    ``from_uniform``) and the critic's layer sizes."""

    data: object
    critic_sizes: tuple


ARMS_NEED = ("a 1-D Gaussian EBM on a grid, data with a sampler and an inverse CDF, and an mlp:W,... "
             "critic without an offset (paper-1d --critic mlp:64,64)")


def arm_for(setup) -> GaussianArm | None:
    """The trainer's arm for ``setup``, or None where the trainer cannot play it (`ARMS_NEED`)."""
    data = getattr(setup.data, "data", None)
    critic = setup.critic
    if not (isinstance(setup.model, GaussianGrid1D) and isinstance(critic, MLPCritic) and critic.offset is None):
        return None
    if not all(hasattr(data, m) for m in ("sample", "log_prob", "from_uniform")):
        return None
    return GaussianArm(data, critic.sizes)


def require_arm(setup) -> GaussianArm:
    """`arm_for`, or an `InputError` saying what the trainer needs."""
    arm = arm_for(setup)
    if arm is None:
        raise InputError(f"{setup.name}: runs of the trained game need {ARMS_NEED}")
    return arm


TOY_ARM_NEEDS = ("a 2-D toy played with its network energy and an mlp:W,... critic of the energy's shape "
                 "(toy2d-NAME --critic mlp:32,32)")


def cell_arm(setup):
    """The arm that plays the trained atlas's cells on ``setup``: the 1-D Gaussian trainer's
    (`arm_for`), or the 2-D trainer's (`toy2d_cells.ToyArm`) where the set-up is a 2-D toy with a
    network energy and an MLP critic of the energy's shape; an `InputError` saying what is needed."""
    arm = arm_for(setup)
    if arm is not None:
        return arm
    from ...toy_models.toy2d import Mixture2D
    from .toy2d_cells import ToyArm

    data, critic, energy = getattr(setup.data, "data", None), setup.critic, getattr(setup.model, "energy", None)
    if isinstance(data, Mixture2D) and isinstance(critic, MLPCritic) and critic.offset is None:
        sizes = getattr(getattr(energy, "__self__", None), "sizes", None)
        if sizes == critic.sizes:
            return ToyArm.bench(data.name, critic.sizes[1:-1])
    raise InputError(f"{setup.name}: runs of the trained game need {ARMS_NEED}, or {TOY_ARM_NEEDS}")
