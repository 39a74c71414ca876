"""A Divergence parsed from text, derived from scratch: a catalog name, ``family=value`` or an
expression in t. Parsing only (the whitelist parser), never the shipped catalog or the worker, so
`resolve`, the derivation worker and the catalog writer can all build on it without a cycle."""

from __future__ import annotations

import re

from ..errors import InputError, UnknownName, printable
from .catalog import CATALOG
from .divergence import Divergence
from .parser import parse_expression
from .symbolic import T

_BINDING = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\S.*)$")
_NAME_LIKE = re.compile(r"^[A-Za-z][\w\-]*$")  # "hellinger", "KL", "reverse-kl": meant as names


def _from_entry(entry) -> Divergence:
    variables = {"t": T, **{str(p): p for p in entry.params}}
    f = parse_expression(entry.expression, variables)
    return Divergence(entry.name, f, entry.expression, entry.param_tests)


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
