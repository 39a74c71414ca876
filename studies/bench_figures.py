"""Redraw the bench's learning-curve figures in docs/figures from the JSON results beside them
(no training): python studies/bench_figures.py"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from febm.dynamics.files import save_figure  # noqa: E402
from febm.dynamics.training.bench import BenchReport  # noqa: E402

for result in sorted(Path("docs/figures").glob("bench-toy2d*.json")):
    fig = BenchReport.from_json(json.loads(result.read_text())).figure()
    print(save_figure(fig, result.with_suffix(".png"), dpi=110))
