"""Low-dimensional energy-based models whose expectations are exact (torch, float64)."""

from .critics import LinearCritic, MLPCritic, NegatedEnergyCritic, polynomial, quadratic_2d, rbf
from .data import Gaussian, Gaussian2D, GaussianMixture, Nodes, Realizable, paper_mixture
from .energies import ExpFamilyFinite, Gaussian1D, GridEnergy1D, WithConstant, exp_family_1d
from .energies import Gaussian2D as Gaussian2DEnergy
from .setups import SETUPS, Setup, setup
from .toy2d import TOY2D, Mixture2D, toy2d

__all__ = [
    "SETUPS",
    "ExpFamilyFinite",
    "Gaussian",
    "Gaussian1D",
    "Gaussian2D",
    "Gaussian2DEnergy",
    "GaussianMixture",
    "GridEnergy1D",
    "LinearCritic",
    "Mixture2D",
    "TOY2D",
    "toy2d",
    "MLPCritic",
    "NegatedEnergyCritic",
    "Nodes",
    "Realizable",
    "Setup",
    "WithConstant",
    "exp_family_1d",
    "paper_mixture",
    "polynomial",
    "quadratic_2d",
    "rbf",
    "setup",
]
