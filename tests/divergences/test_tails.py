"""How fast the links g, h and their derivatives grow in each tail (divergences/tails.py): the
known tails of the catalog, growth classes, symbolic against numeric, faster than any exponential."""


import pytest
import sympy as sp

from febm.divergences import U, resolve
from febm.divergences.tails import growth, link_tails

from problems import SMOOTH


@pytest.mark.parametrize("expr, kind", [
    (sp.exp(sp.exp(U) - U), "superexponential"), (sp.exp(U**2), "superexponential"),
    (sp.exp(2 * U), "exponential"), (U**3, "polynomial"), (sp.log(1 + U**2), "logarithmic"), (sp.exp(-U), "bounded"),
])
def test_link_growth_faster_than_any_exponential_is_not_called_bounded(expr, kind):
    from febm.divergences.tails import growth

    assert growth(expr, 1).kind == kind


def test_a_superexponential_link_makes_every_reachable_moment_infinite():
    import torch

    from febm.divergences.tails import Growth, LinkTails

    tails = LinkTails({(k, s): Growth("superexponential", s * float("inf")) if k == "h_prime" and s == 1
                       else Growth("bounded", 0.0) for k in ("g", "h", "g_prime", "h_prime") for s in (1, -1)})
    assert tails.rate("h_prime", 1) == float("inf")
    assert any("faster than any exponential" in line for line in tails.implications())
    rho, k = torch.tensor([0.0, 0.5]), tails.rate("h_prime", 1)
    k_rho = torch.where(rho == 0, torch.zeros_like(rho), k * rho)  # the finiteness rule's product
    assert k_rho.tolist() == [0.0, float("inf")]


# --- link tails -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, link, side, kind, rate", [
    ("pearson_chi2", "h_prime", 1, "exponential", 2.0),
    ("neyman_chi2", "g_prime", -1, "exponential", -2.0),
    ("alpha=-0.5", "g_prime", -1, "exponential", -1.5),
    ("squared_hellinger", "h_prime", 1, "exponential", 0.5),
    ("kl", "g", 1, "polynomial", 0.0),
    ("jensen_shannon", "g_prime", -1, "bounded", 0.0),
    ("triangular", "h", 1, "bounded", 0.0),
    ("total_variation", "g_prime", 1, "zero", 0.0),
])
def test_known_link_tails(name, link, side, kind, rate):
    got = link_tails(resolve(name))[(link, side)]
    assert got.kind == kind and (kind != "exponential" or got.rate == rate)


def test_growth_classes_on_plain_expressions():
    from febm.divergences import U

    assert growth(U**3 + U, 1).degree == 3
    assert growth(2 * U + 5, -1).kind == "polynomial"
    assert growth(U - sympy_log_one_plus_exp(), 1).kind == "bounded"  # u − log(1 + e^u) → 0
    assert growth(U / (1 + U**2) + 3, 1).kind == "bounded"


def sympy_log_one_plus_exp():
    import sympy as sp

    from febm.divergences import U

    return sp.log(1 + sp.exp(U))


@pytest.mark.parametrize("name", SMOOTH)
def test_symbolic_and_numeric_tails_agree(name):
    numeric, symbolic = link_tails(resolve(name)), link_tails(resolve(name), method="symbolic")
    for key, g in numeric.by_link.items():
        assert (g.kind, g.rate) == (symbolic[key].kind, pytest.approx(symbolic[key].rate, abs=1e-9)), key
