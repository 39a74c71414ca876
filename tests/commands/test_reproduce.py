"""`febm reproduce`: its JSON, its knobs reaching the config, and what it refuses before training."""

from __future__ import annotations

import pytest
import torch


def test_reproduce_refuses_a_bad_divergence_before_training(tmp_path, capsys):
    from febm.dynamics.commands.cli import main

    assert main(["reproduce", "paper-1d", "--divergences", "kl", "t**2", "--plot", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "f(1)" in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists()


def test_reproduce_paper_1d_json_keys(capsys):
    import json

    from febm.dynamics.commands.cli import main

    code = main(["reproduce", "paper-1d", "--json", "--steps", "30", "--seeds", "2", "--device", "cpu"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and {"rows", "elapsed_s"} <= set(out)
    names = [r["divergence"] for r in out["rows"]]
    assert names == ["kl", "reverse_kl", "jensen_shannon", "squared_hellinger", "alpha=-0.5", "alpha=-1",
                     "alpha=0.9", "neyman_chi2", "pearson_chi2"]
    row = out["rows"][0]
    assert set(row["exact"]) == {"mu", "sigma"} and set(row["reference"]) == {"mu", "sigma"}
    assert set(row["febm"]) == {"mu", "sigma", "mu_sd", "sigma_sd"}
    assert abs(row["exact"]["mu"] - 1.01) < 1e-6  # KL's minimizer matches moments
    assert set(row["cd"]) == {"mu", "sigma", "mu_sd", "sigma_sd"}
    assert all(r["cd"] is None for r in out["rows"][1:])  # CD is the kl baseline only
    critic = row["critic"]
    assert len(critic["x"]) == len(critic["h_plus_e"]) == len(critic["log_ratio"]) > 10


@pytest.mark.parametrize("argv", [["reproduce", "paper-2d"], ["reproduce", "paper-1d", "--seeds", "0"],
                                  ["reproduce", "paper-1d", "--device", "tpu"]])
def test_reproduce_bad_input_exits_2(capsys, argv):
    from febm.dynamics.commands.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("febm: error:")


def test_reproduce_knobs_reach_the_config():
    from febm.dynamics.training import paper1d

    cfg = paper1d.configure(steps=100, warmup=50, clip=None, init_sigma=1.2, dtype=torch.float64,
                            update="alternating")
    assert (cfg.steps, cfg.critic_warmup, cfg.clip, cfg.init_sigma, cfg.dtype, cfg.update) == (
        100, 50, None, 1.2, torch.float64, "alternating")
    assert paper1d.configure().clip == paper1d.DEFAULT_CONFIG.clip


def test_reproduce_knob_errors_exit_2(capsys):
    from febm.dynamics.commands.cli import main

    assert main(["reproduce", "paper-1d", "--init-sigma", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
