"""Numeric verification of a derived conjugate, independent of how it was derived.

* Direct sup: f*(s) against max_x (s e^x − f(e^x)) found by a grid search and bounded
  Brent refinement (scipy), at points in every region of dom f*, and +oo beyond it.
* Fenchel–Young: f*(f'(t)) + f(t) − t f'(t) = 0 at points t spread over (0, oo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .conjugate import Conjugate
from .numeric import compile_expr
from .pieces import Piece
from .symbolic import T

_X = np.linspace(-36.0, 36.0, 1441)  # log t searched by the direct sup
TOL = 1e-7
ENDPOINT_TOL = 1e-4  # the limit at t -> oo converges like 1/t; e^20 ~ 5e8


@dataclass(frozen=True)
class ConjugateVerification:
    ok: bool
    sup_error: float  # largest relative gap to the direct sup inside dom f*
    fenchel_young_error: float  # largest relative Fenchel–Young residual
    points: int
    detail: str

    def as_dict(self):
        return {
            "ok": self.ok,
            "sup_error": self.sup_error,
            "fenchel_young_error": self.fenchel_young_error,
            "points": self.points,
            "detail": self.detail,
        }


def direct_sup(f_np, s: float, xmax: float = 36.0) -> float:
    """sup_{t>0} (s t − f(t)) over log t in [−36, xmax], without any knowledge of f'."""
    x = _X[_X <= xmax]
    with np.errstate(all="ignore"):
        values = s * np.exp(x) - f_np(np.exp(x))
    values = np.where(np.isfinite(values), values, -np.inf)
    k = int(np.argmax(values))
    if k in (0, len(x) - 1):
        return float(values[k])  # sup approached at the boundary t -> 0 or t -> oo
    from scipy.optimize import minimize_scalar  # lazy: 0.4 s of import on every CLI call

    res = minimize_scalar(
        lambda y: -(s * np.exp(y) - f_np(np.exp(y))),
        bounds=(x[k - 1], x[k + 1]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(max(-res.fun, values[k]))


def sample_s(conj: Conjugate, pieces: list[Piece]) -> tuple[list[float], list[float]]:
    """Points inside dom f* (every region) and points beyond it."""
    inside = []
    for piece in pieces:
        inside += [float(sp.N(piece.fp.subs(T, t))) for t in piece.sample_points()]
    beyond = []
    lower = None
    for r in conj.regions:
        if r.kind == "infinite":
            beyond += [lower + 0.5, lower + 3.0]
            continue
        upper = float(r.upper) if r.upper is not sp.oo else None
        if r.kind == "t->0":
            inside += [upper - 0.5, upper - 4.0, upper]
        elif r.kind == "kink":
            inside += [lower + (upper - lower) * w for w in (0.0, 0.25, 0.5, 1.0)]
        lower = upper
    return [s for s in inside if np.isfinite(s)], beyond  # f' can overflow float64


def _endpoint_error(conj: Conjugate, f_np, fstar_np) -> float:
    """At a closed endpoint s = b, f*(b) = lim_{t->oo} (b t − f(t)) is approached from below.

    Cancellation ruins b t − f(t) at huge t, so compare with the sup over t <= e^20.
    """
    end = [r for r in conj.regions if r.kind == "t->oo"]
    if not end:
        return 0.0
    b = float(end[0].upper)
    value = float(fstar_np(np.array([b]))[0])
    return _rel(direct_sup(f_np, b, xmax=20.0), value)


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


def verify(conj: Conjugate, f: sp.Expr, pieces: list[Piece], fstar_np) -> ConjugateVerification:
    f_np = compile_expr(f, [T])
    inside, beyond = sample_s(conj, pieces)
    values = fstar_np(np.array(inside))
    sup_err = max(_rel(v, direct_sup(f_np, s)) for s, v in zip(inside, values))
    problems = []
    if not np.all(np.isfinite(values)):
        problems.append("f* is not finite inside its domain")
    if beyond:
        outside = fstar_np(np.array(beyond))
        if not np.all(np.isposinf(outside)):
            problems.append("f* is finite beyond its domain")
        if min(direct_sup(f_np, s) for s in beyond) < 1e6:
            problems.append("the direct sup stays bounded beyond the domain")
    ts = [t for p in pieces for t in p.sample_points()]
    with np.errstate(all="ignore"):
        ts = [t for t in ts if np.isfinite(f_np(np.array([float(t)]))[0])]
    fy = []
    for t in ts:
        piece = next(p for p in pieces if p.lo < t < p.hi)
        s = float(sp.N(piece.fp.subs(T, t)))
        tf = float(t)
        fy.append(_rel(fstar_np(np.array([s]))[0] + f_np(np.array([tf]))[0], s * tf))
    fy_err = max(fy)
    end_err = _endpoint_error(conj, f_np, fstar_np)
    if end_err > ENDPOINT_TOL:
        problems.append(f"f*(b) at the closed end of the domain is off by {end_err:.2e}")
    if sup_err > TOL:
        problems.append(f"f* differs from the direct sup by {sup_err:.2e}")
    if fy_err > TOL:
        problems.append(f"Fenchel–Young equality fails by {fy_err:.2e}")
    n = len(inside) + len(beyond) + len(ts)
    detail = "; ".join(problems) or f"matches the direct sup and Fenchel–Young at {n} points"
    return ConjugateVerification(not problems, sup_err, fy_err, n, detail)


def verify_parametric(expr: sp.Expr, f: sp.Expr, bindings: list[dict]) -> ConjugateVerification:
    """Check an interior formula of a parametric family at s = f'(t), for several bindings."""
    from .symbolic import S

    sup_err = fy_err = 0.0
    n = 0
    for binding in bindings:
        fb = f.subs(binding)
        f_np = compile_expr(fb, [T])
        fstar_np = compile_expr(expr.subs(binding), [S])
        for t in Piece(sp.S.Zero, sp.oo, fb).sample_points():
            s = float(sp.N(sp.diff(fb, T).subs(T, t)))
            v = float(fstar_np(np.array([s]))[0])
            sup_err = max(sup_err, _rel(v, direct_sup(f_np, s)))
            fy_err = max(fy_err, _rel(v + float(f_np(np.array([float(t)]))[0]), s * float(t)))
            n += 1
    ok = sup_err <= TOL and fy_err <= TOL
    names = ", ".join(f"{k}={v}" for b in bindings for k, v in b.items())
    detail = f"interior formula checked at {n} points for {names}"
    return ConjugateVerification(ok, sup_err, fy_err, n, detail if ok else "interior formula fails: " + detail)
