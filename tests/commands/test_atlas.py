"""febm atlas: one table of where f matters, its prediction rule, and the comparison with training."""

import json
from dataclasses import replace

import pytest

from febm.dynamics.commands.atlas import AtlasRow, _predict, atlas
from febm.dynamics.commands.cli import main
from studies.compare import ComparisonReport, Pair, compare_paper_1d, paper_1d_outcome, toy2d_outcome

ATLAS_KEYS = {"name", "f2_at_1", "f3_at_1", "tails", "equilibrium", "bias", "rate", "verdict",
              "eta_max_simultaneous", "eta_max_alternating", "tail_index_start", "tail_index_path",
              "tail_index_equilibrium", "eta_ms", "tail_margin_sd", "from_start", "prediction", "reasons"}


@pytest.fixture(scope="module")
def paper_atlas():
    return atlas(["kl", "jensen_shannon", "pearson_chi2", "reverse_kl"], "paper-1d")


def test_atlas_rows_on_paper_1d(paper_atlas):
    rows = {r.name: r for r in paper_atlas.rows}
    assert ATLAS_KEYS <= set(rows["kl"].__dict__)
    # Pearson χ² at the paper's start σ = 1: ∫p²/q diverges, so the estimator's mean is infinite
    assert rows["pearson_chi2"].tail_index_start == pytest.approx(1.0, abs=1e-6)
    assert rows["pearson_chi2"].prediction == "fails"
    # KL's e^u link sits exactly on the edge of finite variance at σ = 1 (κ = 2)
    assert rows["kl"].tail_index_start == pytest.approx(2.0, abs=1e-6)
    # Jensen–Shannon has bounded links: no tail constraint anywhere
    assert rows["jensen_shannon"].tail_index_path == float("inf")
    assert rows["jensen_shannon"].prediction == "trains"
    assert all(r.equilibrium and r.verdict == "stable" for r in paper_atlas.rows)
    assert rows["kl"].bias < 1e-7 < rows["reverse_kl"].bias  # moment matching vs capacity bias


def test_atlas_text_and_json(paper_atlas):
    text = paper_atlas.text()
    assert "prediction" in text and "rule:" in text and "FAILS" in text
    data = json.loads(paper_atlas.json_text())
    assert data["model"] == "paper-1d" and len(data["rows"]) == 4
    assert data["rows"][2]["tail_index_equilibrium"] in ("inf", None) or data["rows"][2]["tail_index_equilibrium"] > 0


def test_atlas_figure(paper_atlas, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = paper_atlas.figure()
    fig.savefig(tmp_path / "atlas.png")
    assert (tmp_path / "atlas.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("changes, expected", [
    ({}, "trains"),
    ({"verdict": "unstable"}, "fails"),
    ({"tail_index_path": 0.8}, "fails"),
    ({"tail_index_start": 1.5}, "fragile"),
    ({"tail_margin_sd": 2.0}, "fragile"),
    ({"from_start": "escaped"}, "fails"),
    ({"from_start": "stalled"}, "fragile"),
    ({"rate": -0.001}, "fragile"),
    ({"equilibrium": False}, "fails"),
])
def test_prediction_rule(changes, expected):
    row = AtlasRow("f", 1, 0, {}, True, [0.0], 0.0, -0.3, "stable", 1.0, 1.0, None, 5.0, 5.0, 5.0,
                   tail_margin_sd=10.0, from_start="arrived")
    assert _predict(replace(row, **changes))[0] == expected


def test_atlas_cli_json_and_errors(capsys):
    assert main(["atlas", "kl", "--model", "gaussian-1d", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"][0]["prediction"] == "trains" and out["rows"][0]["bias"] == 0.0
    for argv in (["atlas", "nope"], ["atlas", "kl", "--model", "nope"], ["atlas", "kl", "--batch", "0"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("febm: error:")


def test_measured_outcome_rules():
    ok = {"status": ["ok", "ok"], "error": 0.01}
    assert paper_1d_outcome(ok)[0] == "trains"
    assert paper_1d_outcome({**ok, "error": 0.1})[0] == "fragile"
    assert paper_1d_outcome({**ok, "error": 0.3})[0] == "fails"
    assert paper_1d_outcome({**ok, "status": ["ok", "run 1 became non-finite at step 9"]})[0] == "fails"
    cd = {"js": 0.2, "mode_coverage": 1.0, "finite": True}
    assert toy2d_outcome({"js": 0.25, "mode_coverage": 1.0, "finite": True}, cd)[0] == "trains"
    assert toy2d_outcome({"js": 0.4, "mode_coverage": 0.9, "finite": True}, cd)[0] == "fragile"
    assert toy2d_outcome({"js": 0.55, "mode_coverage": 1.0, "finite": True}, cd)[0] == "fails"


def test_confusion_and_rank_correlation():
    pairs = [Pair("a", "trains", "trains", 0.01), Pair("b", "fragile", "fragile", 0.1),
             Pair("c", "fails", "fails", 0.9), Pair("d", "trains", "fragile", 0.06)]
    report = ComparisonReport("x", "rule", pairs)
    assert report.confusion == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert report.agreement == 0.75 and report.spearman > 0.7
    d = json.loads(report.json_text())  # the generic JSON, in the order the saved comparisons have
    assert list(d) == ["model", "rule", "confusion", "classes", "agreement", "spearman", "spearman_p", "pairs"]
    assert d["classes"] == ["trains", "fragile", "fails"] and d["pairs"][3] == {
        "case": "d", "predicted": "trains", "measured": "fragile", "error": 0.06}
    assert ComparisonReport.from_json(d).json_text() == report.json_text()
    atlas_json = {"rows": [{"name": "kl", "prediction": "trains"}]}
    training = {"rows": [{"divergence": "kl", "status": ["ok"], "error": 0.2}]}
    assert compare_paper_1d(atlas_json, training).pairs[0].measured == "fragile"


def test_a_budget_on_a_setup_without_a_training_start_is_refused_with_the_reason(capsys):
    """gaussian-1d is realizable and has no θ_init: no flow from a start was run, and every lr read
    'the flow from the start is not finite' (found trying --lr 0.01). Now one line, exit 2."""
    assert main(["atlas", "kl", "--model", "gaussian-1d", "--lr", "0.01", "--steps", "100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not finite" not in err
    assert "gaussian-1d has none" in err and "paper-1d" in err


@pytest.mark.slow
def test_a_budget_on_paper_1d_gives_a_distance_not_a_non_finite_flow():
    from febm.dynamics.commands.atlas import atlas

    [row] = atlas(["kl"], "paper-1d", budget=0.01 * 100, progress=False).rows
    assert row.predicted_error is not None and row.predicted_error > 0
    assert not any("not finite" in r for r in row.reasons)


def _one_row_report():
    from febm.dynamics.commands.atlas import AtlasReport, AtlasRow, Prediction
    from febm.dynamics.report import Verdict

    tails = {"g'": {"-inf": "bounded", "+inf": "e^u"}, "h'": {"-inf": "bounded", "+inf": "e^u"}}
    row = AtlasRow("kl", 1.0, -1.0, tails, True, [0.5, 0.2], 0.0, -0.6, Verdict.STABLE, 0.17, 0.17, None, 0.02,
                   None, None)
    row = replace(row, eta_max_simultaneous=1.0, eta_ms=0.02, prediction=Prediction.FRAGILE, tail_index_start=2.0,
                  tail_index_path=2.0, tail_index_equilibrium=3.9)
    return AtlasReport("paper-1d", "", 1000, 1.0, "", 1.0, rows=[row])


def test_the_one_divergence_atlas_figure_has_room_for_its_titles_and_labels():
    """The one-row figure was 2.2 inches high: constrained layout collapsed the axes, the two-line
    titles ran over the suptitle and the κ labels were cut. Every text now lies inside the figure and
    no two titles overlap."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "constrained_layout not applied because axes sizes collapsed"
        fig = _one_row_report().figure()
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    ax1, ax2 = fig.axes[:2]
    titles = [fig._suptitle.get_window_extent(renderer), ax1.title.get_window_extent(renderer),
              ax2.title.get_window_extent(renderer)]
    assert not titles[0].overlaps(titles[1]) and not titles[0].overlaps(titles[2])
    for ax in (ax1, ax2):
        assert ax.get_position().height > 0.4  # the axes were squeezed to nothing
        for text in ax.texts + [ax.title, ax.xaxis.label]:
            ext = text.get_window_extent(renderer)
            assert box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1, text.get_text()
        for text in ax.texts:  # the κ labels inside their axes
            assert ax.get_window_extent(renderer).contains(*text.get_window_extent(renderer).p1)
    plt.close(fig)
