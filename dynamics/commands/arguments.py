"""The argument kinds the commands share, validated in one place (argparse ``type=`` functions).

Each raises ``argparse.ArgumentTypeError`` with one line, which the parser turns into exit 2.
"""

from __future__ import annotations

import argparse
import math

from ...errors import printable
from .. import device as devices

MAX_SEED = 2**63 - 1  # torch's and numpy's seeds are 64-bit


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: '{printable(text)}'") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, not {printable(text)}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    value = positive_float(text)
    if not value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1), not {printable(text)}")
    return value


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed: '{printable(text)}' (a whole number)") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed must be between 0 and 2**63 − 1, not {printable(text)}")
    return value


def count(lo: int, hi: int):
    """A whole number in [lo, hi]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid whole number: '{printable(text)}'") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi:,}, not {printable(text)}")
        return value

    return parse


def ratio(text: str) -> float:
    """A learning-rate ratio η_ω/η_θ in [1e-6, 1e6] (beyond, the Jacobians overflow)."""
    value = positive_float(text)
    if not 1e-6 <= value <= 1e6:
        raise argparse.ArgumentTypeError(f"must be between 1e-6 and 1e6, not {printable(text)}")
    return value


def output_dir(text: str) -> str:
    """A folder that exists or can be made, and that can be written: checked before any work runs."""
    import os
    from pathlib import Path

    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{printable(text)} exists and is not a folder")
    parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write to {printable(text)}")
    return text


def device(text: str) -> str:
    if text not in devices.CHOICES:
        raise argparse.ArgumentTypeError(f"choose auto, cpu or cuda, not '{printable(text)}'")
    return text


def nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: '{printable(text)}'") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {printable(text)}")
    return value
