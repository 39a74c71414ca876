"""The f-EBM links g(u) = f'(e^u), h(u) = f*(f'(e^u)) and their numeric callables.

Identities from THEORY.md, checked for every catalog entry at random points, and
agreement of numpy, torch and 30-digit sympy evaluation to 1e-12 in float64.
"""

import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from febm.divergences import S, U, names, resolve
from febm.divergences.catalog import ALPHA, CATALOG
from febm.divergences.numeric import compile_expr

BOUND = [n for n in names() if n != "alpha"]
SMOOTH = [n for n in BOUND if n != "total_variation"]
u_values = st.floats(min_value=-50, max_value=50, allow_nan=False)
t_values = st.floats(min_value=1e-4, max_value=1e4, allow_nan=False)


def _close(a, b, tol=1e-12):
    return abs(a - b) <= tol * max(1.0, abs(b))


def _sympy_value(expr, var, x):
    return complex(sp.N(expr.subs(var, sp.Float(x, 40)), 40)).real


@pytest.mark.parametrize("name", [n for n in names() if CATALOG.get(n) and CATALOG[n].links])
def test_links_match_theory_table(name):
    d = resolve(name)
    g_ref, h_ref, f2_ref = CATALOG[name].links
    for expr, ref in ((d.g, g_ref), (d.h, h_ref), (d.f2_at_1, f2_ref)):
        for a in ((sp.Rational(1, 3),), (sp.Rational(5, 2),), (sp.Rational(-2),)):
            diff = (expr - ref).subs({ALPHA: a[0]})
            for u in (sp.Rational(-3, 2), sp.Rational(1, 5), sp.Integer(2)):
                assert abs(complex(sp.N(diff.subs(U, u), 30))) < 1e-20


@pytest.mark.parametrize("name", SMOOTH + ["alpha"])
def test_link_identities_at_zero(name):
    d = resolve(name)
    f2, f3 = d.f2_at_1, d.f3_at_1
    at0 = {U: 0}
    assert sp.simplify(d.g_prime.subs(at0) - f2) == 0  # g'(0) = f''(1)
    assert sp.simplify(d.h_prime.subs(at0) - f2) == 0  # h'(0) = f''(1)
    assert sp.simplify(d.h.subs(at0) - d.f_prime.subs(sp.Symbol("t", positive=True), 1)) == 0  # h(0) = f'(1)
    assert sp.simplify(sp.diff(d.g, U, 2).subs(at0) - (f3 + f2)) == 0  # g''(0) = f'''(1) + f''(1)


@pytest.mark.parametrize("name", BOUND)
@given(u=u_values)
def test_h_prime_is_exp_times_g_prime(name, u):
    d = resolve(name)
    g1 = d.function("g_prime")(np.array([u]))[0]
    h1 = d.function("h_prime")(np.array([u]))[0]
    assert _close(h1, np.exp(u) * g1, 1e-11)


@pytest.mark.parametrize("name", BOUND)
@given(u=st.floats(min_value=-10, max_value=10))
def test_h_is_conjugate_of_g(name, u):
    """h(u) = f*(g(u)): the links agree with the derived conjugate (Fenchel–Young).

    Near the end of dom f* the composition is ill-conditioned (g(u) -> b as u -> oo, and
    f* varies fast there), so this identity is checked on a moderate range of u.
    """
    d = resolve(name)
    if name == "total_variation" and abs(u) < 1e-12:
        return  # g(0) is a whole subdifferential at the kink
    g = d.function("g")(np.array([u]))
    h = d.function("h")(np.array([u]))[0]
    assert _close(d.function("f_star")(g)[0], h, 1e-9)


@pytest.mark.parametrize("name", BOUND)
@given(u=u_values)
def test_numpy_torch_sympy_agree(name, u):
    d = resolve(name)
    for key in ("g", "h", "g_prime", "h_prime"):
        expr = getattr(d, key)
        np_value = d.function(key)(np.array([u]))[0]
        torch_value = d.function(key, "torch")(torch.tensor([u], dtype=torch.float64)).item()
        exact = _sympy_value(expr, U, u)
        assert _close(np_value, exact), (key, np_value, exact)
        assert _close(torch_value, exact), (key, torch_value, exact)


@pytest.mark.parametrize("name", [n for n in BOUND if resolve(n).conjugate.method == "symbolic"])
@given(x=st.floats(min_value=-50, max_value=50, allow_nan=False))
def test_conjugate_numpy_torch_sympy_agree(name, x):
    x = round(x, 6)  # keeps the 40-digit reference away from subnormal gaps to the domain end
    d = resolve(name)
    expr = d.conjugate.expr
    np_value = d.function("f_star")(np.array([x]))[0]
    torch_value = d.function("f_star", "torch")(torch.tensor([x], dtype=torch.float64)).item()
    exact = float(sp.N(expr.subs(S, sp.Float(x, 40)), 40)) if expr.subs(S, x) != sp.oo else np.inf
    if np.isinf(exact):
        assert np.isposinf(np_value) and np.isposinf(torch_value)
    else:
        assert _close(np_value, exact) and _close(torch_value, exact)


@pytest.mark.parametrize("name", BOUND)
@given(s=st.floats(min_value=-30, max_value=30), t=t_values)
def test_fenchel_young_inequality(name, s, t):
    d = resolve(name)
    fstar = d.function("f_star")(np.array([s]))[0]
    f = d.function("f")(np.array([t]))[0]
    assert fstar + f >= s * t - 1e-9 * max(1.0, abs(s * t))


@pytest.mark.parametrize("name", SMOOTH)
@given(t=t_values)
def test_fenchel_young_equality(name, t):
    d = resolve(name)
    s = d.function("f_prime")(np.array([t]))
    lhs = d.function("f_star")(s)[0] + d.function("f")(np.array([t]))[0]
    assert _close(lhs, s[0] * t, 1e-9)


@pytest.mark.parametrize("name", BOUND)
def test_no_overflow_or_nan_over_u_range(name):
    d = resolve(name)
    u = np.linspace(-50, 50, 2001)
    ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    for key in ("g", "h", "g_prime", "h_prime"):
        assert np.isfinite(d.function(key)(u)).all(), key
        value = d.function(key, "torch")(ut)
        assert torch.isfinite(value).all(), key
        if value.requires_grad:  # a constant link (e.g. KL's g' = 1) has no graph
            (grad,) = torch.autograd.grad(value.sum(), ut)
            assert torch.isfinite(grad).all(), key


@pytest.mark.parametrize("name", ["kl", "jensen_shannon", "squared_hellinger", "alpha=0.5", "jeffreys"])
def test_float32_keeps_dtype(name):
    d = resolve(name)
    u32 = np.linspace(-4, 4, 101, dtype=np.float32)  # f*(g(u)) is ill-conditioned near dom f*'s end
    for key in ("g", "h", "f_star"):
        arg = u32 if key != "f_star" else d.function("g")(u32)
        value = d.function(key)(arg)
        assert value.dtype == np.float32 and np.isfinite(value).all()
        tvalue = d.function(key, "torch")(torch.from_numpy(arg))
        assert tvalue.dtype == torch.float32
        np.testing.assert_allclose(tvalue.numpy(), value, rtol=1e-5, atol=1e-5)


def test_stable_forms_keep_relative_precision_near_zero():
    """expm1/log1p forms: g(u) ~ f''(1) u for tiny u, with full relative precision."""
    for name in ("pearson_chi2", "squared_hellinger", "neyman_chi2", "alpha=0.9"):
        d = resolve(name)
        u = np.array([1e-12])
        expected = float(d.f2_at_1) * 1e-12
        assert d.function("g")(u)[0] == pytest.approx(expected, rel=1e-9)


def test_compile_rejects_unbound_parameters():
    with pytest.raises(ValueError, match="bind"):
        resolve("alpha").function("g")
    with pytest.raises(ValueError, match="unbound"):
        compile_expr(ALPHA * U, [U])


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "symmetric_chi2", "alpha=-1"])
def test_clipped_links_match_sympy_and_the_exact_links_inside_the_clip(name):
    """exp_clip = c: every exp(a) in a link evaluates exp(clip(a, −c, c)) (the reference's
    stable_exp). Checked against sympy's evaluation of the same rewrite at 30 digits, and equal to
    the exact link where no exponent reaches c (these links' exponents are ±u/2 … ±2u)."""
    d, c = resolve(name).validate(), 5.0
    inside = torch.linspace(-c / 2, c / 2, 101, dtype=torch.float64)
    points = [-200.0, -50.0, -3.0, 0.5, 3.0, 50.0, 200.0]
    for link in ("g", "h"):
        exact, clipped = d.function(link, "torch"), d.function(link, "torch", exp_clip=c)
        assert torch.allclose(clipped(inside), exact(inside), rtol=1e-12, atol=1e-12), link
        rewritten = getattr(d, link).replace(sp.exp, lambda a: sp.exp(sp.Max(-c, sp.Min(c, a))))
        want = [_sympy_value(rewritten, U, x) for x in points]
        got = clipped(torch.tensor(points, dtype=torch.float64)).tolist()
        assert all(_close(a, b) for a, b in zip(got, want)), (link, got, want)


def test_exp_clip_is_for_links_and_positive():
    d = resolve("kl")
    with pytest.raises(ValueError):
        d.function("f", "torch", exp_clip=5.0)
    with pytest.raises(ValueError):
        d.function("g", "torch", exp_clip=0.0)


def test_a_link_at_a_joined_kink_has_its_derivatives_exactly_there():
    """f = t log t + |t − 1|³ is built by pieces, with a value of its own at u = 0; whether a node's
    r = H + E rounds to exactly 0 depends on the CPU. There g' and its autodiff derivative must be the
    limits from both sides (g'(0) = f''(1) = 1), not 0 (which made check UNRELIABLE on some CPUs)."""
    import torch

    from febm.divergences import resolve

    d = resolve("t*log(t) + abs(t-1)**3").validate()
    for name in ("g", "g_prime", "h_prime"):
        fn = d.function(name, "torch")
        values, slopes = [], []
        for u0 in (0.0, 1e-13, -1e-13):
            u = torch.tensor([u0], dtype=torch.float64, requires_grad=True)
            v = fn(u)
            values.append(float(v.detach()))
            slopes.append(float(torch.autograd.grad(v.sum(), u)[0]))
        assert values[0] == pytest.approx(values[1], abs=1e-9) == pytest.approx(values[2], abs=1e-9)
        assert slopes[0] == pytest.approx((slopes[1] + slopes[2]) / 2, abs=1e-6)


# --- accurate links -------------------------------------------------------------------------------
USER = ["(t-1)*atan(t-1)", "log(cosh(t-1))", "t*log(t) - log(t)", "(t-1)**2/(t+1)", "(sqrt(t)-1)**2*(t+1)"]


U_GRID = np.linspace(-50.0, 50.0, 41)


def _truth(expr, u):
    # hundreds of digits: 1 − tanh²(e^u − 1) cancels ~0.87·e^u of them (about 130 at u = 5)
    v = sp.N(expr.subs(U, sp.Float(u, 900)), 400 + 10 * int(abs(u)))
    return float(v) if v.is_real and v.is_finite else math.nan


@pytest.mark.parametrize("name", [n for n in names() if not resolve(n).params] + [
    pytest.param(u, marks=pytest.mark.slow) if u == "log(cosh(t-1))" else u for u in USER])  # its derivation: 10 s
def test_links_are_accurate_and_finite_in_both_libraries_and_dtypes(name):
    """Float64: relative error ≤ 1e-10 wherever the truth is finite; float32: finite there, and
    within 1e-5 where the truth is representable; torch gradients finite wherever the value is."""
    d = resolve(name)
    for link in ("g", "h", "g_prime", "h_prime"):
        truth = np.array([_truth(getattr(d, link), u) for u in U_GRID])
        finite = np.isfinite(truth)
        got = d.function(link)(U_GRID)
        scale = np.maximum(np.abs(truth[finite]), 1e-300)
        assert np.all(np.isfinite(got[finite])), (name, link)
        assert np.max(np.abs(got[finite] - truth[finite]) / scale) <= 1e-10, (name, link)
        x = torch.tensor(U_GRID, requires_grad=True)
        value = d.function(link, "torch")(x)
        value.sum().backward()
        assert torch.allclose(value.detach(), torch.tensor(got), rtol=1e-12, atol=1e-300, equal_nan=True)
        assert torch.isfinite(x.grad[torch.isfinite(value)]).all(), (name, link)
        small = torch.tensor(U_GRID, dtype=torch.float32)
        got32 = d.function(link, "torch")(small).double().numpy()
        representable = finite & (np.abs(truth) < 1e37) & (np.abs(truth) > 1e-30)
        assert np.all(np.isfinite(got32[representable])), (name, link, "float32")
        rel = np.abs(got32[representable] - truth[representable]) / np.abs(truth[representable])
        assert np.max(rel, initial=0.0) <= 1e-5, (name, link, "float32")
