"""Validation of a generator f: f(1) = 0, real and convex on (0, oo), smooth at 1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .numeric import compile_expr
from .pieces import Piece
from .symbolic import T, attempt, bounded, is_finite_number, simplify

GRID = np.logspace(-6, 6, 2401)


@dataclass(frozen=True)
class Validation:
    """One validation result. ``method`` says how it was established."""

    name: str
    ok: bool
    method: str  # "symbolic", "numeric", or "finding"
    detail: str

    def as_dict(self):
        return {"ok": self.ok, "method": self.method, "detail": self.detail}


def f_at_1(f) -> Validation:
    value = simplify(f.subs(T, 1))
    ok = value == 0
    return Validation("f(1)=0", ok, "symbolic", "f(1) = 0" if ok else f"f(1) = {value}, not 0")


def real(pieces: list[Piece]) -> Validation:
    for piece in pieces:
        t = _grid_on(piece)
        with np.errstate(all="ignore"):
            values = compile_expr(piece.f, [T], stable=False)(t)
        for t0 in t[~np.isfinite(values)][:20]:
            # sympy Floats do not overflow; a pole evaluates at once, a tower like cosh(cosh(1e6)) is
            # finite but can take minutes, so a timeout counts as finite
            exact = bounded(lambda t0=t0: sp.N(piece.f.subs(T, sp.Float(t0, 30)), 30), 0.5)
            if exact is not None and not (exact.is_finite and abs(sp.im(exact)) < 1e-20):
                return Validation("real", False, "numeric", f"f is not finite and real at t = {t0:.6g}")
    # float overflow (e.g. cosh(700)) is re-checked at 30 digits above, not counted
    return Validation("real", True, "numeric", "f is finite and real on a log grid over [1e-6, 1e6]")


def _grid_on(piece: Piece):
    lo = float(piece.lo)
    hi = float(piece.hi) if piece.hi is not sp.oo else np.inf
    return GRID[(GRID > lo) & (GRID < hi)]


def _nonnegative_symbolically(expr) -> bool | None:
    """True if sympy proves expr >= 0 for t > 0, False if it proves expr < 0, else None."""
    for form in (lambda: expr, lambda: sp.factor(sp.together(expr)), lambda: sp.simplify(expr)):
        candidate = attempt(form, 3.0)
        if candidate is None:
            continue
        verdict = candidate.is_nonnegative
        if verdict is not None:
            return verdict
    return None


def _high_precision(expr, t0: float) -> float | None:
    """expr at t0 to 30 digits, as a float (None if it is not a finite real number there)."""
    value = sp.N(expr.subs(T, sp.Float(t0, 30)), 30)
    if not (value.is_real and value.is_finite):
        return None
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def convex(pieces: list[Piece]) -> Validation:
    """f'' >= 0 on every piece and f' jumps upward at every kink."""
    for left, right in zip(pieces[:-1], pieces[1:]):
        c = left.hi
        jump = sp.N(right.fp.subs(T, c) - left.fp.subs(T, c), 30)
        if jump < 0:
            return Validation("convexity", False, "symbolic", f"f' jumps down at the kink t = {c}")
    proven = [_nonnegative_symbolically(sp.diff(p.f, T, 2)) for p in pieces]
    if all(proven):
        return Validation("convexity", True, "symbolic", "sympy proves f''(t) >= 0 for t > 0")
    for piece in pieces:
        t = _grid_on(piece)
        second = sp.diff(piece.f, T, 2)
        with np.errstate(all="ignore"):
            f2 = compile_expr(second, [T])(t)
            scale = 1 + np.abs(compile_expr(piece.fp, [T])(t)) / t
        for t0, value, s in zip(t, f2, np.where(np.isfinite(scale), scale, 1.0)):
            if value == np.inf or (np.isfinite(value) and value >= -1e-10 * s):
                continue  # +inf: a finite f'' beyond float range, certainly not negative
            if not np.isfinite(value):  # nan or −inf from overflow (cosh(400)/cosh(400)): judge at 30 digits
                value = _high_precision(second, t0)
                if value is None or value >= -1e-10 * s:
                    continue
            return Validation("convexity", False, "numeric", f"not convex: f''({t0:.6g}) = {value:.6g} < 0")
    return Validation(
        "convexity", True, "numeric", "f'' >= 0 on 2401 log-spaced points in [1e-6, 1e6]"
    )


@dataclass(frozen=True)
class Smoothness:
    """f', f'' and f''' at t = 1 from both sides; None where a side differs or is infinite."""

    f1: sp.Expr | None
    f2: sp.Expr | None
    f3: sp.Expr | None
    validation: Validation


def _one_sided(pieces: list[Piece], order: int):
    """(left, right) values of the order-th derivative at t = 1."""
    values = []
    for direction in ("-", "+"):
        piece = next(
            p for p in pieces if (p.lo < 1 < p.hi) or (p.hi == 1 and direction == "-")
            or (p.lo == 1 and direction == "+")
        )
        d = sp.diff(piece.f, T, order)
        value = simplify(d.subs(T, 1))
        if not is_finite_number(value):
            value = attempt(lambda d=d, direction=direction: sp.limit(d, T, 1, direction), 4.0)
        values.append(value)
    return values


def _defined(value) -> bool:
    """A finite value, numeric or symbolic in parameters (e.g. alpha − 2)."""
    if value is None or value.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.Limit):
        return False
    return is_finite_number(value) if value.is_number else True


def smooth_at_1(pieces: list[Piece]) -> Smoothness:
    derivs = []
    for order in (1, 2, 3):
        left, right = _one_sided(pieces, order)
        same = _defined(left) and _defined(right) and sp.simplify(left - right) == 0
        # once a derivative is undefined at 1, every higher one is too
        derivs.append(left if same and (not derivs or derivs[-1] is not None) else None)
    f1, f2, f3 = derivs
    if f1 is None:
        result = Validation("smooth at 1", False, "finding", "f' jumps at t = 1 (a kink): f''(1) is undefined")
    elif f2 is None:
        result = Validation("smooth at 1", False, "finding", "f'' is discontinuous or infinite at t = 1")
    elif f2 == 0:
        result = Validation("smooth at 1", False, "finding", "f''(1) = 0: the local theory needs f''(1) > 0")
    elif f2.free_symbols:
        result = Validation("smooth at 1", True, "symbolic", f"f''(1) = {f2}")
    elif f2 < 0:
        result = Validation("smooth at 1", False, "finding", f"f''(1) = {f2} < 0: f is not convex at 1")
    else:
        result = Validation("smooth at 1", True, "symbolic", f"f''(1) = {f2} > 0")
    return Smoothness(f1, f2, f3, result)
