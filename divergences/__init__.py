"""Symbolic f-divergences: generators, conjugates, f-EBM links, checks (no torch needed).

>>> from divergences import divergence
>>> kl = divergence("kl")
>>> kl.conjugate.expr
exp(s - 1)
"""

from .catalog import ENTRIES, names
from .conjugate import Conjugate, Region
from .divergence import FUNCTIONS, Divergence
from .errors import InputError
from .parser import parse_expression
from .registry import divergence
from .symbolic import S, T, U

__all__ = [
    "ENTRIES",
    "FUNCTIONS",
    "Conjugate",
    "Divergence",
    "InputError",
    "Region",
    "S",
    "T",
    "U",
    "divergence",
    "names",
    "parse_expression",
]
