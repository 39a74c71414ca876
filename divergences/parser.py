"""Whitelist parser for untrusted generator expressions such as ``"(t-1)*log(t)"``.

The text is tokenized and parsed by a small recursive-descent parser that builds sympy
objects directly. Nothing is handed to ``eval``, ``exec``, ``sympify`` or ``parse_expr``:
a token that is not on the whitelist is rejected before any sympy object exists.

Grammar (Python precedence; ``**`` is right-associative and binds tighter than unary minus)::

    expr  := term (("+" | "-") term)*
    term  := unary (("*" | "/") unary)*
    unary := ("+" | "-") unary | power
    power := atom ("**" unary)?
    atom  := NUMBER | NAME | FUNC "(" expr ")" | "(" expr ")"
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import sympy as sp

from ..errors import InputError, printable

MAX_LENGTH = 400
MAX_DEPTH = 40
MAX_EXPONENT = 64
MAX_DIGITS = 30
MAX_MAGNITUDE = 300  # |log10| of any constant: beyond float64's range nothing downstream can evaluate it

FUNCTIONS = {
    "log": sp.log,
    "exp": sp.exp,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "sin": sp.sin,
    "cos": sp.cos,
    "log1p": lambda x: sp.log(1 + x),
    "expm1": lambda x: sp.exp(x) - 1,
}
CONSTANTS = {"pi": sp.pi, "e": sp.E}

_TOKEN = re.compile(  # ASCII only: \d would accept other scripts' digits (t*1٠5 read as 105·t)
    r"[ \t]*(?:(?P<num>[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|[-+*/()]))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into (kind, value) tokens; reject any character outside the grammar."""
    if len(text) > MAX_LENGTH:
        raise InputError(f"expression is longer than {MAX_LENGTH} characters")
    tokens, pos = [], 0
    text = text.strip(" \t")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip(" \t")[:1]
            hint = " (use ** for powers)" if bad == "^" else ""
            kind = "non-ASCII character" if not bad.isascii() else "unexpected character"
            raise InputError(f"{kind} '{printable(bad)}' at position {pos}{hint}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    if not tokens:
        raise InputError("empty expression")
    return tokens


class _Parser:
    def __init__(self, tokens, variables: Mapping[str, sp.Symbol]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.variables = variables

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        kind, tok = self.peek()
        if kind is None:
            raise InputError("unclosed parenthesis" if value == ")" else "unexpected end of expression")
        if value is not None and tok != value:
            raise InputError(f"expected {value!r} but found {tok!r}")
        self.i += 1
        return kind, tok

    def nested(self, fn):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InputError(f"expression nests deeper than {MAX_DEPTH} levels")
        try:
            return fn()
        finally:
            self.depth -= 1

    def expr(self):
        node = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            node = node + rhs if op == "+" else node - rhs
        return node

    def term(self):
        node = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise InputError("division by zero")
            node = node * rhs if op == "*" else node / rhs
        return node

    def unary(self):
        if self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            operand = self.nested(self.unary)
            return -operand if op == "-" else operand
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[1] != "**":
            return base
        self.take()
        exponent = self.nested(self.unary)
        if self.variables.get("t") in exponent.free_symbols:
            raise InputError("exponents may contain numbers and parameters only, not t")
        check_power(base, exponent)
        return _real(base**exponent)

    def atom(self):
        kind, tok = self.take()
        if kind == "num":
            return _number(tok)
        if kind == "name":
            return self.name(tok)
        if tok == "(":
            node = self.nested(self.expr)
            self.take(")")
            return node
        raise InputError(f"unexpected token {tok!r}")

    def name(self, tok):
        if tok in FUNCTIONS:
            self.take("(")
            arg = self.nested(self.expr)
            if self.peek()[0] is None:
                raise InputError(f"unclosed parenthesis after {tok}(")
            if self.peek()[1] != ")":
                raise InputError(f"{tok}() takes exactly one argument")
            self.take(")")
            if tok in _GROWING and arg.is_number:
                _check_growth(tok, arg)
            return _real(FUNCTIONS[tok](arg))
        if self.peek()[1] == "(":
            raise InputError(f"unknown function {tok!r}")
        if tok in self.variables:
            return self.variables[tok]
        if tok in CONSTANTS:
            return CONSTANTS[tok]
        if not self.variables:
            raise InputError(f"a number is expected, not the name {tok!r}")
        raise InputError(f"unknown name {tok!r} (allowed: {', '.join(sorted(self.variables))})")


def _magnitude(x) -> float:
    """|log10 x| of a nonzero number, without evaluating x itself (it may be a tower)."""
    if x.is_Pow and x.base.is_number and x.exp.is_number:
        return abs(float(x.exp)) * _magnitude(x.base)
    value = abs(complex(sp.N(x, 15)))
    return 0.0 if value == 0 else abs(math.log10(value))


def check_power(base, exponent) -> None:
    """Refuse exponents beyond MAX_EXPONENT and constants beyond float64's range (towers)."""
    if exponent.is_number:
        if not exponent.is_real or exponent.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InputError(f"exponent {printable(str(exponent))} is not a finite real number")
        if abs(float(exponent)) > MAX_EXPONENT:
            raise InputError(f"exponent {exponent} exceeds the limit of {MAX_EXPONENT}")
        if base.is_number and base != 0 and abs(float(exponent)) * _magnitude(base) > MAX_MAGNITUDE:
            raise InputError(f"the number {printable(str(base))}**{exponent} is beyond float range")


def check_powers(expr) -> None:
    """check_power on every power inside ``expr`` (after a parameter is bound, say)."""
    for node in sp.preorder_traversal(expr):
        if node.is_Pow:
            check_power(node.base, node.exp)


_GROWING = ("exp", "cosh", "sinh", "expm1")  # of a constant beyond ±700 they leave float64's range


def _check_growth(name: str, arg) -> None:
    """Refuse exp(710100): sympy's own constructors would evaluate such a number (for minutes)."""
    value = sp.N(arg, 15)
    if value.is_real and abs(float(value)) > 700:
        raise InputError(f"{name}({printable(str(arg))}) is beyond float range")


def _real(node):
    """A constant must be a finite real number (log(-1), sqrt(-1) and 0**-1 are not)."""
    if node.is_number and (node.is_real is False or node.has(sp.I, sp.zoo, sp.nan)):
        raise InputError(f"{printable(str(node))} is not a finite real number")
    return node


def _number(tok: str) -> sp.Rational:
    digits = sum(ch.isdigit() for ch in tok.split("e")[0].split("E")[0])
    if digits > MAX_DIGITS:
        raise InputError(f"number {tok[:20]}... has more than {MAX_DIGITS} digits")
    if "e" in tok.lower() and abs(int(re.split("[eE]", tok)[1])) > MAX_EXPONENT:
        raise InputError(f"number {tok} is out of range")
    return sp.Rational(tok)  # exact: "0.5" -> 1/2, built from a validated literal


def parse_expression(text: str, variables: Mapping[str, sp.Symbol]) -> sp.Expr:
    """Parse ``text`` into a sympy expression over ``variables`` (name -> Symbol).

    Raises `InputError` with a one-line reason for anything off the whitelist.
    """
    if not isinstance(text, str):
        raise InputError("expression must be a string")
    parser = _Parser(tokenize(text), variables)
    node = parser.expr()
    if parser.i != len(parser.tokens):
        raise InputError(f"unexpected token {parser.tokens[parser.i][1]!r}")
    return node


def parse_number(text: str) -> sp.Expr:
    """Parse a constant such as ``-0.5`` or ``1/3`` (same whitelist, no variables)."""
    value = parse_expression(text, {})
    if not value.is_real:
        raise InputError(f"{text!r} is not a real number")
    return value
