"""The trained-game verdict: the death chance of a step against minibatch steps, the saddle-point
tail against a closed form, the class rule, the scores by hand, and the command's JSON and errors."""

import json
import math
from dataclasses import replace

import pytest
import torch
from scipy import stats

from febm.divergences import resolve
from febm.dynamics.commands.cli import main
from febm.dynamics.commands.trained_atlas import CellRow, TrainedAtlasReport, scores, trained_atlas
from febm.dynamics.training import arrival, cells, hazard
from febm.dynamics.training.cells import CellClass, OperatingPoint
from febm.dynamics.training.trainer import BatchedGaussianFEBM
from febm.toy_models import paper_mixture


def test_saddle_point_tail_is_the_gamma_law_of_a_sum_of_exponentials():
    """The mean of B draws of Exp(1) (on a fine grid) exceeds x with the Gamma(B) law's chance: the
    Lugannani–Rice tail is within 3% from the bulk to 1e-8 (a central limit is off by orders there)."""
    a = torch.linspace(0, 60, 600001, dtype=torch.float64)
    w = torch.exp(-a)
    w /= w.sum()
    zero = (torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64))
    for batch in (10, 100):
        for x in (1.2, 1.5, 2.0, 2.5):
            exact = stats.gamma.sf(batch * x, batch)
            if exact > 1e-8:
                assert hazard._tail([(a, w), zero], x, batch) == pytest.approx(exact, rel=0.03)


def test_dead_fraction_of_a_constant_chance_is_geometric():
    assert hazard.dead_fraction([0.01, 0.01], [100, 200]) == pytest.approx(1 - 0.99**300, rel=1e-12)
    assert hazard.dead_fraction([0.0, 1.0], [5, 1]) == 1.0 and hazard.dead_fraction([], []) == 0.0
    assert hazard.dead_fraction([0.0, 1.0], [5, 0]) == 0.0  # a certain death that holds for no step
    assert hazard.dead_fraction([float("nan")], [3]) == 1.0  # a chance that could not be computed


def test_a_vanishing_sigma_is_a_certain_death_not_a_nan():
    """σ far below the grid's spacing leaves q no finite law on it: the step counts as deadly."""
    d = resolve("jensen_shannon").validate()
    one = BatchedGaussianFEBM([d], paper_mixture(), replace(arrival.config(1e-2, 1, (1, 4, 1)), batch=10), seed=0)
    theta = torch.tensor([[0.3, math.log(1e-9)]], dtype=one.theta.dtype)
    p = hazard.step_death(one, theta, one.omega, [10], 1e-2)[10]
    assert torch.isfinite(p).all() and float(p[0]) == 1.0


def test_a_sample_meets_only_its_own_link():
    """reverse KL's g = −e^(−r) overflows float32 below r ≈ −88 and its h = r − 1 never does. With q far
    from the data (μ = −30, σ = 0.5) and a critic at −150, r ≈ −150 on q's mass and > 1000 on p's: the
    q-samples meet only h, so a step is safe, and 1,000 one-step runs all survive (a mask shared by p
    and q predicted certain death here)."""
    d = resolve("reverse_kl").validate()
    cfg = replace(arrival.config(1e-3, 1, (1, 8, 8, 1)), batch=100)
    one = BatchedGaussianFEBM([d], paper_mixture(), cfg, seed=0)
    theta = torch.tensor([[-30.0, math.log(0.5)]], dtype=one.theta.dtype)
    omega = torch.zeros_like(one.omega)
    omega[:, -1] = -150.0  # the critic's output bias
    x, _ = hazard._grid(one, theta.double())
    r = one.critic(omega.double(), x) + one.energy(theta.double(), x)
    (g, h), _ = one.groups["reverse_kl"]
    assert hazard.link_overflows(g, r.float()).any() and not hazard.link_overflows(h, r.float()).any()
    assert float(hazard.step_death(one, theta, omega, [100], 1e-3)[100][0]) < 1e-6
    runs = 1000
    many = BatchedGaussianFEBM([d] * runs, paper_mixture(), replace(cfg, steps=1), seed=5)
    many.theta, many.omega = theta.expand(runs, 2).clone(), omega.expand(runs, -1).clone()
    assert all(s.ok for s in many.train().status)


@pytest.mark.parametrize("name, batch", [("jensen_shannon", 100), ("reverse_kl", 100), ("pearson_chi2", 10)])
def test_step_death_chance_agrees_with_minibatch_steps(name, batch):
    """At the standard start (σ = 1, a random 1-8-8-1 critic) and a step where the predicted chance
    that one simultaneous step takes σ to 0 is 0.1, 3,000 seeded one-step runs die at a rate within ×2
    of it (measured 0.02–0.15 when this was written)."""
    d = resolve(name).validate()
    cfg = replace(arrival.config(1.0, 1, (1, 8, 8, 1)), batch=batch, update="simultaneous")
    one = BatchedGaussianFEBM([d], paper_mixture(), cfg, seed=3)

    def chance(lr):
        return float(hazard.step_death(one, one.theta, one.omega, [batch], lr)[batch][0])

    lo, hi = 1e-4, 1e4
    for _ in range(30):
        lr = math.sqrt(lo * hi)
        lo, hi = (lr, hi) if chance(lr) < 0.1 else (lo, lr)
    predicted = chance(lr)
    runs = 3000
    many = BatchedGaussianFEBM([d] * runs, paper_mixture(), replace(cfg, lr_theta=lr, lr_omega=lr), seed=5)
    many.theta, many.omega = one.theta.expand(runs, 2).clone(), one.omega.expand(runs, -1).clone()
    measured = sum(not s.ok for s in many.train().status) / runs
    assert measured > 0.01 and 0.5 <= predicted / measured <= 2.0


def test_a_thrown_critic_is_priced_where_the_critic_steps_first():
    """A t·log t-type f (h' grows like e^r) at the standard start with the reference 1-64-64-1 critic,
    lr 2·10⁻², batch 100: 4,000 seeded one-step runs, critic first, die at a rate within ×1.5 of the
    predicted chance (measured 0.011 against 0.013 when this was written); without the thrown critic
    (the chance a simultaneous step has) the prediction is under half the measured rate (0.0034)."""
    d = resolve("t*log(t) - t + 1 + (t-1)**2/(t+3)").validate()
    batch, lr = 100, 2e-2
    cfg = replace(arrival.config(lr, 1, (1, 64, 64, 1)), batch=batch)
    one = BatchedGaussianFEBM([d], paper_mixture(), cfg, seed=0)
    predicted = float(hazard.step_death(one, one.theta, one.omega, [batch], lr)[batch][0])
    one.config = replace(cfg, update="simultaneous")
    unthrown = float(hazard.step_death(one, one.theta, one.omega, [batch], lr)[batch][0])
    dead = 0
    for chunk in range(2):
        many = BatchedGaussianFEBM([d] * 2000, paper_mixture(), cfg, seed=100 + chunk)
        many.theta, many.omega = one.theta.expand(2000, 2).clone(), one.omega.expand(2000, -1).clone()
        dead += sum(not s.ok for s in many.train().status)
    measured = dead / 4000
    assert dead >= 20 and 1 / 1.5 <= predicted / measured <= 1.5
    assert unthrown < measured / 2


def test_operating_points_are_checked_and_short_budgets_are_read_to_their_end():
    """A budget shorter than the trainer's recording interval still has its last step read (it used
    to leave every run 'dead' with an unread error)."""
    from febm.dynamics.training.arms import require_arm
    from febm.errors import InputError
    from febm.toy_models import with_critic

    for bad in ((0.0, 10, 10), (1e-2, 0, 10), (1e-2, 10, 0), (float("nan"), 10, 10)):
        with pytest.raises(InputError):
            OperatingPoint(*bad)
    arm = require_arm(with_critic("paper-1d", "mlp:4"))
    out = cells.measure("kl", arm, OperatingPoint(1e-2, 10, 5), seeds=2)
    assert out.dead_fraction == 0.0 and out.cls is CellClass.SLOW


def test_classes_follow_the_rule():
    assert cells.classify(1200.0, 0.0) is CellClass.TRAINS
    assert cells.classify(None, 0.125) is CellClass.SLOW
    assert cells.classify(1200.0, cells.DEAD_CLASS) is CellClass.DIES
    assert arrival.median_time([10, 20, None, None]) is None
    assert arrival.median_time([10, 20, 30, None]) == 25.0


def _row(pred, meas, hold_out=False, times=(None, None), dead=(0.0, 0.0)):
    return CellRow("kl", 0.01, 100, 1000, hold_out, 0.08, "measured",
                   {"class": pred, "time_to_0.05": times[0], "dead_fraction": dead[0]},
                   {"class": meas, "time_to_0.05": times[1], "dead_fraction": dead[1], "final_error": 0.1})


def test_scores_by_hand():
    """4 cells: 3 agree; predicted (trains, trains, dies, slow) against measured (trains, slow, dies,
    slow): p_o = 3/4, p_e = (2·1 + 1·1 + 1·2)/16 = 5/16, κ = (12/16 − 5/16)/(11/16) = 7/11."""
    rows = [_row("trains", "trains", times=(100, 150)), _row("trains", "slow", times=(100, None)),
            _row("dies", "dies", dead=(1.0, 0.5)), _row("slow", "slow", dead=(0.0, 0.3))]
    s = scores(rows)
    assert s["accuracy"] == 0.75 and s["kappa"] == pytest.approx(7 / 11) and s["majority"] == 0.5
    assert (s["time_within"], s["time_cells"]) == (1, 1) and (s["dead_within"], s["dead_cells"]) == (2, 4)


def test_a_cell_that_dies_at_once_is_predicted_and_measured_so():
    """α = 2 at the standard start: one step at lr 10⁻² takes σ below 0 for every critic; the flows
    die, the prediction says 'dies' and every measured run dies (and the report survives its JSON)."""
    report = trained_atlas(["alpha=2"], "paper-1d", "mlp:4", [OperatingPoint(1e-2, 50, 40)], measure=2,
                           progress=False)
    row = report.rows[0]
    assert row.predicted["class"] == row.measured["class"] == "dies"
    assert row.predicted["dead_fraction"] == row.measured["dead_fraction"] == 1.0
    back = TrainedAtlasReport.from_json(json.loads(json.dumps(report.to_json())))
    assert back.to_json() == report.to_json() and "dies" in back.text()


def test_atlas_with_a_critic_json_keys(capsys):
    code = main(["atlas", "kl", "--critic", "mlp:4", "--lr", "0.01", "--batch", "50", "--steps", "30",
                 "--measure", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["game"] == "trained"
    row = out["rows"][0]
    assert {"class", "time_to_0.05", "dead_fraction"} <= set(row["predicted"])
    assert {"class", "time_to_0.05", "dead_fraction", "final_error"} <= set(row["measured"])
    assert {"accuracy", "kappa", "majority", "time_within", "dead_within"} <= set(out["summary"]["analysis"])


@pytest.mark.parametrize("argv, words", [
    (["--critic", "mlp:4", "--basins"], "--basins belongs to the stand-in game"),
    (["--critic", "mlp:4", "--steps", "300000"], "at most 200,000"),
    (["--critic", "mlp:4", "--model", "gaussian-1d"], "does not take a network critic"),
    (["--critic", "mlp:4", "--model", "toy2d-moons"], "runs of the trained game need"),
    (["--critic", "mlp:4", "--lr", "0"], "--lr"),
    (["--critic", "mlp:4", "--batch", "0"], "--batch"),
    (["--critic", "mlp:4", "--measure", "-1"], "--measure"),
    (["--critic", "mlp:4", "--batch", "200000"], "at most 100,000"),
    (["--measure", "2"], "--measure runs the trained game"),
])
def test_atlas_with_a_critic_refuses_bad_input_in_one_line(capsys, argv, words):
    code = main(["atlas", "kl", *argv])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_check_says_a_realizable_verdict_is_shared_by_f_with_the_same_curvature():
    from febm.dynamics.commands.check import check

    text = check("jeffreys", simulate_runs=False).text()
    assert "every f with f''(1) = 2" in text and "atlas NAME --critic" in text
    assert "every f with" not in check("kl", model="paper-1d", simulate_runs=False).text()


def test_the_commands_default_list_is_the_curved_catalog():
    """cli keeps the list without importing torch; it must stay the catalog's f with f''(1) > 0."""
    from febm.dynamics.commands import cli
    from febm.dynamics.training.toy2d_training import all_methods

    assert cli.DEFAULT_TRAINED == tuple(all_methods()[1:])


@pytest.mark.parametrize("argv", [["calibrate", "(t-1)**4", "--critic", "mlp:4"],
                                  ["atlas", "kl", "(t-1)**4", "--critic", "mlp:4", "--lr", "0.01", "--batch", "10",
                                   "--steps", "10"]])
def test_an_f_without_curvature_is_refused_before_any_work(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "f''(1) is 0" in err and len(err.strip().splitlines()) == 1
