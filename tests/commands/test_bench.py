"""The 2-D benchmark: counted budgets, runs that stop at their own step count, seeded results,
intervals and the verdict against CD."""

import json
import math
from dataclasses import replace

import pytest
import torch

from febm.dynamics.commands.cli import main
from febm.dynamics.training import bench, toy2d_scoring, toy2d_training
from febm.dynamics.training.budget import step_cost, steps_within
from febm.dynamics.training.toy2d_scoring import Score
from febm.dynamics.training.toy2d_training import Run, Toy2DConfig, train_batch
from febm.toy_models import mlp, toy2d

# chains (24) and loss points (2 × batch = 16) differ, so each network call's size says what it is
SMALL = Toy2DConfig(batch=8, chains=24, sizes=(2, 8, 1), langevin_steps=3, device="cpu")


def _runs(steps=(3, 3), methods=("cd", "kl")):
    return [Run(m, f"test/{m}", 2e-3, 5.0, s) for m, s in zip(methods, steps)]


def test_budget_counts_every_point_that_reaches_the_networks(monkeypatch):
    calls = []
    real = mlp.forward_batched
    monkeypatch.setattr(mlp, "forward_batched", lambda p, x, *a: calls.append(x.shape[1]) or real(p, x, *a))
    steps = 3
    train_batch("8gaussians", _runs((steps, steps)), SMALL)
    sampler = [n for n in calls if n == SMALL.chains]
    loss = [n for n in calls if n == 2 * SMALL.batch]
    assert len(sampler) + len(loss) == len(calls)
    assert len(loss) == 2 * steps  # the energy, then the critic, once per step
    energy, critic = sum(sampler) + sum(loss[0::2]), sum(loss[1::2])
    assert energy == steps * step_cost("kl", SMALL).energy == steps * step_cost("cd", SMALL).energy
    assert critic == steps * step_cost("kl", SMALL).critic
    assert step_cost("cd", SMALL).critic == 0 and step_cost("kl", SMALL).critic == 2 * SMALL.batch


def test_cd_runs_spend_nothing_on_the_critic():
    """CD's critic is evaluated in the batch but receives an exactly zero gradient."""
    kw = {"dtype": torch.float32}
    theta = mlp.init_batched(2, SMALL.sizes, torch.Generator().manual_seed(0), **kw)
    omega = mlp.init_batched(2, SMALL.sizes, torch.Generator().manual_seed(1), **kw)
    x_p, x_q = torch.randn(2, 8, 2), torch.randn(2, 8, 2)
    from febm.divergences import resolve
    from febm.dynamics.training.surrogate import inverse_curvature

    d = resolve("kl")
    links = {"kl": ((d.function("g", "torch"), d.function("h", "torch")), inverse_curvature(d))}
    _, g_o = toy2d_training._gradients(theta, omega, x_p, x_q, ["cd", "kl"], links, SMALL)
    assert torch.count_nonzero(g_o[0]) == 0 and torch.count_nonzero(g_o[1]) > 0


def test_equal_budget_gives_cd_more_steps():
    budget = 100 * step_cost("kl", SMALL).total
    assert steps_within(budget, "kl", SMALL) == 100
    assert steps_within(budget, "cd", SMALL) == budget // step_cost("cd", SMALL).total > 100


def test_a_run_stops_at_its_own_step_count_whatever_its_neighbours_do():
    short_alone = train_batch("8gaussians", _runs((2,), ("kl",)), SMALL)
    mixed = train_batch("8gaussians", _runs((5, 2)), SMALL)  # kl stops at 2 beside a 5-step CD
    assert torch.equal(mixed.theta[1], short_alone.theta[0])
    assert torch.equal(mixed.chains[1], short_alone.chains[0])


def test_interval_is_the_student_t_interval():
    iv = bench.Interval.of([1.0, 2.0, 3.0, None, math.nan])
    assert iv.n == 3 and iv.mean == 2.0
    assert iv.half_width == pytest.approx(4.302652729911275 / math.sqrt(3))  # t(0.975, 2) · sd/√n
    assert bench.Interval.of([]).mean is None and bench.Interval.of([1.0]).half_width is None


def _cell(method, js):
    scores = [Score(None, v, 1.0, 1.0) for v in js]
    return bench.Cell("8gaussians", method, 1e-3, 5.0, 1, 1, scores, 0, {}, [])


def test_verdict_uses_welch_t_test_against_cd():
    cells = [_cell("cd", [0.10, 0.11, 0.12, 0.10, 0.11]), _cell("a", [0.05, 0.06, 0.05, 0.06, 0.05]),
             _cell("b", [0.10, 0.12, 0.11, 0.10, 0.11]), _cell("c", [0.30, 0.31, 0.29, 0.30, 0.32])]
    bench.compare_with_cd(cells)
    assert [c.verdict for c in cells] == [None, "beats", "ties", "loses"]
    assert cells[2].p_value > 0.05 > cells[1].p_value


def _bench_json(capsys, *extra):
    assert main(["bench", "toy2d", "8gaussians", "--methods", "cd,kl", "--seeds", "2", "--budget", "0.05",
                 "--device", "cpu", "--json", *extra]) == 0
    out = json.loads(capsys.readouterr().out)
    out.pop("elapsed_s")
    return out


def test_bench_json_is_seeded_and_has_stable_keys(capsys):
    a, b = _bench_json(capsys), _bench_json(capsys)
    c = _bench_json(capsys, "--seed", "1")
    assert a == b and a != c
    assert set(a) == {"protocol", "device", "cells"}
    cell = a["cells"][1]
    assert {"dataset", "method", "lr", "critic_lr_ratio", "steps", "evaluations", "seeds", "failed", "summary",
            "curve", "verdict", "p_value"} <= set(cell)
    assert set(cell["summary"]) == set(bench.SCORES)
    assert cell["evaluations"] <= 0.05e6 < cell["evaluations"] + step_cost("kl", SMALL.__class__()).total
    assert a["cells"][0]["steps"] > cell["steps"]  # CD's cheaper step buys more of them
    for c in a["cells"]:  # learning curves: strictly increasing spend, ending at the run's budget
        spent = [p["evaluations"] for p in c["curve"]]
        assert spent == sorted(set(spent)) and spent[0] == 0 and spent[-1] == c["evaluations"]


def test_held_out_nll_of_the_true_density_is_the_data_entropy():
    data = toy2d("8gaussians")
    sc = toy2d_scoring.score(data, lambda x: -data.log_prob(x.double()).to(x.dtype),
                     data.sample(200, torch.Generator().manual_seed(0)), 3.5)
    assert sc.js == pytest.approx(0.0, abs=1e-12)
    assert sc.nll == pytest.approx(float(-data.log_prob(toy2d_scoring.held_out_data(data)).mean()), rel=1e-9)


def test_tuning_picks_one_setting_per_method_from_the_grid():
    cfg = replace(SMALL, steps=1)
    chosen = bench._tune("8gaussians", ["cd", "kl"], 2 * step_cost("kl", cfg).total, cfg, 0, False)
    assert set(chosen) == {"cd", "kl"} and all(s in bench.TUNING for s in chosen.values())


def test_residual_critic_starts_at_r_zero_and_its_theta_gradient_is_the_covariance_term():
    from febm.divergences import resolve
    from febm.dynamics.training.surrogate import inverse_curvature

    cfg = replace(SMALL, critic="residual")
    start = train_batch("8gaussians", _runs((0, 0), ("kl", "reverse_kl")), cfg)  # 0 steps: the initial state
    assert torch.count_nonzero(mlp.forward_batched(start.omega, torch.randn(2, 50, 2), cfg.sizes)) == 0
    gen = torch.Generator().manual_seed(3)
    kw = {"dtype": torch.float32}
    theta = mlp.init_batched(1, cfg.sizes, gen, **kw)
    omega = mlp.init_batched(1, cfg.sizes, gen, **kw)
    x_p, x_q = torch.randn(1, 8, 2, generator=gen), torch.randn(1, 8, 2, generator=gen)
    d = resolve("reverse_kl")
    g, h = d.function("g", "torch"), d.function("h", "torch")
    links = {"reverse_kl": ((g, h), inverse_curvature(d))}
    g_t, _ = toy2d_training._gradients(theta, omega, x_p, x_q, ["reverse_kl"], links, cfg)
    th = theta.detach().requires_grad_(True)
    e = mlp.forward_batched(th, torch.cat([x_p, x_q], 1), cfg.sizes)
    hq = h(mlp.forward_batched(omega, x_q, cfg.sizes))[0]
    c = hq - hq.mean()
    expected = cfg.penalty * (e**2).mean() + inverse_curvature(d) * (c * e[0, 8:]).mean()
    (want,) = torch.autograd.grad(expected, th)
    assert torch.allclose(g_t, want, atol=1e-6) and float(want.abs().max()) > 1e-3



def test_bench_plot_writes_the_curves_and_the_results(tmp_path, capsys):
    assert main(["bench", "toy2d", "moons", "--methods", "cd,kl", "--seeds", "2", "--budget", "0.02",
                 "--device", "cpu", "--plot", str(tmp_path)]) == 0
    assert (tmp_path / "bench-toy2d.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "bench-toy2d.json").read_text())
    assert [c["method"] for c in saved["cells"]] == ["cd", "kl"] and saved["protocol"]["seeds"] == 2
    assert saved["provenance"]["command"] and saved["provenance"]["date_utc"]  # written by files.write_json
    assert "moons:" in capsys.readouterr().out


def test_holm_adjustment_matches_a_hand_computation():
    from studies import operating_point

    adjusted = operating_point.holm([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1, then made monotone
    assert adjusted == pytest.approx([0.04, 0.09, 0.09, 0.5])


def test_holm_adjustment_by_hand():
    # sorted 0.01, 0.03, 0.04: ×3 = 0.03, ×2 = 0.06, ×1 = 0.04 → kept monotone at 0.06
    assert bench.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert bench.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_a_verdict_that_welch_calls_beats_ties_after_holm():
    cd = _cell("cd", [0.10, 0.12, 0.11, 0.13, 0.10])
    near = _cell("a", [0.08, 0.10, 0.09, 0.11, 0.09])  # Welch p 0.049 on its own
    others = [_cell(m, [0.11, 0.12, 0.11, 0.12, 0.11]) for m in "bcd"]
    cells = [cd, near, *others]
    bench.compare_with_cd(cells)
    assert near.p_value < 0.05 <= near.p_holm and near.verdict == "ties"


def test_the_cli_lists_the_presets_of_the_bench():
    from febm.dynamics.commands.cli import PRESETS

    assert list(PRESETS) == list(bench.PRESETS) and bench.DEFAULT_PRESET in bench.PRESETS
    assert bench.PRESETS["under-trained"].config() == bench.Toy2DConfig()  # the earlier default, unchanged


def test_a_saved_bench_loads_back_typed_and_writes_the_same_json():
    """BenchReport loads through the generic JSON (fields' annotations): curve points, intervals,
    scores and verdicts come back as their types, and the JSON written back is the file's."""
    from febm.dynamics.commands.figures import result
    from febm.dynamics.report import jsonable
    from febm.dynamics.training.bench import BenchReport, Comparison, CurvePoint, Interval

    saved = result("docs/results/cpu-verdict/verdict.json")
    report = BenchReport.from_json(saved)
    cell = next(c for c in report.cells if c.method != "cd")
    assert isinstance(cell.curve[0], CurvePoint) and isinstance(cell.curve[0].js, Interval)
    assert isinstance(cell.summary["js"], Interval) and isinstance(cell.verdict, Comparison)
    assert jsonable(report.to_json()) == saved
