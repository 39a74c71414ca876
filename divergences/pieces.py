"""Split a generator at its kinks into smooth pieces.

The only non-smooth function the parser admits is ``abs``. f is piecewise smooth on
(0, oo) with breakpoints at the positive roots of the arguments of its ``Abs`` atoms; on
each piece every ``Abs(a)`` is replaced by ``a`` or ``-a`` according to the sign of a
in the piece's interior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError
from .symbolic import T, attempt, bounded


@dataclass(frozen=True)
class Piece:
    """f restricted to (lo, hi), written without ``Abs``."""

    lo: sp.Expr
    hi: sp.Expr
    f: sp.Expr

    @property
    def fp(self) -> sp.Expr:
        return sp.diff(self.f, T)

    @property
    def is_linear(self) -> bool:
        second = sp.diff(self.f, T, 2)
        return second == 0 or attempt(lambda: sp.simplify(second), 3.0, second) == 0

    def sample_points(self, n: int = 7) -> list[sp.Expr]:
        """Points spread over the interior, log-spaced on unbounded sides."""
        lo, hi = self.lo, self.hi
        if lo == 0 and hi is sp.oo:
            return [sp.Rational(10) ** k for k in range(-3, 4)][:n]
        if lo == 0:
            return [hi * sp.Rational(k, 8) ** 2 for k in range(1, 8)][:n]
        if hi is sp.oo:
            return [lo * (1 + sp.Rational(k, 2) ** 3) for k in range(1, 8)][:n]
        return [lo + (hi - lo) * sp.Rational(k, 8) for k in range(1, 8)][:n]


def kinks(f: sp.Expr) -> list[sp.Expr]:
    """Sorted positive points where an ``Abs`` argument in f changes sign: exact roots from sympy
    where it finds them in 5 s (on the numeric path too: the pieces are needed, not optional),
    else the sign changes on a log grid refined by bisection."""
    points = set()
    for node in f.atoms(sp.Abs):
        try:
            roots = bounded(lambda node=node: sp.solve(node.args[0], T), 5.0)
        except NotImplementedError:  # sympy: "multiple generators" and the like
            roots = None
        if roots is None or not all(r.is_number for r in roots):
            roots = _sign_changes(node)
        points.update(r for r in roots if r.is_real and r.is_positive)
    return sorted(points, key=lambda r: float(r))


def _sign_changes(node) -> list[sp.Expr]:
    arg = sp.lambdify(T, node.args[0], "mpmath")
    grid = np.logspace(-6, 6, 2401)
    with np.errstate(all="ignore"):
        values = np.array([_real(arg, t) for t in grid])
    if not np.isfinite(values).all():
        raise InputError(f"cannot locate the kinks of {node}: its argument is not finite on (1e-6, 1e6)")
    change = np.nonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0)[0]
    from scipy.optimize import brentq  # lazy: 0.4 s of import on every symbolic command

    return [sp.Float(brentq(lambda t: _real(arg, t), grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15), 15)
            for i in change]


def _real(fn, t: float) -> float:
    try:
        v = complex(fn(t))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return float("nan")
    return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else float("nan")


def _interior_point(lo, hi):
    if hi is sp.oo:
        return lo + 1
    return (lo + hi) / 2


def _remove_abs(f, point):
    def unfold(node):
        arg = node.args[0]
        sign = sp.sign(sp.N(arg.subs(T, point), 30))
        return arg if sign >= 0 else -arg

    while f.has(sp.Abs):
        f = f.replace(lambda n: isinstance(n, sp.Abs) and not n.args[0].has(sp.Abs), unfold)
    return f


def split(f: sp.Expr) -> list[Piece]:
    """The smooth pieces of f on (0, oo), in order."""
    edges = [sp.S.Zero, *kinks(f), sp.oo]
    return [
        Piece(lo, hi, _remove_abs(f, _interior_point(lo, hi)))
        for lo, hi in zip(edges[:-1], edges[1:])
    ]
