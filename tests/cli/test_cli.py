"""The febm command line: JSON keys, readable output, and exit 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from febm.dynamics.commands.cli import main

SHOW_KEYS = {
    "name", "expression", "f", "f_prime", "f_double_prime", "f2_at_1", "conjugate",
    "conjugate_domain", "conjugate_method", "g", "h", "checks",
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_divergences_json(capsys):
    code, out, _ = run(capsys, "divergences", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 14
    assert {"name", "f", "conjugate", "conjugate_domain", "f2_at_1"} <= set(rows[0])
    by_name = {r["name"]: r for r in rows}
    assert by_name["kl"]["conjugate"] == "exp(s - 1)" and by_name["kl"]["f2_at_1"] == 1
    assert by_name["total_variation"]["f2_at_1"] == 0 or by_name["total_variation"]["f2_at_1"] is None
    assert by_name["neyman_chi2"]["conjugate_domain"] == "(-oo, 1]"


def test_divergences_table(capsys):
    code, out, _ = run(capsys, "divergences")
    assert code == 0 and "jeffreys" in out and "LambertW" in out


def test_show_json_catalog(capsys):
    code, out, _ = run(capsys, "show", "pearson_chi2", "--json")
    record = json.loads(out)
    assert code == 0 and SHOW_KEYS <= set(record)
    assert record["f2_at_1"] == 2 and record["conjugate_method"] == "symbolic"
    assert record["checks"]["conjugate"]["ok"] and record["checks"]["convex"]["method"] == "symbolic"


def test_show_user_expression_with_numeric_conjugate(capsys):
    code, out, _ = run(capsys, "show", "(t-1)*atan(t-1)", "--json", "--latex")
    record = json.loads(out)
    assert code == 0
    assert record["conjugate"] is None and record["conjugate_method"] == "numeric"
    assert record["conjugate_domain"] == "(-oo, pi/2]"
    assert record["checks"]["conjugate"]["ok"] and record["g"] and record["h"]
    assert "latex" in record and "\\operatorname{atan}" in record["latex"]["f"]


def test_show_readable_report_names_findings(capsys):
    code, out, _ = run(capsys, "show", "total_variation")
    assert code == 0 and "[!!] smooth_at_1" in out and "kink" in out


def test_show_null_f2_for_kink(capsys):
    _, out, _ = run(capsys, "show", "total_variation", "--json")
    assert json.loads(out)["f2_at_1"] is None


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["show", "t^2"], "use ** for powers"),
        (["show", "(t-1)**2+1"], "f(1) = 1"),
        (["show", "1-t**2"], "< 0"),
        (["show", "nonsense_name"], "unknown divergence"),
        (["show", "__import__('os')"], "unexpected character"),
        (["show"], "required"),
        (["bogus"], "invalid choice"),
        (["show", "beta=1"], "unknown family"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_console_script_injection_is_not_executed(tmp_path):
    canary = tmp_path / "pwned"
    expr = f"__import__('os').system('touch {canary}')"
    proc = subprocess.run(
        [sys.executable, "-m", "febm", "show", expr],
        capture_output=True, text=True, cwd=Path(__file__).parents[2],
    )
    assert proc.returncode == 2 and not canary.exists()
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_catalog_commands_do_not_import_torch():
    """`febm divergences` and `febm show NAME` answer from the shipped catalog; torch's 2-4 s
    import, or scipy.optimize's 0.4 s, would be most of their cold start (issue #14: under 1.5 s)."""
    import subprocess
    import sys

    code = ("import sys; from febm.dynamics.commands.cli import main; "
            "main(['divergences']); main(['show', 'alpha=-0.5']); "
            "sys.exit(int('torch' in sys.modules or 'scipy.optimize' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]


def test_freed_pages_are_kept_on_glibc():
    import platform

    from febm.dynamics.memory import retain_freed_pages

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert retain_freed_pages() is True


def test_help_lists_every_registered_model():
    from febm.dynamics.commands.cli import MODELS
    from febm.toy_models import SETUPS

    assert list(MODELS) == list(SETUPS)
