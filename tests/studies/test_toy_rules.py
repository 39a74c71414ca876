"""studies.toy_rules: rescoring stored toy predictions under another rule."""

import pytest

from studies import load
from studies.readings import RESULTS
from studies.toy_rules import CHOSEN, DEATHS, ROUND5_RULE, cells, rescored
from studies.trained_verdict import as_report


@pytest.mark.parametrize("name", ["atlas-trained-toy2d-moons-round5.json", "atlas-trained-toy2d-moons-catalog.json"])
def test_round_5_s_rule_rescored_gives_every_stored_prediction(name):
    """Two implementations of round 5's rule: the predictor's at run time, and the rescoring of
    the quantities it stored."""
    for row in as_report(load(RESULTS / name)).rows:
        again = rescored(row, *ROUND5_RULE)
        assert again["class"] == row.predicted["class"], row.name
        assert again["dead_fraction"] == pytest.approx(row.predicted["dead_fraction"], abs=1e-12)
        if row.predicted["time_to_0.05"] is None:
            assert again["time_to_0.05"] is None
        else:
            assert again["time_to_0.05"] == pytest.approx(row.predicted["time_to_0.05"], rel=1e-9)


def test_a_rule_that_ignores_the_flows_fates_only_removes_deaths():
    """Counting fewer fates as deaths never raises a cell's predicted dead fraction."""
    rows = cells(load(RESULTS / "atlas-trained-toy2d-moons-catalog.json"))
    for row in rows:
        dead = [rescored(row, death, 1.0)["dead_fraction"] for death in DEATHS]
        assert dead[0] == max(dead) and dead[-1] == min(dead), row.name


def test_round_6_s_rule_rescored_gives_its_hold_out_s_predictions():
    for row in as_report(load(RESULTS / "atlas-trained-toy2d-moons.json")).rows:
        again = rescored(row, *CHOSEN)
        assert again["class"] == row.predicted["class"], row.name
        if row.predicted["time_to_0.05"] is None:
            assert again["time_to_0.05"] is None
        else:
            assert again["time_to_0.05"] == pytest.approx(row.predicted["time_to_0.05"], rel=1e-9)
        assert again["dead_fraction"] == pytest.approx(row.predicted["dead_fraction"], abs=1e-12)
