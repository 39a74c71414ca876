"""The trained-game atlas's figure: predicted against measured, class, time and dead fraction."""

from __future__ import annotations

import numpy as np

CLASSES = ("trains", "slow", "dies")
STYLE = {False: dict(marker="o", color="tab:blue", label="analysis set"),
         True: dict(marker="s", color="tab:orange", label="hold-out")}


def draw(report):
    """Three panels: the class confusion (counts, hold-out apart), time to 0.05 (log-log, the ×2
    band) and dead fraction (the ±0.25 band). Without measurements, the predicted classes alone."""
    import matplotlib.pyplot as plt

    measured = [r for r in report.rows if r.measured]
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.4), layout="constrained")
    _classes(axes[0], measured or report.rows, bool(measured))
    _times(axes[1], measured, report.settings["time_factor"], report.settings.get("error", "error"),
           report.settings.get("target", 0.05))
    _dead(axes[2], measured, report.settings["dead_band"])
    fig.suptitle(f"Will it train? {report.model}, critic {report.critic}: predicted before any run "
                 "against measured runs of the same game", fontsize=10)
    return fig


def _classes(ax, rows, measured: bool) -> None:
    shown = [c for c in CLASSES if any(str(r.predicted["class"]) == c or (measured and str(r.measured["class"]) == c)
                                       for r in rows)]
    for held, dx in ((False, -0.12), (True, 0.12)):
        counts = {}
        for r in (r for r in rows if r.hold_out == held):
            key = (str(r.predicted["class"]), str(r.measured["class"]) if measured else str(r.predicted["class"]))
            counts[key] = counts.get(key, 0) + 1
        for (p, m), n in counts.items():
            ax.scatter(shown.index(m) + dx, shown.index(p), s=60 + 40 * n, alpha=0.7, **{**STYLE[held], "label": None})
            ax.annotate(str(n), (shown.index(m) + dx, shown.index(p)), ha="center", va="center", fontsize=8)
    for held in sorted({r.hold_out for r in rows}):  # a legend entry for each set shown
        ax.scatter([], [], **STYLE[held])
    ax.plot([-0.5, len(shown) - 0.5], [-0.5, len(shown) - 0.5], color="0.8", lw=1, zorder=0)
    ax.set_xticks(range(len(shown)), shown)
    ax.set_yticks(range(len(shown)), shown)
    ax.set_xlim(-0.5, len(shown) - 0.5)
    ax.set_ylim(-0.5, len(shown) - 0.5)
    ax.set_xlabel("measured class" if measured else "predicted class")
    ax.set_ylabel("predicted class")
    ax.set_title("class: cells on the diagonal agree", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")


def _times(ax, rows, factor: float, error: str = "error", target: float = 0.05) -> None:
    pairs = [(r.measured["time_to_0.05"], r.predicted["time_to_0.05"], r.hold_out) for r in rows
             if r.measured["time_to_0.05"] and r.predicted["time_to_0.05"]]
    for held in sorted({h for _, _, h in pairs}):
        xs = [m for m, p, h in pairs if h == held]
        ax.scatter(xs, [p for m, p, h in pairs if h == held], **STYLE[held])
    if pairs:
        lo = min(min(m, p) for m, p, _ in pairs) / 1.5
        hi = max(max(m, p) for m, p, _ in pairs) * 1.5
        span = np.array([lo, hi])
        ax.plot(span, span, color="0.5", lw=1, label="predicted = measured")
        ax.fill_between(span, span / factor, span * factor, color="0.9", zorder=0, label=f"within ×{factor:g}")
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi))
    ax.set_xlabel(f"measured steps to {error} ≤ {target:g} (median run)")
    ax.set_ylabel("predicted steps (median over the flows)")
    ax.set_title("time, where both arrive", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")


def _dead(ax, rows, band: float) -> None:
    rng = np.random.default_rng(0)  # a small horizontal jitter: many cells sit at 0 or 1
    for held in sorted({r.hold_out for r in rows}):
        sel = [r for r in rows if r.hold_out == held and r.predicted.get("dead_fraction") is not None]
        xs = np.array([r.measured["dead_fraction"] for r in sel]) + rng.uniform(-0.015, 0.015, len(sel))
        ax.scatter(xs, [r.predicted["dead_fraction"] for r in sel], **STYLE[held])
    t = np.array([0.0, 1.0])
    ax.fill_between(t, t - band, t + band, color="0.9", zorder=0, label=f"within ±{band:g}")
    ax.plot(t, t, color="0.5", lw=1)
    ax.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05))
    ax.set_xlabel("measured fraction of runs that die")
    ax.set_ylabel("predicted fraction of runs that die")
    ax.set_title("dead fraction", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
