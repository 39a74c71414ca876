"""Accurate floating-point forms of the links, chosen automatically and checked.

A link written the generic way can cancel or overflow far from u = 0: h = e^u g − f(e^u)
cancels for (t − 1)·atan(t − 1) (h returned 0 from u ≈ 37, where it is 2.57), u − log(1 + e^u)
cancels to 0 where it is −e^{−u}, and rational functions of e^u overflow to inf/inf from
u ≈ 355. For each link this module builds candidate forms:

* the expression itself (compiled with :func:`numeric.stabilize`'s log1p/expm1/logaddexp rewrites);
* the expression as a function of w = e^{−u} (for u > 0) or w = e^{u} (for u < 0), with common
  factors cancelled, so that rational functions of e^u never see an overflowing power;
* a truncated series in that w at w = 0 (the asymptotic form), where sympy finds one in time;

evaluates each in float64 at sample points of three regions (u < −4, |u| ≤ 4, u > 4) against
a high-precision evaluation of the exact expression (40 + |u|/2 digits, enough for e^{|u|}
cancellations), and keeps the most accurate form per region.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .numeric import compile_expr
from .symbolic import U, attempt

EDGE = 4.0
_W = sp.Symbol("w", positive=True)
_SIDE_SAMPLES = (4.0, 5.0, 7.0, 10.0, 15.0, 22.0, 33.0, 50.0, 80.0, 130.0, 200.0, 320.0, 500.0, 700.0)
_MID_SAMPLES = tuple(np.linspace(-EDGE, EDGE, 17))
SERIES_TERMS = 8


def _reference(expr, points) -> np.ndarray:
    """expr at the points to ~30 correct digits: e^|u| cancellations need about |u|/2.3 more."""
    out = []
    for u in points:
        digits = 40 + int(abs(u) / 2.0)
        v = sp.N(expr.subs(U, sp.Float(u, digits + 10)), digits)
        out.append(float(v) if v.is_real and v.is_finite else math.nan)
    return np.array(out)


def _in_w(expr, side: int):
    """expr as a function of w = e^{−side·u} ∈ (0, 1] on that side, common factors cancelled, or None.

    u itself becomes −side·log w and logs are expanded, so u − log(e^u + 1) turns into −log(1 + w).
    """
    def rewrite():
        form = expr.subs(U, -side * sp.log(_W))
        form = sp.expand_log(sp.powsimp(sp.powdenest(form, force=True)), force=True)
        return sp.cancel(sp.together(sp.expand_log(sp.logcombine(form, force=True), force=True)))

    form = attempt(rewrite, 2.0)
    if form is None or form.has(U) or form.has(sp.zoo, sp.nan):
        return None
    return form


def _back(form, side: int):
    return form.subs(_W, sp.exp(-side * U))


def _candidates(expr, side: int) -> list:
    forms = [expr]
    rational = _in_w(expr, side)
    if rational is not None:
        forms.append(_back(rational, side))
        series = _series(rational)
        if series is not None:
            forms.append(_back(series, side))
    return forms


def _series(form):
    """The truncated series of form(w) at w = 0, or None (sympy raises many kinds of errors here)."""
    try:
        series = attempt(lambda: sp.series(form, _W, 0, SERIES_TERMS).removeO(), 3.0)
    except Exception:  # PoleError, ValueError from leadterm, ...
        return None
    if series is None or series.has(sp.Order) or not series.free_symbols <= {_W}:
        return None
    return series


def _error(form, points, truth) -> float:
    fn = attempt(lambda: compile_expr(form, [U]), 5.0)
    if fn is None:
        return math.inf
    with np.errstate(all="ignore"):
        got = fn(np.asarray(points, dtype=np.float64))
    finite = np.isfinite(truth)
    if np.any(finite & ~np.isfinite(got)):
        return math.inf
    scale = np.maximum(np.abs(truth[finite]), 1e-290)  # below float64's range a value counts as 0
    return float(np.max(np.abs(got[finite] - truth[finite]) / scale)) if finite.any() else 0.0


def _best(forms, points):
    truth = _reference(forms[0], points)
    errors = [_error(f, points, truth) for f in forms]
    k = int(np.argmin(errors))
    return forms[k], errors[k]


def stable_form(expr: sp.Expr) -> tuple[sp.Expr, float]:
    """A piecewise form of ``expr`` (a function of u) accurate in float64, and its largest relative
    error at the sample points. Expressions with kinks (Piecewise) are left as they are."""
    if expr.is_number or expr.has(sp.Piecewise) or expr.free_symbols != {U}:
        return expr, 0.0
    middle, err_mid = _best([expr], _MID_SAMPLES)
    low, err_low = _best(_candidates(expr, -1), [-x for x in _SIDE_SAMPLES])
    high, err_high = _best(_candidates(expr, 1), list(_SIDE_SAMPLES))
    if low == expr and high == expr:
        return expr, max(err_low, err_mid, err_high)
    form = sp.Piecewise((low, U < -EDGE), (middle, U <= EDGE), (high, True))
    return form, max(err_low, err_mid, err_high)
