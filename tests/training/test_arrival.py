"""The reference code's practice in the trainer (σ-steps, one-sided link clamps), the noise-free
flow, and the time-to-0.05 measurement built on them."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.commands.calibrate import CalibrationRow, summarize
from febm.dynamics.training import arrival, relaxation
from febm.dynamics.training.reference import REFERENCE_CLAMPS, REFERENCE_EXACT
from febm.dynamics.training.trainer import BatchedGaussianFEBM
from febm.toy_models import paper_mixture

SMALL = replace(REFERENCE_EXACT, critic_sizes=(1, 8, 8, 1), batch=64, steps=3, dtype=torch.float64,
                sampling="quadrature")


def test_one_sided_clamps_are_the_reference_codes():
    """exp(min(u, 3)) in KL's h and exp(min(·, 6)) in Pearson χ²'s links; nothing below."""
    u = torch.tensor([-10.0, 2.0, 5.0], dtype=torch.float64)
    h_kl = resolve("kl").function("h", "torch", exp_clip=REFERENCE_CLAMPS["kl"])
    assert torch.allclose(h_kl(u), torch.exp(u.clamp(max=3.0)))
    pearson = resolve("pearson_chi2")
    g = pearson.function("g", "torch", exp_clip=REFERENCE_CLAMPS["pearson_chi2"])
    h = pearson.function("h", "torch", exp_clip=REFERENCE_CLAMPS["pearson_chi2"])
    assert torch.allclose(g(u), 2 * torch.exp(u.clamp(max=6.0)) - 2)
    assert torch.allclose(h(u), torch.exp((2 * u).clamp(max=6.0)) - 1)
    symmetric = resolve("kl").function("h", "torch", exp_clip=3.0)  # one number: both sides
    assert float(symmetric(torch.tensor(-10.0))) == pytest.approx(math.exp(-3.0))
    with pytest.raises(ValueError):
        resolve("kl").function("h", "torch", exp_clip=(3.0, 1.0))


def _reference_theta_step(trainer, lr):
    """The reference code's energy step, written out in (μ, σ) with autograd: its loss_e at the
    trainer's samples and critic, then σ ← σ − lr ∂loss/∂σ."""
    d = resolve("kl")
    g, h = (d.function(k, "torch", exp_clip=REFERENCE_CLAMPS["kl"]) for k in ("g", "h"))
    x_p, z = trainer.sample(trainer.config.batch)
    mu = trainer.theta[0, 0].clone().requires_grad_(True)
    sigma = torch.exp(trainer.theta[0, 1]).clone().requires_grad_(True)
    x_q = (mu + sigma * z[0]).detach()
    energy = lambda x: 0.5 * ((x - mu) / sigma) ** 2  # noqa: E731
    critic = lambda x: trainer.critic(trainer.omega[:1], x[None])[0].detach()  # noqa: E731
    hq = h(critic(x_q) + energy(x_q))
    loss = (g(critic(x_p[0]) + energy(x_p[0])).mean() + (energy(x_q) * hq.detach()).mean()
            - energy(x_q).mean() * hq.mean().detach() - hq.mean())
    gm, gs = torch.autograd.grad(loss, (mu, sigma))
    return float((mu - lr * gm).detach()), float((sigma - lr * gs).detach())


def test_sigma_steps_are_the_reference_codes_sgd_on_sigma():
    cfg = replace(SMALL, steps=1, lr_omega=0.0, lr_theta=0.05)  # the critic held: one θ-step to compare
    trainer = BatchedGaussianFEBM([resolve("kl")], paper_mixture(), cfg, seed=3)
    expected = _reference_theta_step(trainer, cfg.lr_theta)
    trainer.train()
    mu, sigma = trainer.theta[0, 0].item(), math.exp(trainer.theta[0, 1].item())
    assert (mu, sigma) == pytest.approx(expected, rel=1e-10)
    log_steps = BatchedGaussianFEBM([resolve("kl")], paper_mixture(), replace(cfg, scale_parameter="log_sigma"), seed=3)
    log_steps.train()
    assert math.exp(log_steps.theta[0, 1].item()) != pytest.approx(sigma, rel=1e-6)  # a different update


def test_quadrature_sampling_is_the_same_every_step_and_seed():
    a = BatchedGaussianFEBM([resolve("kl")] * 2, paper_mixture(), SMALL, seed=0)
    b = BatchedGaussianFEBM([resolve("kl")] * 2, paper_mixture(), SMALL, seed=9)
    (xa, za), (xb, zb) = a.sample(64), b.sample(64)
    assert torch.equal(xa, xb) and torch.equal(za, zb) and torch.equal(xa[0], xa[1])
    assert torch.equal(a.sample(64)[0], xa)
    u = (torch.arange(64, dtype=torch.float64) + 0.5) / 64  # the midpoints of 64 quantile slices
    assert torch.allclose(xa[0], paper_mixture().from_uniform(u)) and torch.allclose(za[0], torch.special.ndtri(u))


def test_until_ends_the_runs_and_the_history_with_them():
    cfg = replace(SMALL, steps=100, record_every=5)
    calls = []
    result = BatchedGaussianFEBM([resolve("kl")], paper_mixture(), cfg).train(
        until=lambda step, theta, alive: calls.append(step) or step >= 20)
    assert calls == [5, 10, 15, 20] and result.history_steps.tolist() == [0, 5, 10, 15, 20]


def test_arrival_median_counts_unarrived_runs_as_latest():
    a = arrival.Arrival([100, None, 200], [None, 30, None], 500, [0.01, None, 0.02])
    assert a.median == 200 and a.arrived == 2
    assert arrival.Arrival([100, None, None], [None] * 3, 500, [0.0] * 3).median is None
    assert arrival.measurement_cap(a) == 600 and arrival.measurement_cap(None) == arrival.UNPREDICTED_CAP


def test_arrivals_are_first_passages_and_censored_at_the_cap(monkeypatch):
    """A first passage is a recorded step at which the run's error is ≤ 0.05; a run that has not
    arrived by the cap is censored there. (Small and fast here: 128 nodes, a 1-8-8-1 critic, 3× the
    step; the runs stop at the first record where both have arrived.)"""
    monkeypatch.setattr(arrival, "REFERENCE_EXACT", replace(REFERENCE_EXACT, batch=128))
    short = arrival.arrivals("kl", "quadrature", 1, 40, lr=0.03, critic_sizes=(1, 8, 8, 1), data=paper_mixture())
    assert short.steps == [None] and short.last_step == 40 and short.final_error[0] > arrival.TARGET
    run = arrival.arrivals("kl", "quadrature", 2, 4000, lr=0.03, critic_sizes=(1, 8, 8, 1), data=paper_mixture())
    assert all(s is not None and s % 10 == 0 for s in run.steps) and run.last_step == max(run.steps)
    assert max(e for e in run.final_error) <= arrival.TARGET


def test_time_agreement_is_a_factor_band():
    rows = []
    for k, (p, m) in enumerate([(100, 190), (100, 210), (300, 100), (100, 60)]):
        row = CalibrationRow(f"f{k}", {"time_to_0.05": p}, {"time_to_0.05": m}, 0.0, [], [], [None, None], 0.0)
        rows.append(row)
    s = summarize(rows, "time_to_0.05")
    assert s["n"] == 4 and s["within"] == 2  # 1.9× and 1/1.67× in; 2.1× and 3× out


def test_divergence_hessian_is_kls_fisher_information_at_its_minimizer():
    """KL(p‖N(μ, σ²)) = const + log σ + E_p[(x − μ)²]/(2σ²): at its minimizer (μ, σ) = (mean, sd of
    p) the Hessian in (μ, σ) is diag(1/σ², 2/σ²), in closed form."""
    H, (mu, sigma) = relaxation.divergence_hessian("kl", paper_mixture())
    mean = 0.33 * -1.0 + 0.67 * 2.0
    var = 0.33 * (0.0625 + 1.0) + 0.67 * (2.0 + 4.0) - mean**2
    assert (mu, sigma) == pytest.approx((mean, math.sqrt(var)), abs=1e-6)
    assert H == pytest.approx(np.diag([1 / var, 2 / var]), rel=1e-5, abs=1e-7)
    rate = relaxation.predicted_rate("kl", lr=0.01, data=paper_mixture())
    assert rate == pytest.approx(-math.log(1 - 0.01 / var), rel=1e-5)


def test_fitted_rate_recovers_an_exponential_and_refuses_too_little():
    steps = np.arange(0, 3000, 10)
    errors = 0.3 * np.exp(-0.002 * steps) * (1 + 0.1 * np.cos(steps / 50.0) * 0)
    assert relaxation.fitted_rate(steps, errors) == pytest.approx(0.002, rel=1e-9)
    assert relaxation.fitted_rate(steps[:5], errors[:5]) is None  # never below the window's start
    noisy = errors.tolist()
    noisy[200] = None  # a run that stopped being finite inside the window
    assert relaxation.fitted_rate(steps, noisy) is None
