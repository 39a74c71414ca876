"""sympy expressions to text and back, without eval.

``to_text`` is sympy's ``srepr``: nested constructor calls such as
``Add(Mul(Integer(2), Symbol('u', real=True)), Integer(-1))``. ``from_text`` parses that with
Python's ``ast`` and builds the expression from a fixed table of sympy constructors; any other
name, attribute, subscript or statement is refused. It reads febm's own derived-catalog file.
"""

from __future__ import annotations

import ast

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.numpy_nodes import logaddexp

from .numeric import log_cosh, wright_omega

_CONSTRUCTORS = {
    cls.__name__: cls
    for cls in (
        sp.Add, sp.Mul, sp.Pow, sp.Symbol, sp.Integer, sp.Rational, sp.Float, sp.exp, sp.log, sp.Abs, sp.sign,
        sp.sinh, sp.cosh, sp.tanh, sp.sin, sp.cos, sp.atan, sp.asinh, sp.atanh, sp.LambertW, sp.Piecewise,
        sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan, sp.Equality, sp.Unequality,
        sp.And, sp.Or, sp.Not, sp.Interval, sp.Tuple, sp.DiracDelta, sp.Heaviside, log1p, expm1, logaddexp,
        wright_omega, log_cosh,
        # what derivations of accepted input can produce besides: complex constants and branches
        sp.re, sp.im, sp.arg, sp.asin, sp.acos, sp.acosh, sp.atan2, sp.Min, sp.Max, sp.floor, sp.ceiling,
    )
}
_CONSTRUCTORS["ExprCondPair"] = sp.functions.elementary.piecewise.ExprCondPair
_SINGLETONS = {
    "Half": sp.S.Half, "One": sp.S.One, "Zero": sp.S.Zero, "NegativeOne": sp.S.NegativeOne, "Pi": sp.pi,
    "Exp1": sp.E, "Infinity": sp.oo, "NegativeInfinity": sp.S.NegativeInfinity, "ComplexInfinity": sp.zoo,
    "NaN": sp.nan, "BooleanTrue": sp.true, "BooleanFalse": sp.false, "EulerGamma": sp.EulerGamma,
    "ImaginaryUnit": sp.I, "Reals": sp.S.Reals,
}


class UnserializableError(ValueError):
    """An expression holds a sympy class outside the constructor table (raised where it is written,
    so that no file or worker message is made that cannot be read back)."""


def to_text(expr) -> str | None:
    if expr is None:
        return None
    for node in sp.preorder_traversal(expr):
        name = type(node).__name__
        if name not in _CONSTRUCTORS and name not in _SINGLETONS:
            raise UnserializableError(f"the derivation produced {name}, which febm cannot store")
    return sp.srepr(expr)


def from_text(text: str | None):
    if text is None:
        return None
    return _build(ast.parse(text, mode="eval").body)


_NAMES = {"oo": sp.oo, "zoo": sp.zoo, "nan": sp.nan, "true": sp.true, "false": sp.false, "pi": sp.pi, "E": sp.E,
          "I": sp.I, "Reals": sp.S.Reals}


def _build(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_build(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name in _SINGLETONS and not node.args and not node.keywords:
            return _SINGLETONS[name]
        if name not in _CONSTRUCTORS:
            raise ValueError(f"{name} is not an allowed constructor")
        args = [_build(a) for a in node.args]
        kwargs = {k.arg: _build(k.value) for k in node.keywords}
        return _CONSTRUCTORS[name](*args, **kwargs)  # re-evaluating a canonical form gives it back
    raise ValueError(f"unexpected {type(node).__name__} in a serialized expression")
