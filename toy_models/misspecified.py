"""Misspecified set-ups: the data is not in the model family, so no equilibrium is known in
advance and r = H + E ≠ 0 there. Expectations stay exact (quadrature or finite sums).

* ``paper-1d``: the paper's mixture 0.33 N(−1, 0.25²) + 0.67 N(2, 2) against the Gaussian EBM
  θ = (μ, log σ), on a fixed Gauss–Legendre grid whose weights move with θ (so the estimator's
  covariance term is exact on the grid), with a critic H = ω·(1, x, x², K Gaussian bumps).
* ``toy2d-DATASET``: each 2-D toy mixture against a full-covariance Gaussian EBM (moving
  Gauss–Hermite nodes), with a quadratic critic plus bumps on a grid.

The solver starts from the exact minimizer of D_f over the model family (quadrature and
scipy.optimize) and the least-squares critic of the log-ratio log p/q there.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .critics import LinearCritic, quadratic_rbf, quadratic_rbf_2d, whitened
from .data import paper_mixture
from .energies import GaussianEnergy1D, GaussianEnergy2D, GridEnergy1D
from .exact_fit import minimize_divergence
from .nodes import Nodes
from .protocols import log_prob
from .quadrature import DTYPE, gauss_legendre
from .setups import Setup, register_setup
from .setups import critic as network_critic
from .toy2d import TOY2D, toy2d


class GaussianGrid1D(GridEnergy1D):
    """`GaussianEnergy1D` (θ = (μ, log σ)) with self-normalized Gauss–Legendre expectations.

    Fixed nodes and θ-dependent weights make the score-function (covariance) form of every
    θ-derivative exact on the grid, so closed-form Jacobians agree with autodiff to rounding.
    The energy, its derivatives, the sampler and (μ, σ) are the Gaussian's own.
    """

    def __init__(self, lo: float = -16.0, hi: float = 20.0, n: int = 500):
        gaussian = GaussianEnergy1D()
        super().__init__(gaussian.energy, 2, lo, hi, n, gradient_fn=gaussian.gradient, sampler=gaussian.sample)
        self.mean_sd, self.hessian = gaussian.mean_sd, gaussian.hessian


class OnGrid:
    """Data p with its expectations on a fine Gauss–Legendre grid (weights w·p(x)); sampling and
    log p are the underlying distribution's. Narrow critic features need the fine grid."""

    def __init__(self, data, lo: float, hi: float, n: int):
        self.data = data
        x, w = gauss_legendre(lo, hi, n)
        p = w * torch.exp(data.log_prob(x))
        self._nodes = Nodes(x, p / p.sum())

    def nodes(self) -> Nodes:
        return self._nodes

    def log_prob(self, x):
        return self.data.log_prob(x)

    def sample(self, shape, generator, device=None, dtype=DTYPE):
        return self.data.sample(shape, generator, device=device, dtype=dtype)


def _cached(minimize):
    """``minimize(divergence)``, computed once per generator (the start and the atlas both ask)."""
    cache: dict = {}

    def minimizer(divergence):
        key = str(divergence.f)
        if key not in cache:
            cache[key] = minimize(divergence)
        return cache[key].clone()

    return minimizer


def _critic_at(critic, data, model, theta, nodes: Nodes) -> torch.Tensor:
    """The least-squares critic of the log-ratio log p − log q_θ − E_θ, weighted over ``nodes``."""
    omega, _ = critic.fit(lambda x: data.log_prob(x) - log_prob(model, theta, x) - model.energy(theta, x), nodes)
    return omega


def _divergence_minimizer(divergence, data, model, x, w, theta0) -> torch.Tensor:
    """θ minimizing D_f(p‖q_θ) on the nodes (x, w) of a fixed rule covering p and q."""
    f_np = divergence.function("f")
    log_p = data.log_prob(x).numpy()
    with torch.no_grad():
        theta, _, _ = minimize_divergence(
            f_np, log_p, lambda th: log_prob(model, torch.as_tensor(th, dtype=DTYPE), x).numpy(), w.numpy(),
            theta0.numpy())
    return torch.as_tensor(theta, dtype=DTYPE)


class OnNodes(OnGrid):
    """Data p with its expectations on given fixed nodes (weights w·p(x), normalized): on q_θ's own
    grid, p and q share nodes and the game depends on the critic only through its node values."""

    def __init__(self, data, x, w):
        self.data = data
        p = w * torch.exp(data.log_prob(x))
        self._nodes = Nodes(x, p / p.sum())


@register_setup("paper-1d")
def paper_1d(k: int = 10, critic=None, seed: int = 0) -> Setup:
    """The paper's 1-D experiment as an exact game: mixture data, Gaussian EBM, critic with k bumps.

    ``critic``: a network critic instead (`parse_critic`'s ``mlp:64,64`` is the reference code's
    1-64-64-1 tanh), with p on q_θ's 500-node grid and the critic started from its ``init(seed)``.
    """
    if critic is not None:
        return _paper_1d_network(network_critic(critic, 1), seed)
    model = GaussianGrid1D()
    data = OnGrid(paper_mixture(), -12.0, 16.0, 1200)
    critic = LinearCritic(whitened(quadratic_rbf(k, -3.0, 6.0), data.nodes())).with_dim(torch.zeros(1, dtype=DTYPE))
    x, w = gauss_legendre(-20.0, 24.0, 1500)  # the rule of the exact fits
    minimizer = _cached(lambda d: _divergence_minimizer(d, data, model, x, w,
                                                        torch.tensor([1.0, math.log(1.7)], dtype=DTYPE)))

    def start(divergence) -> torch.Tensor:
        theta = minimizer(divergence)
        q = model.nodes(theta)
        p_on_grid = torch.exp(data.log_prob(q.x)) * model.grid[1]
        mix = Nodes(q.x, 0.5 * q.w + 0.5 * p_on_grid / p_on_grid.sum())
        return torch.cat([theta, _critic_at(critic, data, model, theta, mix)])

    return Setup(
        "paper-1d",
        f"the paper's mixture 0.33 N(−1, 0.25²) + 0.67 N(2, 2) against a Gaussian EBM θ = (μ, log σ) "
        f"(misspecified); H = ω·φ, φ = (1, x, x², {k} Gaussian bumps on [−3, 6]) made orthonormal under p; "
        "p and q on Gauss–Legendre grids",
        model, critic, data, start=start, theta_init=torch.tensor([0.0, 0.0], dtype=DTYPE), minimizer=minimizer,
    )


def _paper_1d_network(critic, seed: int) -> Setup:
    model = GaussianGrid1D()
    data = OnNodes(paper_mixture(), *model.grid)
    x, w = gauss_legendre(-20.0, 24.0, 1500)
    minimizer = _cached(lambda d: _divergence_minimizer(d, data, model, x, w,
                                                        torch.tensor([1.0, math.log(1.7)], dtype=DTYPE)))
    omega0 = critic.init(seed)
    return Setup(
        "paper-1d",
        "the paper's mixture 0.33 N(−1, 0.25²) + 0.67 N(2, 2) against a Gaussian EBM θ = (μ, log σ) "
        f"(misspecified); H = the network critic {critic.spec} ({critic.dim} parameters, seed {seed}); "
        "p and q on one 500-node Gauss–Legendre grid over [−16, 20]",
        model, critic, data, start=lambda d: torch.cat([minimizer(d), omega0]),
        theta_init=torch.tensor([0.0, 0.0], dtype=DTYPE), minimizer=minimizer,
    )


def _gaussian_grid_2d(lo: float = -5.0, hi: float = 5.0, n: int = 64) -> GridEnergy1D:
    """The 2-D Gaussian EBM (Cholesky of the precision) on a fixed grid: weights move with θ, so the
    moment-form Jacobian is exact there (moving nodes made e^r explode at far nodes)."""
    gauss = GaussianEnergy2D()
    model = GridEnergy1D.on_square(gauss.energy, 5, lo, hi, n, gradient_fn=gauss.gradient, sampler=gauss.sample)
    return model


def _toy2d_setup(name: str, grid: int = 4, width: float = 1.2, critic=None, seed: int = 0) -> Setup:
    if critic is not None:
        return _toy2d_network(name, network_critic(critic, 2), seed)
    data = toy2d(name)
    model = _gaussian_grid_2d()
    ticks = torch.linspace(-2.25, 2.25, grid, dtype=DTYPE)
    critic = LinearCritic(whitened(quadratic_rbf_2d(torch.cartesian_prod(ticks, ticks), width), data.nodes()))
    critic.with_dim(torch.zeros(1, 2, dtype=DTYPE))
    side = torch.linspace(-4.5, 4.5, 181, dtype=DTYPE)
    xy = torch.cartesian_prod(side, side)
    w = torch.full((len(xy),), float(side[1] - side[0]) ** 2, dtype=DTYPE)
    nodes = data.nodes()
    mean = nodes.mean(nodes.x)
    cov = nodes.mean(nodes.x[:, :, None] * nodes.x[:, None, :]) - torch.outer(mean, mean)

    minimizer = _cached(lambda d: _divergence_minimizer(d, data, model, xy, w, GaussianEnergy2D.theta_from(mean, cov)))

    def start(divergence) -> torch.Tensor:
        theta = minimizer(divergence)
        q = model.nodes(theta)
        both = Nodes(torch.cat([q.x, nodes.x]), torch.cat([0.5 * q.w, 0.5 * nodes.w]))
        return torch.cat([theta, _critic_at(critic, data, model, theta, both)])

    return Setup(
        f"toy2d-{name}",
        f"the 2-D toy '{name}' against a full-covariance Gaussian EBM on a 64 × 64 grid over [−5, 5]² "
        f"(misspecified); H = quadratic + {grid}×{grid} Gaussian bumps (width {width}) on [−2.25, 2.25]², "
        "orthonormal under p",
        model, critic, data, start=start, minimizer=minimizer,
        theta_init=GaussianEnergy2D.theta_from([0.0, 0.0], np.diag([4.0, 4.0])),
    )


TOY2D_ENERGY = (2, 32, 32, 1)  # the network energy of the 2-D toys' trained game (tanh)
TOY2D_PENALTY = 0.1  # λ of the 2-D trainer's λ·mean(E²) (`Toy2DConfig.penalty`): bounds E's free offset


def _toy2d_network(name: str, critic, seed: int, n: int = 32, lo: float = -4.0, hi: float = 4.0) -> Setup:
    """The 2-D toy as the game that trains: an MLP energy and a network critic, with p and q on one
    n × n Gauss–Legendre grid (p's weights are its density there, q's are exp(−E), normalized).
    Both networks start from their seeded initialisation; no minimizer is known in advance."""
    from .critics import MLPCritic

    energy = MLPCritic(TOY2D_ENERGY)
    model = GridEnergy1D.on_square(energy.value, energy.dim, lo, hi, n)
    model.penalty = TOY2D_PENALTY  # read by the node game: what the 2-D trainer adds to the energy's loss
    data = OnNodes(toy2d(name), *model.grid)
    theta0 = mlp_init(TOY2D_ENERGY, seed + 1)  # not the critic's stream: E = H at the start is a coincidence
    omega0 = critic.init(seed)
    return Setup(
        f"toy2d-{name}",
        f"the 2-D toy '{name}' against an MLP energy {'-'.join(map(str, TOY2D_ENERGY))} (tanh, {energy.dim} "
        f"parameters); H = the network critic {critic.spec} ({critic.dim} parameters, seed {seed}); p and q on one "
        f"{n} × {n} Gauss–Legendre grid over [{lo:g}, {hi:g}]²",
        model, critic, data, start=lambda d: torch.cat([theta0, omega0]), theta_init=theta0,
    )


def mlp_init(sizes, seed: int) -> torch.Tensor:
    from . import mlp

    return mlp.init(tuple(sizes), torch.Generator().manual_seed(seed))


for _name in TOY2D:
    register_setup(f"toy2d-{_name}")(lambda _name=_name, critic=None, seed=0: _toy2d_setup(_name, critic=critic,
                                                                                          seed=seed))
