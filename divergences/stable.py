"""Accurate floating-point forms of the links, chosen automatically and checked.

A link written the generic way can cancel or overflow far from u = 0: h = e^u g − f(e^u)
cancels for (t − 1)·atan(t − 1) (h returned 0 from u ≈ 37, where it is 2.57), u − log(1 + e^u)
cancels to 0 where it is −e^{−u}, and rational functions of e^u overflow to inf/inf from
u ≈ 355. For each link this module builds candidate forms:

* the expression itself (compiled with `numeric.stabilize`'s log1p/expm1/logaddexp rewrites);
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
from .symbolic import SYMBOLIC, U, attempt

EDGE = 4.0
_W = sp.Symbol("w", positive=True)
_SIDE_SAMPLES = (4.0, 5.0, 7.0, 10.0, 15.0, 22.0, 33.0, 50.0, 80.0, 130.0, 200.0, 320.0, 500.0, 700.0)
MAX_DIGITS = 640  # reference precision cap: enough for cancellations down to ~1e-600
_MID_SAMPLES = tuple(np.linspace(-EDGE, EDGE, 17))
SERIES_TERMS = 8


def _precise(expr, u: float):
    """expr at u, with working digits raised until two precisions agree: e^|u| cancellations need
    about |u|/2.3 more digits, and double exponentials (1 − tanh²(e^u)) far more."""
    digits = 40 + int(abs(u) / 2.0)
    v = sp.N(expr.subs(U, sp.Float(u, digits + 10)), digits)
    while digits < MAX_DIGITS:
        w = sp.N(expr.subs(U, sp.Float(u, 2 * digits + 10)), 2 * digits)
        if not (v.is_real and w.is_real and v.is_finite and w.is_finite):
            return w
        if w != 0 and abs(w - v) <= 1e-25 * abs(w):  # a 0 may be all digits cancelled: go on
            return w
        v, digits = w, 2 * digits
    return v


def _reference(expr, points) -> np.ndarray:
    """expr at the points to ~25 correct digits (see `_precise`)."""
    out = []
    for u in points:
        v = _precise(expr, u)
        try:
            out.append(float(v) if v.is_real and v.is_finite else math.nan)
        except OverflowError:  # finite, but beyond float64: no float form can match it
            out.append(math.copysign(math.inf, float(sp.sign(v))))
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


ACCURATE = 1e-13  # a form this accurate at every sample point is kept without trying others


def _side(expr, side: int):
    """The most accurate form on one side, trying rewrites only while the last one falls short."""
    points = [side * x for x in _SIDE_SAMPLES]
    truth = _reference(expr, points)
    best, error = expr, _error(expr, points, truth)
    if error <= ACCURATE:
        return best, error
    hyperbolic = _hyperbolic(expr, side)
    if hyperbolic is not None:
        e = _error(hyperbolic, points, truth)
        if e < error:
            best, error = hyperbolic, e
        if error <= ACCURATE:
            return best, error
    rational = _in_w(expr, side)
    if rational is None:
        return best, error
    for make in (lambda: _back(rational, side), lambda: _series_back(rational, side)):
        form = make()
        if form is None:
            continue
        e = _error(form, points, truth)
        if e < error:
            best, error = form, e
        if error <= ACCURATE:
            break
    return best, error


def _hyperbolic(expr, side: int):
    """tanh, sinh/cosh and log cosh written around their asymptotes on one side, then expanded so
    that growing terms cancel exactly: (x + 1) tanh x − log cosh x = 1 + log 2 − ... for large x."""
    held = {}  # symbols standing for decaying exponentials while sympy expands, put back at the end

    def sign(a):
        value = sp.N(a.subs(U, side * 50.0), 15)
        return 1 if value.is_real and value > 0 else -1

    def tanh_form(a):
        s = sign(a)
        # e^{−2sa} → 0 on this side, so the form and its derivative stay finite; it is held as a
        # symbol through the expansion, which would otherwise turn it back into a growing e^{2sa}
        decay = sp.Dummy("decay", positive=True)
        held[decay] = sp.exp(-2 * s * a)
        return s * (1 - 2 * decay / (1 + decay))

    def log_cosh_form(a):
        s = sign(a)
        return s * a - sp.log(2) + sp.log(1 + sp.exp(-2 * s * a))

    def sech_squared(a):
        decay = sp.Dummy("decay", positive=True)
        held[decay] = sp.exp(-2 * sign(a) * a)
        return 4 * decay / (1 + decay) ** 2

    def rewrite():
        form = expr.replace(lambda n: isinstance(n, sp.log) and isinstance(n.args[0], sp.cosh),
                            lambda n: log_cosh_form(n.args[0].args[0]))
        # sinh = tanh·cosh, so sinh/cosh cancels to tanh; cosh^-2k = (1 − tanh²)^k
        form = form.replace(lambda n: isinstance(n, sp.sinh), lambda n: sp.tanh(n.args[0]) * sp.cosh(n.args[0]))
        form = form.replace(lambda n: n.is_Pow and isinstance(n.base, sp.cosh) and n.exp.is_Integer and n.exp < 0
                            and n.exp % 2 == 0,
                            lambda n: (1 - sp.tanh(n.base.args[0]) ** 2) ** (-n.exp // 2))
        # sech² = 1 − tanh² cancels where tanh → ±1: write it as 4e^{−2sa}/(1 + e^{−2sa})²
        form = form.replace(lambda n: n.is_Add and len(n.args) == 2 and sp.S.One in n.args and _tanh_squared(n),
                            lambda n: sech_squared(_tanh_squared(n)))
        form = form.replace(lambda n: isinstance(n, sp.tanh), lambda n: tanh_form(n.args[0]))
        return sp.expand(form).xreplace(held)

    if not expr.has(sp.tanh, sp.sinh, sp.cosh):
        return None
    return attempt(rewrite, 2.0)


def _tanh_squared(node):
    """a when node is 1 − tanh(a)², else None."""
    other = [t for t in node.args if t is not sp.S.One]
    if len(other) != 1:
        return None
    term = -other[0]
    if term.is_Pow and term.exp == 2 and isinstance(term.base, sp.tanh):
        return term.base.args[0]
    return None


def _series_back(rational, side: int):
    series = _series(rational)
    return None if series is None else _back(series, side)


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


def _middle(expr):
    """The form for |u| ≤ EDGE: ``expr`` itself, or a hyperbolic rewrite where expr cancels there
    (1 − tanh²(e^u − 1) is 0 in float64 from u ≈ 3.6, its true value ~1e-46)."""
    truth = _reference(expr, _MID_SAMPLES)
    best, error = expr, _error(expr, _MID_SAMPLES, truth)
    for side in (1, -1):
        if error <= ACCURATE:
            break
        form = _hyperbolic(expr, side)
        candidate = math.inf if form is None else _error(form, _MID_SAMPLES, truth)
        if candidate < error:
            best, error = form, candidate
    return best, error


def stable_form(expr: sp.Expr) -> tuple[sp.Expr, float]:
    """A piecewise form of ``expr`` (a function of u) accurate in float64, and its largest relative
    error at the sample points. Expressions with kinks (Piecewise) are left as they are."""
    if expr.is_number or expr.has(sp.Piecewise) or expr.free_symbols != {U}:
        return expr, 0.0
    if not SYMBOLIC["enabled"]:  # the numeric path (past a deadline): no high-precision checks
        return expr, math.nan
    middle, err_mid = _middle(expr)
    low, err_low = _side(expr, -1)
    high, err_high = _side(expr, 1)
    if low == expr and high == expr and middle == expr:
        return expr, max(err_low, err_mid, err_high)
    form = sp.Piecewise((low, U < -EDGE), (middle, U <= EDGE), (high, True))
    return form, max(err_low, err_mid, err_high)
