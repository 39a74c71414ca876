"""One cap for every thread pool febm's work runs on: torch's intra-op pool and the BLAS and
OpenMP pools under numpy, scipy and torch.

Unbounded pools spin on a shared machine and run several times slower. Environment variables
only reach libraries that are not loaded yet, so ``limit_threads`` also sets them, and caps the
libraries already loaded through threadpoolctl.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(n: int) -> None:
    """Cap every thread pool at ``n`` threads, for the rest of the process."""
    if n < 1:
        raise ValueError(f"a thread count is at least 1, not {n}")
    for name in _VARIABLES:  # libraries loaded later read these at load time
        os.environ[name] = str(n)
    if "numpy" in sys.modules or "torch" in sys.modules or "scipy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)  # the pools of the libraries already loaded
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def thread_counts() -> dict[str, int]:
    """Threads per loaded pool, e.g. {"openblas": 1, "openmp": 1, "torch": 1} (for tests and benchmarks)."""
    from threadpoolctl import threadpool_info

    counts = {}
    for pool in threadpool_info():
        counts[pool["internal_api"]] = max(counts.get(pool["internal_api"], 0), pool["num_threads"])
    if "torch" in sys.modules:
        counts["torch"] = sys.modules["torch"].get_num_threads()
    return counts


@contextmanager
def serial():
    """One thread in every pool for the block (or the decorated function): for loops of many small
    operations, such as a flow on a few hundred nodes. A second thread gains them little on a quiet
    machine and slows them down several times on a busy one (`benchmarks/serial_flows.py`). The
    numbers are the same bit for bit; the caps in force before are restored after."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)
