"""The whitelist parser: correct trees for valid input, one-line rejection for the rest,
and no evaluation of the text by Python or sympy's string parsers."""

import builtins
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sympy as sp
from hostile_inputs import GARBAGE
from hypothesis import given
from hypothesis import strategies as st

from febm.divergences import T, parse_expression
from febm.divergences.parser import MAX_DEPTH, MAX_LENGTH
from febm.divergences.resolve import resolve_fresh
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


PARSE_SECONDS = 2.0  # of CPU time for one parse: a bound on work, which other processes' load cannot move


FUNCTIONS = ["log", "exp", "sqrt", "abs", "atan", "sinh", "cosh", "tanh", "asinh", "sin", "cos", "log1p", "expm1"]


numbers = st.one_of(st.integers(0, 10**6).map(str), st.floats(0, 1e6, allow_nan=False).map(lambda x: f"{x:g}"),
                    st.sampled_from(["1e64", "1e-64", "1e65", "0.5", ".5", "3.", "pi", "e", "0"]))


atoms = st.one_of(numbers, st.just("t"), st.just("t"), st.just("(t-1)"))


def _compose(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(lambda x: f"{x[0]}{x[1]}{x[2]}"),
        st.tuples(children, st.sampled_from(["2", "3", "-1", "0.5", "64", "65", "(1/3)", "t"])).map(
            lambda x: f"({x[0]})**{x[1]}"),
        st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda x: f"{x[0]}({x[1]})"),
        children.map(lambda x: f"-({x})"),
    )


expressions = st.recursive(atoms, _compose, max_leaves=12)


def _check_parse(text):
    start = time.process_time()
    try:
        value = parse_expression(text, {"t": T})
    except InputError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
    else:
        assert isinstance(value, sp.Expr)
    assert time.process_time() - start < PARSE_SECONDS, text


@given(expressions)
def test_grammar_expressions_parse_or_are_refused(text):
    _check_parse(text)


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_is_refused(text):
    _check_parse(text)


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_is_refused_with_one_line(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _check_parse(text)
    assert not (tmp_path / "CANARY").exists()


@given(expressions)
def test_resolving_a_grammar_expression_raises_only_input_errors(text):
    """Resolution without the derivations (which the worker caps, tested below)."""
    try:
        resolve_fresh(text)
    except InputError:
        pass
