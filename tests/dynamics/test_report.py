"""Every report loads back from its JSON (``from_json``), gives the same JSON and the same text,
and its JSON never holds NaN or Infinity (one policy: ±inf as "inf"/"-inf", nan as null)."""

from __future__ import annotations

import json
import math

import pytest

from febm.dynamics.report import Report, json_number, jsonable, revive


def _small_reports():
    from febm.dynamics.commands.atlas import atlas
    from febm.dynamics.commands.catalog import catalog, show
    from febm.dynamics.commands.check import check
    from febm.dynamics.commands.confirm import confirm
    from febm.dynamics.commands.figures import FiguresReport
    from febm.dynamics.commands.spread import spread
    from febm.dynamics.training import paper1d
    from febm.dynamics.training.toy2d_training import Toy2DConfig, train_toy2d
    from studies.compare import ComparisonReport, Pair

    return {
        "check": lambda: check("kl"),
        "check-not-applicable": lambda: check("total_variation"),
        "atlas": lambda: atlas(["kl", "total_variation"], model="gaussian-1d"),
        "confirm": lambda: confirm("kl", "shifted-linear", lr_ratio=5, runs=4, batch=32),
        "spread": lambda: spread("kl", batch=64, runs=4, steps=30),
        "catalog": catalog,
        "show": lambda: show("jensen_shannon"),
        "paper-1d": lambda: paper1d.run(seeds=1, config=paper1d.configure(steps=4, warmup=2),
                                        names=("kl", "reverse_kl")),
        "toy2d": lambda: train_toy2d("8gaussians", ["cd", "kl"], Toy2DConfig(steps=2)),
        "figures": lambda: FiguresReport([{"name": "spectra", "elapsed_s": 1.0, "files": ["a.png"]}], "0.1",
                                         None, True, "out"),
        "comparison": lambda: ComparisonReport("paper-1d", "rule", [Pair("kl", "fails", "fails", float("inf")),
                                                                    Pair("gan", "trains", "fragile", 0.3)]),
    }


@pytest.mark.parametrize("kind", list(_small_reports()))
def test_every_report_loads_back_from_its_json(kind):
    report = _small_reports()[kind]()
    text = report.json_text()
    assert "NaN" not in text and "Infinity" not in text
    again = type(report).from_json(json.loads(text))
    assert isinstance(again, Report)
    assert again.json_text() == text
    assert again.text() == report.text()


def test_one_policy_for_non_finite_numbers():
    assert [json_number(x) for x in (1.5, math.inf, -math.inf, math.nan)] == [1.5, "inf", "-inf", None]
    value = {"a": [math.inf, 2.0], "b": {"c": -math.inf}}
    assert revive(jsonable(value)) == value
    json.dumps(jsonable({"x": math.nan}), allow_nan=False)  # never raises


def test_reports_that_draw_save_their_figures(tmp_path):
    from febm.dynamics.commands.check import check

    paths = check("kl").save_figures(tmp_path)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["spectrum.png", "convergence.png"]
    assert all((tmp_path / name).stat().st_size > 1000 for name in ("spectrum.png", "convergence.png"))


@pytest.mark.slow  # 12 s of training and drawing
def test_paper_1d_trajectories_and_their_figures_from_python(tmp_path):
    from febm.dynamics.training import paper1d

    report = paper1d.run(seeds=2, config=paper1d.configure(steps=30, warmup=2), names=("kl", "(t-1)*atan(t-1)"))
    for row in report.rows:
        t = row.trajectory
        assert len(t["mu"]) == len(t["sigma"]) == 2 and len(t["mu"][0]) == len(t["steps"]) > 2
        assert t["steps"][0] == 0 and t["steps"][-1] == 30 and t["mu"][0][0] == 0.0  # from the start μ = 0
    figures = report.all_figures()
    assert set(figures) == {"paper-1d", "paper-1d-trajectories", "paper-1d-error"}
    assert len(figures["paper-1d-trajectories"].axes) == 2 * len(report.rows)
    names = sorted(p.rsplit("/", 1)[1] for p in report.save_figures(tmp_path))
    assert names == ["paper-1d-error.png", "paper-1d-trajectories.png", "paper-1d.png"]
