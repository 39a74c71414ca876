"""The exact f-EBM game and its analysis: fields, Jacobians, spectra, equilibria, simulation."""

from .equilibrium import Equilibrium, locate
from .fields import UPDATES, AlternatingMap, CDField, GDAField, SimultaneousMap
from .game import Game
from .linearization import Linearization, oscillation_period
from .spectrum import Spectrum, analyse

__all__ = [
    "UPDATES",
    "AlternatingMap",
    "CDField",
    "Equilibrium",
    "GDAField",
    "Game",
    "Linearization",
    "SimultaneousMap",
    "Spectrum",
    "analyse",
    "locate",
    "oscillation_period",
]
