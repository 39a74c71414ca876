"""The argument kinds the commands share, validated in one place (argparse ``type=`` functions).

Each raises ``argparse.ArgumentTypeError`` with one line, which the parser turns into exit 2.
"""

from __future__ import annotations

import argparse
import math

from ...errors import printable
from .. import device as devices

MAX_SEED = 2**63 - 1  # torch's and numpy's seeds are 64-bit


def ascii_number(text: str) -> str:
    """``text`` if it is spelt in ASCII: Python's int() and float() also read full-width and other
    scripts' digits ('４' is 4), which a user does not mean to type into a number."""
    if not text.isascii():
        raise argparse.ArgumentTypeError(f"numbers are written with ASCII digits, not '{printable(text)}'")
    return text


def number(text: str, kind, invalid: str, ok, wrong: str):
    """The commands' one number parser: ``text`` spelt in ASCII, read by ``kind`` (int or float),
    and accepted by ``ok``; else one line: ``invalid`` where it does not read, ``wrong`` where
    ``ok`` refuses it (each followed by the text as given)."""
    ascii_number(text)
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(invalid.format(printable(text))) from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{wrong}, not {printable(text)}")
    return value


def positive_float(text: str) -> float:
    return number(text, float, "invalid float value: '{}'", lambda v: v > 0 and math.isfinite(v),
                  "must be a positive finite number")


def nonnegative_float(text: str) -> float:
    return number(text, float, "invalid float value: '{}'", lambda v: v >= 0 and math.isfinite(v),
                  "must be a finite number >= 0")


def within(lo: float, hi: float, wrong: str):
    """A positive finite number in [lo, hi]; ``wrong`` says so where it is not."""

    def parse(text: str) -> float:
        value = positive_float(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{wrong}, not {printable(text)}")
        return value

    return parse


fraction = within(0.0, math.nextafter(1.0, 0.0), "must be a fraction in (0, 1)")  # strictly between 0 and 1


def seed(text: str) -> int:
    return number(text, int, "invalid seed: '{}' (a whole number)", lambda v: 0 <= v <= MAX_SEED,
                  "a seed must be between 0 and 2**63 − 1")


def count(lo: int, hi: int):
    """A whole number in [lo, hi]."""
    return lambda text: number(text, int, "invalid whole number: '{}'", lambda v: lo <= v <= hi,
                               f"must be between {lo} and {hi:,}")


def hidden(text: str) -> tuple:
    """Hidden-layer widths, comma-separated: 1 to 8 layers of 1 to 4096 units (e.g. 128,128)."""
    parts = ascii_number(text).split(",")
    if not 1 <= len(parts) <= 8 or not all(p.strip().isdigit() and 1 <= int(p) <= 4096 for p in parts):
        raise argparse.ArgumentTypeError(f"hidden widths are 1 to 8 whole numbers in [1, 4096] separated by "
                                         f"commas (e.g. 128,128), not '{printable(text)}'")
    return tuple(int(p) for p in parts)


def between(lo: float, hi: float, why: str = ""):
    """A number in [lo, hi]; ``why`` says what fails outside."""
    return within(lo, hi, f"must be between {lo:g} and {hi:g}{why}")


# atlas --lr: the flow is followed for time lr × steps. Below 1e-12 (with steps ≥ 1) the state is
# the start to rounding; at 1e-300 LSODA's first step underflows and it never leaves t = 0 (the
# hang of `atlas --lr 1e-300`). Above 1e3 no step of gradient descent-ascent on these games is stable.
learning_rate = between(1e-12, 1e3, " (the flow's time lr × steps must move the start and stay finite)")


# a learning-rate ratio η_ω/η_θ in [1e-6, 1e6] (beyond, the Jacobians overflow)
ratio = within(1e-6, 1e6, "must be between 1e-6 and 1e6")


CREATED: list = []  # output folders this run made, removed again if the work fails (cli.main)
MAX_DEADLINE = 3600.0  # seconds per derivation step


def output_dir(text: str) -> str:
    """A folder that exists or can be made, and that can be written: made and probed with a file
    before any work runs, so that a file in the way, /proc, /sys, a read-only disk or a name too
    long fail here with one line instead of after the work."""
    import os
    import tempfile
    from pathlib import Path

    if not text.strip():
        raise argparse.ArgumentTypeError("an output folder cannot be empty")
    path = Path(text)
    try:
        missing = [p for p in [path, *path.parents] if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        CREATED.extend(reversed(missing))
        fd, probe = tempfile.mkstemp(dir=path, prefix=".febm-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        remove_created()
        raise argparse.ArgumentTypeError(f"cannot write to {printable(text)}: {exc.strerror}") from None
    return text


def remove_created() -> None:
    """Remove the output folders this run made that are still empty (the work failed)."""
    for folder in reversed(CREATED):
        try:
            folder.rmdir()
        except OSError:
            pass
    CREATED.clear()


def at_most(hi: float, unit: str = ""):
    """A positive finite number no larger than ``hi`` (``unit`` names it in the message)."""
    return within(0.0, hi, f"must be at most {hi:g}{unit}")


deadline = at_most(MAX_DEADLINE, " s")  # seconds for one derivation step


def device(text: str) -> str:
    if text not in devices.CHOICES:
        raise argparse.ArgumentTypeError(f"choose auto, cpu or cuda, not '{printable(text)}'")
    return text


# exp's argument in the links: exp(700) is near float64's top
link_clip = at_most(700)


def link_bounds(text: str) -> float | tuple[float, float] | dict:
    """C (every exp(a) in the links as exp(clip(a, −C, C))), LO,HI (LO may be -inf: the 1-D
    reference code clamps from above only, -inf,3 for KL), each bound within ±700, or
    ``reference``: that code's clamps per f."""
    if text == "reference":
        from ..training.reference import REFERENCE_CLAMPS

        return REFERENCE_CLAMPS
    if "," not in text:
        return link_clip(text)
    parts = ascii_number(text).split(",")
    try:
        lo, hi = (float(t) for t in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or not (lo < hi and -700 <= hi <= 700 and (lo == -math.inf or lo >= -700)):
        raise argparse.ArgumentTypeError(f"give C or LO,HI with LO < HI within ±700 (LO may be -inf), "
                                         f"not '{printable(text)}'")
    return lo, hi
MAX_BUDGET = 1e5  # millions of evaluations: 10^11, beyond any run this machine or a GPU would finish
budget = at_most(MAX_BUDGET, " (millions)")  # millions of gradient evaluations per run


def once_each(items, what: str) -> list:
    """``items`` as given, or an InputError naming the first one given twice: every command treats a
    repeated name in a list (positional names, --only, --methods, --divergences, --quantities)
    the same way, instead of running it twice, dropping it silently or failing deep inside."""
    from ...errors import InputError

    items = list(items)
    twice = next((item for k, item in enumerate(items) if item in items[:k]), None)
    if twice is not None:
        raise InputError(f"{what} names '{printable(str(twice))}' twice; give each once")
    return items


def subset(allowed):
    """A comma-separated, non-empty selection from ``allowed``, in the given order."""

    def parse(text: str) -> tuple:
        items = tuple(t.strip() for t in text.split(","))
        bad = [t for t in items if t not in allowed]
        if bad or not text.strip():
            shown = printable(repr(text) if not all(bad) else ", ".join(bad))
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (comma-separated), not {shown}")
        if len(set(items)) < len(items):
            twice = next(t for k, t in enumerate(items) if t in items[:k])
            raise argparse.ArgumentTypeError(f"names '{printable(twice)}' twice; give each once")
        return items

    return parse
