"""Redraw the bench's learning-curve figures in docs/figures from the JSON results beside them
(no training), through `febm figures`, so that docs/figures/manifest.json records each figure's
result file and its SHA-256: python studies/bench_figures.py

The same as: febm figures --only bench-toy2d bench-toy2d-tuned bench-toy2d-long bench-toy2d-residual --out docs/figures
"""

from febm.dynamics.commands.figures import FIGURES, render

names = [name for name in FIGURES if name.startswith("bench-toy2d")]
print(render("docs/figures", only=names, progress=False).text())
