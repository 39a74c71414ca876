"""Compile sympy expressions into numpy or torch functions without generating code.

Each sympy node becomes a small Python closure, so no text derived from a user's
expression is ever passed to ``exec`` (which ``sympy.lambdify`` does). Before compiling,
`stabilize` rewrites cancellation-prone patterns into log1p / expm1 / logaddexp.
torch is imported only when a torch function is asked for, so this layer stays torch-free.
"""

from __future__ import annotations

import importlib
import math
from functools import reduce

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.numpy_nodes import logaddexp

BACKENDS = ("numpy", "torch")

_SAME_NAME = {
    sp.exp: "exp",
    sp.log: "log",
    sp.Abs: "abs",
    sp.sign: "sign",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.tanh: "tanh",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.atan: "arctan",
    sp.asinh: "arcsinh",
    sp.atanh: "arctanh",
    expm1: "expm1",
    log1p: "log1p",
}


def _softplus_form(expr):
    """log(1 + exp(x)) -> logaddexp(0, x), which neither overflows nor loses precision."""

    def rewrite(node):
        if isinstance(node, sp.log) and node.args[0].is_Add:
            terms = node.args[0].args
            if len(terms) == 2 and sp.S.One in terms:
                other = terms[1] if terms[0] == 1 else terms[0]
                if isinstance(other, sp.exp):
                    return logaddexp(sp.S.Zero, other.args[0])
        return node

    return expr.replace(lambda n: isinstance(n, sp.log), rewrite)


class wright_omega(sp.Function):
    """ω(x) = W(e^x), the Wright omega function: Lambert W of an exponential, overflow-free."""

    def _eval_evalf(self, prec):
        return sp.LambertW(sp.exp(self.args[0]))._eval_evalf(prec)


def _expm1_form(expr):
    """k exp(x) − k -> k expm1(x) inside a sum, leaving the other terms alone."""

    def rewrite(node):
        const = next((a for a in node.args if a.is_number), None)
        if const is None:
            return node
        for term in node.args:
            k, rest = term.as_coeff_Mul()
            if isinstance(rest, sp.exp) and k == -const:
                others = [a for a in node.args if a is not term and a is not const]
                return sp.Add(*others, k * expm1(rest.args[0]), evaluate=False)
        return node

    return expr.replace(lambda n: n.is_Add, rewrite)


def _log1p_form(expr):
    """log(1 + x) -> log1p(x), accurate for small x."""

    def rewrite(node):
        arg = node.args[0]
        if arg.is_Add and sp.S.One in arg.args:
            return log1p(arg - 1)
        return node

    return expr.replace(lambda n: isinstance(n, sp.log), rewrite)


class log_cosh(sp.Function):
    """log cosh x = |x| + log1p(e^{−2|x|}) − log 2, which never overflows."""

    def _eval_evalf(self, prec):
        return sp.log(sp.cosh(self.args[0]))._eval_evalf(prec)


def _log_cosh_form(expr):
    return expr.replace(lambda n: isinstance(n, sp.log) and isinstance(n.args[0], sp.cosh),
                        lambda n: log_cosh(n.args[0].args[0]))


def stabilize(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``expr`` into a form that is accurate in floating point."""
    expr = _log_cosh_form(expr)
    expr = sp.powsimp(expr, combine="exp")  # exp(a)*exp(b) -> exp(a+b): no inf*0
    expr = expr.replace(
        lambda n: isinstance(n, sp.LambertW) and isinstance(n.args[0], sp.exp),
        lambda n: wright_omega(n.args[0].args[0]),
    )
    expr = _softplus_form(expr)
    return _log1p_form(_expm1_form(expr))


class _Ops:
    """The array functions one backend provides, looked up by numpy's names."""

    def __init__(self, name: str, exp_clip=None):
        self.name = name
        self.xp = np if name == "numpy" else importlib.import_module("torch")
        self.exp_clip = exp_bounds(exp_clip)

    def func(self, cls):
        if cls is sp.exp and self.exp_clip is not None:  # the reference code's "stable_exp"
            (lo, hi), xp = self.exp_clip, self.xp
            clip = np.clip if self.name == "numpy" else xp.clamp
            return lambda x: xp.exp(clip(x, lo, hi))
        if cls in _SAME_NAME:
            return getattr(self.xp, _SAME_NAME[cls])
        if cls is sp.LambertW:
            return _lambertw_numpy if self.name == "numpy" else _lambertw_torch
        if cls is wright_omega:
            return _omega_numpy if self.name == "numpy" else _omega_torch
        if cls is log_cosh:
            xp = self.xp
            log1p = xp.log1p
            return lambda x: xp.abs(x) + log1p(xp.exp(-2 * xp.abs(x))) - math.log(2.0)
        raise NotImplementedError(f"no {self.name} implementation of {cls.__name__}")

    def where(self, cond, a, b):
        return self.xp.where(cond, a, b)

    def full_like(self, x, value):
        return self.xp.zeros_like(x) + value


def _lambertw_numpy(z):
    from scipy.special import lambertw

    return np.real(lambertw(z))


def _lambertw_torch(z):
    """Principal branch for z >= 0: Halley iterations, then one Newton step on the graph.

    The final step, taken from a detached iterate, gives autograd the exact derivative
    W'(z) = 1/(e^W (1 + W)) without differentiating through the loop.
    """
    import torch

    with torch.no_grad():
        w = torch.log1p(z)
        for _ in range(30):
            ew = torch.exp(w)
            f = w * ew - z
            w = w - f / (ew * (w + 1) - (w + 2) * f / (2 * w + 2))
    ew = torch.exp(w)
    return w - (w * ew - z) / (ew * (w + 1))


def _omega_numpy(x):
    from scipy.special import wrightomega

    return np.real(wrightomega(x))


def _omega_torch(x):
    """Solve w + log w = x by Newton from a close start, then one step on the graph
    so that autograd sees ω'(x) = ω / (1 + ω)."""
    import torch

    with torch.no_grad():
        w = torch.where(x > 1, x - torch.log(torch.clamp(x, min=1.0)), torch.exp(torch.clamp(x, max=1.0)))
        for _ in range(40):
            w = w - (w + torch.log(w) - x) * w / (w + 1)
    return w - (w + torch.log(w) - x) * w / (w + 1)


def _constant(node):
    if node is sp.oo:
        return math.inf
    if node is sp.S.NegativeInfinity:
        return -math.inf
    value = complex(node.evalf(30))
    if abs(value.imag) > 1e-30:
        raise ValueError(f"constant {node} is not real")
    return value.real


def _build(node, index, ops):
    """Return a closure env -> array for ``node``; env is the tuple of input arrays."""
    if node.is_Symbol:
        i = index[node]
        return lambda env: env[i]
    if node.is_number or node in (sp.oo, sp.S.NegativeInfinity):
        c = _constant(node)
        return lambda env: c
    if isinstance(node, sp.Piecewise):
        return _build_piecewise(node, index, ops)
    if node.is_Relational or isinstance(node, (sp.And, sp.Or, sp.Not)):
        return _build_condition(node, index, ops)
    args = [_build(a, index, ops) for a in node.args]
    if node.is_Add:
        return lambda env: reduce(lambda x, y: x + y, (a(env) for a in args))
    if node.is_Mul:
        return lambda env: reduce(lambda x, y: x * y, (a(env) for a in args))
    if node.is_Pow:
        return _build_pow(node, args, ops)
    if isinstance(node, logaddexp):
        f = ops.xp.logaddexp
        a, b = args
        return lambda env: f(*_as_arrays(ops, env, a(env), b(env)))
    f = ops.func(node.func)
    (a,) = args
    return lambda env: f(_as_array(ops, env, a(env)))


def _as_array(ops, env, v):
    return ops.full_like(env[0], v) if isinstance(v, float) else v


def _as_arrays(ops, env, *vs):
    return tuple(_as_array(ops, env, v) for v in vs)


def _build_pow(node, args, ops):
    base, expo = args
    e = node.exp
    if e == sp.Rational(1, 2):
        return lambda env: ops.xp.sqrt(_as_array(ops, env, base(env)))
    if e == sp.Rational(-1, 2):
        return lambda env: 1 / ops.xp.sqrt(_as_array(ops, env, base(env)))
    if e.is_Integer:
        n = int(e)
        return lambda env: base(env) ** n
    return lambda env: base(env) ** expo(env)


_RELATIONS = {
    sp.StrictLessThan: lambda a, b: a < b,
    sp.LessThan: lambda a, b: a <= b,
    sp.StrictGreaterThan: lambda a, b: a > b,
    sp.GreaterThan: lambda a, b: a >= b,
    sp.Equality: lambda a, b: a == b,
}


def _build_condition(node, index, ops):
    if node is sp.true:
        return lambda env: True
    if node.is_Relational:
        rel = _RELATIONS[type(node)]
        lhs, rhs = (_build(a, index, ops) for a in node.args)
        return lambda env: rel(_as_array(ops, env, lhs(env)), rhs(env))
    parts = [_build_condition(a, index, ops) for a in node.args]
    if isinstance(node, sp.And):
        return lambda env: reduce(lambda x, y: x & y, (p(env) for p in parts))
    if isinstance(node, sp.Or):
        return lambda env: reduce(lambda x, y: x | y, (p(env) for p in parts))
    (p,) = parts
    return lambda env: ~p(env)


def _anchor(expr, cond, var):
    """A value of ``var`` where ``cond`` holds and ``expr`` is finite, or None."""
    grid = [0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 5.0, -5.0, 20.0, -20.0, 100.0, -100.0]
    for rel in cond.atoms(sp.Rel):
        for side in rel.args:
            if side.is_number and side.is_finite:
                b = float(side)
                grid += [b, b - 1e-3, b + 1e-3, b - 1.0, b + 1.0]
    for x in grid:
        try:
            if bool(cond.subs(var, x)) and bool(sp.N(expr.subs(var, x)).is_finite):
                return x
        except TypeError:
            continue
    return None


def _through_kinks(args, variables):
    """The branches, with a constant at an isolated point (``c if u = k``, the value `Divergence._by_piece`
    gives a kink) replaced by the mean of its neighbours' expressions: the same value there, and a
    derivative (the mean of the one-sided ones) where the constant had none. Which inputs round to
    exactly u = k depends on the CPU's arithmetic, so a constant there made autodiff Jacobians
    machine-dependent."""
    args = list(args)
    for i in range(1, len(args) - 1):
        expr, cond = args[i]
        if not (isinstance(cond, sp.Eq) and expr.is_number and len(variables) == 1):
            continue
        mean = (args[i - 1][0] + args[i + 1][0]) / 2
        point = cond.rhs if cond.lhs == variables[0] else cond.lhs
        at = complex(sp.N(mean.subs(variables[0], point), 30))
        if abs(at - complex(sp.N(expr, 30))) <= 1e-12 * max(1.0, abs(at)):
            args[i] = (mean, cond)
    return args


def _build_piecewise(node, index, ops):
    """Select branches with ``where``; unselected branches see a safe anchor input.

    Evaluating a branch outside its region can give inf or nan, and torch.where then
    turns 0 * inf into nan gradients. Branch k therefore receives its input only where
    it is selected, and an anchor value known to be finite there elsewhere.
    """
    variables = list(node.free_symbols)
    branches = []
    for expr, cond in _through_kinks(node.args, variables):
        anchor = _anchor(expr, cond, variables[0]) if len(variables) == 1 else None
        branches.append(
            (_build(expr, index, ops), _build_condition(cond, index, ops), anchor)
        )
    var_pos = index[variables[0]] if len(variables) == 1 else None

    def evaluate(env):
        result = None
        taken = None
        for value, cond, anchor in branches:
            mask = cond(env)
            if isinstance(mask, bool):
                mask = ops.full_like(env[0], 1.0) > 0 if mask else ops.full_like(env[0], 0.0) > 0
            if taken is not None:
                mask = mask & ~taken
            local = env
            if anchor is not None:
                local = list(env)
                local[var_pos] = ops.where(mask, env[var_pos], anchor)
            v = _as_array(ops, env, value(local))
            result = v if result is None else ops.where(mask, v, result)
            taken = mask if taken is None else taken | mask
        return ops.where(taken, result, ops.full_like(env[0], math.nan))

    return evaluate


def as_float_array(a) -> np.ndarray:
    """``a`` as a numpy array, keeping float32/float64 and promoting anything else to float64."""
    arr = np.asarray(a)
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)


def exp_bounds(exp_clip):
    """(lo, hi) for an exp clip given as c (meaning (−c, c)) or as a pair (lo may be −inf: the
    1-D reference code clamps from above only); None stays None."""
    if exp_clip is None:
        return None
    lo, hi = (-exp_clip, exp_clip) if np.ndim(exp_clip) == 0 else exp_clip
    if not (lo < hi and hi > -math.inf):
        raise ValueError(f"an exp clip is c > 0 or a pair lo < hi, not {exp_clip!r}")
    return float(lo), float(hi)


def exp_bounds_for(name: str, exp_clip):
    """`exp_bounds` of f ``name``'s clamp, where ``exp_clip`` may also be {f name: C or (lo, hi)}
    (f missing from it: None): the one reading of a trainer's per-f clamps."""
    return exp_bounds(exp_clip.get(name) if isinstance(exp_clip, dict) else exp_clip)


def compile_expr(expr: sp.Expr, variables, backend: str = "numpy", stable: bool = True,
                 exp_clip=None):
    """Return ``fn(*arrays)`` evaluating ``expr`` elementwise in ``backend``.

    ``variables`` lists the sympy symbols in argument order. Inputs may be numpy arrays or
    torch tensors of any float dtype; constants adopt the input's dtype and device. With
    ``exp_clip`` = c every exp(a) evaluates exp(clip(a, −c, c)), as the f-EBM reference code's links do
    (a pair (lo, hi) gives other bounds).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    variables = tuple(variables)
    extra = expr.free_symbols - set(variables)
    if extra:
        raise ValueError(f"unbound symbols {sorted(map(str, extra))}; bind parameters first")
    ops = _Ops(backend, exp_clip)
    body = _build(stabilize(expr) if stable else expr, {v: i for i, v in enumerate(variables)}, ops)

    def fn(*arrays):
        if backend == "numpy":
            arrays = tuple(as_float_array(a) for a in arrays)
            with np.errstate(all="ignore"):  # np.where evaluates both branches; the unselected one may overflow
                return _as_array(ops, arrays, body(arrays))
        out = _as_array(ops, arrays, body(arrays))
        if arrays[0].requires_grad and not out.requires_grad:  # a constant (piece): zero gradient, not none
            out = out + 0 * arrays[0]
        return out

    return fn
