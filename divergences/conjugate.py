"""Automatic Legendre–Fenchel conjugate f*(s) = sup_{t>0} (s t − f(t)).

For convex f on (0, oo) with smooth pieces f_0, ..., f_k split at kinks c_1 < ... < c_k,
f' is nondecreasing from a = f'(0+) to b = f'(oo), and f* is piecewise in s:

* s <= a (a finite): the sup is approached as t -> 0, so f*(s) = −f(0+);
* s inside the range of f_i': the sup is attained where f_i'(t) = s (Legendre branch);
* s inside the subdifferential [f_{i-1}'(c_i), f_i'(c_i)] at a kink: f*(s) = s c_i − f(c_i);
* s = b (b finite): f*(b) = lim_{t->oo} (b t − f(t)), finite or not;
* s > b: f*(s) = +oo.

So dom f* is always (−oo, b), (−oo, b] or the real line. A Legendre branch whose inverse
sympy cannot find (or finds only through complex radicals) is evaluated numerically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError
from .numeric import compile_expr
from .pieces import Piece, split
from .symbolic import S, T, attempt, bounded, is_finite_number, limit, simplify

_X = sp.Symbol("x")  # unconstrained stand-in for t when solving f'(t) = s


@dataclass(frozen=True)
class Region:
    """f* on the s-interval that ends at ``upper`` (the lower end is the previous upper)."""

    upper: sp.Expr
    closed: bool  # whether ``upper`` itself belongs to this region
    kind: str  # "t->0", "legendre", "kink", "t->oo", "infinite"
    expr: sp.Expr | None  # formula in s; None for a Legendre branch solved numerically
    piece: Piece | None = None

    def condition(self):
        if self.upper is sp.oo:
            return sp.true
        return sp.Le(S, self.upper) if self.closed else sp.Lt(S, self.upper)


@dataclass(frozen=True)
class Conjugate:
    """The derived conjugate, with how it was obtained.

    ``regions`` is None only for generators with free parameters, where the domain
    depends on their values and only the interior (Legendre) formula is derived.
    """

    regions: tuple[Region, ...] | None
    method: str  # "symbolic" or "numeric"
    expr: sp.Expr | None  # Piecewise in s (+oo outside the domain); None if numeric
    domain: sp.Interval | None
    domain_text: str
    notes: tuple[str, ...] = ()

    @property
    def upper(self):
        """b = sup dom f* (may be oo)."""
        return self.domain.sup if self.domain is not None else None


def _mp(x):
    try:
        return complex(sp.N(x, 30))
    except OverflowError:
        return complex(math.inf)


def _select_root(candidates, piece: Piece, subs=None):
    """The candidate t(s) that inverts f' at every sample point of the piece."""
    subs = subs or {}
    fp = piece.fp.subs(subs)
    samples = [(tk, _mp(fp.subs(T, tk))) for tk in piece.sample_points()]
    # a sample where f'(t) overflows a float (e^{t−1} at t = 1000) tests nothing: it is left out
    samples = [(tk, sk) for tk, sk in samples if math.isfinite(abs(sk))]
    for cand in candidates:
        cand_n = cand.subs(subs)
        ok = True
        for tk, sk in samples:
            value = attempt(lambda c=cand_n, sk=sk: _mp(c.subs(S, sp.Float(sk.real, 30))), 2.0)
            tk_f = float(tk)
            if value is None or abs(value - tk_f) > 1e-10 * max(1.0, tk_f):
                ok = False
                break
        if ok:
            return cand
    return None


def _lambertw_identity(expr):
    """exp(a + W(x)) -> exp(a) x / W(x), from W(x) e^W(x) = x; removes overflowing exps."""
    expr = sp.expand_power_exp(expr)
    return expr.replace(
        lambda n: isinstance(n, sp.exp) and isinstance(n.args[0], sp.LambertW),
        lambda n: n.args[0].args[0] / n.args[0],
    )


def _simplify_on(expr, lower, upper):
    """Simplify ``expr`` knowing lower < s < upper: write s = upper − σ (or lower + σ), σ > 0."""
    if expr.has(sp.LambertW):
        expr = sp.powsimp(_lambertw_identity(expr))
    sigma = sp.Symbol("sigma", positive=True)
    if upper is not None and upper is not sp.oo:
        shifted, back = upper - sigma, upper - S
    elif lower is not None and lower is not sp.S.NegativeInfinity:
        shifted, back = lower + sigma, S - lower
    else:
        return simplify(expr)
    return simplify(simplify(expr.subs(S, shifted)).subs(sigma, back))


def _legendre(piece: Piece, notes: list[str], params_test=None, lower=None, upper=None):
    """Closed-form f_i*(s) = s t(s) − f_i(t(s)) on the piece, or None."""
    candidates = attempt(
        lambda: sp.solve(sp.Eq(piece.fp.subs(T, _X), S), _X, check=False), 6.0
    )  # candidates are checked numerically below, so sympy's own checks are skipped
    if not candidates:
        notes.append("sympy found no inverse of f'(t) = s; f* is evaluated numerically")
        return None
    tests = params_test or [None]
    chosen = None
    for cand in candidates:
        if all(_select_root([cand], piece, subs) is not None for subs in tests):
            chosen = cand
            break
    if chosen is None:
        notes.append("no root of f'(t) = s inverts f' on the whole piece; numeric f*")
        return None
    if len(candidates) > 1:
        notes.append(f"f'(t) = s has {len(candidates)} roots; kept the one that inverts f' on t > 0")
    complex_note = "the closed form of f* needs complex arithmetic; f* is evaluated numerically"
    if params_test:
        # real powers of the candidate's bases need those bases > 0, so denesting is safe;
        # the result is verified numerically at several parameter values.
        expr = S * chosen - piece.f.subs(T, chosen)
        return simplify(sp.powdenest(simplify(expr), force=True))
    if not _real_evaluable(chosen, piece, lambda s, t: t):
        notes.append(complex_note)
        return None
    raw = S * chosen - piece.f.subs(T, chosen)
    # simplified knowing the end of the interval, else plainly: the first may fold a finite form into
    # one that overflows a float ((E(s+1))^(E(s+1)) for e^{t−1} − t)
    for expr in (_simplify_on(raw, lower, upper), simplify(raw)):
        if _real_evaluable(expr, piece, lambda s, t: s * t - float(sp.N(piece.f.subs(T, t), 30))):
            return expr
    notes.append(complex_note)
    return None


def _real(x) -> float:
    """A real sympy number as a float; ±inf where it overflows one."""
    try:
        return float(sp.N(x, 30))
    except OverflowError:
        return math.inf


def _real_evaluable(expr, piece: Piece, truth_at) -> bool:
    """Whether float64 evaluation of ``expr`` at s = f'(t_k) gives ``truth_at(s, t_k)``."""
    fn = attempt(lambda: compile_expr(expr, [S]), 5.0)
    if fn is None:
        return False
    ts = [float(tk) for tk in piece.sample_points()]
    ss = np.array([_real(piece.fp.subs(T, tk)) for tk in piece.sample_points()])
    finite = np.isfinite(ss)  # where s = f'(t) overflows a float there is nothing to compare
    ts, ss = [t for t, ok in zip(ts, finite) if ok], ss[finite]
    truth = np.array([truth_at(s, t) for s, t in zip(ss, ts)])
    with np.errstate(all="ignore"):
        got = fn(ss)
    return bool(np.all(np.abs(got - truth) <= 1e-8 * np.maximum(1.0, np.abs(truth))))


def _regions(pieces: list[Piece], a, b, notes: list[str]) -> list[Region]:
    regions = []
    if a is not sp.S.NegativeInfinity:
        f0 = end_value(pieces[0].f, 0, notes)
        regions.append(Region(a, True, "t->0", -f0))
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        upper = b if last else _at_kink(piece.fp, piece.hi, "-")
        lower = regions[-1].upper if regions else a
        if not piece.is_linear:
            expr = _legendre(piece, notes, lower=lower, upper=upper)
            regions.append(Region(upper, False, "legendre", expr, piece))
        if not last:
            c = piece.hi
            right = _at_kink(pieces[i + 1].fp, c, "+")
            regions.append(Region(right, True, "kink", sp.nsimplify(S * c - piece.f.subs(T, c))))
    if b is not sp.oo:
        end = limit(b * T - pieces[-1].f, sp.oo)
        if is_finite_number(end) and not regions[-1].closed:
            regions.append(Region(b, True, "t->oo", sp.simplify(end)))
        regions.append(Region(sp.oo, False, "infinite", sp.oo))
    return regions


def _at_kink(fp, c, direction: str):
    """f' of one piece at a kink c inside (0, ∞): each piece is smooth up to its ends (its Abs are
    unfolded), so the one-sided limit is the value there; sympy's limit first, for exact forms."""
    found = limit(fp, c, direction)
    if found is not None:
        return found
    value = fp.subs(T, c)
    if not is_finite_number(value):
        raise InputError(f"f' has no finite value at the kink t = {c}")
    return value


def _domain(regions: list[Region], b) -> sp.Interval:
    if b is sp.oo:
        return sp.Interval(-sp.oo, sp.oo)
    last_finite = regions[-2]
    return sp.Interval(-sp.oo, b, right_open=not last_finite.closed)


def domain_text(domain: sp.Interval) -> str:
    if domain.sup is sp.oo:
        return "(-oo, oo)"
    return f"(-oo, {domain.sup}{')' if domain.right_open else ']'}"


def end_value(expr, point, notes: list[str]):
    """lim expr as t -> point (0+ or oo): sympy's limit, else a numeric estimate from 30-digit values at
    t = 10^{∓4}, ..., 10^{∓16} (±oo when they keep growing past 1e6), with a note saying so."""
    found = limit(expr, point, "+" if point == 0 else "-")
    if found is not None:
        return found
    ts = [sp.Float(10) ** (-k if point == 0 else k) for k in (4, 8, 12, 16)]
    values = [bounded(lambda t=t: float(sp.N(expr.subs(T, t), 30)), 0.5, math.inf) for t in ts]
    notes.append(f"the limit of {expr} at t -> {point} was estimated numerically")
    if not all(math.isfinite(v) for v in values) or (abs(values[-1]) > 1e6 and abs(values[-1]) > abs(values[-2])):
        return sp.oo if values[-1] > 0 else sp.S.NegativeInfinity
    return sp.Float(values[-1], 12)


def derive(f: sp.Expr) -> Conjugate:
    """Derive f* for a generator in ``T`` with no free parameters."""
    notes: list[str] = []
    pieces = split(f)
    a = end_value(pieces[0].fp, 0, notes)
    b = end_value(pieces[-1].fp, sp.oo, notes)
    regions = _regions(pieces, a, b, notes)
    domain = _domain(regions, b)
    numeric = any(r.expr is None for r in regions)
    expr = None
    if not numeric:
        expr = sp.Piecewise(*[(r.expr, r.condition()) for r in regions])
        if b is sp.oo and len(regions) == 1:
            expr = regions[0].expr
    return Conjugate(
        tuple(regions),
        "numeric" if numeric else "symbolic",
        expr,
        domain,
        domain_text(domain),
        tuple(dict.fromkeys(notes)),
    )


def derive_parametric(f: sp.Expr, param_tests: list[dict]) -> Conjugate:
    """Interior formula of f* for a family with free parameters (domain depends on them)."""
    notes: list[str] = []
    (piece,) = [Piece(sp.S.Zero, sp.oo, f)] if not f.has(sp.Abs) else [None]
    expr = _legendre(piece, notes, params_test=param_tests) if piece else None
    names = ", ".join(sorted(str(p) for p in f.free_symbols - {T}))
    text = f"range of f'(t) = (f'(0+), f'(oo)), which depends on {names}"
    return Conjugate(None, "symbolic" if expr is not None else "numeric", expr, None, text, tuple(notes))
