"""Validation of generators: f(1) = 0, realness, convexity (proved or grid-checked), smoothness."""


import pytest
import sympy as sp

from febm.divergences import T, resolve
from febm.divergences.catalog import names
from febm.divergences.fresh import resolve_fresh
from febm.errors import InputError


@pytest.mark.parametrize("name", names())
def test_catalog_entries_validate(name):
    d = resolve(name).validate()
    assert d.validation["f_at_1"].ok and d.validation["convex"].ok and d.validation["real"].ok


@pytest.mark.parametrize(
    "expr, fragment",
    [
        ("(t-1)**2 + 1", "f(1) = 1, not 0"),
        ("t*log(t) - (t+1)*log(t+1)", "not 0"),  # raw f-GAN generator: f(1) = -log 4
        ("1 - t**2", "f''(1e-06) = -2"),
        ("log(t)**2", "< 0"),
        ("log(t-2)", "not finite and real"),
        ("sqrt(1-t)", "not finite and real"),
        ("-abs(t-1)", "jumps down"),
    ],
)
def test_invalid_generators_are_rejected(expr, fragment):
    with pytest.raises(InputError, match=None) as info:
        resolve(expr).validate()
    assert fragment in str(info.value)


def test_convexity_method_is_reported():
    assert resolve("kl").validation["convex"].method == "symbolic"
    numeric = resolve_fresh("t*log(t) + (t-1)**2*exp(-t)").validation["convex"]  # parsed only: no conjugate
    assert numeric.ok and numeric.method == "numeric"
    assert resolve("alpha").validation["convex"].detail.startswith("holds at alpha=")


def test_overflow_is_not_mistaken_for_non_real():
    # cosh overflows float64 near t = 710; parsed only: the validation needs no conjugate
    d = resolve_fresh("(t-1)*atan(t-1) + cosh(t-1) - 1")
    assert d.validation["real"].ok


@pytest.mark.parametrize(
    "expr, f2, f3",
    [
        ("kl", 1, -1),
        ("reverse_kl", 1, -2),
        ("pearson_chi2", 2, 0),
        ("jeffreys", 2, -3),
        ("jensen_shannon", sp.Rational(1, 2), -sp.Rational(3, 4)),
        ("alpha=0.5", 1, -sp.Rational(3, 2)),
    ],
)
def test_derivatives_at_one(expr, f2, f3):
    d = resolve(expr)
    assert d.f2_at_1 == f2 and d.f3_at_1 == f3 and d.validation["smooth_at_1"].ok


def test_kink_is_a_finding_not_a_crash():
    d = resolve("total_variation")
    assert d.f2_at_1 is None
    check = d.validation["smooth_at_1"]
    assert not check.ok and check.method == "finding" and "kink" in check.detail
    assert d.validate() is d  # still a valid f-divergence


def test_flat_second_derivative_is_a_finding():
    d = resolve("(t-1)**4")
    assert d.f2_at_1 == 0
    assert "f''(1) = 0" in d.validation["smooth_at_1"].detail and not d.validation["smooth_at_1"].ok


def test_jump_in_second_derivative():
    d = resolve_fresh("abs(t-1)**3 + (t-1)**2")  # parsed only: smoothness needs no conjugate
    assert d.f2_at_1 == 2  # |t-1|^3 is twice differentiable at 1
    d = resolve_fresh("(t-1)*abs(t-1) + (t-1)**2")  # f'' jumps from 0 to 4
    assert d.f2_at_1 is None and d.regularity[0] == "jump-f2" and "jumps" in d.validation["smooth_at_1"].detail


def test_alpha_family_binding():
    d = resolve("alpha=2")
    assert sp.simplify(d.f - (resolve("pearson_chi2").f / 2)) == 0
    with pytest.raises(InputError, match="unknown family"):
        resolve("beta=2")
    with pytest.raises(InputError):
        resolve("alpha=t")


def test_register_divergence_names_a_users_generator():
    import febm
    from febm.divergences import resolve

    d = febm.register_divergence("my_kl2", "2*t*log(t) - 2*t + 2")
    assert resolve("my_kl2") is d and d.name == "my_kl2" and float(d.f2_at_1) == 2
    assert febm.check("my_kl2", "gaussian-1d", simulate_runs=False).name == "my_kl2"
    assert resolve("2*t*log(t) - 2*t + 2").name != "my_kl2"  # the expression keeps its own name
    for bad_name, expr in (("kl", "t*log(t)"), ("2x", "t*log(t)"), ("my_kl2", "(t-1)**2")):
        with pytest.raises(febm.InputError):
            febm.register_divergence(bad_name, expr)
    with pytest.raises(febm.InputError):
        febm.register_divergence("concave", "-(t-1)**2")  # validated now, not at first use


def test_kinks_are_located_with_symbolic_steps_off(monkeypatch):
    """The reported valid generator was refused on the numeric path ("cannot locate the kinks")."""
    from febm.divergences import symbolic
    from febm.divergences.pieces import _sign_changes, kinks
    from febm.divergences.resolve import resolve_fresh

    monkeypatch.setitem(symbolic.SYMBOLIC, "enabled", False)
    d = resolve_fresh("t**3*cosh(t-1) - 3*t - log(t) + cosh(abs(t-1)) + 1")
    assert kinks(d.f) == [1]
    assert d.conjugate_verification.ok
    # sympy finds no closed form here: the grid's sign change, refined
    (root,) = _sign_changes(sp.Abs(T**5 - T - 1 + sp.sin(T) / 10))
    assert abs(float((T**5 - T - 1 + sp.sin(T) / 10).subs(T, root))) < 1e-12
