"""`febm divergences` and `febm show`: the catalog table and JSON, one divergence's report, bad input."""

import json

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


def test_table_headers_use_primes_not_accents(capsys):
    assert main(["divergences"]) == 0
    out = capsys.readouterr().out
    assert "f''(1)" in out and "´" not in out
