"""The shipped derivations (divergences/derived.json) equal fresh ones, and read back without eval."""

import json
import math

import numpy as np
import pytest
import sympy as sp

from febm.divergences import derived, names
from febm.divergences.resolve import _resolve_text, resolve, resolve_fresh
from febm.divergences.serial import from_text, to_text
from febm.divergences.verify import TOL

RESIDUES = ("sup_error", "fenchel_young_error")  # rounding residues of a numeric verification


def _same(a, b, path=""):
    """Equal records: text exactly, floats to 1e-9 relative. A verification's residues differ from
    machine to machine (other vector instructions, other rounding), so they are compared by their
    bound: both pass the verification's tolerance, never one against the other."""
    if path.rsplit(".", 1)[-1] in RESIDUES:
        assert a <= TOL and b <= TOL, path
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15), path
    else:
        assert a == b, path


def test_file_matches_the_installed_sympy_and_covers_the_catalog():
    entries = derived.shipped()
    assert set(entries) == {"alpha", *names()}


@pytest.mark.parametrize("name", ["alpha", *names()])
def test_shipped_entry_equals_a_fresh_derivation(name):
    """If this fails after a change to a derivation, regenerate: python -m febm.divergences.derived."""
    _same(json.loads(json.dumps(derived.record(resolve_fresh(name)))), derived.shipped()[name], name)


@pytest.mark.parametrize("name", ["kl", "jeffreys", "symmetric_chi2", "total_variation", "alpha", "alpha=-0.5"])
def test_restored_divergence_reports_what_a_fresh_one_does(name):
    restored, fresh = _resolve_text.__wrapped__(name), resolve_fresh(name)  # uncached: nothing parsed yet
    assert "conjugate" in restored._shipped and "conjugate" not in restored.__dict__  # from the file, lazily
    a, b = restored.as_dict(), fresh.as_dict()
    # sup_error is a numeric check's residue (a few ulps): it may differ in its last bits between CPUs
    for d in (a, b):
        for check in d["checks"].values():
            residue = check.pop("sup_error", None)
            assert residue is None or residue < 1e-12
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_user_expressions_derive_fresh():
    """Not from the shipped file: derived (in the capped worker) and equal to an in-process derivation."""
    text = "t*log(t) - log(t) + (t-1)**2"
    assert text not in derived.shipped()
    d, fresh = resolve(text), resolve_fresh(text)
    assert json.dumps(d.as_dict(), sort_keys=True) == json.dumps(fresh.as_dict(), sort_keys=True)


def test_serialized_expressions_round_trip_exactly():
    d = resolve("jeffreys")
    for e in (d.conjugate.expr, d.conjugate.domain, d.numeric_form("h"), sp.Piecewise((d.g, sp.Symbol("u") < 0),
                                                                                        (1, True))):
        assert sp.srepr(from_text(to_text(e))) == sp.srepr(e)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "Symbol('x').__class__", "exec('1')",
                                  "Add(x, 1)", "[Integer(1)]", "lambda: 1"])
def test_reader_refuses_anything_but_whitelisted_constructors(text):
    with pytest.raises((ValueError, SyntaxError)):
        from_text(text)


def test_stable_links_are_accurate_far_out():
    """Triangular's links are rational in e^u and used to overflow to inf/inf past u ≈ 355; GAN's
    g = u − log(1 + e^u) used to cancel to 0. Both now match a 300-digit evaluation to 1e-12."""
    u = np.array([-600.0, -60.0, 60.0, 600.0])
    for name, link in (("triangular", "g"), ("triangular", "h_prime"), ("gan", "g"), ("le_cam", "h")):
        d = resolve(name)
        got = d.function(link)(u)
        truth = [float(sp.N(getattr(d, link).subs(sp.Symbol("u", real=True), sp.Float(x, 400)), 300)) for x in u]
        assert np.allclose(got, truth, rtol=1e-12, atol=1e-300), (name, link, got, truth)
