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

import re
from collections.abc import Mapping

import sympy as sp

from .errors import InputError

MAX_LENGTH = 400
MAX_DEPTH = 40
MAX_EXPONENT = 64
MAX_DIGITS = 30

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

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|[-+*/()]))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into (kind, value) tokens; reject any character outside the grammar."""
    if len(text) > MAX_LENGTH:
        raise InputError(f"expression is longer than {MAX_LENGTH} characters")
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            hint = " (use ** for powers)" if bad == "^" else ""
            raise InputError(f"unexpected character {bad!r} at position {pos}{hint}")
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
            raise InputError("unexpected end of expression")
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
        if exponent.is_number and abs(float(exponent)) > MAX_EXPONENT:
            raise InputError(f"exponent {exponent} exceeds the limit of {MAX_EXPONENT}")
        if self.variables.get("t") in exponent.free_symbols:
            raise InputError("exponents may contain numbers and parameters only, not t")
        return base**exponent

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
            if self.peek()[1] != ")":
                raise InputError(f"{tok}() takes exactly one argument")
            self.take(")")
            return FUNCTIONS[tok](arg)
        if self.peek()[1] == "(":
            raise InputError(f"unknown function {tok!r}")
        if tok in self.variables:
            return self.variables[tok]
        if tok in CONSTANTS:
            return CONSTANTS[tok]
        if not self.variables:
            raise InputError(f"a number is expected, not the name {tok!r}")
        raise InputError(f"unknown name {tok!r} (allowed: {', '.join(sorted(self.variables))})")


def _number(tok: str) -> sp.Rational:
    digits = sum(ch.isdigit() for ch in tok.split("e")[0].split("E")[0])
    if digits > MAX_DIGITS:
        raise InputError(f"number {tok[:20]}... has more than {MAX_DIGITS} digits")
    if "e" in tok.lower() and abs(int(re.split("[eE]", tok)[1])) > MAX_EXPONENT:
        raise InputError(f"number {tok} is out of range")
    return sp.Rational(tok)  # exact: "0.5" -> 1/2, built from a validated literal


def parse_expression(text: str, variables: Mapping[str, sp.Symbol]) -> sp.Expr:
    """Parse ``text`` into a sympy expression over ``variables`` (name -> Symbol).

    Raises :class:`InputError` with a one-line reason for anything off the whitelist.
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
