"""One LocalAnalysis behind check, atlas and confirm: no verdict without an equilibrium whose
residual meets its tolerance, no verdict from Jacobians that disagree, and a true message for
every kind of regularity of f at 1. The failing set-ups are built here as a user would."""

from __future__ import annotations

import math

import pytest
import torch

import febm
from febm.divergences import resolve
from febm.dynamics.analysis.local import EQUILIBRIUM_TOL, LocalAnalysis
from febm.dynamics.commands.atlas import atlas_row
from febm.dynamics.commands.check import check
from febm.errors import InputError
from febm.toy_models import GaussianEnergy1D, GaussianMixture, LinearCritic, polynomial
from febm.toy_models.energies import GridEnergy1D

D = torch.float64
EXPONENTIAL = {"stable", "unstable"}


def two_modes(means=(-1.0, 1.0), sd=0.7) -> febm.Setup:
    """A two-mode mixture against a Gaussian energy with a quartic polynomial critic, built the way
    docs/howto/add-toy-model.md says: the critic's size is set by the Setup."""
    start = torch.tensor([0.0, 0.5 * math.log(1 + means[1] ** 2), 0, 0, 0, 0, 0], dtype=D)
    data = GaussianMixture([0.5, 0.5], list(means), [sd, sd])
    return febm.Setup("two-modes", "mixture, Gaussian energy, quartic critic", GaussianEnergy1D(),
                      LinearCritic(polynomial(4)), data, start=start)


def not_normalizable() -> febm.Setup:
    """E = θx − x⁴/100 on a grid: exp(−E) grows at the grid's ends, so q_θ is not a density."""
    model = GridEnergy1D(lambda th, x: th[0] * x - x**4 / 100, dim=1, lo=-60.0, hi=60.0, n=120)
    return febm.Setup("quartic", "not normalizable", model, LinearCritic(polynomial(2)),
                      GaussianMixture([1.0], [0.0], [1.0]), start=torch.tensor([0.1, 0, 0, 0], dtype=D))


FAILING = [("pearson_chi2", two_modes((-2.0, 2.0), 0.5)), ("jeffreys", two_modes((-2.0, 2.0), 0.5)),
           pytest.param("kl", not_normalizable(), marks=pytest.mark.slow)]  # 10 s: the solver's full budget


def test_the_documented_setup_path_builds_without_with_dim():
    s = two_modes()
    assert s.critic.dim == 5


@pytest.mark.parametrize("name, s", FAILING, ids=["pearson-two-modes", "jeffreys-two-modes", "kl-quartic"])
def test_no_verdict_without_an_equilibrium(name, s):
    report = check(name, model=s, simulate_runs=False)
    assert report.verdict.value in ("no-equilibrium", "unreliable"), report.text()
    assert report.verdict.value not in EXPONENTIAL
    assert "STABLE" not in report.text().replace("UNSTABLE", "")
    d = report.to_json()
    assert d["predicted_rate"] is None and d["eta_max_simultaneous"] is None and d["critical_lr_ratios"] == []
    assert "NaN" not in report.json_text() and "Infinity" not in report.json_text()
    row = atlas_row(name, s, batch=1000)
    assert row.verdict == report.verdict.value and row.prediction == "fails"
    assert row.reasons == [report.reason]


def test_confirm_refuses_without_an_equilibrium():
    with pytest.raises(InputError, match="above the tolerance"):
        LocalAnalysis.build("jeffreys", two_modes((-2.0, 2.0), 0.5)).require()


@pytest.mark.parametrize("name, model", [("kl", "gaussian-1d"), ("reverse_kl", "shifted-linear"),
                                         ("jensen_shannon", "two-modes"), ("pearson_chi2", "two-modes")])
def test_check_and_atlas_agree(name, model):
    s = two_modes() if model == "two-modes" else febm.setup(model)
    report = check(name, model=s, simulate_runs=False)
    row = atlas_row(name, s, batch=1000)
    assert row.verdict == report.verdict.value
    want = report.eta_max_simultaneous
    assert row.eta_max_simultaneous == (None if want is None else pytest.approx(want, rel=1e-9))  # two solves
    assert row.equilibrium is (report.verdict.value in EXPONENTIAL | {"inconclusive"})


def test_a_verdict_comes_with_a_residual_under_the_tolerance():
    la = LocalAnalysis.build("jensen_shannon", two_modes())
    assert la.verdict == "stable"
    assert la.equilibrium.residual <= EQUILIBRIUM_TOL and la.jacobians_agree
    # the moment form and autodiff differ by the quadrature error of q's nodes, far below the margin
    assert la.worst_disagreement * la.jacobian_scale < abs(la.spectrum.transverse_max_real)


REGULARITY = [
    ("abs(t-1)**1.5", "infinite-curvature", "not-applicable", "f''(t) → ∞"),
    ("abs(t-1)", "kink", "not-applicable", "kink at t = 1"),
    ("(t-1)**4", "zero-curvature", "inconclusive", "f''(1) = 0"),
    ("(t-1)**2 + abs(t-1)*(t-1)", "jump-f2", "not-applicable", "f'' jumps at t = 1 (from 0 to 4)"),
    ("t*log(t) + abs(t-1)**3", "jump-higher", "stable", "f''' is discontinuous"),
]


@pytest.mark.parametrize("expr, kind, verdict, words", REGULARITY)
def test_each_kind_of_regularity_gets_its_own_true_message(expr, kind, verdict, words):
    d = resolve(expr)
    assert d.regularity[0] == kind and words in d.regularity[1]
    report = check(expr, simulate_runs=False)
    assert report.verdict.value == verdict
    if verdict != "stable":
        assert report.reason == d.regularity[1]
        assert atlas_row(expr, febm.setup("gaussian-1d"), batch=1000).reasons == [d.regularity[1]]
    assert "None" not in report.text()
    assert "h jumps" not in report.text()


def test_infinite_curvature_is_not_called_zero():
    text = check("abs(t-1)**1.5", simulate_runs=False).text()
    assert "∞" in text and "0 or undefined" not in text and "has a kink" not in text
