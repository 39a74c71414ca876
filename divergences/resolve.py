"""One entry point: a catalog name, ``family=value``, an expression in t, or a Divergence; shipped
derivations where the catalog has them, the capped worker for everything else."""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from ..errors import InputError
from . import derived, worker
from .divergence import Divergence
from .fresh import resolve_fresh


def resolve(spec: str | Divergence) -> Divergence:
    """A `Divergence` from ``"kl"``, ``"alpha=0.5"``, a generator such as ``"(t-1)*log(t)"``,
    or a Divergence (returned as it is).

    User expressions are parsed through the whitelist parser only. The result is not yet
    validated; call `Divergence.validate` to reject f(1) ≠ 0 or a non-convex f.
    """
    if isinstance(spec, Divergence):
        return spec
    if not isinstance(spec, str):
        raise InputError(f"a divergence is a name, an expression in t or a Divergence, not {type(spec).__name__}")
    if spec.strip() in _REGISTERED:
        return _REGISTERED[spec.strip()]
    return _resolve_text(spec.strip())


_REGISTERED: dict[str, Divergence] = {}


def register_divergence(name: str, expression: str) -> Divergence:
    """Give your own generator a name for this process: afterwards ``resolve(name)`` (and every
    command called from Python with that name) uses it. The expression is parsed through the
    whitelist, derived and validated now, so a bad one fails here."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(f"a divergence name is letters, digits and _ (not starting with a digit), not {name!r}")
    if name in derived.shipped() or name == "t":
        raise InputError(f"{name!r} is a catalog name; choose another")
    d = copy.copy(resolve(expression).validate())
    d.name = name
    previous = _REGISTERED.get(name)
    if previous is not None and previous.f != d.f:
        raise InputError(f"{name!r} is already registered as f = {previous.f}")
    _REGISTERED[name] = d
    return d


@lru_cache(maxsize=256)
def _resolve_text(spec: str) -> Divergence:
    d = derived.load(spec)  # a bound family member is not re-bound (sympy's simplify, 0.15 s each)
    if d is not None:
        return d
    if spec in derived.shipped():
        d = resolve_fresh(spec)  # parsing only; the derivations come from the shipped catalog
        if derived.apply(d, spec):
            return d
    return worker.derive(spec)  # a user's generator: derived under a memory cap and a deadline


__all__ = ["register_divergence", "resolve", "resolve_fresh"]
