"""The trained game with the trainer's link clamps (`Game(link_clip=...)`, `check --link-clip`)."""

import json
import math

import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.analysis.game import Game
from febm.dynamics.commands.cli import main
from febm.dynamics.training.reference import REFERENCE_CLAMPS

from problems import cached_setup

U = torch.linspace(-8, 8, 161, dtype=torch.float64)


def test_clamped_derivatives_are_the_closed_forms():
    """KL's h(u) = e^min(u, 3): h' = h'' = e^u below 3 and 0 above; g(u) = 1 + u has no exp.
    Pearson χ²'s g(u) = 2(e^min(u, 6) − 1): g' = 2e^u below 6, 0 above."""
    s = cached_setup("paper-1d")
    kl = Game.from_setup(resolve("kl"), s, REFERENCE_CLAMPS)
    below, above = U < 3, U > 3
    for h in (kl.h1, kl.h2):
        assert torch.allclose(h(U)[below], U[below].exp(), rtol=1e-15, atol=0) and (h(U)[above] == 0).all()
    assert (kl.g1(U) == 1).all() and (kl.g2(U) == 0).all()
    pearson = Game.from_setup(resolve("pearson_chi2"), s, REFERENCE_CLAMPS)
    below, above = U < 6, U > 6
    assert torch.allclose(pearson.g1(U)[below], 2 * U[below].exp(), rtol=1e-15, atol=0)
    assert (pearson.g1(U)[above] == 0).all()


@pytest.mark.parametrize("name", ["kl", "jensen_shannon", "pearson_chi2", "alpha=-1"])
def test_clamped_estimator_is_the_gradient_of_the_clamped_value(name):
    """Two independent routes where the clamp is active at many nodes (±1): the paper's estimator with
    the clamped links' derivatives (forward mode) and autodiff of L through the clamped links."""
    s = cached_setup("paper-1d")
    game = Game.from_setup(resolve(name), s, 1.0)
    z = s.initial_guess(game.divergence)
    theta, omega = game.split(z)
    assert (game.r(theta, omega, s.data.nodes().x).abs() > 1).sum() > 10  # the clamp is active
    for a, b in zip(game.gradients(theta, omega), game.autodiff_gradients(theta, omega)):
        assert torch.allclose(a, b, atol=1e-12, rtol=0)
    exact = Game.from_setup(resolve(name), s).gradients(theta, omega)
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in zip(exact, game.gradients(theta, omega)))


def test_a_clamp_beyond_every_node_is_the_exact_game():
    s = cached_setup("paper-1d")
    d = resolve("neyman_chi2")
    exact, clamped = Game.from_setup(d, s), Game.from_setup(d, s, 700.0)
    theta, omega = exact.split(s.initial_guess(d))
    for a, b in zip(exact.gradients(theta, omega), clamped.gradients(theta, omega)):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)


def test_a_clamp_per_f_applies_to_its_f_only():
    s = cached_setup("paper-1d")
    assert Game.from_setup(resolve("kl"), s, REFERENCE_CLAMPS).link_clip == (-math.inf, 3.0)
    assert Game.from_setup(resolve("jensen_shannon"), s, REFERENCE_CLAMPS).link_clip is None
    assert Game.from_setup(resolve("kl"), s, 5).link_clip == (-5.0, 5.0)


def test_check_reports_the_clamp_and_reads_back(capsys, tmp_path):
    assert main(["check", "kl", "--model", "paper-1d", "--link-clip=-inf,3", "--no-simulation", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["link_clip"] == [None, 3.0]
    from febm.dynamics.commands.check import CheckReport

    back = CheckReport.from_json(d)
    assert back.link_clip == [None, 3.0] and "clamped to a in [-inf, 3]" in back.text()
    assert any("jumps" in n for n in d["notes"])
    assert main(["check", "kl", "--model", "paper-1d", "--no-simulation", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link_clip"] is None
    assert main(["check", "pearson_chi2", "--model", "paper-1d", "--link-clip", "reference", "--no-simulation",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link_clip"] == [None, 6.0]


@pytest.mark.parametrize("value", ["3,2", "0", "abc", "1,2,3", "nan", "-inf", "1,800", "-800,1", "inf,3", "x,3"])
def test_bad_link_bounds_are_one_line(value, capsys):
    assert main(["check", "kl", "--model", "paper-1d", f"--link-clip={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_clamped_node_field_is_the_clamped_estimator():
    """A network critic's node-space field (autodiff through the clamped L(θ, h(ω))) equals the
    estimator with the clamped links' derivatives, with the clamp active (±0.5) at many nodes."""
    from febm.dynamics.analysis.fields import GDAField
    from febm.dynamics.analysis.nodespace import NodeGame
    from febm.toy_models.critics import parse_critic
    from febm.toy_models.misspecified import paper_1d

    critic = parse_critic("mlp:4")
    s = paper_1d(critic=critic)
    z = torch.cat([torch.tensor([1.0, 0.6], dtype=torch.float64), critic.init(0)])
    for name in ("kl", "pearson_chi2"):
        game = Game.from_setup(resolve(name), s, 0.5)
        torch.testing.assert_close(NodeGame(game).field(z), GDAField(game)(z), rtol=1e-10, atol=1e-12)
        assert not torch.allclose(NodeGame(game).field(z), NodeGame(Game.from_setup(resolve(name), s)).field(z))
