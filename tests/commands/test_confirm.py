"""Stochastic minibatch runs confirm the rates that the Jacobian predicts."""

import json

import numpy as np
import pytest

from febm.dynamics.commands.cli import main
from febm.dynamics.commands.confirm import confirm

FAST = {"runs": 32, "batch": 1024}


@pytest.mark.parametrize("name, model, ratio", [
    ("kl", "gaussian-1d", 1.0),
    pytest.param("jensen_shannon", "shifted-linear", 5.0, marks=pytest.mark.slow),  # 12 s: make test-all
    ("kl", "shifted-linear", 1.0),  # unstable: the mean deviation grows at the predicted rate
])
def test_stochastic_rates_match_the_linearization(name, model, ratio):
    out = confirm(name, model, ratio, **FAST)
    for res in out.results.values():
        assert res.relative_error < 0.05, res.to_json()
        assert res.rate_sd < 0.05 * abs(res.predicted_rate)
        growing = res.predicted_rate > 0
        assert (res.mean_deviation[-1] > res.mean_deviation[0]) == growing


def test_same_seed_same_numbers():
    a = confirm("kl", "gaussian-1d", runs=4, batch=64, updates=("simultaneous",), seed=7)
    b = confirm("kl", "gaussian-1d", runs=4, batch=64, updates=("simultaneous",), seed=7)
    c = confirm("kl", "gaussian-1d", runs=4, batch=64, updates=("simultaneous",), seed=8)
    da, db, dc = (x.results["simultaneous"].mean_distance for x in (a, b, c))
    assert np.array_equal(da, db) and not np.array_equal(da, dc)


@pytest.mark.slow
def test_large_batches_within_five_percent_on_2d():
    out = confirm("jensen_shannon", "gaussian-2d", runs=64, batch=2048)
    for res in out.results.values():
        assert res.relative_error < 0.05


def test_confirm_cli(capsys):
    code = main(["confirm", "kl", "--runs", "8", "--batch", "256", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and set(out["results"]) == {"simultaneous", "alternating"}
    keys = {"predicted_rate", "measured_rate", "rate_sd", "relative_error"}
    assert keys <= set(out["results"]["alternating"])


@pytest.mark.parametrize("argv", [["confirm", "kl", "--model", "expfam-finite"],
                                  ["confirm", "kl", "--model", "nope"], ["confirm", "kl", "--runs", "1"]])
def test_confirm_bad_input_exits_2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("febm: error:")


def test_confirm_says_no_measurement_where_every_run_overflowed(monkeypatch):
    import torch

    from febm.dynamics.commands import confirm

    def overflowed(game, data, z0, z_star, eta_t, eta_o, update, steps, runs, batch, seed, bar=None):
        diff = torch.full((steps + 1, runs, len(z_star)), 0.01, dtype=torch.float64)
        diff[-1, :] = float("inf")  # every run pair ends past float64 (found by the fuzz at --lr-ratio 1000.5)
        return diff

    monkeypatch.setattr(confirm, "_run", overflowed)
    report = confirm.confirm("kl", runs=2, batch=8, updates=("simultaneous",), progress=False)
    res = report.results["simultaneous"]
    assert res.measured_rate is None and res.rate_sd is None and res.diverged_runs == 2
    text = report.text()
    assert "nan" not in text and "measured n/a" in text and "no measurement" in text
    assert "2 of 2 run pairs stopped being finite" in text
    assert report.json_text()  # strict JSON: no NaN
