"""Refuse, before it starts, a run that cannot fit in this machine's memory."""

from __future__ import annotations

import os

from ..divergences.errors import InputError

FLOAT = 8  # bytes: estimates assume float64 (float32 runs need half)


def available() -> int:
    """Physical memory in bytes (the runs must fit with room to spare)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check(estimate: float, what: str, fraction: float = 0.6) -> None:
    """InputError with one line when ``estimate`` bytes exceed ``fraction`` of the machine's memory."""
    limit = fraction * available()
    if estimate > limit:
        raise InputError(f"{what} needs about {estimate / 2**30:.1f} GB, more than {fraction:.0%} of this "
                         f"machine's {available() / 2**30:.0f} GB; use fewer runs or smaller batches")
