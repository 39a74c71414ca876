"""One entry point: a catalog name, ``family=value``, an expression in t, or a Divergence."""

from __future__ import annotations

import re
from functools import lru_cache

from .catalog import CATALOG
from .divergence import Divergence
from .errors import InputError, UnknownName, printable
from .parser import parse_expression
from .symbolic import T

_BINDING = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\S.*)$")
_NAME_LIKE = re.compile(r"^[A-Za-z][\w\-]*$")  # "hellinger", "KL", "reverse-kl": meant as names


def _from_entry(entry) -> Divergence:
    variables = {"t": T, **{str(p): p for p in entry.params}}
    f = parse_expression(entry.expression, variables)
    return Divergence(entry.name, f, entry.expression, entry.param_tests)


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
    from . import derived, worker

    d = derived.load(spec)  # a bound family member is not re-bound (sympy's simplify, 0.15 s each)
    if d is not None:
        return d
    if spec in derived.shipped():
        d = resolve_fresh(spec)  # parsing only; the derivations come from the shipped catalog
        if derived.apply(d, spec):
            return d
    return worker.derive(spec)  # a user's generator: derived under a memory cap and a deadline


def resolve_fresh(spec: str) -> Divergence:
    """Like `resolve` for text, but derived from scratch (never from the shipped catalog)."""
    if spec in CATALOG:
        return _from_entry(CATALOG[spec])
    m = _BINDING.match(spec)
    if m:
        if m.group(1) not in CATALOG:
            families = [name for name, entry in CATALOG.items() if entry.params]
            raise UnknownName("family", m.group(1), families, CATALOG.hint)
        family = _from_entry(CATALOG[m.group(1)])
        if len(family.params) != 1:
            raise InputError(f"{m.group(1)} takes no parameter")
        return family.bind(**{str(family.params[0]): m.group(2)})
    try:
        f = parse_expression(spec, {"t": T})
    except InputError:
        if _NAME_LIKE.match(spec):  # a misspelt catalog name rather than a bad expression
            raise UnknownName("divergence", spec, list(CATALOG), CATALOG.hint) from None
        raise
    if T not in f.free_symbols:
        raise InputError(f"the generator must depend on t: {printable(spec)}")
    return Divergence(spec, f, spec)
