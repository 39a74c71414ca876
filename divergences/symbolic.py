"""Shared symbols and a time budget for sympy calls that can run for a long time."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

import sympy as sp

T = sp.Symbol("t", positive=True)  # argument of the generator f
S = sp.Symbol("s", real=True)  # argument of the conjugate f*
U = sp.Symbol("u", real=True)  # argument of the links g, h (u = log t)


class SymbolicTimeout(Exception):
    """A sympy computation ran past its time budget."""


@contextmanager
def time_limit(seconds: float, error=None):
    """Raise `SymbolicTimeout` (or ``error()``, an exception to raise instead) in the block after
    ``seconds`` of this process's CPU time (main thread only).

    sympy's solve/simplify/limit can run for minutes on hard inputs; a timer signal is
    the only way to stop pure-Python work. The budget is CPU time (ITIMER_PROF), not wall time,
    so that a busy machine does not turn a derivation's result into its fallback: measured, a
    loaded run gave (t-1)**2/(t+1) a float32 link that overflowed where an idle run's did not.
    Off the main thread the block runs unbounded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise error() if error is not None else SymbolicTimeout(f"sympy took longer than {seconds} s of CPU time")

    previous = signal.signal(signal.SIGPROF, _raise)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


SYMBOLIC = {"enabled": True}  # off: every attempt gives up at once, so each step takes its numeric path


def attempt(fn, seconds: float, default=None):
    """Run ``fn()`` within ``seconds``; return ``default`` if it times out or sympy gives up (or
    symbolic work is switched off, see `SYMBOLIC`)."""
    if not SYMBOLIC["enabled"]:
        return default
    try:
        with time_limit(seconds):
            return fn()
    except (SymbolicTimeout, NotImplementedError, ValueError, TypeError, RecursionError, OverflowError):
        return default


def bounded(fn, seconds: float, default=None):
    """``fn()`` within ``seconds`` (numeric work that may run long: always bounded, on the numeric
    path too), else ``default``."""
    try:
        with time_limit(seconds):
            return fn()
    except (SymbolicTimeout, OverflowError, TypeError, ValueError):
        return default


def is_finite_number(x) -> bool:
    return x is not None and bool(x.is_number) and bool(x.is_finite) and bool(x.is_real)


def limit(expr, point, direction="+", seconds=4.0):
    """sympy's limit under a budget; ``None`` when it fails or depends on unknown signs."""
    value = attempt(lambda: sp.limit(expr, T, point, direction), seconds)
    if value is None or value.has(sp.Limit, sp.AccumBounds, sp.nan) or value is sp.zoo:
        return None
    return value


def simplify(expr, seconds=3.0):
    """A simplified form of ``expr``, or ``expr`` itself when simplification runs too long."""
    return attempt(lambda: sp.simplify(expr), seconds, expr)
