"""studies.trained_verdict's scoring helpers: bootstrap intervals over cells and the retest table."""

from febm.dynamics.commands.trained_atlas import CellRow, TrainedAtlasReport, scores
from studies.trained_verdict import bootstrap, retest_table


def _row(predicted: str, measured: str, name: str = "f") -> CellRow:
    def outcome(c):
        return {"class": c, "time_to_0.05": 900.0 if c == "trains" else None, "dead_fraction": float(c == "dies")}

    return CellRow(name, 0.01, 1000, 3000, True, None, "not computed", outcome(predicted), outcome(measured))


PATTERN = [("trains", "trains")] * 4 + [("slow", "slow")] * 3 + [("dies", "dies")] * 2 + [("slow", "trains")] * 3


def test_a_perfect_predictor_s_interval_is_a_point():
    rows = [_row(c, c, f"f{k}") for k, c in enumerate(["trains"] * 4 + ["slow"] * 4 + ["dies"] * 4)]
    b = bootstrap(rows, draws=300)
    assert b["kappa_low"] == b["kappa_high"] == 1.0


def test_the_interval_holds_the_score_and_narrows_with_more_cells():
    few = [_row(p, m, f"f{k}") for k, (p, m) in enumerate(PATTERN)]
    many = [_row(p, m, f"f{k}/{copy}") for copy in range(9) for k, (p, m) in enumerate(PATTERN)]
    widths = []
    for rows in (few, many):
        kappa = scores(rows)["kappa"]
        b = bootstrap(rows, draws=1000)
        assert b["kappa_low"] <= kappa <= b["kappa_high"]
        widths.append(b["kappa_high"] - b["kappa_low"])
    assert widths[1] < widths[0] / 2  # about 1/√9 of the width


def test_an_f_s_cells_are_resampled_together():
    """The same 12 cells as 6 f of two cells each are 6 draws, not 12: wider intervals."""
    paired = [_row(p, m, f"f{k // 2}") for k, (p, m) in enumerate(PATTERN)]
    apart = [_row(p, m, f"f{k}") for k, (p, m) in enumerate(PATTERN)]
    width = [(b["kappa_high"] - b["kappa_low"]) for b in (bootstrap(paired, draws=1000), bootstrap(apart, draws=1000))]
    assert width[0] > width[1]


def test_the_retest_table_scores_the_second_measurement_against_the_first():
    report = TrainedAtlasReport("toy2d-moons", "mlp:32,32", [_row(p, m) for p, m in PATTERN], {}, {}, 0.0)
    table = retest_table("twice", report.to_json())
    row = table.splitlines()[-1]
    assert row.startswith("| twice | 12 | 75% | 58% (trains) | 0.62 | 4/4 |")  # the 4 trains→trains cells' times
