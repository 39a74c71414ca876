"""One entry point: a catalog name, ``family=value``, an expression in t, or a Divergence; shipped
derivations where the catalog has them, the capped worker for everything else."""

from __future__ import annotations

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
    return _resolve_text(spec.strip())


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


__all__ = ["resolve", "resolve_fresh"]
