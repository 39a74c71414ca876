"""Spectra, step-size limits, critical ratios, and simulations that confirm them."""

import math
from pathlib import Path

import numpy as np
import pytest

from febm.dynamics.analysis import equilibrium, jacobian, simulate, spectrum
from febm.dynamics.analysis.fields import AlternatingMap, SimultaneousMap
from febm.dynamics.commands.check import check

from problems import NUMERIC_CONJUGATE, cached_setup, field, game


def _unit_jacobian(name, model):
    return jacobian.autodiff(field(name, model), cached_setup(model).z_star).numpy()


def _gauge(name, model):
    F = field(name, model)
    z = cached_setup(model).z_star
    return equilibrium.gauge_directions(F, z, jacobian.autodiff(F, z))


def test_eta_max_simultaneous_is_the_stability_edge():
    G = _unit_jacobian("kl", "gaussian-1d")
    eta = spectrum.eta_max_simultaneous(G)
    lam = np.linalg.eigvals(G)
    assert math.isclose(eta, np.min(2 * np.abs(lam.real) / np.abs(lam) ** 2))
    eye = np.eye(len(G))
    rho = spectrum.spectral_radius
    assert rho(eye + 0.999 * eta * G) < 1 < rho(eye + 1.001 * eta * G)


@pytest.mark.parametrize("ratio", [0.5, 1.0, 3.0])
def test_eta_max_alternating_is_the_stability_edge(ratio):
    G = _unit_jacobian("jensen_shannon", "gaussian-2d")
    n = game("jensen_shannon", "gaussian-2d").dim_theta
    eta = spectrum.eta_max_alternating(G, n, ratio)

    def rho(e):
        return spectrum.spectral_radius(spectrum.alternating_matrix(G, n, e, ratio * e))

    assert all(rho(e) < 1 for e in np.linspace(0.01, 0.999, 40) * eta)
    assert rho(1.001 * eta) > 1


def test_alternating_matrix_is_the_linearized_alternating_step():
    gm = game("kl", "gaussian-1d")
    z = cached_setup("gaussian-1d").z_star
    step = AlternatingMap(gm, 0.2, 0.35)
    M = jacobian.autodiff(step, z).numpy()
    expected = spectrum.alternating_matrix(_unit_jacobian("kl", "gaussian-1d"), gm.dim_theta, 0.2, 0.35)
    assert np.allclose(M, expected, atol=1e-12)


def test_shifted_linear_critical_ratio_matches_its_formula():
    """THEORY's counterexample: E = x²/2 + θ(x + c0), H = −x²/2 + ω k(x + c0).

    The feature x + c0 under N(0, 1) has mean μ = c0 and variance v = 1, so C − μμᵀ = v − μ² < 0.
    The 2×2 Jacobian has trace (μ² − v) − ratio·k²(v + μ²): unstable below ratio (μ² − v)/(k²(v + μ²)).
    """
    c0, k = 3.0, 0.5
    G = _unit_jacobian("kl", "shifted-linear")
    ratios = spectrum.critical_ratios(G, 1)
    assert len(ratios) == 1
    assert math.isclose(ratios[0], (c0**2 - 1) / (k**2 * (1 + c0**2)), rel_tol=1e-10)
    J1 = spectrum.flow_jacobian(G, 1, 1.0, 1.0)
    J5 = spectrum.flow_jacobian(G, 1, 1.0, 5.0)
    assert spectrum.analyse(J1).verdict == "unstable"
    assert spectrum.analyse(J5).verdict == "stable"


def test_gauge_direction_is_found_and_factored_out():
    """E + c and H = ω0 + ...: (c, ω0) → (c + δ, ω0 − δ) leaves the game unchanged."""
    gm = game("kl", "gauge")
    basis = _gauge("kl", "gauge")
    assert basis.shape[1] == 1
    v = basis[:, 0] / basis[gm.dim_theta - 1, 0]
    expected = np.zeros(gm.dim_theta + gm.dim_omega)
    expected[gm.dim_theta - 1], expected[gm.dim_theta] = 1.0, -1.0  # c is θ's last, ω0 is ω's first
    assert np.allclose(v, expected, atol=1e-10)
    G = _unit_jacobian("kl", "gauge")
    # at equal rates the (c, ω0) block [[1, 1], [−1, −1]] is nilpotent: a double zero eigenvalue
    # that rounding splits to ~±1e-8, which is why the verdict is taken on the quotient
    assert np.sum(np.abs(np.linalg.eigvals(G)) < 1e-6) == 2
    assert spectrum.critical_ratios(G, gm.dim_theta, basis) == pytest.approx([1.0], rel=1e-9)


@pytest.mark.parametrize("ratio, verdict", [(2.0, "stable"), (0.5, "unstable"), (1.0, "inconclusive")])
def test_gauge_model_needs_the_critic_faster(ratio, verdict):
    """The (c, ω0) block is f''(1)[[η_θ, η_θ], [−η_ω, −η_ω]]: eigenvalue f''(1)(η_θ − η_ω)."""
    report = check("kl", "gauge", ratio, simulate_runs=False)
    assert report.verdict == verdict
    assert report.spectrum.gauge_modes == 1


def test_degenerate_and_kinked_generators():
    quartic = check("(t-1)**4", simulate_runs=False)
    assert quartic.verdict == "inconclusive" and "f''(1) = 0" in quartic.reason
    assert quartic.to_json()["eta_max_simultaneous"] is None
    tv = check("total_variation", simulate_runs=False)
    assert tv.verdict == "not-applicable" and "kink" in tv.reason
    assert tv.to_json()["predicted_rate"] is None


def test_quartic_flow_is_not_exponential():
    """f''(1) = 0: from 1e-2 away the distance shrinks far slower than any Re λ < 0 of O(1)."""
    F = field("(t-1)**4", "gaussian-1d")
    z = cached_setup("gaussian-1d").z_star
    z0 = simulate.start_point(z, 1e-2, seed=0)
    traj = simulate.flow(F, z, z0, 100.0)
    assert traj.distances[-1] > 0.5 * traj.distances[0]


@pytest.mark.parametrize("name, model, ratio", [
    ("kl", "gaussian-1d", 1.0),
    ("reverse_kl", "gaussian-2d", 1.0),
    ("kl", "expfam-finite", 1.0),  # a Jordan block: a random start would converge like t·e^{λt}
    ("jensen_shannon", "shifted-linear", 5.0),
    pytest.param(NUMERIC_CONJUGATE, "gauge", 2.0, marks=pytest.mark.slow),  # numeric conjugates: commands/test_check.py
    ("kl", "shifted-linear", 1.0),  # unstable: growth rate
])
def test_simulated_rates_match_predictions(name, model, ratio):
    report = check(name, model, ratio)
    assert report.flow.relative_error < 0.02
    assert report.flow.diverged == (report.verdict == "unstable")
    if report.verdict == "stable":
        assert report.alternating.relative_error < 0.02


@pytest.mark.parametrize("name, model, ratio", [
    ("kl", "gaussian-1d", 1.0),
    pytest.param("pearson_chi2", "gaussian-2d", 1.0, marks=pytest.mark.slow),
    ("kl", "shifted-linear", 1.0),
    pytest.param("kl", "shifted-linear", 5.0, marks=pytest.mark.slow),  # a ratio ≠ 1: the rate test's JS case
    ("kl", "gauge", 0.5),
    pytest.param("kl", "gauge", 2.0, marks=pytest.mark.slow),
])
def test_verdicts_match_long_runs_from_random_starts(name, model, ratio):
    """Random (not eigenvector) starts: stable runs reach 1e-6 of the start, unstable ones escape."""
    report = check(name, model, ratio, simulate_runs=False)
    F = field(name, model, 1.0, ratio)
    z = cached_setup(model).z_star
    gauge = _gauge(name, model)
    rate = report.spectrum.transverse_max_real
    for seed in range(3):
        z0 = simulate.start_point(z, 1e-3, seed, gauge)
        traj = simulate.flow(F, z, z0, 20.0 / abs(rate), gauge=gauge)
        if report.verdict == "stable":
            assert traj.distances[-1] < 1e-6 * traj.distances[0]
        else:
            assert traj.status is simulate.FlowOutcome.ESCAPED


def test_discrete_simultaneous_steps_around_eta_max():
    F = field("kl", "gaussian-1d", 1.0, 1.0)
    z = cached_setup("gaussian-1d").z_star
    eta = spectrum.eta_max_simultaneous(_unit_jacobian("kl", "gaussian-1d"))
    z0 = simulate.start_point(z, 1e-4, seed=1)
    below = simulate.iterate(SimultaneousMap(game("kl", "gaussian-1d"), 0.9 * eta, 0.9 * eta), z, z0, 1500)
    above = simulate.iterate(SimultaneousMap(game("kl", "gaussian-1d"), 1.1 * eta, 1.1 * eta), z, z0, 1500)
    assert below.distances[-1] < 1e-3 * below.distances[0]
    assert above.status is simulate.FlowOutcome.ESCAPED
    del F


def test_measure_rate_on_a_known_curve():
    t = np.linspace(0, 20, 2001)
    d = 1e-3 * np.exp(-0.7 * t) * (1.5 + np.cos(2.0 * t))
    traj = simulate.Trajectory(t, d)
    m = simulate.measure_rate(traj, period=np.pi / 2.0)
    assert abs(m.rate + 0.7) < 1e-3


def test_alternating_steps_stabilise_below_the_critical_ratio():
    """shifted-linear at η_ω = η_θ: the flow and simultaneous GDA diverge for every step size,
    yet alternating steps contract for η_θ in (0.275, 0.480), the band theory.md quotes."""
    G = _unit_jacobian("kl", "shifted-linear")
    eye = np.eye(2)
    assert spectrum.analyse(G).verdict == "unstable"
    etas = np.logspace(-3, 0.5, 200)
    assert all(spectrum.spectral_radius(eye + e * G) > 1 for e in etas)
    stable = [e for e in etas if spectrum.spectral_radius(spectrum.alternating_matrix(G, 1, e, e)) < 1]
    assert stable and 0.27 < min(stable) < 0.29 and 0.46 < max(stable) < 0.48
    (lo, hi), = spectrum.stable_steps_alternating(G, 1, 1.0)
    quoted = f"\\({lo:.3f} < \\eta_\\theta < {hi:.3f}\\)"
    assert quoted in (Path(__file__).resolve().parents[2] / "docs/theory.md").read_text(), quoted
    # and the nonlinear alternating iteration indeed converges there
    gm = game("kl", "shifted-linear")
    z = cached_setup("shifted-linear").z_star
    traj = simulate.iterate(AlternatingMap(gm, 0.35, 0.35), z, simulate.start_point(z, 1e-3, 0), 400)
    assert traj.status is simulate.FlowOutcome.FINISHED and traj.distances[-1] < 1e-2 * traj.distances[0]
