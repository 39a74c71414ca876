"""One entry point: a catalog name, ``family=value``, or an expression in t -> Divergence."""

from __future__ import annotations

import re
from functools import lru_cache

from .catalog import BY_NAME
from .divergence import Divergence
from .errors import InputError
from .parser import parse_expression
from .symbolic import T

_BINDING = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\S.*)$")


def _from_entry(entry) -> Divergence:
    variables = {"t": T, **{str(p): p for p in entry.params}}
    f = parse_expression(entry.expression, variables)
    return Divergence(entry.name, f, entry.expression, entry.param_tests)


@lru_cache(maxsize=256)
def divergence(spec: str) -> Divergence:
    """Resolve ``spec``: ``"kl"``, ``"alpha=0.5"``, or a generator such as ``"(t-1)*log(t)"``.

    User expressions are parsed through the whitelist parser only. The result is not yet
    validated; call :meth:`Divergence.validate` to reject f(1) ≠ 0 or a non-convex f.
    """
    spec = spec.strip()
    if spec in BY_NAME:
        return _from_entry(BY_NAME[spec])
    m = _BINDING.match(spec)
    if m and m.group(1) in BY_NAME:
        family = _from_entry(BY_NAME[m.group(1)])
        if len(family.params) != 1:
            raise InputError(f"{m.group(1)} takes no parameter")
        return family.bind(**{str(family.params[0]): m.group(2)})
    if m:
        raise InputError(f"unknown family {m.group(1)!r}")
    f = parse_expression(spec, {"t": T})
    if T not in f.free_symbols:
        raise InputError("the generator must depend on t")
    return Divergence(spec, f, spec)
