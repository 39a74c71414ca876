"""Set-ups: a model, a critic and data with exact expectations, plus what is known of the
equilibrium. The named ones are febm's shared reference problems (``febm check --model``).

Build your own with `Setup`, or with `realizable` when p is the model itself at
a known parameter; add it to the registry with `register_setup`, or pass the object
to ``febm.check`` directly.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import InputError, UnknownName, printable
from ..registry import Registry
from . import mlp
from .critics import (
    PROBE_POINTS,
    LinearCritic,
    ModuleCritic,
    NegatedEnergyCritic,
    parse_critic,
    polynomial,
    quadratic_2d,
)
from .data import Realizable
from .energies import (
    ExpFamilyFinite,
    GaussianEnergy1D,
    GaussianEnergy2D,
    GridEnergy1D,
    WithConstant,
    exp_family_1d,
)
from .protocols import Critic, DataSource, EnergyModel
from .quadrature import DTYPE

SETUPS: Registry[Callable[[], "Setup"]] = Registry(
    "model", hint="or give your own set-up as path/to/file.py:NAME"
)


def register_setup(name: str):
    """Decorator: register a zero-argument builder of a `Setup` under ``name``."""
    return SETUPS.register(name)


_PARTS = {
    "model": (EnergyModel, "dim, energy(θ, x), nodes(θ) and log_partition(θ)"),
    "critic": (Critic, "dim and value(ω, x)"),
    "data": (DataSource, "nodes()"),
}


@dataclass
class Setup:
    """A model q_θ, a critic H_ω and data p, with exact expectations.

    ``theta_star`` and ``omega_star`` are the equilibrium where it is known for every f (the
    realizable case: p = q_θ*, H_ω* = −E_θ*). Otherwise febm finds it with a solver, starting
    from ``start``: a vector z = (θ, ω), or a function of the divergence that returns one (the
    equilibrium of a misspecified game depends on f).
    """

    name: str
    description: str
    model: EnergyModel
    critic: Critic
    data: DataSource
    theta_star: torch.Tensor | None = None
    omega_star: torch.Tensor | None = None
    has_gauge: bool = False  # an additive constant shared by E and H (documentation; febm detects gauges)
    start: torch.Tensor | Callable | None = None
    theta_init: torch.Tensor | None = None  # where training starts (the paper's σ₀ = 1), if it matters
    minimizer: Callable | None = None  # θ minimizing D_f(p‖q_θ) over the model family, as a function of f

    def __post_init__(self):
        for part, (protocol, needs) in _PARTS.items():
            if not isinstance(getattr(self, part), protocol):
                raise InputError(f"set-up {self.name!r}: its {part} must provide {needs}")
        if self.critic.dim is None and hasattr(self.critic, "with_dim"):
            self.critic.with_dim(self.data.nodes().x[:1])  # a feature critic's size follows its features
        if self.known and self.start is None:
            self.start = self.z_star
        self._probe()

    def _probe(self) -> None:
        """Try the user's networks once on a few of the data's inputs, before any work: a module
        critic (`ModuleCritic.probe`), and the energy at a known θ (finite, one value per input)."""
        x = self.data.nodes().x[:PROBE_POINTS]
        if hasattr(self.critic, "probe"):
            self.critic.probe(x)
        theta = next((t for t in (self.theta_star, self.theta_init, self.start) if isinstance(t, torch.Tensor)), None)
        if theta is None:
            return
        try:
            energy = self.model.energy(theta[: self.model.dim], x)
        except Exception as exc:  # the user's energy: one line
            raise InputError(f"set-up {self.name!r}: its energy fails on a batch of its data's inputs, shape "
                             f"{tuple(x.shape)}: {printable(str(exc), 120)}") from None
        if not isinstance(energy, torch.Tensor) or tuple(energy.shape) != (len(x),):
            shape = tuple(energy.shape) if isinstance(energy, torch.Tensor) else type(energy).__name__
            raise InputError(f"set-up {self.name!r}: its energy returns {shape} for {len(x)} inputs; expected "
                             f"({len(x)},), one value per input")
        if not torch.isfinite(energy).all():
            raise InputError(f"set-up {self.name!r}: its energy is not finite (nan or inf) at θ = "
                             f"{printable(str([round(v, 4) for v in theta[: self.model.dim].tolist()][:4]))}; "
                             "expected finite values")

    @property
    def known(self) -> bool:
        """Whether the equilibrium is known in advance (for every f)."""
        return self.theta_star is not None and self.omega_star is not None

    @property
    def z_star(self) -> torch.Tensor:
        if not self.known:
            raise ValueError(f"set-up {self.name!r} has no known equilibrium; solve for it (febm.check does)")
        return torch.cat([self.theta_star, self.omega_star])

    def reference_theta(self, divergence) -> torch.Tensor | None:
        """The exact minimizer of D_f over the model family: θ* when realizable, else ``minimizer``."""
        if self.known:
            return self.theta_star
        return None if self.minimizer is None else self.minimizer(divergence)

    def initial_guess(self, divergence=None) -> torch.Tensor:
        """Where a solver starts: the known equilibrium, ``start``, or ``start(divergence)``."""
        if self.start is None:
            raise ValueError(f"set-up {self.name!r} needs a start for the equilibrium solver")
        return self.start(divergence) if callable(self.start) else self.start


def realizable(name: str, description: str, model, critic, theta_star, omega_star=None,
               has_gauge: bool = False) -> Setup:
    """A set-up whose data is the model itself at ``theta_star``: p = q_θ*.

    The equilibrium is H_ω* = −E_θ*. For a `LinearCritic`, ω* is found by least squares
    (and must fit exactly); for any other critic, pass ``omega_star``.
    """
    theta_star = torch.as_tensor(theta_star, dtype=DTYPE)
    data = Realizable(model, theta_star)
    if omega_star is None:
        if not isinstance(critic, LinearCritic):
            raise InputError(f"{name}: pass omega_star for a critic that is not a LinearCritic")
        critic.with_dim(data.nodes().x[:1])
        omega_star, residual = critic.fit(lambda x: -model.energy(data.theta_star, x), data.nodes())
        if residual > 1e-8:
            raise InputError(f"{name}: the critic cannot represent −E_θ* (residual {residual:.1e})")
    return Setup(name, description, model, critic, data, data.theta_star,
                 torch.as_tensor(omega_star, dtype=DTYPE), has_gauge)


def setup(spec: str | Setup) -> Setup:
    """A set-up from a registered name, from ``path/to/file.py:NAME``, or a Setup itself."""
    if isinstance(spec, Setup):
        return spec
    if not isinstance(spec, str):
        raise InputError(f"a model is a name, path/to/file.py:NAME or a Setup, not {type(spec).__name__}")
    if ".py:" in spec or spec.endswith(".py"):  # path/to/file.py[:NAME]
        return load_setup_file(spec)
    return SETUPS[spec]()


def _run_user_file(spec: str):
    """Run the user's Python file of ``path/to/file.py[:NAME]``; returns (path, module, NAME or "")."""
    path_text, _, attr = spec.rpartition(".py:") if ".py:" in spec else (spec.removesuffix(".py"), "", "")
    path = Path(path_text + ".py")  # the last ".py:" splits: a folder may be called a.pydir
    if not path.is_file():
        raise InputError(f"no file {path}")
    module_spec = importlib.util.spec_from_file_location(f"febm_user_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SystemExit as exc:  # febm's exit status stays febm's: the file is refused with one line
        raise InputError(f"{path} exited while loading (sys.exit({printable(repr(exc.code))})); a set-up or "
                         "critic file defines NAME and does not exit") from None
    except Exception as exc:  # the user's code: report it in one line
        raise InputError(f"{path} failed to load: {type(exc).__name__}: {exc}") from None
    return path, module, attr


def _take(path, module, attr: str, kind, kind_name: str):
    """Attribute ``attr`` of the user's module: an instance of ``kind``, or a function returning one."""
    candidates = {k: v for k, v in vars(module).items() if isinstance(v, kind)}
    if not attr:
        if len(candidates) != 1:
            raise InputError(f"{path} defines {len(candidates)} {kind_name} objects; name one as {path}:NAME")
        attr = next(iter(candidates))
    if not hasattr(module, attr):
        public = [k for k, v in vars(module).items() if isinstance(v, kind) or
                  (callable(v) and not k.startswith("_") and getattr(v, "__module__", "") == module.__name__)]
        raise UnknownName(f"{kind_name} in {path}", attr, public)
    found = getattr(module, attr)
    try:
        found = found() if callable(found) and not isinstance(found, kind) else found
    except SystemExit as exc:
        raise InputError(f"{path}:{attr} exited (sys.exit({printable(repr(exc.code))})); expected it to "
                         f"return a {kind_name}") from None
    except Exception as exc:
        raise InputError(f"{path}:{attr} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(found, kind):
        raise InputError(f"{path}:{attr} is not a {kind_name} (nor a function returning one)")
    return found, attr


def with_critic(model: "str | Setup", spec, seed: int = 0) -> Setup:
    """The registered set-up ``model`` played with a network critic (`critic`'s spellings)."""
    if isinstance(model, Setup):
        raise InputError("give a set-up by name to change its critic, or build the Setup with it")
    if not _takes_critic(SETUPS[model]):
        takers = ", ".join(name for name, builder in SETUPS.items() if _takes_critic(builder))
        raise InputError(f"model {model!r} does not take a network critic ({takers} do)")
    return SETUPS[model](critic=spec, seed=seed)  # the builder knows its input dimension


def _takes_critic(builder) -> bool:
    return "critic" in inspect.signature(builder).parameters


def load_setup_file(spec: str) -> Setup:
    """Run the user's own Python file and take its set-up ``NAME`` (``path/to/file.py:NAME``).

    This executes the file: it is the user's own code, unlike the untrusted math expressions
    that febm parses through a whitelist. NAME is a Setup or a function returning one; without
    ``:NAME`` the file must define exactly one Setup.
    """
    return _take(*_run_user_file(spec), Setup, "Setup")[0]


def load_critic_file(spec: str):
    """The user's own critic from ``path/to/file.py:NAME``: a torch.nn.Module (or a function returning
    one), wrapped as a `ModuleCritic`. Like a set-up file, this runs the user's own code."""
    path, module, attr = _run_user_file(spec)
    found, attr = _take(path, module, attr, torch.nn.Module, "torch.nn.Module")
    return ModuleCritic(found, name=f"{path.name}:{attr}")


def critic(spec, input_dim: int = 1):
    """A network critic from ``mlp:64,64``, ``path/to/file.py:NAME`` (your torch module), or a critic
    object (returned as it is)."""
    if not isinstance(spec, str):
        return spec
    if ".py:" in spec or spec.endswith(".py"):
        return load_critic_file(spec)
    return parse_critic(spec, input_dim)


# --- the named reference set-ups --------------------------------------------------------
def _gaussian_1d(param: str) -> Setup:
    model = GaussianEnergy1D(param)
    return realizable(
        "gaussian-1d" if param == "meanlogstd" else "gaussian-1d-natural",
        f"realizable 1-D Gaussian EBM, θ = {'(μ, log σ)' if param == 'meanlogstd' else '(η1, η2)'} "
        "at μ = 0.5, σ = 1.3; H = ω0 + ω1 x + ω2 x²",
        model,
        LinearCritic(polynomial(2)),
        model.theta_from(0.5, 1.3),
    )


@register_setup("gaussian-1d")
def gaussian_1d() -> Setup:
    return _gaussian_1d("meanlogstd")


@register_setup("gaussian-1d-natural")
def gaussian_1d_natural() -> Setup:
    return _gaussian_1d("natural")


@register_setup("gaussian-2d")
def gaussian_2d() -> Setup:
    model = GaussianEnergy2D()
    theta = GaussianEnergy2D.theta_from([0.3, -0.2], [[1.0, 0.4], [0.4, 0.8]])
    return realizable(
        "gaussian-2d",
        "realizable 2-D Gaussian EBM with full covariance (Cholesky of the precision); H quadratic",
        model,
        LinearCritic(quadratic_2d()),
        theta,
    )


@register_setup("expfam-finite")
def expfam_finite() -> Setup:
    support = torch.arange(6, dtype=DTYPE)
    model = ExpFamilyFinite(support, lambda x: torch.stack([x, x**2 / 5], -1))
    return realizable(
        "expfam-finite",
        "exponential family θ·(x, x²/5) on {0,...,5} (exact sums); H = ω·(1, x, x²/5)",
        model,
        LinearCritic(lambda x: torch.stack([torch.ones_like(x), x, x**2 / 5], -1)),
        torch.tensor([0.3, -0.2], dtype=DTYPE),
    )


@register_setup("shifted-linear")
def shifted_linear(c0: float = 3.0, k: float = 0.5) -> Setup:
    """THEORY's counterexample: E = x²/2 + θ (x + c0), H = −x²/2 + ω k (x + c0).

    q_θ = N(−θ, 1). The θ-feature x + c0 has mean c0 against spread 1, so C − μμᵀ < 0 and
    simultaneous GDA is stable only above η_ω/η_θ = (μ² − v) / (k² (v + μ²)).
    """
    model = exp_family_1d(lambda x: (x + c0).unsqueeze(-1), lo=-14.0, hi=14.0, n=300,
                          sampler=lambda theta, z: z - theta[0])  # q_θ = N(−θ, 1)
    critic = LinearCritic(lambda x: (k * (x + c0)).unsqueeze(-1), offset=lambda x: -0.5 * x**2)
    return realizable(
        "shifted-linear",
        f"1-D, one parameter each: E = x²/2 + θ(x + {c0}), H = −x²/2 + ω·{k}(x + {c0}); "
        "the feature's mean is large against its spread",
        model,
        critic,
        torch.tensor([0.0], dtype=DTYPE),
    )


@register_setup("gauge")
def gauge() -> Setup:
    model = WithConstant(GaussianEnergy1D())
    theta = torch.cat([GaussianEnergy1D().theta_from(0.5, 1.3), torch.zeros(1, dtype=DTYPE)])
    return realizable(
        "gauge",
        "1-D Gaussian EBM with a free additive constant c in E and a constant in H: "
        "(c, ω0) -> (c + δ, ω0 − δ) is a gauge direction",
        model,
        LinearCritic(polynomial(2)),
        theta,
        has_gauge=True,
    )


MLP_SIZES = (1, 3, 1)  # wider MLPs have Fisher eigenvalues at rounding level (1e-14 for 6 units)


@register_setup("mlp-1d")
def mlp_1d(seed: int = 0) -> Setup:
    """E = x²/20 + MLP_θ(x) on a Gauss–Legendre grid and H = −(x²/20 + MLP_ω(x)), realizable at ω* = θ*."""

    def energy(theta, x):
        return 0.05 * x**2 + mlp.forward(theta, x, MLP_SIZES)

    model = GridEnergy1D(energy, mlp.param_count(MLP_SIZES), lo=-14.0, hi=14.0, n=300)
    theta_star = mlp.init(MLP_SIZES, torch.Generator().manual_seed(seed))
    return realizable(
        "mlp-1d",
        f"MLP energy {MLP_SIZES} with tanh plus x²/20, expectations by Gauss–Legendre; "
        "H = −(x²/20 + MLP_ω(x))",
        model,
        NegatedEnergyCritic(model),
        theta_star,
        omega_star=theta_star.clone(),
        has_gauge=True,  # the two output biases
    )
