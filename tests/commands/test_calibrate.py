"""`febm calibrate`: its defaults, its arms from the command line, a user's critic module, the clamped
game, bad input."""

import json
from dataclasses import replace

import pytest

from febm.dynamics.commands.calibrate import CalibrateReport
from febm.dynamics.commands.cli import main
from febm.dynamics.training import arrival, mean_square_runs, relaxation
from febm.dynamics.training.reference import REFERENCE_EXACT
from febm.toy_models import paper_mixture


def test_the_clis_calibrate_defaults_are_the_modules():
    from febm.dynamics.commands import calibrate, cli

    args = cli.build_parser().parse_args(["calibrate", "kl"])
    assert cli.CALIBRATED == calibrate.MEASURED
    assert cli.CALIBRATED_DEFAULT == calibrate.DEFAULT_QUANTITIES == args.quantities
    assert args.time_steps == arrival.MAX_STEPS
    from febm.dynamics.training import mean_square_runs

    assert args.batch == mean_square_runs.BATCH


def test_calibrate_times_a_small_critic_from_the_cli(tmp_path, capsys, monkeypatch):
    """The time-to-0.05 columns from the CLI: JSON keys, per-run times that agree with the medians,
    the summary keyed by quantity, and the figure with a panel for each quantity."""
    from febm.dynamics.commands.cli import main

    monkeypatch.setattr(arrival, "REFERENCE_EXACT", replace(REFERENCE_EXACT, batch=128))
    monkeypatch.setattr(arrival, "SEEDS", 3)
    monkeypatch.setattr(arrival, "PREDICTION_SEEDS", 2)
    code = main(["calibrate", "kl", "--critic", "mlp:4", "--quantities", "time_to_0.05,rate_from_start",
                 "--time-steps", "300",
                 "--json", "--plot", str(tmp_path)])
    import json

    d = json.loads(capsys.readouterr().out)
    row = d["rows"][0]
    assert code == 0 and d["not_measured"] == ["eta_max", "eta_ms", "rate", "spread"]
    assert row["predicted"]["rate_from_start"] == pytest.approx(relaxation.predicted_rate("kl", data=paper_mixture()))
    assert len(row["relaxation"]["rates"]) == relaxation.RATE_SEEDS  # 300 steps: the fit window is not reached
    assert row["measured"]["rate_from_start"] is None and row["relaxation"]["last_step"] == 300
    pred, meas = row["arrival"]["predicted"], row["arrival"]["measured"]
    assert len(pred["steps"]) == 2 and len(meas["steps"]) == 3 and pred["last_step"] <= 300
    assert row["arrival"]["cap"] == arrival.measurement_cap(arrival.Arrival(**pred), 300)
    assert row["predicted"]["time_to_0.05"] == arrival.Arrival(**pred).median
    assert set(d["summary"]) == {"time_to_0.05", "rate_from_start"} and (tmp_path / "calibration.png").exists()


def test_calibrate_bad_input(capsys):
    from febm.dynamics.commands.cli import main

    assert main(["calibrate", "kl", "--critic", "rnn:3"]) == 2
    assert main(["calibrate", "kl", "--model", "gaussian-1d"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("febm: error:") for line in err)
    assert "does not take a network critic" in err[1]


def test_calibrate_from_the_cli_with_a_users_module(tmp_path, capsys, monkeypatch):
    """Your own torch.nn.Module (a file you run), from the CLI (any f: `resolve` is tested apart): the JSON's keys, its
    round trip, the two figures, and a measured bracket around a finite edge. (Agreement is a
    measurement, in docs/trained-game.md; this flow is too short to be near a resting point.)"""
    from febm.dynamics.analysis import local_rate
    from febm.dynamics.commands.cli import main

    monkeypatch.setattr(local_rate, "MAX_STEPS", 100)  # the rate's pair runs: short (agreement is tested apart)
    path = tmp_path / "my_critic.py"
    path.write_text("import torch\ntorch.manual_seed(1)\n"
                    "critic = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))\n")
    code = main(["calibrate", "jensen_shannon", "--critic", f"{path}:critic", "--flow-steps", "200",
                 "--warm-steps", "50", "--edge-steps", "30", "--json", "--plot", str(tmp_path / "figs")])
    d = json.loads(capsys.readouterr().out)
    assert code == 0
    assert d["critic"] == "my_critic.py:critic" and d["rows"][0]["name"] == "jensen_shannon"
    row = d["rows"][0]
    assert set(row["predicted"]) == set(row["measured"]) == {"eta_max", "eta_ms", "rate", "spread", "time_to_0.05",
                                                                  "rate_from_start"}
    assert set(d["summary"]["eta_max"]) == {"n", "spearman", "median_abs_log_ratio", "within"}
    assert d["not_measured"] == ["eta_ms", "spread"]
    assert "mlp:W" in row["arrival"]["status"] and d["summary"]["time_to_0.05"]["n"] == 0  # a module: not timed
    assert "mlp:W" in row["relaxation"]["status"] and row["predicted"]["rate_from_start"] is None
    # the local rate needs only the node game: a module critic has it
    assert set(row["modes"]) == {"eta", "theta_mode", "slowest", "ladder", "kernel_rank", "flat_directions"}
    assert row["modes"]["kernel_rank"] + row["modes"]["flat_directions"] == 10  # 1-3-1: 3 + 3 + 3 + 1 parameters
    assert set(row["equilibrium"]) >= {"residual_theta", "residual_omega", "distance_to_minimizer"}
    again = CalibrateReport.from_json(d)
    assert json.loads(again.json_text()) == d
    assert row["checkpoints"]["step"][-1] == 200 and len(row["path_angle"]["cosine"]) == 41
    lo, hi = row["bracket"]
    assert row["status"] == "measured" and 0 < lo < row["measured"]["eta_max"] < hi <= lo * (1 + 0.0021)
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["calibration-flow.png", "calibration.png"]
    assert main(["calibrate", "kl", "--critic", f"{path}:nothing"]) == 2


def test_calibrate_measures_the_mean_square_edge_and_spread_from_the_cli(capsys, monkeypatch):
    """The JSON of `calibrate --quantities eta_ms,spread` (short runs: the numbers are a measurement,
    in docs/trained-game.md)."""
    import json

    from febm.dynamics.commands.cli import main

    monkeypatch.setattr(mean_square_runs, "SEEDS", 4)
    monkeypatch.setattr(mean_square_runs, "HORIZON", 20)
    code = main(["calibrate", "jensen_shannon", "--critic", "mlp:4", "--quantities", "eta_ms,spread",
                 "--flow-steps", "100", "--warm-steps", "20", "--batch", "64", "--json"])
    d = json.loads(capsys.readouterr().out)
    row = d["rows"][0]
    assert code == 0 and set(d["summary"]) == {"eta_ms", "spread"}
    ms = row["mean_square"]
    assert ms["batch"] == d["settings"]["mean_square"]["batch"] == 64 and ms["horizon"] == 20 and ms["seeds"] == 4
    assert ms["modes"] >= 2 and set(ms["growth_at_half_eta_max"]) >= {"2"}
    predicted_sd = ms["spread"]["predicted_sd"]
    k = predicted_sd.index(max(predicted_sd))
    assert row["predicted"]["spread"] == pytest.approx(predicted_sd[k])
    assert row["measured"]["spread"] == (None if ms["spread"]["sd"] is None else ms["spread"]["sd"][k])
    assert all(0 <= n <= 4 for n in ms["edge_runs"]["failed"].values())
    if row["measured"]["eta_ms"] is not None:  # bracketed: half fail above, fewer below
        lo, hi = ms["edge_runs"]["bracket"]
        assert lo < row["measured"]["eta_ms"] < hi


def test_calibrate_analyses_the_clamped_game(capsys):
    """--link-clip reference: recorded in the settings, and the resting point is the clamped game's
    (a different point from the exact game's after the same flow)."""
    argv = ["calibrate", "kl", "--critic", "mlp:3", "--flow-steps", "40", "--warm-steps", "0",
            "--quantities", "eta_max", "--edge-steps", "10", "--json"]
    assert main([*argv, "--link-clip", "reference"]) == 0
    clamped = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    exact = json.loads(capsys.readouterr().out)
    assert exact["settings"]["link_clip"] is None
    assert clamped["settings"]["link_clip"]["kl"][1] == 3.0
    assert clamped["rows"][0]["theta"] != exact["rows"][0]["theta"]
    assert "links clamped" in CalibrateReport.from_json(clamped).text()
    assert "links clamped" not in CalibrateReport.from_json(exact).text()
