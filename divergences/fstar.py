"""Numeric f*(s) for any derived conjugate, in numpy or torch.

A symbolic conjugate compiles to one piecewise function. A conjugate with a Legendre
branch that has no closed form is evaluated region by region: the branch solves
f'(e^x) = s for x (scipy's vectorized bracketing root finder for numpy, bisection for
torch) and returns s t − f(t) at t = e^x. In torch the solve is detached and followed by
one Newton step on the graph, so autograd sees df*/ds = t(s) and d²f*/ds² = 1/f''(t).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .conjugate import Conjugate, Region
from .numeric import as_float_array, compile_expr
from .symbolic import S, T

_LADDER = (300.0, 100.0, 40.0, 20.0, 10.0, 5.0)  # candidate |log t| ends of the bracket


def _bracket(region: Region):
    """The widest bracket in x = log t on which f' is finite (f' may overflow, e.g. cosh)."""
    lo, hi = region.piece.lo, region.piece.hi
    fp = compile_expr(region.piece.fp, [T])

    def widest(sign, limit):
        if limit is not None:
            return math.log(float(limit))
        with np.errstate(all="ignore"):
            return next((sign * x for x in _LADDER if np.isfinite(fp(np.exp([sign * x]))[0])), sign)

    return widest(-1, lo if lo != 0 else None), widest(1, hi if hi is not sp.oo else None)


def _numpy_branch(region: Region):
    from scipy.optimize.elementwise import find_root

    fp = compile_expr(region.piece.fp, [T])
    f = compile_expr(region.piece.f, [T])
    xl, xr = _bracket(region)

    def residual(x, s):
        with np.errstate(over="ignore"):
            return fp(np.exp(x)) - s

    def branch(s):
        if s.size == 0:
            return s
        x = find_root(residual, (np.full_like(s, xl), np.full_like(s, xr)), args=(s,)).x
        t = np.exp(x)
        return s * t - f(t)

    return branch


def _torch_branch(region: Region):
    import torch

    fp = compile_expr(region.piece.fp, [T], "torch")
    fpp = compile_expr(sp.diff(region.piece.f, T, 2), [T], "torch")
    f = compile_expr(region.piece.f, [T], "torch")
    xl, xr = _bracket(region)
    mid = region.piece.sample_points()[3]
    s_safe = float(sp.N(region.piece.fp.subs(T, mid)))  # an s inside this branch

    def branch(s, mask):
        s_in = torch.where(mask, s, torch.full_like(s, s_safe))
        with torch.no_grad():
            lo, hi = torch.full_like(s_in, xl), torch.full_like(s_in, xr)
            for _ in range(int(math.log2((xr - xl) / 1e-16)) + 2):
                m = (lo + hi) / 2
                below = fp(torch.exp(m)) < s_in
                lo, hi = torch.where(below, m, lo), torch.where(below, hi, m)
            x = (lo + hi) / 2
        t0 = torch.exp(x)
        t = t0 - (fp(t0) - s_in) / fpp(t0)  # one Newton step carries the gradient
        return s_in * t - f(t)

    return branch


def _compiled(expr, backend):
    """The region's closed form compiled, or None (none, or it holds an unevaluable constant)."""
    if expr is None:
        return None
    try:
        return compile_expr(expr, [S], backend)
    except (TypeError, ValueError):
        return None


def _region_mask(region: Region, s, xp):
    if region.upper is sp.oo:
        return xp.ones_like(s, dtype=bool)
    upper = float(region.upper)
    return s <= upper if region.closed else s < upper


def _by_regions(conj: Conjugate, backend: str):
    xp = np if backend == "numpy" else __import__("torch")
    parts = []
    for r in conj.regions:
        compiled = _compiled(r.expr, backend)
        if compiled is not None:
            parts.append((r, compiled, False))
        elif r.kind != "legendre":
            raise ValueError(f"f* on its {r.kind} region cannot be evaluated")
        elif backend == "numpy":
            parts.append((r, _numpy_branch(r), False))
        else:
            parts.append((r, _torch_branch(r), True))

    def fstar(s):
        if backend == "numpy":
            s = as_float_array(s)
            out = np.full_like(s, np.nan)
            free = np.ones_like(s, dtype=bool)
            for region, fn, _ in parts:
                mask = free & _region_mask(region, s, np)
                out[mask] = fn(s[mask])
                free &= ~mask
            return out
        out = xp.full_like(s, math.nan)
        free = xp.ones_like(s, dtype=bool)
        for region, fn, needs_mask in parts:
            mask = free & _region_mask(region, s, xp)
            value = fn(s, mask) if needs_mask else fn(s)
            out = xp.where(mask, value, out)
            free = free & ~mask
        return out

    return fstar


def conjugate_function(conj: Conjugate, backend: str = "numpy"):
    """f* as an elementwise numpy or torch function (+inf outside dom f*)."""
    if conj.regions is None:
        raise ValueError("bind the generator's parameters before evaluating f*")
    if conj.expr is not None:
        return compile_expr(conj.expr, [S], backend)
    return _by_regions(conj, backend)
