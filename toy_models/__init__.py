"""Low-dimensional energy-based models whose expectations are exact (torch, float64)."""

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
from .protocols import ClosedFormGradient, Critic, DataSampler, DataSource, EnergyModel, ExactSampler
from .setups import SETUPS, Setup, load_setup_file, realizable, register_setup, setup
from .toy2d import TOY2D, Mixture2D, toy2d

__all__ = [
    "SETUPS",
    "TOY2D",
    "BatchedGaussian1D",
    "ClosedFormGradient",
    "Critic",
    "DataSampler",
    "DataSource",
    "EnergyModel",
    "ExactSampler",
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
    "paper_mixture",
    "polynomial",
    "quadratic_2d",
    "rbf",
    "realizable",
    "register_setup",
    "setup",
    "toy2d",
]
