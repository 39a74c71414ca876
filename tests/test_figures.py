"""`febm figures`: the registry, the files and manifest it writes, and determinism under a seed."""

import json

import matplotlib
import numpy as np
import pytest

from febm.dynamics.commands.cli import main
from febm.dynamics.commands.figures import FIGURES, render

matplotlib.use("Agg")


def test_registry_covers_the_issue():
    assert len(FIGURES) >= 8
    assert {"spectra", "phase-portrait", "convergence", "stability-map", "paper-1d", "toy2d",
            "alpha-atlas", "failures"} <= set(FIGURES)


def test_render_writes_png_pdf_and_manifest(tmp_path):
    report = render(tmp_path, only=["spectra", "stability-map"], fast=True, seed=3)
    manifest = report.to_json()
    assert [e["name"] for e in manifest["figures"]] == ["spectra", "stability-map"]
    assert json.loads((tmp_path / "manifest.json").read_text()) == json.loads(json.dumps(manifest))
    for entry in manifest["figures"]:
        assert entry["seed"] == 3 and entry["elapsed_s"] > 0
        png, pdf = entry["files"]
        assert open(png, "rb").read(4) == b"\x89PNG" and open(pdf, "rb").read(4) == b"%PDF"
    assert {"figures", "version", "git_commit"} <= set(manifest)


def test_same_seed_same_numbers():
    import matplotlib.pyplot as plt

    fig_def = FIGURES["convergence"]
    params = fig_def.fast_params
    _, a = fig_def.draw(plt, params, 1)
    _, b = fig_def.draw(plt, params, 1)
    plt.close("all")
    for key in a:
        assert np.array_equal(a[key], b[key])


def test_spectra_data_shows_the_f2_scaling():
    import matplotlib.pyplot as plt

    fig_def = FIGURES["spectra"]
    _, data = fig_def.draw(plt, fig_def.params, 0)
    plt.close("all")
    f2 = {"jensen_shannon": 0.5, "kl": 1.0, "pearson_chi2": 2.0, "symmetric_chi2": 4.0}
    ref = np.sort_complex(data["kl"])
    for name, eig in data.items():
        assert np.allclose(np.sort_complex(eig / f2[name]), ref, atol=1e-9)


def test_figures_cli_list_and_errors(capsys):
    assert main(["figures", "--list", "--json"]) == 0
    names = [r["name"] for r in json.loads(capsys.readouterr().out)]
    assert names == list(FIGURES)
    assert main(["figures", "--only", "nope"]) == 2
    assert capsys.readouterr().err.startswith("febm: error: unknown figure")
    assert main(["figures", "--device", "tpu", "--only", "spectra"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.slow
def test_fast_set_writes_every_figure(tmp_path):
    assert main(["figures", "--fast", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["figures"]) == len(FIGURES)


# the code each committed figure depends on besides dynamics/commands/figures.py
DRAWN_BY = {"paper-1d": ["dynamics/training/paper1d.py"], "toy2d": ["dynamics/training/toy2d.py"]}


def test_committed_figures_are_newer_than_the_code_that_draws_them():
    """docs/figures/manifest.json names the commit each figure was drawn at; the last commit that
    changed its drawing code must be that commit or an ancestor (regenerate: febm figures --out docs/figures)."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

    manifest = json.loads((root / "docs/figures/manifest.json").read_text())
    stale = []
    for entry in manifest["figures"]:
        sources = ["dynamics/commands/figures.py", *DRAWN_BY.get(entry["name"], [])]
        changed = git("log", "-1", "--format=%H", "--", *sources).stdout.strip()
        drawn = entry.get("git_commit")
        if not changed:
            pytest.skip("history not available (shallow clone)")
        if drawn is None or git("merge-base", "--is-ancestor", changed, drawn).returncode != 0:
            stale.append(f"{entry['name']} drawn at {drawn}, code changed at {changed}")
    assert not stale, "\n".join(stale)
