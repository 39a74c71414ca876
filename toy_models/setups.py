"""Named toy set-ups: a model, a critic, data, and (when realizable) the known equilibrium.

These are the shared reference problems of the tests and of ``febm check --model``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import mlp
from .critics import LinearCritic, NegatedEnergyCritic, polynomial, quadratic_2d
from .data import Realizable
from .energies import ExpFamilyFinite, Gaussian1D, Gaussian2D, GridEnergy1D, WithConstant, exp_family_1d
from .quadrature import DTYPE


@dataclass
class Setup:
    name: str
    description: str
    model: object
    critic: object
    data: object
    theta_star: torch.Tensor | None  # realizable equilibrium, if known
    omega_star: torch.Tensor | None
    gauge: bool = False  # an additive constant shared by E and H

    @property
    def z_star(self) -> torch.Tensor:
        return torch.cat([self.theta_star, self.omega_star])


def _realizable(name, description, model, critic, theta_star, gauge=False) -> Setup:
    data = Realizable(model, theta_star)
    nodes = data.nodes()
    if isinstance(critic, LinearCritic):
        critic.with_dim(nodes.x[:1])
        omega, residual = critic.fit(lambda x: -model.energy(data.theta_star, x), nodes)
        if residual > 1e-8:
            raise ValueError(f"{name}: the critic cannot represent −E_θ* (residual {residual:.1e})")
    else:
        raise ValueError("pass omega_star explicitly for non-linear critics")
    return Setup(name, description, model, critic, data, data.theta_star, omega, gauge)


def gaussian_1d(param: str = "meanlogstd") -> Setup:
    model = Gaussian1D(param)
    return _realizable(
        "gaussian-1d" if param == "meanlogstd" else "gaussian-1d-natural",
        f"realizable 1-D Gaussian EBM, θ = {'(μ, log σ)' if param == 'meanlogstd' else '(η1, η2)'} "
        "at μ = 0.5, σ = 1.3; H = ω0 + ω1 x + ω2 x²",
        model,
        LinearCritic(polynomial(2)),
        model.theta_from(0.5, 1.3),
    )


def gaussian_2d() -> Setup:
    model = Gaussian2D()
    theta = Gaussian2D.theta_from([0.3, -0.2], [[1.0, 0.4], [0.4, 0.8]])
    return _realizable(
        "gaussian-2d",
        "realizable 2-D Gaussian EBM with full covariance (Cholesky of the precision); H quadratic",
        model,
        LinearCritic(quadratic_2d()),
        theta,
    )


def expfam_finite() -> Setup:
    support = torch.arange(6, dtype=DTYPE)
    model = ExpFamilyFinite(support, lambda x: torch.stack([x, x**2 / 5], -1))
    return _realizable(
        "expfam-finite",
        "exponential family θ·(x, x²/5) on {0,...,5} (exact sums); H = ω·(1, x, x²/5)",
        model,
        LinearCritic(lambda x: torch.stack([torch.ones_like(x), x, x**2 / 5], -1)),
        torch.tensor([0.3, -0.2], dtype=DTYPE),
    )


def shifted_linear(c0: float = 3.0, k: float = 0.5) -> Setup:
    """THEORY's counterexample: E = x²/2 + θ (x + c0), H = −x²/2 + ω k (x + c0).

    q_θ = N(−θ, 1). The θ-feature x + c0 has mean c0 against spread 1, so C − μμᵀ < 0 and
    simultaneous GDA is stable only above η_ω/η_θ = (μ² − v) / (k² (v + μ²)).
    """
    model = exp_family_1d(lambda x: (x + c0).unsqueeze(-1), lo=-14.0, hi=14.0, n=300,
                          sampler=lambda theta, z: z - theta[0])  # q_θ = N(−θ, 1)
    critic = LinearCritic(lambda x: (k * (x + c0)).unsqueeze(-1), offset=lambda x: -0.5 * x**2)
    return _realizable(
        "shifted-linear",
        f"1-D, one parameter each: E = x²/2 + θ(x + {c0}), H = −x²/2 + ω·{k}(x + {c0}); "
        "the feature's mean is large against its spread",
        model,
        critic,
        torch.tensor([0.0], dtype=DTYPE),
    )


def gauge() -> Setup:
    model = WithConstant(Gaussian1D())
    theta = torch.cat([Gaussian1D().theta_from(0.5, 1.3), torch.zeros(1, dtype=DTYPE)])
    return _realizable(
        "gauge",
        "1-D Gaussian EBM with a free additive constant c in E and a constant in H: "
        "(c, ω0) -> (c + δ, ω0 − δ) is a gauge direction",
        model,
        LinearCritic(polynomial(2)),
        theta,
        gauge=True,
    )


MLP_SIZES = (1, 3, 1)  # wider MLPs have Fisher eigenvalues at rounding level (1e-14 for 6 units)


def mlp_1d(seed: int = 0) -> Setup:
    """E = x²/20 + MLP_θ(x) on a Gauss–Legendre grid and H = −(x²/20 + MLP_ω(x)), realizable at ω* = θ*."""

    def energy(theta, x):
        return 0.05 * x**2 + mlp.forward(theta, x, MLP_SIZES)

    model = GridEnergy1D(energy, mlp.param_count(MLP_SIZES), lo=-14.0, hi=14.0, n=300)
    theta_star = mlp.init(MLP_SIZES, torch.Generator().manual_seed(seed))
    critic = NegatedEnergyCritic(model)
    data = Realizable(model, theta_star)
    return Setup(
        "mlp-1d",
        f"MLP energy {MLP_SIZES} with tanh plus x²/20, expectations by Gauss–Legendre; "
        "H = −(x²/20 + MLP_ω(x))",
        model,
        critic,
        data,
        theta_star,
        theta_star.clone(),
        gauge=True,  # the two output biases
    )


SETUPS = {
    "gaussian-1d": gaussian_1d,
    "gaussian-1d-natural": lambda: gaussian_1d("natural"),
    "gaussian-2d": gaussian_2d,
    "expfam-finite": expfam_finite,
    "shifted-linear": shifted_linear,
    "gauge": gauge,
    "mlp-1d": mlp_1d,
}


def setup(name: str) -> Setup:
    """Build a named set-up (see :data:`SETUPS`)."""
    if name not in SETUPS:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(SETUPS)}")
    return SETUPS[name]()

