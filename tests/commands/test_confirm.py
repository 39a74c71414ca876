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
