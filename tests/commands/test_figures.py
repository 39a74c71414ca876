"""`febm figures`: the registry, the files and manifest it writes, and determinism under a seed."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from febm.dynamics.commands.cli import main
from febm.dynamics.commands.figures import FIGURES, render, stale

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


def test_committed_figures_were_drawn_by_the_current_code():
    """Each manifest entry records the SHA-256 of the code that drew it (`code_sha256`: the draw
    function with its decorator's parameters, the helpers and drawing functions it uses, the
    rendering) and the parameters; a change to either leaves the figure stale until it is redrawn
    with the command its entry names. Code elsewhere (a training module's input checks) does not."""
    from febm.dynamics.commands.figures import code_sha256

    manifest = json.loads((ROOT / "docs/figures/manifest.json").read_text())
    assert manifest["fast"] is False
    stale_code = [f"{e['name']} (redraw: {e['command']})" for e in manifest["figures"]
                  if e.get("code_sha256") != code_sha256(FIGURES[e["name"]])]
    assert not stale_code, "drawn by other code: " + "; ".join(stale_code)
    for entry in manifest["figures"]:
        expected = dict(FIGURES[entry["name"]].params)
        if "device" in expected:
            expected["device"] = entry["params"]["device"]
        assert entry["params"] == expected, entry["name"]


# --- the manifest's provenance: which result files each committed figure was drawn from ----------
ROOT = Path(__file__).resolve().parents[2]
DOCS_FIGURES = ROOT / "docs/figures"


def _docs_manifest() -> dict:
    return json.loads((DOCS_FIGURES / "manifest.json").read_text())


def test_every_committed_figure_says_what_it_was_drawn_from():
    """Each entry is drawn from result files (kind results: their paths and SHA-256) or by a fresh
    computation (kind computed: no inputs); either way with the one command that redraws it."""
    for entry in _docs_manifest()["figures"]:
        assert entry["kind"] in ("results", "computed"), entry["name"]
        assert entry["command"].startswith(f"febm figures --only {entry['name']} "), entry["name"]
        if entry["kind"] == "results":
            assert entry["inputs"] and entry["inputs"] == [
                {"path": p, "sha256": entry["inputs"][k]["sha256"]} for k, p in enumerate(FIGURES[entry["name"]].reads)]
            assert all(len(i["sha256"]) == 64 for i in entry["inputs"])
        else:
            assert entry["inputs"] == [] and not FIGURES[entry["name"]].reads


def test_no_result_file_changed_after_the_figure_that_reads_it():
    """A result file edited or rerun after its figure was drawn leaves the figure stale; so does a
    figure file replaced by hand. Redraw with the command each line names."""
    assert stale(_docs_manifest(), ROOT) == []


def test_every_figure_in_docs_figures_is_in_the_manifest_and_registered():
    listed = {Path(f).name for e in _docs_manifest()["figures"] for f in e["files"]}
    on_disk = {p.name for p in DOCS_FIGURES.iterdir() if p.suffix in (".png", ".pdf")}
    assert on_disk == listed
    assert {e["name"] for e in _docs_manifest()["figures"]} == set(FIGURES)


def test_stale_names_a_result_file_changed_after_drawing(tmp_path, monkeypatch):
    from febm.dynamics.commands import figures

    results = tmp_path / "docs/results"
    results.mkdir(parents=True)
    source = ROOT / figures.THROUGHPUT
    (tmp_path / figures.THROUGHPUT).write_bytes(source.read_bytes())
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    manifest = render(tmp_path / "out", only=["trainer-scaling-cpu"], progress=False).to_json()
    (entry,) = manifest["figures"]
    assert entry["kind"] == "results" and entry["inputs"][0]["path"] == figures.THROUGHPUT
    assert figures.stale(manifest, tmp_path) == []
    data = json.loads(source.read_text())
    data["single_run_loop"] *= 2  # a rerun of the benchmark
    (tmp_path / figures.THROUGHPUT).write_text(json.dumps(data))
    (fault,) = figures.stale(manifest, tmp_path)
    assert "trainer-scaling-cpu" in fault and figures.THROUGHPUT in fault and "changed after" in fault
    (tmp_path / figures.THROUGHPUT).unlink()
    assert "is gone" in figures.stale(manifest, tmp_path)[0]


def test_a_computed_figure_records_no_inputs(tmp_path):
    (entry,) = render(tmp_path, only=["spectra"], fast=True, progress=False).to_json()["figures"]
    assert entry["kind"] == "computed" and entry["inputs"] == []
    assert entry["command"] == f"febm figures --only spectra --out {tmp_path} --fast"


# --- what the redrawn figures show --------------------------------------------------------------
def test_stability_map_marks_the_equal_rates_window_theory_cites():
    """theory.md: at equal rates alternating steps are stable for 0.275 < η_θ < 0.480, where
    simultaneous steps diverge; the figure computes and marks that window."""
    from febm.dynamics.analysis.spectrum import spectral_radius
    from febm.dynamics.commands.figures import _linearization, equal_rates_window

    lin = _linearization("kl", "shifted-linear")
    lo, hi = equal_rates_window(lin)
    assert abs(lo - 0.275) < 5e-4 and abs(hi - 0.480) < 5e-4
    for eta in (lo * 1.01, np.sqrt(lo * hi), hi * 0.99):
        assert spectral_radius(lin.step_matrix("alternating", eta, 1.0)) < 1
        assert spectral_radius(lin.step_matrix("simultaneous", eta, 1.0)) > 1
    assert spectral_radius(lin.step_matrix("alternating", lo * 0.98, 1.0)) > 1


def test_failures_quartic_decays_as_a_power_law_near_one_half():
    """f = (t-1)^4: a cubic restoring force, so the distance falls like t^(-1/2) at long times."""
    import matplotlib.pyplot as plt

    fig_def = FIGURES["failures"]
    fig, data = fig_def.draw(plt, fig_def.params, 0)
    plt.close("all")
    assert -0.6 < data["power_law_slope"] < -0.4
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    assert any("start distance" in t.get_text() for t in fig.axes[1].get_legend().get_texts())


def test_alpha_atlas_includes_the_limits_zero_and_one():
    fig_def = FIGURES["alpha-atlas"]
    assert {0, 1} <= set(fig_def.params["alphas"])


def test_calibration_names_every_f_it_leaves_out():
    from febm.dynamics.commands.calibrate import CalibrateReport
    from febm.dynamics.commands.calibrate_figures import placed

    report = CalibrateReport.from_json(json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text()))
    for q in report.summary:
        if q.endswith("_hold_out"):
            continue
        shown, left = placed(report, q)
        names = [n for n, *_ in shown] + [n for n, _ in left]
        assert sorted(names) == sorted(r.name for r in report.rows), q
        assert all(why for _, why in left)


def test_paper_1d_title_gives_the_result_files_time():
    """paper-1d.md quotes the run's time from docs/results/paper-1d.json; the figure drawn from it says the same."""
    import matplotlib.pyplot as plt

    fig_def = FIGURES["paper-1d"]
    fig, _ = fig_def.draw(plt, fig_def.params, 0)
    elapsed = json.loads((ROOT / "docs/results/paper-1d.json").read_text())["elapsed_s"]
    assert f"{elapsed:.0f} s" in fig._suptitle.get_text()
    plt.close("all")


def test_every_figure_in_docs_figures_is_on_a_page():
    """No orphaned figure: each PNG of docs/figures is embedded in README's template or a docs page
    (as figures/NAME.png or a {{ figure:NAME.png }} placeholder)."""
    import re

    pages = [*ROOT.joinpath("docs").rglob("*.md"), *ROOT.glob("README*.md")]
    text = "\n".join(p.read_text() for p in pages)
    embedded = set(re.findall(r"figures/([\w.-]+\.png)", text)) | set(re.findall(r"figure:\s*([\w.-]+\.png)", text))
    orphans = sorted(p.name for p in DOCS_FIGURES.glob("*.png") if p.name not in embedded)
    assert not orphans, f"on no page: {orphans}"


@pytest.mark.parametrize("name", ["bench-toy2d", "bench-toy2d-long"])
def test_bench_curves_have_one_legend_and_bands_above_zero(name):
    """One legend for the figure (an f has one colour in every panel); on the log JS axis no band is
    drawn at or below zero: a band whose mean − half-width is ≤ 0 is cut at the panel's floor."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    fig, _ = FIGURES[name].draw(plt, {}, 0)
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    for ax in fig.axes:
        floor = ax.get_ylim()[0]
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert bands and floor > 0
        for band in bands:
            y = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
            assert np.all(y >= floor * (1 - 1e-12)), ax.get_title()
    plt.close("all")


def test_without_result_files_the_whole_set_skips_and_a_named_figure_fails(tmp_path, monkeypatch):
    """Outside a source checkout (no docs/results): `febm figures` draws the computed figures and
    names the ones it skipped; asking for a result-drawn figure by name is one error line."""
    from febm.dynamics.commands import figures
    from febm.errors import InputError

    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "FIGURES", {n: FIGURES[n] for n in ("spectra", "trainer-scaling-cpu")})
    report = figures.render(tmp_path / "out", fast=True, progress=False)
    assert [e["name"] for e in report.figures] == ["spectra"]
    assert [e["name"] for e in report.skipped] == ["trainer-scaling-cpu"] and "skipped" in report.text()
    with pytest.raises(InputError, match="trainer-throughput.json not found"):
        figures.render(tmp_path / "out2", only=["trainer-scaling-cpu"], progress=False)
    assert not (tmp_path / "out2" / "trainer-scaling-cpu.png").exists()


def test_stale_names_a_figure_whose_drawing_code_changed(monkeypatch):
    from dataclasses import replace

    from febm.dynamics.commands import figures

    manifest = {"figures": [{"name": "alpha-atlas", "files": [], "inputs": [],
                             "code_sha256": figures.code_sha256(FIGURES["alpha-atlas"])}]}
    assert figures.stale(manifest) == []
    changed = {**FIGURES, "alpha-atlas": replace(FIGURES["alpha-atlas"], uses=(".figures:_linearization",))}
    monkeypatch.setattr(figures, "FIGURES", changed)
    (fault,) = figures.stale(manifest)
    assert fault.startswith("alpha-atlas: the code that draws it changed")


@pytest.mark.parametrize("content", ["[1, 2]", "null", '{"figures": [1, 2]}', '{"figures": []}', "not json"])
def test_figures_refuses_a_foreign_manifest_before_drawing(tmp_path, capsys, content):
    (tmp_path / "manifest.json").write_text(content)
    assert main(["figures", "--fast", "--only", "spectra", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a manifest febm wrote" in err
    assert (tmp_path / "manifest.json").read_text() == content
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_figures_device_cuda_without_cuda_is_refused_before_the_progress_bar(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "new"
    assert main(["figures", "--fast", "--only", "paper-1d", "--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "febm: error: --device cuda was asked for, but torch sees no CUDA device\n"
    assert not out.exists()  # the folder made for the output is removed again


def test_the_demo_hint_does_not_point_at_tracked_figures():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "--out docs/figures" not in makefile and "--out figures-full" in makefile
