"""studies/ as a package: one entry (`python -m studies`), one protocol per module, result files
written once and read back without their provenance, no private names across modules."""

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import studies
from studies import readings

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_every_study_with_its_description():
    proc = subprocess.run([sys.executable, "-m", "studies", "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    listed = " ".join(proc.stdout.split())
    assert len(studies.STUDIES) >= 20
    for name in studies.STUDIES:
        assert name in listed
        assert " ".join(studies.description(name).split()) in listed, name


@pytest.mark.parametrize("name", studies.STUDIES)
def test_each_study_follows_the_protocol(name):
    """DESCRIPTION (one line) and commands(verbs), whose verbs all call something; the module imports as
    studies.NAME."""
    import argparse

    module = importlib.import_module(f"studies.{name}")
    assert module.DESCRIPTION == studies.description(name) and "\n" not in module.DESCRIPTION
    parser = argparse.ArgumentParser()
    verbs = parser.add_subparsers(dest="verb")
    module.commands(verbs)
    assert verbs.choices, name
    for verb, sub in verbs.choices.items():
        assert callable(sub.get_default("call")), (name, verb)


def test_a_study_refuses_to_write_over_a_result_file(tmp_path):
    existing = tmp_path / "basins.json"
    existing.write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "studies", "basins", "reversal", str(existing)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "written once" in proc.stderr
    assert existing.read_text() == "{}"


def test_a_renderer_runs_through_the_entry():
    from studies import capacity_bias

    command = [sys.executable, "-m", "studies", "capacity_bias", "table", "docs/results/capacity-bias.json"]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr

    assert proc.stdout == capacity_bias.table("docs/results/capacity-bias.json") + "\n"


def test_results_are_written_with_provenance_and_read_back_without(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    studies.write(a, {"x": {"rows": [1]}})
    studies.write(b, {"y": {"rows": [2]}, "settings": 1})
    assert "provenance" in json.loads(a.read_text()) and "provenance" not in studies.load(a)
    assert studies.union([a, b]) == {"x": {"rows": [1]}, "y": {"rows": [2]}, "settings": 1}
    with pytest.raises(ValueError, match="already in an earlier part"):
        studies.union([a, a])
    c, d = tmp_path / "c.json", tmp_path / "d.json"
    studies.write(c, {"rows": [1, 2], "settings": {"lr": 1}})
    studies.write(d, {"rows": [3], "settings": {"lr": 1}})
    first, rows = studies.concatenate([c, d], "rows", same=("settings",))
    assert rows == [1, 2, 3] and first["settings"] == {"lr": 1}
    studies.write(d, {"rows": [3], "settings": {"lr": 2}})
    with pytest.raises(ValueError, match="settings differ"):
        studies.concatenate([c, d], "rows", same=("settings",))


def test_readings_are_registered_by_the_studies_for_files_that_exist():
    found = readings.all_readings()
    assert len(found) >= 11
    for name, function in found.items():
        path = (ROOT / "docs" / name) if "/" in name else (readings.RESULTS / name)
        assert path.exists(), name
        assert isinstance(function(json.loads(path.read_text())), dict), name


def test_no_study_reaches_a_private_name_of_another_module():
    """No ``from x import _name``, no ``module._name`` or ``obj._name`` (only a class's own ``self._``)."""
    for path in sorted((ROOT / "studies").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, (path.name, node.lineno, private)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value.id if isinstance(node.value, ast.Name) else None
                assert owner in ("self", "cls"), (path.name, node.lineno, node.attr)
