"""The trained atlas on a 2-D toy (`training.toy2d_cells`): the noise-free arm, the death chance, the
arm's dispatch, and seeded cells."""

import json
import math
from dataclasses import replace

import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.commands.cli import main
from febm.dynamics.training import toy2d_cells
from febm.dynamics.training.arms import GaussianArm, cell_arm
from febm.dynamics.training.cells import OperatingPoint
from febm.dynamics.training.surrogate import febm_surrogate, inverse_curvature
from febm.dynamics.training.toy2d_training import Toy2DConfig, _exact_points, _gradients, train_batch
from febm.errors import InputError
from febm.toy_models import mlp, toy2d, with_critic

SMALL = Toy2DConfig(sizes=(2, 8, 8, 1), sampler_grid=24, data_nodes=3)


def test_uniform_weights_are_the_sample_mean():
    g, h = resolve("kl").function("g", "torch"), resolve("kl").function("h", "torch")
    r_p, r_q, e_q = torch.randn(3, 7, dtype=torch.float64).unbind()
    w = torch.full((7,), 1 / 7, dtype=torch.float64)
    assert torch.allclose(febm_surrogate(g, h, r_p, r_q, e_q), febm_surrogate(g, h, r_p, r_q, e_q, w, w))


@pytest.mark.parametrize("method", ["cd", "jensen_shannon"])
def test_the_noise_free_arm_is_the_mean_of_the_sampled_arm(method):
    """Both players' exact-expectation gradients against the mean of many sampled ones: data drawn from
    p, model points from the grid's law at its cell centres (the law the exact arm sums over)."""
    data, config = toy2d("moons"), replace(SMALL, dtype=torch.float64)
    kw = {"dtype": torch.float64}
    gen = torch.Generator().manual_seed(0)
    theta, omega = (mlp.init_batched(1, config.sizes, gen, **kw) for _ in range(2))
    d = None if method == "cd" else resolve(method)
    links = {} if d is None else {method: ((d.function("g", "torch"), d.function("h", "torch")), inverse_curvature(d))}
    x_p, x_q, w_p = _exact_points(data, config, 1, kw)
    exact = _gradients(theta, omega, x_p, x_q, [method], links, config, w_p)
    with torch.no_grad():
        w_q = torch.softmax(-mlp.forward_batched(theta, x_q, config.sizes, config.activation)[0], 0)
    n = 200_000
    xp = data.sample(n, gen, dtype=torch.float64)[None]
    xq = x_q[0, torch.multinomial(w_q, n, replacement=True, generator=gen)][None]
    sampled = _gradients(theta, omega, xp, xq, [method], links, replace(config, batch=n))
    for a, b in zip(exact, sampled):
        if a.abs().max() == 0:  # CD's critic: no gradient
            assert b.abs().max() == 0
            continue
        assert (a - b).norm() < 0.05 * a.norm()


def _state(r_shift: float):
    """θ and ω of small networks with the critic's output shifted by ``r_shift`` (its last bias)."""
    gen = torch.Generator().manual_seed(1)
    theta, omega = (mlp.init_batched(1, SMALL.sizes, gen) for _ in range(2))
    omega[0, -1] += r_shift
    return theta, omega


def test_death_chance_is_zero_for_finite_links_and_one_where_float32_overflows():
    d = resolve("kl")
    links = (d.function("g", "torch"), d.function("h", "torch"))  # h(u) = e^u: overflows float32 past u ≈ 88.7
    data = toy2d("moons")
    calm = toy2d_cells.step_death(links, data, SMALL, *_state(0.0), [1, 100])
    assert calm == {1: [0.0], 100: [0.0]}
    hot = toy2d_cells.step_death(links, data, SMALL, *_state(200.0), [1, 100])
    assert hot[1][0] == pytest.approx(1.0) and hot[100][0] == pytest.approx(1.0)


def test_death_chance_grows_with_the_batch_as_one_minus_a_power():
    d = resolve("kl")
    links = (d.function("g", "torch"), d.function("h", "torch"))
    theta, omega = _state(0.0)
    omega[0, -1] = 88.0  # r = H + E straddles the overflow on part of the grid
    chances = toy2d_cells.step_death(links, toy2d("moons"), SMALL, theta, omega, [1, 10])
    p1 = chances[1][0]
    assert 0 < p1 < 1
    assert chances[10][0] == pytest.approx(1 - (1 - p1) ** 10, rel=1e-9)


def test_the_cells_arm_follows_the_set_up():
    assert isinstance(cell_arm(with_critic("paper-1d", "mlp:4")), GaussianArm)
    arm = cell_arm(with_critic("toy2d-moons", "mlp:32,32"))
    assert isinstance(arm, toy2d_cells.ToyArm) and arm.dataset == "moons" and arm.config.sizes == (2, 32, 32, 1)
    with pytest.raises(InputError, match="of the energy's shape"):
        cell_arm(with_critic("toy2d-moons", "mlp:16"))


def test_a_toy_cell_is_seeded_and_its_runs_do_not_depend_on_each_other():
    arm = toy2d_cells.ToyArm("moons", SMALL)
    point = OperatingPoint(1e-2, 16, 20)
    a = toy2d_cells.measure("kl", arm, point, seeds=2)
    b = toy2d_cells.measure("kl", arm, point, seeds=3)
    assert a.runs["final_error"] == b.runs["final_error"][:2]
    predicted = toy2d_cells.predict("kl", arm, 1e-2, 20, [16, 64])
    assert set(predicted) == {16, 64}
    assert all(o.dead_fraction == 0.0 and o.cls == "slow" for o in predicted.values())


def test_atlas_on_a_toy_json(capsys):
    code = main(["atlas", "kl", "--model", "toy2d-moons", "--critic", "mlp:32,32", "--lr", "0.01", "--batch", "32",
                 "--steps", "20", "--measure", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["settings"]["error"] == "grid Jensen–Shannon"
    row = out["rows"][0]
    assert row["eta_max"] is None and row["rest"].startswith("not computed")
    assert {"class", "time_to_0.05", "dead_fraction", "final_error"} <= set(row["measured"])


def test_a_run_arrives_at_its_flow_s_arrival_dilated_by_its_early_lag():
    """Flow k's errors 0.5, 0.2, 0.04, 0.01 at steps 0, 100, 200, 300; a run at error e after K steps
    is as far as the flow at τ (its first step at e or below): it arrives at (K/τ) × 200."""
    from types import SimpleNamespace as S

    curves = [(step, [S(js=e)]) for step, e in [(0, 0.5), (100, 0.2), (200, 0.04), (300, 0.01)]]
    assert toy2d_cells.dilated(curves, 0, 0.2, None, 200, 1000) == (2.0, 400.0)
    assert toy2d_cells.dilated(curves, 0, 0.05, None, 100, 1000) == (0.5, 100.0)  # ahead of the flow
    assert toy2d_cells.dilated(curves, 0, 0.2, None, 300, 500) == (3.0, None)  # past the budget
    assert toy2d_cells.dilated(curves, 0, 0.6, None, 100, 1000) == (math.inf, None)  # no better than the start
    assert toy2d_cells.dilated(curves, 0, 0.03, 80, 100, 1000)[1] == 80  # arrived within K: its own time
    assert toy2d_cells.dilated(curves, 0, 0.001, None, 100, 1000)[0] == 0.1  # beyond the flow: τ = the budget
    # round 5's floor of 0.03: the flow's error counts 0.03 more, so flow + floor reaches 0.05 only at step 300
    assert toy2d_cells.dilated(curves, 0, 0.23, None, 200, 1000, floor=0.03) == (2.0, 600.0)
    assert toy2d_cells.dilated(curves, 0, 0.23, None, 200, 1000, floor=0.05) == (1.0, None)  # never at 0.05


def test_only_a_minibatch_run_s_own_death_counts():
    """Run 0: its flow overflowed, its early run lives: not dead, and never arrives (its ``arrival``).
    Run 1: its end probe died. Run 2: its early run died. Run 3: a finite flow whose steps each kill
    with chance 0.01 over 100 steps: 1 − 0.99¹⁰⁰, arriving at its dilated flow's step."""
    early = {"died": [False, False, True, False], "arrival": [None, 500.0, None, 700.0]}
    chances, gaps = [[1.0, 0.0, 0.0, 0.01]], [100]
    arrived, dead = toy2d_cells._fates([12, None, None, None], [False, True, False, False], early, chances, gaps)
    assert arrived == [None, None, None, 700.0]
    assert dead[:3] == [0.0, 1.0, 1.0] and dead[3] == pytest.approx(1 - 0.99 ** 100)


def test_a_batch_beyond_the_model_draws_is_refused():
    with pytest.raises(InputError, match="exceeds the 16 model chains"):
        train_batch("moons", [], replace(SMALL, batch=32, chains=16))


def test_a_moment_batch_is_refused_outside_the_noise_free_game():
    with pytest.raises(InputError, match="moment_batch"):
        train_batch("moons", [], replace(SMALL, moment_batch=16))
    with pytest.raises(InputError, match="moment_batch"):
        train_batch("moons", [], replace(SMALL, sampler="expectation", moment_batch=0))


def test_each_batch_has_its_own_mean_field_flow_from_the_runs_start():
    """The flows at two batches start at one state (the measured runs' first draws) and part as their
    Adam second moments see different minibatch noise."""
    arm = toy2d_cells.ToyArm("moons", SMALL)
    predicted = toy2d_cells.predict("kl", arm, 1e-2, 20, [4, 64])
    a, b = (predicted[k].runs["flow_error"] for k in (4, 64))
    assert a[0] == b[0] and a[-1] != b[-1]


def test_an_operating_point_draws_as_many_model_points_as_data_points():
    config = toy2d_cells.ToyArm("moons", SMALL).at(OperatingPoint(1e-2, 1000, 10))
    assert config.batch == config.chains == 1000


def test_the_early_share_is_whole_records_within_the_budget():
    assert toy2d_cells.early_steps(3000) == 600
    assert toy2d_cells.early_steps(100) == 50  # at least one record
    assert toy2d_cells.early_steps(20) == 20  # never past the budget
