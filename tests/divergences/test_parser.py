"""The whitelist parser: correct trees for valid input, one-line rejection for the rest,
and no evaluation of the text by Python or sympy's string parsers."""

import builtins
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from febm.divergences import T, parse_expression
from febm.divergences.parser import MAX_DEPTH, MAX_LENGTH
from febm.errors import InputError

V = {"t": T}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(t-1)*log(t)", (T - 1) * sp.log(T)),
        ("-t**2", -(T**2)),
        ("2**-1*t", T / 2),
        ("t/2/2", T / 4),
        ("2**3**2", sp.Integer(512)),
        ("0.5*t", T / 2),
        ("1e-2*t", T / 100),
        ("log1p(t)", sp.log(1 + T)),
        ("expm1(t)", sp.exp(T) - 1),
        ("abs(t-1)/2", sp.Abs(T - 1) / 2),
        ("pi*t + e", sp.pi * T + sp.E),
        (" t * ( t + 1 ) ", T * (T + 1)),
    ],
)
def test_parses_to_the_expected_tree(text, expected):
    assert sp.simplify(parse_expression(text, V) - expected) == 0


INJECTIONS = [
    "__import__('os').system('touch /tmp/febm_pwned')",
    "__import__",
    "t.__class__",
    "exec('1')",
    "eval('t')",
    "lambda: 1",
    "[t for t in ()]",
    "t; import os",
    "t if t else 1",
    "open('/etc/passwd')",
    "t**t",
    "t^2",
    "log(t, 2)",
    "f(t)",
    "sympify('t')",
    "t @ t",
    "t == 1",
    "",
    "(",
    "t)",
    "1/0",
    "exp(t)**1000",
    "1e999",
    "1" * 40,
    "t" + "+t" * MAX_LENGTH,
    "(" * (MAX_DEPTH + 1) + "t" + ")" * (MAX_DEPTH + 1),
    "-" * (MAX_DEPTH + 2) + "t",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_rejects_with_one_line(text):
    with pytest.raises(InputError) as info:
        parse_expression(text, V)
    assert "\n" not in str(info.value) and str(info.value)


_AUDIT = {"active": False, "events": []}


def _audit(event, args):
    if _AUDIT["active"] and event in ("compile", "exec"):
        _AUDIT["events"].append(event)


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one is gated by _AUDIT


@contextmanager
def no_compile_or_exec():
    """Record Python's compile/exec audit events (raised by eval, exec, parse_expr, ...)."""
    _AUDIT["events"].clear()
    _AUDIT["active"] = True
    try:
        yield _AUDIT["events"]
    finally:
        _AUDIT["active"] = False


@contextmanager
def string_evaluators_forbidden():
    """Make every string-evaluating entry point fail loudly inside the block."""
    import sympy.parsing.sympy_parser as sympy_parser

    def forbidden(*args, **kwargs):
        raise AssertionError("a string evaluator was called")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "eval", forbidden)
        mp.setattr(builtins, "exec", forbidden)
        mp.setattr(sp, "sympify", forbidden)
        mp.setattr(sympy_parser, "parse_expr", forbidden)
        yield


@pytest.mark.parametrize("text", INJECTIONS + ["(t-1)*log(t)", "t*log(t)-(t+1)*log(t+1)+2*log(2)"])
def test_never_evaluates_strings(text):
    canary = Path("/tmp/febm_pwned")
    canary.unlink(missing_ok=True)
    with string_evaluators_forbidden(), no_compile_or_exec() as events:
        try:
            parse_expression(text, V)
        except InputError:
            pass
    assert events == []
    assert not canary.exists()


def test_audit_hook_sees_sympify_on_text():
    """The guard above is live: sympy's own string parser does trigger it."""
    with no_compile_or_exec() as events:
        sp.parse_expr("t + 1")
    assert events


@given(st.text(alphabet="t()+-*/.e0123456789logexpsqrt_ ,'\"[];:=^@", max_size=60))
def test_arbitrary_text_is_parsed_or_rejected_cleanly(text):
    try:
        result = parse_expression(text, V)
    except InputError:
        return
    assert isinstance(result, sp.Basic)
    assert result.free_symbols <= {T}


def test_parameters_must_be_declared():
    alpha = sp.Symbol("alpha")
    assert parse_expression("t**alpha", {"t": T, "alpha": alpha}) == T**alpha
    with pytest.raises(InputError, match="unknown name 'alpha'"):
        parse_expression("t**alpha", V)
