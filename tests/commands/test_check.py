"""`febm check`: the whole chain from the command line, its JSON keys, plots and errors."""

import json
import subprocess
import sys

import pytest

from febm.dynamics.commands.cli import main

from problems import NUMERIC_CONJUGATE

CHECK_KEYS = {
    "verdict", "reason", "f2_at_1", "model", "eigenvalues", "max_real", "predicted_rate", "measured_rate",
    "eta_max_simultaneous", "eta_max_alternating", "critical_lr_ratio", "jacobian_agreement",
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_kl_json(capsys):
    code, out, _ = run(capsys, "check", "kl", "--json")
    r = json.loads(out)
    assert code == 0 and CHECK_KEYS <= set(r)
    assert r["verdict"] == "stable" and r["model"] == "gaussian-1d" and r["f2_at_1"] == 1
    assert abs(r["measured_rate"] - r["predicted_rate"]) < 0.02 * abs(r["predicted_rate"])
    assert r["max_real"] == pytest.approx(max(re for re, _ in r["eigenvalues"]))
    assert all(v < 1e-8 for v in r["jacobian_agreement"].values())
    assert r["critical_lr_ratio"] is None and r["eta_max_simultaneous"] > 0


def test_check_reports_the_unstable_parametrization(capsys):
    code, out, _ = run(capsys, "check", "kl", "--model", "shifted-linear", "--json")
    r = json.loads(out)
    assert code == 0 and r["verdict"] == "unstable" and r["max_real"] > 0
    assert r["critical_lr_ratio"] == pytest.approx(3.2, rel=1e-9)
    assert r["eta_max_simultaneous"] is None
    code, out, _ = run(capsys, "check", "kl", "--model", "shifted-linear", "--lr-ratio", "5", "--json")
    assert json.loads(out)["verdict"] == "stable"


def test_check_numeric_conjugate_end_to_end(capsys):
    code, out, _ = run(capsys, "check", NUMERIC_CONJUGATE, "--json", "--no-simulation")
    r = json.loads(out)
    assert code == 0 and r["verdict"] == "stable" and r["f2_at_1"] == 2
    code, out, _ = run(capsys, "show", NUMERIC_CONJUGATE, "--json")
    assert json.loads(out)["conjugate_method"] == "numeric"


def test_check_degenerate_cases_in_text(capsys):
    code, out, _ = run(capsys, "check", "(t-1)**4", "--no-simulation")
    assert code == 0 and "INCONCLUSIVE" in out and "f''(1) = 0" in out
    code, out, _ = run(capsys, "check", "abs(t-1)", "--no-simulation")
    assert code == 0 and "NOT-APPLICABLE" in out and "kink" in out


def test_check_text_report(capsys):
    code, out, _ = run(capsys, "check", "jensen_shannon", "--model", "gaussian-2d")
    assert code == 0
    for word in ("verdict", "STABLE", "eigenvalues", "stable steps", "measured on the nonlinear flow", "2-D"):
        assert word in out


def test_check_plot(tmp_path, capsys):
    code, out, _ = run(capsys, "check", "kl", "--json", "--plot", str(tmp_path))
    paths = json.loads(out)["plots"]
    assert code == 0 and {p.rsplit("/", 1)[-1] for p in paths} == {"spectrum.png", "convergence.png"}
    for p in paths:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, fragment", [
    (["check", "kl", "--model", "nope"], "unknown model"),
    (["check", "kl", "--lr-ratio", "-1"], "--lr-ratio"),
    (["check", "kl", "--lr-ratio", "abc"], "invalid float"),
    (["check", "t**2"], "f(1)"),
    (["check", "-log(t)*(t-1)**2"], "--"),
    (["check", "(t-1"], ""),
    (["check", "__import__('os')"], ""),
])
def test_check_bad_input_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("febm: error:") and fragment in err
    assert "Traceback" not in err


def test_check_not_convex_exits_2():
    proc = subprocess.run([sys.executable, "-m", "febm", "check", "--", "-(t-1)**2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "convex" in proc.stderr
