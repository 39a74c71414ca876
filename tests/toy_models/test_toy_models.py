"""Exact expectations of the toy models against closed forms (Gaussian moments, log Z)."""

import math

import numpy as np
import pytest
import torch
from torch.func import jacfwd

from febm.toy_models import (
    ExpFamilyFinite,
    Gaussian,
    GaussianEnergy1D,
    GaussianEnergy2D,
    LinearCritic,
    Realizable,
    WithConstant,
    exp_family_1d,
    mlp,
    paper_mixture,
    polynomial,
    rbf,
    setup,
)
from febm.toy_models.quadrature import DTYPE

from problems import ALL_MODELS

TOL = 1e-10


@pytest.mark.parametrize("param", ["meanlogstd", "natural"])
def test_gaussian_1d_moments_and_log_partition(param):
    model = GaussianEnergy1D(param)
    mu, sd = 0.7, 1.6
    theta = model.theta_from(mu, sd)
    q = model.nodes(theta)
    assert abs(float(q.w.sum()) - 1) < TOL
    assert abs(float(q.mean(q.x)) - mu) < TOL
    assert abs(float(q.mean((q.x - mu) ** 2)) - sd**2) < TOL
    assert abs(float(q.mean((q.x - mu) ** 4)) - 3 * sd**4) < TOL
    # log Z = log ∫ exp(−E): checked by brute-force quadrature of exp(−E)
    x = torch.linspace(mu - 15 * sd, mu + 15 * sd, 200001, dtype=DTYPE)
    brute = math.log(float(torch.trapezoid(torch.exp(-model.energy(theta, x)), x)))
    assert abs(float(model.log_partition(theta)) - brute) < TOL


def test_gaussian_2d_moments_and_log_partition():
    model = GaussianEnergy2D()
    mean, cov = [0.3, -0.2], [[1.0, 0.4], [0.4, 0.8]]
    theta = GaussianEnergy2D.theta_from(mean, cov)
    q = model.nodes(theta)
    m = q.mean(q.x)
    d = q.x - m
    c = q.mean(d[:, :, None] * d[:, None, :])
    assert torch.allclose(m, torch.tensor(mean, dtype=DTYPE), atol=TOL, rtol=0)
    assert torch.allclose(c, torch.tensor(cov, dtype=DTYPE), atol=TOL, rtol=0)
    expected = math.log(2 * math.pi) + 0.5 * math.log(np.linalg.det(cov))
    assert abs(float(model.log_partition(theta)) - expected) < TOL


def test_exp_family_on_a_grid_is_the_shifted_gaussian():
    # E = x²/2 + θ(x + c) = (x + θ)²/2 − θ²/2 + θc, so q = N(−θ, 1) and log Z = ½log 2π + θ²/2 − θc
    c = 3.0
    model = exp_family_1d(lambda x: (x + c).unsqueeze(-1), lo=-14.0, hi=14.0, n=300)
    for t in (-0.8, 0.0, 1.1):
        theta = torch.tensor([t], dtype=DTYPE)
        q = model.nodes(theta)
        assert abs(float(q.mean(q.x)) + t) < TOL
        assert abs(float(q.mean((q.x + t) ** 2)) - 1) < TOL
        expected = 0.5 * math.log(2 * math.pi) + t**2 / 2 - t * c
        assert abs(float(model.log_partition(theta)) - expected) < TOL


def test_finite_support_sums_and_score_identity():
    support = torch.arange(6, dtype=DTYPE)
    model = ExpFamilyFinite(support, lambda x: torch.stack([x, x**2 / 5], -1))
    theta = torch.tensor([0.3, -0.2], dtype=DTYPE)
    logits = -(model.features(support) @ theta)
    p = torch.exp(logits) / torch.exp(logits).sum()
    q = model.nodes(theta)
    assert torch.allclose(q.w, p, atol=1e-15, rtol=0)
    # ∇ log Z = −E_q[T]
    grad = jacfwd(model.log_partition)(theta)
    assert torch.allclose(grad, -q.mean(model.features(support)), atol=TOL, rtol=0)


def test_paper_mixture_moments():
    p = paper_mixture()
    n = p.nodes()
    mean = 0.33 * -1 + 0.67 * 2
    second = 0.33 * (0.25**2 + 1) + 0.67 * (2 + 4)
    assert abs(float(n.mean(n.x)) - mean) < TOL
    assert abs(float(n.mean(n.x**2)) - second) < TOL
    x = torch.linspace(-12, 14, 400001, dtype=DTYPE)
    assert abs(float(torch.trapezoid(torch.exp(p.log_prob(x)), x)) - 1) < 1e-9


def _gradient_cases():
    g1 = GaussianEnergy1D()
    g1n = GaussianEnergy1D("natural")
    g2 = GaussianEnergy2D()
    fam = ExpFamilyFinite(torch.arange(6, dtype=DTYPE), lambda x: torch.stack([x, x**2 / 5], -1))
    x1 = torch.linspace(-3, 3, 11, dtype=DTYPE)
    x2 = torch.randn(11, 2, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
    th = torch.tensor([0.3, -0.4], dtype=DTYPE)
    return [
        ("gaussian1d", g1, g1.energy, th, x1),
        ("natural", g1n, g1n.energy, torch.tensor([0.3, 0.6], dtype=DTYPE), x1),
        ("gaussian2d", g2, g2.energy, torch.tensor([0.3, -0.2, 0.1, 0.5, -0.3], dtype=DTYPE), x2),
        ("expfam", fam, fam.energy, th, torch.arange(6, dtype=DTYPE)),
        ("with-constant", WithConstant(g1), WithConstant(g1).energy,
         torch.tensor([0.3, -0.4, 2.0], dtype=DTYPE), x1),
    ]


@pytest.mark.parametrize("case", _gradient_cases(), ids=lambda c: c[0])
def test_closed_form_parameter_gradients_match_autodiff(case):
    _, model, energy, theta, x = case
    assert torch.allclose(model.gradient(theta, x), jacfwd(energy)(theta, x), atol=1e-13, rtol=0)


def test_linear_critic_gradient_and_fit():
    critic = LinearCritic(rbf([-1.0, 0.0, 1.0], 0.7)).with_dim(torch.zeros(1, dtype=DTYPE))
    omega = torch.tensor([0.1, -0.5, 0.2, 0.3], dtype=DTYPE)
    x = torch.linspace(-2, 2, 9, dtype=DTYPE)
    assert torch.allclose(critic.gradient(omega, x), jacfwd(critic.value)(omega, x), atol=1e-14, rtol=0)
    nodes = Gaussian(0.0, 1.0).nodes()
    fitted, residual = critic.fit(lambda z: critic.value(omega, z), nodes)
    assert residual < 1e-12 and torch.allclose(fitted, omega, atol=1e-10, rtol=0)


@pytest.mark.parametrize("model", [GaussianEnergy1D(), exp_family_1d(polynomial(1, constant=False))])
def test_score_function_identity(model):
    """∇_θ E_q[φ] = −Cov_q(φ, ∇_θ E): the covariance term of the f-EBM gradient."""
    theta = torch.tensor([0.4, 0.2], dtype=DTYPE)[: model.dim]

    def expect(th):
        q = model.nodes(th)
        return q.mean(torch.sin(q.x) + q.x**2)

    q = model.nodes(theta)
    phi = torch.sin(q.x) + q.x**2
    a = model.gradient(theta, q.x)
    cov = q.mean(phi[:, None] * a) - q.mean(phi) * q.mean(a)
    assert torch.allclose(jacfwd(expect)(theta), -cov, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_setups_are_realizable(name):
    s = setup(name)
    assert isinstance(s.data, Realizable) and s.z_star.dtype == torch.float64
    p, q = s.data.nodes(), s.model.nodes(s.theta_star)
    assert torch.equal(p.x, q.x.detach()) and torch.allclose(p.w, q.w)
    r = s.critic.value(s.omega_star, p.x) + s.model.energy(s.theta_star, p.x)
    assert float(r.abs().max()) < 1e-10  # H_ω* = −E_θ*


def test_unknown_setup_names_the_choices():
    with pytest.raises(KeyError, match="gaussian-1d"):
        setup("nope")


def test_mlp_init_is_seeded_and_sized():
    sizes = (1, 4, 3, 1)
    a = mlp.init(sizes, torch.Generator().manual_seed(5))
    b = mlp.init(sizes, torch.Generator().manual_seed(5))
    assert a.numel() == mlp.param_count(sizes) == 4 * 2 + 3 * 5 + 4
    assert torch.equal(a, b)
    assert mlp.forward(a, torch.zeros(7, dtype=DTYPE), sizes).shape == (7,)


def test_sampling_is_seeded():
    p = paper_mixture()
    a = p.sample(1000, torch.Generator().manual_seed(3))
    b = p.sample(1000, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert abs(float(a.mean()) - (0.33 * -1 + 0.67 * 2)) < 0.15


def test_mlp_critic_is_the_functional_mlp_plus_offset():
    from febm.toy_models import MLPCritic

    critic = MLPCritic((1, 5, 1), offset=lambda x: -0.5 * x**2)
    omega = mlp.init(critic.sizes, torch.Generator().manual_seed(2))
    x = torch.linspace(-2, 2, 7, dtype=DTYPE)
    assert omega.numel() == critic.dim
    assert torch.allclose(critic.value(omega, x), mlp.forward(omega, x, critic.sizes) - 0.5 * x**2)


@pytest.mark.parametrize("activation, sizes", [("tanh", (1, 8, 8, 1)), ("silu", (2, 5, 1))])
def test_per_point_parameter_gradient_norms_match_per_sample_autodiff(activation, sizes):
    """`mlp.param_grad_norms` (one backward pass, |∇|² = Σ |δ|²(|a|² + 1)) against torch.func's
    per-sample gradients of the same MLP, run by run."""
    from torch.func import grad, vmap

    from febm.toy_models import mlp

    g = torch.Generator().manual_seed(0)
    params = mlp.init_batched(3, sizes, g, dtype=torch.float64)
    x = 3 * torch.randn(3, 40, sizes[0], dtype=torch.float64, generator=g)
    got = mlp.param_grad_norms(params, x if sizes[0] > 1 else x[..., 0], sizes, activation)
    one = grad(lambda p, xi: mlp.forward(p, xi[None], sizes, activation).sum())
    for r in range(3):
        want = vmap(one, in_dims=(None, 0))(params[r], x[r] if sizes[0] > 1 else x[r, :, 0]).norm(dim=1)
        assert torch.allclose(got[r], want, rtol=1e-12, atol=1e-14)
