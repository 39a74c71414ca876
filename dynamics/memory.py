"""Refuse, before it starts, a run that cannot fit in this machine's memory."""

from __future__ import annotations

import os

from ..errors import InputError

FLOAT = 8  # bytes: estimates assume float64 (float32 runs need half)


def available() -> int:
    """Physical memory in bytes (the runs must fit with room to spare)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check(estimate: float, what: str, fraction: float = 0.6, hint: str = "use fewer runs or smaller batches") -> None:
    """InputError with one line when ``estimate`` bytes exceed ``fraction`` of the machine's memory."""
    limit = fraction * available()
    if estimate > limit:
        raise InputError(f"{what} needs about {gigabytes(estimate)}, more than {fraction:.0%} of this "
                         f"machine's {available() / 2**30:.0f} GB; {hint}")


def gigabytes(size: float) -> str:
    """Bytes as GB (TB past 10,000 GB), for the estimates printed before long work."""
    gb = size / 2**30
    return f"{gb / 1024:,.0f} TB" if gb >= 10_000 else f"{gb:,.1f} GB"


def retain_freed_pages() -> bool:
    """Ask glibc's malloc to keep freed blocks instead of returning them to the kernel.

    A training step allocates and frees dozens of (runs, points, width) tensors of a few MB each.
    By default glibc serves each from a fresh mmap and unmaps it on free, so every step pays page
    faults again (about 30% of system time, issue #14). Keeping them mapped made a paper-1d step
    1.5-1.7x faster here (benchmarks/trainer_floor.py prints the ratio). A no-op, returning False,
    where the C library is not glibc. Process-wide and idempotent."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc's mallopt parameters
    return all([libc.mallopt(m_mmap_threshold, 32 << 20),  # glibc's maximum
                libc.mallopt(m_trim_threshold, 1 << 30), libc.mallopt(m_top_pad, 64 << 20)])
