"""The argument kinds the commands share, validated in one place (argparse ``type=`` functions).

Each raises ``argparse.ArgumentTypeError`` with one line, which the parser turns into exit 2.
"""

from __future__ import annotations

import argparse
import math

from ...divergences.errors import printable
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
