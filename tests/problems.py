"""Shared reference problems for the toy-model and dynamics tests."""

from __future__ import annotations

from functools import cache

from febm.divergences import catalog, resolve
from febm.dynamics.analysis.fields import GDAField
from febm.dynamics.analysis.game import Game
from febm.toy_models import setup

# every catalog entry with f''(1) > 0 that needs no parameter
SMOOTH = [n for n in catalog.names() if n != "alpha" and resolve(n).f2_at_1 not in (None, 0)]
# realizable set-ups with exact expectations where f-independence is checked for every divergence
CORE_MODELS = ["gaussian-1d", "gaussian-2d", "expfam-finite"]
ALL_MODELS = ["gaussian-1d", "gaussian-1d-natural", "gaussian-2d", "expfam-finite", "shifted-linear",
              "gauge", "mlp-1d"]
# a generator outside the catalog whose conjugate has no closed form
NUMERIC_CONJUGATE = "(t-1)*atan(t-1)"


@cache
def cached_setup(model: str):
    return setup(model)


@cache
def game(name: str, model: str) -> Game:
    return Game.from_setup(resolve(name).validate(), cached_setup(model))


def field(name: str, model: str, eta_theta: float = 1.0, eta_omega: float = 1.0) -> GDAField:
    return GDAField(game(name, model), eta_theta, eta_omega)


@cache
def analysis(name: str, model: str):
    """The one LocalAnalysis of a game (equilibrium, linearization, spectrum, verdict), shared by tests."""
    from febm.dynamics.analysis.local import LocalAnalysis

    return LocalAnalysis.build(name, cached_setup(model))


def equilibrium(name: str, model: str):
    """The located equilibrium of a game (known, or solved for a misspecified set-up)."""
    return analysis(name, model).equilibrium


def linearization(name: str, model: str):
    return analysis(name, model).lin
