"""Issue 38: `atlas --lr` on a set-up without a training start, and the one-divergence atlas figure."""

import pytest

from febm.dynamics.commands.cli import main


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
    row.eta_max_simultaneous, row.eta_ms, row.prediction = 1.0, 0.02, Prediction.FRAGILE
    row.tail_index_start, row.tail_index_path, row.tail_index_equilibrium = 2.0, 2.0, 3.9
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
