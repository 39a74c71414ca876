"""The stochastic estimator's per-sample contributions and their moments: the field's minibatch
estimate, its per-sample covariance Σ and the per-sample Jacobians, by quadrature.

The field F = (−∇_θL, ∇_ωL) is estimated from B samples of p and B samples of q_θ as a sum of
per-sample contributions (the covariance term through its influence function):

    v_p(x) = (−g'(r) a,  g'(r) b)
    v_q(y) = (h'(r) a − (h(r) − h̄)(a − ā),  −h'(r) b)

with a = ∇_θE, b = ∇_ωH, r = H + E, ā = E_q[a], h̄ = E_q[h]. So E_p[v_p] + E_q[v_q] = F and the
minibatch estimate has covariance Σ/B + O(1/B²), Σ = Cov_p(v_p) + Cov_q(v_q). q-expectations are
taken on nodes ε_k of the standard normal that the model's exact sampler maps to q_θ, so that the
per-sample Jacobians are the pathwise ones of the minibatch runs: in 1-D a 600-node Gauss–Legendre
rule on [−12, 12] weighted by the normal density (e^r ≈ p/q carries the data's narrow bumps,
which Gauss–Hermite nodes under-resolve), in 2-D a 40 × 40 Gauss–Hermite rule.

The mean-square stability built on these moments is `mean_square`; where the second moments are
finite at all (the links' tails) is `estimator_tails`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...toy_models import ExactSampler
from ...toy_models.quadrature import gauss_hermite_2d, gauss_legendre
from .game import Game


def standard_nodes(dim: int, n: int):
    """Nodes and weights for E[φ(ε)], ε ~ N(0, I): n Legendre nodes in 1-D, a Hermite rule in 2-D."""
    if dim == 2:
        return gauss_hermite_2d(40)
    z, w = gauss_legendre(-12.0, 12.0, n)
    w = w * torch.exp(-0.5 * z**2)
    return z, w / w.sum()


def event_dim(game: Game) -> int:
    """The dimension of the data's events (1 or 2)."""
    x = game.data.nodes().x
    return 1 if x.dim() == 1 else x.shape[1]


def sampler_nodes(game: Game, theta, n: int):
    """Standard-normal nodes z_k and weights w_k whose images y_k = sample(θ, z_k) are q_θ's nodes
    (what the model's exact sampler turns them into); refuses a model without that sampler."""
    if not isinstance(game.model, ExactSampler):
        raise ValueError("the variance analysis needs the model's exact sampler sample(θ, z)")
    z, w = standard_nodes(event_dim(game), n)
    return z, w


def contributions(game: Game, z, x_p, z_q, abar=None, hbar=None, features=None):
    """Per-sample contributions (v_p at x_p, v_q at y = sample(θ, z_q)) to the field, (n, dim) each.

    ``abar`` and ``hbar`` fix ā and h̄ (population values); None computes them from z_q itself.
    ``features(θ, ω, x)`` gives (∇_θE, ∇_ωH) at x (default ``game.features``).
    """
    theta, omega = game.split(z)
    features = game.features if features is None else features
    y = game.model.sample(theta, z_q)
    a_p, b_p = features(theta, omega, x_p)
    a_q, b_q = features(theta, omega, y)
    r_p, r_q = game.r(theta, omega, x_p), game.r(theta, omega, y)
    g1, h0, h1 = game.g1(r_p)[:, None], game.h(r_q)[:, None], game.h1(r_q)[:, None]
    abar = a_q.mean(0) if abar is None else abar
    hbar = h0.mean() if hbar is None else hbar
    v_p = torch.cat([-g1 * a_p, g1 * b_p], dim=1)
    v_q = torch.cat([h1 * a_q - (h0 - hbar) * (a_q - abar), -h1 * b_q], dim=1)
    return v_p, v_q


def _weighted_cov(v, w):
    mean = (w[:, None] * v).sum(0)
    d = v - mean
    return (w[:, None, None] * d[:, :, None] * d[:, None, :]).sum(0)


@dataclass
class EstimatorMoments:
    """The field and the per-sample covariance of its minibatch estimate at one point."""

    field: torch.Tensor  # E_p[v_p] + E_q[v_q]: equals F(z) up to quadrature error
    covariance: torch.Tensor  # Σ = Cov_p(v_p) + Cov_q(v_q); the batch-B estimate has Σ/B
    data_part: torch.Tensor  # Cov_p(v_p)
    model_part: torch.Tensor  # Cov_q(v_q)


def _population_means(game: Game, theta, omega, z_q, w_q):
    y = game.model.sample(theta, z_q)
    a_q, _ = game.features(theta, omega, y)
    h0 = game.h(game.r(theta, omega, y))
    return (w_q[:, None] * a_q).sum(0), (w_q * h0).sum()


def estimator_moments(game: Game, z, nodes: int = 600) -> EstimatorMoments:
    """Σ at z by quadrature: p's own nodes, and Gauss–Hermite nodes through q's exact sampler."""
    theta, omega = game.split(z)
    p = game.data.nodes()
    z_q, w_q = sampler_nodes(game, theta, nodes)
    abar, hbar = _population_means(game, theta, omega, z_q, w_q)
    v_p, v_q = contributions(game, z, p.x, z_q, abar, hbar)
    data_part, model_part = _weighted_cov(v_p, p.w), _weighted_cov(v_q, w_q)
    field = (p.w[:, None] * v_p).sum(0) + (w_q[:, None] * v_q).sum(0)
    return EstimatorMoments(field, data_part + model_part, data_part, model_part)


def per_sample_jacobians(game: Game, z, nodes: int = 600):
    """Deviations D_s = j_s − E[j] of the per-sample Jacobians ∂v/∂z (pathwise through the sampler),
    with their weights: the multiplicative noise of a minibatch step. ā and h̄ are held at their
    population values: their derivatives are the same for every sample, so they cancel here."""
    theta, omega = game.split(z)
    p = game.data.nodes()
    z_q, w_q = sampler_nodes(game, theta, nodes)
    abar, hbar = (t.detach() for t in _population_means(game, theta, omega, z_q, w_q))

    def v_p(zz, x):
        return contributions(game, zz, x[None], z_q[:1], abar, hbar)[0][0]

    def v_q(zz, e):
        return contributions(game, zz, p.x[:1], e[None], abar, hbar)[1][0]

    jac_p = torch.func.vmap(torch.func.jacrev(v_p), in_dims=(None, 0))(z, p.x)
    jac_q = torch.func.vmap(torch.func.jacrev(v_q), in_dims=(None, 0))(z, z_q)
    dev = [j - (w[:, None, None] * j).sum(0) for j, w in ((jac_p, p.w), (jac_q, w_q))]
    return torch.cat(dev), torch.cat([p.w, w_q])


def field_check(game: Game, z, nodes: int = 600) -> float:
    """|E_p[v_p] + E_q[v_q] − estimate| relative to |F|: the per-sample contributions sum to the
    game's own estimator on the same nodes (two code paths for one quantity)."""
    from ...toy_models import Nodes

    theta, omega = game.split(z)
    m = estimator_moments(game, z, nodes)
    z_q, w_q = sampler_nodes(game, theta, nodes)
    g_t, g_o = game.estimate(theta, omega, game.data.nodes(), Nodes(game.model.sample(theta, z_q), w_q))
    reference = torch.cat([-g_t, g_o])
    return float((m.field - reference).norm()) / max(1.0, float(reference.norm()))
