"""Derive a user's generator in a child process with a memory cap and a deadline.

A 38-character generator such as ``cosh(cosh(62093))-cosh(cosh(62093/t))`` once grew sympy to
22 GB; others ran for minutes. `derive` forks a child that runs every slow derivation
(validation, conjugate, links, accurate numeric forms, tails) under an address-space limit and
sends back the record of `derived`. Each step has ``deadline`` seconds and the whole attempt
``total`` deadlines. Past either, or past the memory cap, the child is killed and the work is
redone on the numeric path (every symbolic step skipped, so each takes its numeric fallback),
which the divergence's notes then say; only if that fails too does febm give up, naming the step
it was in. The parent only ever parses the text (the bounded whitelist parser).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
from dataclasses import dataclass

from ..errors import InputError, printable
from . import derived
from .fresh import resolve_fresh
from .symbolic import SYMBOLIC

STEPS = ("validation", "conjugate", "conjugate check", "links", "numeric forms", "tails")


@dataclass
class Limits:
    deadline: float = 10.0  # seconds for each step of an attempt (at most two attempts) ...
    total: float = 3.0  # ... and this many deadlines for a whole attempt
    memory_mb: int = 2048  # address space the child may add to its parent's
    enabled: bool = True  # False: derive in this process (no caps), as the tests of derivations do


LIMITS = Limits()


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a parent killed with -9 cannot stop it)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the deadline still bounds the worker in the parent
        pass
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _child(spec: str, symbolic: bool, memory_mb: int, conn) -> None:
    # Ctrl-C reaches the whole process group: the parent answers it and kills this worker, which
    # would otherwise print its own "Process ForkProcess-1:" traceback on the way out
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    step = "parsing"
    try:
        cap = _address_space() + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        SYMBOLIC["enabled"] = symbolic
        d = resolve_fresh(spec)
        for step, work in (("validation", d.validate), ("conjugate", lambda: d.conjugate),
                           ("conjugate check", lambda: d.params or d.conjugate_verification),
                           ("links", lambda: (d.g, d.h, d.g_prime, d.h_prime)),
                           ("record", lambda: None)):
            conn.send(("step", step))
            work()
        conn.send(("done", derived.record(d, progress=lambda s: conn.send(("step", s)))))
    except InputError as exc:
        conn.send(("input", str(exc)))
    except MemoryError:
        conn.send(("memory", f"needs more than {memory_mb} MB while deriving the {step}"))
    except Exception:  # sympy's or febm's own errors on strange input: one line, no Python exception text
        conn.send(("failed", f"the {step} could not be completed for this generator (febm's derivation broke "
                             "down on it, not a rule the input broke)"))
    finally:
        conn.close()


def _run(spec: str, symbolic: bool):
    """(outcome, payload, last step) of one child run."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(spec, symbolic, LIMITS.memory_mb, send), daemon=True)
    child.start()
    send.close()
    now = time.monotonic()
    step, end, last = "start", now + LIMITS.total * LIMITS.deadline, now + LIMITS.deadline
    try:
        while True:
            left = min(end, last) - time.monotonic()
            if left <= 0 or not receive.poll(left):
                return "timeout", None, step
            try:
                kind, payload = receive.recv()
            except EOFError:  # killed by the memory cap before it could say so
                return "memory", f"ran out of its {LIMITS.memory_mb} MB while deriving the {step}", step
            if kind == "step":
                step, last = payload, time.monotonic() + LIMITS.deadline
            else:
                return kind, payload, step
    finally:
        child.kill()
        child.join()


def derive(spec: str):
    """The Divergence of ``spec`` with every slow derivation done under the caps (see module doc)."""
    d = resolve_fresh(spec)  # parse in this process: bounded, and errors surface at once
    if not LIMITS.enabled:
        return d
    kind, payload, step = _run(spec, symbolic=True)
    numeric, why = kind in ("timeout", "memory"), kind
    if numeric:
        kind, payload, step = _run(spec, symbolic=False)
    if kind == "timeout":
        raise InputError(f"deriving {printable(spec)} ran past the {LIMITS.deadline:g} s deadline in the {step}, "
                         "even with symbolic steps skipped (raise it with --deadline)")
    if kind in ("input", "failed", "memory"):
        raise InputError(payload if kind == "input" else f"{printable(spec)}: {payload}")
    derived.restore(d, payload)
    if numeric:
        reason = (f"ran past the {LIMITS.deadline:g} s deadline" if why == "timeout"
                  else f"needed more than {LIMITS.memory_mb} MB")
        d.notes.append(f"symbolic derivation {reason}: every symbolic step was skipped and its numeric "
                       "fallback used")
    return d
