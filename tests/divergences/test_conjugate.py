"""The automatic conjugate: textbook forms, domains, verification, numeric fallback."""

import numpy as np
import pytest
import sympy as sp
import torch

from febm.divergences import S, T, resolve
from febm.divergences.catalog import ALPHA, CATALOG, alpha_conjugate, names
from febm.divergences.numeric import compile_expr
from febm.divergences.verify import direct_sup

S_GRID = np.concatenate([np.linspace(-12, 12, 97), [-2.0, -3.0, -0.5, 0.5, 1.0, np.log(2)]])


def _textbook(name):
    if name.startswith("alpha="):
        return alpha_conjugate(sp.Rational(name.split("=")[1]))
    return CATALOG[name].conjugate


def _compare(fstar, reference, s):
    got = fstar(s)
    with np.errstate(all="ignore"):
        want = compile_expr(reference, [S])(s)
    both_inf = np.isposinf(got) & np.isposinf(want)
    close = np.abs(got - want) <= 1e-9 * np.maximum(1, np.abs(want))
    return both_inf | close


WITH_TEXTBOOK = [n for n in names() if n != "alpha" and _textbook(n) is not None]


@pytest.mark.parametrize("name", WITH_TEXTBOOK)
def test_matches_textbook_conjugate(name):
    d = resolve(name)
    ok = _compare(d.function("f_star"), _textbook(name), S_GRID)
    assert ok.all(), S_GRID[~ok]


@pytest.mark.parametrize("name", [n for n in names()])
def test_every_catalog_conjugate_is_verified(name):
    check = resolve(name).conjugate_verification
    assert check.ok, check.detail
    assert check.sup_error < 1e-7 and check.fenchel_young_error < 1e-7


@pytest.mark.parametrize(
    "name, upper, closed",
    [
        ("kl", sp.oo, False),
        ("reverse_kl", 0, False),
        ("pearson_chi2", sp.oo, False),
        ("squared_hellinger", 1, False),
        ("neyman_chi2", 1, True),
        ("jensen_shannon", sp.log(2), False),
        ("gan", 0, False),
        ("total_variation", sp.Rational(1, 2), True),
        ("triangular", 1, True),
        ("le_cam", sp.Rational(1, 2), True),
        ("jeffreys", sp.oo, False),
        ("alpha=0.5", 2, False),
        ("alpha=2", sp.oo, False),
        ("alpha=-1", sp.Rational(1, 2), True),
    ],
)
def test_domain(name, upper, closed):
    dom = resolve(name).conjugate.domain
    assert dom.inf == -sp.oo
    if upper is sp.oo:
        assert dom.sup == sp.oo
    else:
        assert sp.simplify(dom.sup - upper) == 0
        assert bool(dom.right_open) is (not closed)


def test_pearson_is_constant_below_minus_two():
    fstar = resolve("pearson_chi2").function("f_star")
    np.testing.assert_allclose(fstar(np.array([-2.0, -3.0, -50.0])), -1.0)
    assert fstar(np.array([-1.0]))[0] == pytest.approx(-0.75)


def test_hellinger_is_infinite_from_one():
    fstar = resolve("squared_hellinger").function("f_star")
    assert np.isposinf(fstar(np.array([1.0, 1.5, 10.0]))).all()
    assert np.isfinite(fstar(np.array([0.999]))).all()


def test_total_variation_kink_segment():
    d = resolve("total_variation")
    assert [r.kind for r in d.conjugate.regions] == ["t->0", "kink", "infinite"]
    fstar = d.function("f_star")
    np.testing.assert_allclose(fstar(np.array([-0.5, -0.2, 0.0, 0.5])), [-0.5, -0.2, 0.0, 0.5])


def test_jeffreys_needs_lambert_w():
    d = resolve("jeffreys")
    assert d.conjugate.method == "symbolic" and d.conjugate.expr.has(sp.LambertW)


@pytest.mark.parametrize("name", ["triangular", "neyman_chi2", "alpha=-0.5"])
def test_several_roots_are_resolved(name):
    notes = " ".join(resolve(name).conjugate.notes)
    assert "roots" in notes and resolve(name).conjugate.method == "symbolic"


def test_cubic_with_complex_radicals_falls_back_to_numeric():
    d = resolve("symmetric_chi2")
    assert d.conjugate.method == "numeric"
    assert any("complex" in n for n in d.conjugate.notes)
    assert d.conjugate_verification.ok


def test_parametric_alpha_interior_formula():
    d = resolve("alpha")
    assert d.conjugate.regions is None and "alpha" in d.conjugate.domain_text
    for a in (sp.Rational(-1, 2), sp.Rational(1, 3), sp.Rational(5, 2)):
        for s in (sp.Rational(-1, 2), sp.Rational(1, 5)):
            got = d.conjugate.expr.subs({ALPHA: a, S: s})
            want = CATALOG["alpha"].conjugate.subs({ALPHA: a, S: s})
            assert abs(complex(sp.N(got - want, 30))) < 1e-20


@pytest.mark.parametrize("spec", ["alpha=1", "alpha=0"])
def test_alpha_limits_are_kl_and_reverse_kl(spec):
    d = resolve(spec)
    assert d.validate() and d.conjugate_verification.ok
    expected = T * sp.log(T) - T + 1 if spec == "alpha=1" else -sp.log(T) + T - 1
    assert sp.simplify(d.f - expected) == 0


USER = [
    ("t*log(t) - t + 1", "symbolic", sp.exp(S) - 1),
    pytest.param("cosh(log(t)) - 1", "symbolic", None, marks=pytest.mark.slow),  # 2nd of each kind: make test-all
    ("(t-1)*atan(t-1)", "numeric", None),
    pytest.param("t*log(t) + (t-1)**2*exp(-t)", "numeric", None, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("expr, method, closed_form", USER)
def test_user_generators_end_to_end(expr, method, closed_form):
    d = resolve(expr).validate()
    assert d.conjugate.method == method
    assert d.conjugate_verification.ok, d.conjugate_verification.detail
    if closed_form is not None:
        assert sp.simplify(d.conjugate.expr - closed_form) == 0


def test_atan_domain_is_closed_at_pi_over_two():
    d = resolve("(t-1)*atan(t-1)")
    assert d.conjugate.domain.sup == sp.pi / 2 and not d.conjugate.domain.right_open
    f_np = compile_expr(d.f, [T])
    fstar = d.function("f_star")
    # f*(pi/2) = lim (pi/2 t − f(t)) = 1 + pi/2
    assert fstar(np.array([np.pi / 2]))[0] == pytest.approx(1 + np.pi / 2, rel=1e-12)
    for s in (-2.0, -0.5, 0.3, 1.2):
        assert fstar(np.array([s]))[0] == pytest.approx(direct_sup(f_np, s), rel=1e-9)


@pytest.mark.parametrize("expr", ["(t-1)*atan(t-1)", "symmetric_chi2"])
def test_numeric_conjugate_in_torch_with_envelope_gradient(expr):
    d = resolve(expr)
    s = torch.tensor([-1.2, -1.0, 0.0, 0.7, 1.4], dtype=torch.float64, requires_grad=True)
    value = d.function("f_star", "torch")(s)
    np.testing.assert_allclose(value.detach().numpy(), d.function("f_star")(s.detach().numpy()), rtol=1e-10)
    (grad,) = torch.autograd.grad(value.sum(), s)
    # envelope theorem: df*/ds = t(s), the maximizer, which satisfies f'(t) = s
    fp = d.function("f_prime")
    np.testing.assert_allclose(fp(grad.numpy()), s.detach().numpy(), atol=1e-9)


def test_piecewise_conjugate_where_f_prime_misses_the_lower_line():
    """f = e^{t−1} − t: f' maps (0, ∞) onto (e^{−1} − 1, ∞) only, so f* is piecewise: the Legendre
    branch (1+s) log(1+s) above e^{−1} − 1 and −f(0⁺) = −1/e below, in closed form (the overflow of
    f' at the largest sample point once sent it to the numeric fallback), equal to the numeric sup."""
    d = resolve("exp(t-1) - t")
    assert d.conjugate.method == "symbolic" and d.conjugate.expr is not None
    edge = np.exp(-1) - 1
    s = np.concatenate([np.linspace(-5, edge, 9), np.linspace(edge + 1e-6, 30, 25)])
    got = compile_expr(d.conjugate.expr, [S])(s)
    closed = np.where(s <= edge, -np.exp(-1), (1 + s) * np.log(np.maximum(1 + s, 1e-300)))
    assert np.allclose(got, closed, rtol=1e-12, atol=1e-12)
    f_np = compile_expr(d.f, [T])
    numeric = np.array([direct_sup(f_np, v, xmax=6.0) for v in s])
    assert np.allclose(got, numeric, rtol=1e-8, atol=1e-9)
    assert d.conjugate_verification.ok


def test_show_says_no_closed_form_found_when_sympy_gives_up():
    from febm.dynamics.commands.catalog import show

    text = show("(t-1)*atan(t-1)").text()
    assert "f*(s)         = no closed form found: evaluated numerically" in text
    assert "no closed form found" not in show("exp(t-1) - t").text()


@pytest.mark.parametrize("expr, affine", [("t-1", True), ("3*(1-t)", True), ("kl", False),
                                          ("total_variation", False), ("(t-1)**4", False)])
def test_an_affine_generator_is_flagged(expr, affine):
    """f(t) = c (t − 1) gives D_f ≡ 0; a kinked or flat-at-1 f is not affine."""
    from febm.dynamics.commands.catalog import show

    report = show(expr)
    assert report.record.affine is affine
    assert ("!! affine" in report.text()) is affine
    if affine:  # the property itself: D_f(p‖q) = E_q[f(p/q)] vanishes for unequal p, q
        f = compile_expr(resolve(expr).f, [T])
        q = np.array([0.2, 0.3, 0.5])
        p = np.array([0.6, 0.1, 0.3])
        assert abs(np.sum(q * f(p / q))) < 1e-12


def test_check_flags_an_affine_generator():
    from febm.dynamics.commands.check import check

    assert "affine" in check("t-1").notes[0]
    assert not any("affine" in n for n in check("kl").notes)


def test_means_lines_call_u_the_critics_estimate_of_the_log_ratio():
    """u = H + E estimates log p/q; the lines must not describe u as the critic's distance from it."""
    for name in ("kl", "reverse_kl"):
        lines = resolve(name).tails.implications()
        exponential = [line for line in lines if "grows like e^" in line]
        assert exponential, name
        for line in exponential:
            assert "u = H + E is the critic's estimate of log p/q" in line
            assert "far above log p/q" not in line and "far below log p/q" not in line


def test_a_kink_explains_the_autodiff_finite_difference_gap():
    """total variation: f' jumps at 1, where r = 0 sits at the equilibrium, so central differences
    measure a jump, not a derivative: the gap is explained, not printed bare; a smooth f gets no note."""
    from febm.dynamics.commands.check import check

    report = check("total_variation")
    assert report.jacobian_agreement["autodiff_vs_fd"] > 1
    jacobian_line = next(line for line in report.text().splitlines() if line.startswith("  Jacobian"))
    assert "not a derivative" in jacobian_line
    assert any("kink" in n and "autodiff" in n for n in report.notes)
    smooth = check("kl")
    assert smooth.jacobian_agreement["autodiff_vs_fd"] < 1e-6
    assert not any("finite differences differ" in n for n in smooth.notes)
