"""Low-dimensional energy-based models whose expectations are exact (torch, float64)."""

from . import misspecified  # noqa: F401,E402  (registers paper-1d and toy2d-* set-ups)
from .batched import BatchedGaussian1D
from .critics import LinearCritic, MLPCritic, NegatedEnergyCritic, polynomial, quadratic_2d, rbf
from .data import Gaussian, Gaussian2D, GaussianMixture, Realizable, paper_mixture
from .energies import (
    ExpFamilyFinite,
    GaussianEnergy1D,
    GaussianEnergy2D,
    GridEnergy1D,
    WithConstant,
    exp_family_1d,
)
from .nodes import Nodes, empirical
from .protocols import (
    ClosedFormGradient,
    ClosedFormHessian,
    Critic,
    DataDensity,
    DataSampler,
    DataSource,
    EnergyModel,
    ExactSampler,
    log_prob,
)
from .setups import SETUPS, Setup, load_setup_file, realizable, register_setup, setup, with_critic
from .toy2d import TOY2D, Mixture2D, toy2d

__all__ = [
    "SETUPS",
    "TOY2D",
    "BatchedGaussian1D",
    "ClosedFormGradient",
    "ClosedFormHessian",
    "DataDensity",
    "Critic",
    "DataSampler",
    "DataSource",
    "EnergyModel",
    "ExactSampler",
    "log_prob",
    "ExpFamilyFinite",
    "Gaussian",
    "Gaussian2D",
    "GaussianEnergy1D",
    "GaussianEnergy2D",
    "GaussianMixture",
    "GridEnergy1D",
    "LinearCritic",
    "MLPCritic",
    "Mixture2D",
    "NegatedEnergyCritic",
    "Nodes",
    "Realizable",
    "Setup",
    "WithConstant",
    "empirical",
    "exp_family_1d",
    "load_setup_file",
    "with_critic",
    "paper_mixture",
    "polynomial",
    "quadratic_2d",
    "rbf",
    "realizable",
    "register_setup",
    "setup",
    "toy2d",
]
