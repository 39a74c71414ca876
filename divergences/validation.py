"""Validation of a generator f: f(1) = 0, real and convex on (0, oo), smooth at 1."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

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
    if ok:
        return Validation("f(1)=0", True, "symbolic", "f(1) = 0")
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):  # e.g. exp(-1/|t-1|): 1/0 at t = 1
        return Validation("f(1)=0", False, "symbolic", "f(1) is undefined (the expression divides by 0 or "
                          "is infinite at t = 1); write f so that f(1) = 0 evaluates")
    return Validation("f(1)=0", False, "symbolic", f"f(1) = {value}, not 0")


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


def _beside_kink(fp, c, side: int) -> float:
    """f' just to one side of a kink c, at 40 digits (±inf where it diverges there, as for
    |t − 1|^{1/2}; nan where it has no value)."""
    point = sp.Float(c, 40) * (1 + side * sp.Float("1e-30", 40))
    value = sp.N(fp.subs(T, point), 40)
    if value.is_real is not True:
        return math.nan
    if not value.is_finite:
        return math.copysign(math.inf, float(sp.sign(value))) if value.is_extended_real else math.nan
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def convex(pieces: list[Piece]) -> Validation:
    """f'' >= 0 on every piece and f' jumps upward at every kink."""
    for left, right in zip(pieces[:-1], pieces[1:]):
        c = left.hi
        jump = _beside_kink(right.fp, c, 1) - _beside_kink(left.fp, c, -1)
        if math.isnan(jump):
            return Validation("convexity", False, "numeric", f"f' has no one-sided limit at the kink t = {c}")
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


class Regularity(StrEnum):
    """How smooth f is at t = 1, which decides whether the local theory applies (its value is the
    kind's name in reports)."""

    SMOOTH = "smooth"
    SYMBOLIC = "symbolic"
    ZERO_CURVATURE = "zero-curvature"
    NEGATIVE_CURVATURE = "negative-curvature"
    INFINITE_CURVATURE = "infinite-curvature"
    KINK = "kink"
    JUMP_F2 = "jump-f2"
    JUMP_HIGHER = "jump-higher"


REGULARITY = {  # each kind's message
    Regularity.SMOOTH: "f''(1) = {f2} > 0: the linearization has a restoring force f''(1)·J0",
    Regularity.SYMBOLIC: "f''(1) = {f2}, positive for the parameter values that make f convex",
    Regularity.ZERO_CURVATURE: "f''(1) = 0: the Jacobian vanishes at a realizable equilibrium, so the dynamics are "
                               "not exponentially stable and the linearization decides nothing",
    Regularity.NEGATIVE_CURVATURE: "f''(1) = {f2} < 0: f is not convex at 1",
    Regularity.INFINITE_CURVATURE: "f''(t) → ∞ as t → 1 (f' is continuous but not differentiable there): "
                                   "the Jacobian at the equilibrium is infinite, so no linearization exists",
    Regularity.KINK: "f has a kink at t = 1 (f' jumps from {l1} to {r1}): f''(1) is undefined, a Dirac mass",
    Regularity.JUMP_F2: "f'' jumps at t = 1 (from {l2} to {r2}): the field is not differentiable at the equilibrium",
    Regularity.JUMP_HIGHER: "f''(1) = {f2}, but f''' is {how3} at t = 1: the linear theory applies; f'''(1) "
                            "(the basins' curvature) is undefined",
}
LINEARIZABLE = (Regularity.SMOOTH, Regularity.SYMBOLIC, Regularity.JUMP_HIGHER)  # a finite f''(1) > 0
NOT_SMOOTH = (Regularity.KINK, Regularity.JUMP_F2, Regularity.INFINITE_CURVATURE)  # no derivative of the field at z*


def f2_text(f2, kind: Regularity) -> str:
    """f''(1) for a reader: the value, "∞" for infinite curvature, else "undefined" with the kind."""
    if f2 is not None:
        return str(f2)
    return "∞ (infinite curvature at 1)" if kind == Regularity.INFINITE_CURVATURE else f"undefined ({kind} at 1)"


def _infinite(value) -> bool:
    return value is not None and value.is_number and value.has(sp.oo, -sp.oo, sp.zoo)


def regularity(pieces: list[Piece], s: Smoothness) -> tuple[Regularity, str]:
    """The kind of f's regularity at 1 and its message (`REGULARITY`), from the one-sided
    derivatives; one-sided limits are taken only where ``s`` leaves a derivative undefined."""
    if s.f1 is not None and s.f2 is not None:
        if s.f2.free_symbols:
            kind = Regularity.SYMBOLIC
        elif s.f2 == 0:
            kind = Regularity.ZERO_CURVATURE
        elif s.f2 < 0:
            kind = Regularity.NEGATIVE_CURVATURE
        elif s.f3 is None:
            l3, r3 = _one_sided(pieces, 3)
            how = "infinite" if _infinite(l3) or _infinite(r3) else f"discontinuous ({l3} against {r3})"
            return Regularity.JUMP_HIGHER, REGULARITY[Regularity.JUMP_HIGHER].format(f2=s.f2, how3=how)
        else:
            kind = Regularity.SMOOTH
        return kind, REGULARITY[kind].format(f2=s.f2)
    l1, r1 = _one_sided(pieces, 1)
    if not (_defined(l1) and _defined(r1) and sp.simplify(l1 - r1) == 0):
        return Regularity.KINK, REGULARITY[Regularity.KINK].format(l1=l1, r1=r1)
    l2, r2 = _one_sided(pieces, 2)
    if _infinite(l2) or _infinite(r2):
        return Regularity.INFINITE_CURVATURE, REGULARITY[Regularity.INFINITE_CURVATURE]
    return Regularity.JUMP_F2, REGULARITY[Regularity.JUMP_F2].format(l2=l2, r2=r2)


def outside_float_range(f2) -> str | None:
    """Why a positive f''(1) cannot be computed with, or None: febm plays the game in float64, where
    a value past ~1.8e308 overflows to inf and one below ~2.2e-308 underflows to 0 (then check
    printed f''(1) 0 with gauge eigenvalues on a set-up without a gauge, or inf and |F| = nan)."""
    if f2 is None or f2.free_symbols or not f2.is_positive:
        return None
    shown = sp.N(f2, 3)
    if sp.log(f2, 10) > 308 or not math.isfinite(_float_or_inf(f2)):
        return f"f''(1) = {shown} overflows float64 (largest ~1.8e308), where febm computes the game; scale f down"
    if float(f2) < np.finfo(float).tiny:
        return f"f''(1) = {shown} underflows float64 (smallest normal ~2.2e-308), where febm computes the game; " \
               "scale f up"
    return None


def _float_or_inf(x) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


def smooth_at_1(pieces: list[Piece]) -> Smoothness:
    derivs = []
    for order in (1, 2, 3):
        left, right = _one_sided(pieces, order)
        same = _defined(left) and _defined(right) and sp.simplify(left - right) == 0
        # once a derivative is undefined at 1, every higher one is too
        derivs.append(left if same and (not derivs or derivs[-1] is not None) else None)
    f1, f2, f3 = derivs
    if f1 is None or f2 is None:
        result = Validation("smooth at 1", False, "finding", regularity(pieces, Smoothness(f1, f2, f3, None))[1])
    elif f2 == 0:
        result = Validation("smooth at 1", False, "finding", "f''(1) = 0: the local theory needs f''(1) > 0")
    elif f2.free_symbols:
        result = Validation("smooth at 1", True, "symbolic", f"f''(1) = {f2}")
    elif f2 < 0:
        result = Validation("smooth at 1", False, "finding", f"f''(1) = {f2} < 0: f is not convex at 1")
    else:
        result = Validation("smooth at 1", True, "symbolic", f"f''(1) = {f2} > 0")
    return Smoothness(f1, f2, f3, result)
