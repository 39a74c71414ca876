"""Merge `febm bench toy2d` JSON files run on different datasets (e.g. in two processes) into one
report, and draw its learning curves.

    python studies/bench_merge.py OUT.json OUT.png IN.json [IN.json ...]
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")

from febm.dynamics.training.bench import BenchReport  # noqa: E402


def main(out_json: str, out_png: str, *paths: str) -> None:
    parts = [json.load(open(p)) for p in paths]
    merged = dict(parts[0])
    merged["cells"] = [c for p in parts for c in p["cells"]]
    merged["protocol"] = dict(parts[0]["protocol"], datasets=[d for p in parts for d in p["protocol"]["datasets"]])
    merged["elapsed_s"] = sum(p["elapsed_s"] for p in parts)
    merged.pop("plot", None)
    report = BenchReport.from_json(merged)
    open(out_json, "w").write(report.json_text() + "\n")
    report.figure().savefig(out_png, dpi=110)
    print(report.text())


if __name__ == "__main__":
    main(*sys.argv[1:])
