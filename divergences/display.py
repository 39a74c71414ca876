"""Expressions for people to read (the text reports), not to parse back: a Piecewise as
"a if cond; b otherwise", ∞ for oo, "=" for Eq. JSON output keeps sympy's own strings."""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter


class _Readable(StrPrinter):
    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "-∞"

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        parts = []
        for value, cond in expr.args:
            shown = self._print(value)
            parts.append(f"{shown} otherwise" if cond == sp.true else f"{shown} if {self._print(cond)}")
        return "; ".join(parts)


def readable(expr) -> str:
    """``expr`` (a sympy expression, or None) as text for a report."""
    return "—" if expr is None else _Readable().doprint(expr)
