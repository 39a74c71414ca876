"""calibration.png: the trained game's predictions against its measurements, one panel per quantity.

Each panel has a title (the quantity and how well the two agree), every point is labelled by its
f, and every f of the report that is not on a panel is named under it with the reason (a log axis
cannot show a value ≤ 0; a flow that stopped being finite has no prediction; ...). Axis labels are
wrapped so that they stay inside the figure.

`draw_calibration(report)` takes a `CalibrateReport` and returns the matplotlib Figure.
"""

from __future__ import annotations

import math
import textwrap

from ..analysis.trained import RestStatus
from .calibration_targets import FACTOR, MEASURED, WITHIN

TITLES = {"eta_max": "largest stable step η_max", "rate": "θ-mode rate per step",
          "time_to_0.05": "steps to error ≤ 0.05", "rate_from_start": "rate per step from the start",
          "eta_ms": "mean-square edge η_ms", "spread": "θ's spread after the horizon"}
AXES = {"eta_max": ("runs on the nodes", "Arnoldi at the resting point"),
        "rate": ("pair runs along the θ-mode", "node-space spectrum"),
        "time_to_0.05": ("minibatch runs, median", "noise-free flow, median"),
        "rate_from_start": ("noise-free flows, fitted", "critic at its best response"),
        "eta_ms": ("η where half of 16 runs leave the ball", "second-moment recursion"),
        "spread": ("θ's sd in the runs", "second-moment recursion")}
WRAP = 54  # characters per line of an axis label or the note under a panel


def draw_calibration(report):
    """Predicted against measured, log-log, one titled panel per quantity the report summarizes."""
    import matplotlib.pyplot as plt

    shown = [q for q in MEASURED if q in report.summary]
    cols = min(3, len(shown))
    rows = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.4 * cols, 5.0 * rows), layout="constrained", squeeze=False)
    points = [panel(ax, report, q) for ax, q in zip(axes.flat, shown)]
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.suptitle(f"Predicted against measured on {report.model}, critic {report.critic}: "
                 f"{len(report.rows)} f, hold-out squares", fontsize=11)
    fig.canvas.draw()  # the layout first: labels are placed in the panels' final pixels
    for ax, pts in zip(axes.flat, points):
        if pts:
            _label_points(ax, pts)
    return fig


def placed(report, q: str):
    """(shown, left out): shown as (name, predicted, measured) for the f with both values > 0; left
    out as (name, why) for every other f of the report."""
    shown, left = [], []
    for r in report.rows:
        p, m = r.predicted.get(q), r.measured.get(q)
        if q == "time_to_0.05" and (p is None or m is None) and r.arrival:
            left.append((r.name, _arrivals(r)))
        elif r.status != RestStatus.RESTED and p is None and m is None:
            left.append((r.name, r.status))
        elif p is None and m is None:
            left.append((r.name, "not run"))
        elif p is None and q in ("eta_ms", "spread") and _growth(r) > 1:
            left.append((r.name, "no prediction: the second-moment recursion grows even at η_max/2"))
        elif p is None:
            left.append((r.name, "no prediction"))
        elif m is None:
            left.append((r.name, "not measured"))
        elif p <= 0 or m <= 0:
            left.append((r.name, "a value ≤ 0, off the log axis"))
        else:
            shown.append((r.name, p, m))
    return shown, left


def _growth(row) -> float:
    """The largest per-step growth of the second-moment recursion at half the predicted η_max (0 if
    not computed)."""
    growth = (row.mean_square or {}).get("growth_at_half_eta_max") or {}
    values = [g for g in growth.values() if g is not None]
    return max(values, default=0.0)


def _arrivals(row) -> str:
    """Why a median time to 0.05 is missing: no more than half of the predicting flows or of the
    measuring minibatch runs reached 0.05 (the rest stopped being finite or ran out of steps)."""
    parts = []
    for side, what in (("predicted", "flows"), ("measured", "runs")):
        runs = row.arrival.get(side)
        if runs:
            parts.append(f"{sum(s is not None for s in runs['steps'])}/{len(runs['steps'])} {what}")
    return " and ".join(parts) + " arrived"


def agreement(report, q: str) -> str:
    s = report.summary.get(q) or {}
    if not s.get("n"):
        return "no pairs"
    band = f"within ×{FACTOR[q]:g}" if q in FACTOR else f"within {WITHIN.get(q, 0):.0%}"
    rho = "" if s.get("spearman") is None else f"Spearman ρ {s['spearman']:.2f}, "
    held = report.summary.get(f"{q}_hold_out")
    extra = f"; hold-out {held['within']}/{held['n']}" if held and held.get("n") else ""
    return f"{rho}{band}: {s['within']}/{s['n']}{extra}"


def panel(ax, report, q: str) -> list:
    """Draw one quantity's panel; the points shown, to be labelled once the layout is done."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    shown, left = placed(report, q)
    if shown:
        names, pred, meas = zip(*shown)
        for hold, marker, label in ((False, "o", "analysis set"), (True, "s", "hold-out")):
            pts = [(m, p) for n, p, m in shown if (n in report.hold_out) == hold]
            if pts:
                ax.scatter(*zip(*pts), marker=marker, label=label, color="C1" if hold else "C0", zorder=3)
        lo, hi = min(pred + meas), max(pred + meas)
        pad = (hi / lo) ** 0.12 if hi > lo else 1.5
        lo, hi = lo / pad, hi * pad
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, label="predicted = measured")
        if q in FACTOR:
            for k in (FACTOR[q], 1 / FACTOR[q]):
                ax.plot([lo, hi], [lo * k, hi * k], color="0.7", lw=0.8, ls="--",
                        label=f"×{FACTOR[q]:g} band" if k > 1 else None)
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi))
        decades = math.log10(hi / lo)
        subs = (1.0,) if decades > 2 else (1.0, 2.0, 5.0) if decades > 0.5 else (1.0, 1.2, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(LogLocator(subs=subs))
            axis.set_minor_formatter(NullFormatter())
            axis.set_major_formatter(FormatStrFormatter("%g"))
        ax.legend(loc="best", fontsize=7)
    measured, predicted = AXES[q]
    note = ""
    if left:
        by_reason: dict[str, list[str]] = {}
        for name, why in left:
            by_reason.setdefault(why, []).append(name)
        groups = "; ".join(f"{', '.join(n)} ({why})" for why, n in by_reason.items())
        note = "\n" + textwrap.fill("not shown: " + groups, WRAP + 14)
    ax.set_xlabel(textwrap.fill(f"measured: {measured}", WRAP) + note, fontsize=9)
    ax.set_ylabel(textwrap.fill(f"predicted: {predicted}", WRAP), fontsize=9)
    ax.set_title(f"{TITLES[q]}\n{agreement(report, q)}", fontsize=10)
    return shown


def _label_points(ax, shown) -> None:
    """Each point's f beside it, at the first of eight places around the point where its text
    overlaps no label placed before, no other point and no edge of the frame (else the least bad)."""
    fig = ax.figure
    scale = fig.dpi / 72.0  # pixels per point
    size = 6.5
    box = ax.get_window_extent()
    xy = ax.transData.transform([(m, p) for _, p, m in shown])
    placed_boxes = []
    places = [(5, 2), (5, -10), (-5, 2), (-5, -10), (5, 8), (-5, 8), (5, -16), (-5, -16)]
    for (name, p, m), (px, py) in zip(shown, xy):
        width, height = 0.58 * size * len(name) * scale, size * 1.2 * scale
        best, best_cost = None, None
        for dx, dy in places:
            x0 = px + dx * scale - (width if dx < 0 else 0)
            y0 = py + dy * scale
            rect = (x0, y0, x0 + width, y0 + height)
            cost = sum(_overlap(rect, b) for b in placed_boxes)
            cost += sum(_overlap(rect, (qx - 4, qy - 4, qx + 4, qy + 4)) for qx, qy in xy)
            cost += 10 * (width * height - _overlap(rect, (box.x0, box.y0, box.x1, box.y1)))
            if best_cost is None or cost < best_cost:
                best, best_cost = (dx, dy, rect), cost
            if cost == 0:
                break
        dx, dy, rect = best
        placed_boxes.append(rect)
        ax.annotate(name, (m, p), xytext=(dx, dy), textcoords="offset points", fontsize=size,
                    ha="right" if dx < 0 else "left", va="bottom", color="0.2", annotation_clip=True)


def _overlap(a, b) -> float:
    """The area two (x0, y0, x1, y1) rectangles share."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def draw_flow(report):
    """Along the deterministic flow: |F|, and the predicted η_max over its final value; and the
    path-angle cosine along the start → end line. Measured rows only (an overflowing flow's |F|
    would set the scale); hold-out f dashed."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
    colours = plt.get_cmap("tab20")
    for k, r in enumerate(r for r in report.rows if r.status == RestStatus.RESTED):
        style = dict(color=colours(k % 20), ls="--" if r.name in report.hold_out else "-", lw=1.2, label=r.name)
        c = r.checkpoints
        if c:
            axes[0].plot(c["step"], c["residual"], **style)
            last = c["eta_max"][-1]
            pts = [(s, e / last) for s, e in zip(c["step"], c["eta_max"]) if e is not None and last]
            if pts:
                axes[1].plot(*zip(*pts), **style)
        if r.path_angle:
            axes[2].plot(r.path_angle["alpha"], r.path_angle["cosine"], **style)
    axes[0].set(yscale="log", xlabel="flow step", ylabel="|F|", title="residual along the flow")
    axes[1].set(xlabel="flow step", ylabel="predicted η_max / its final value", title="the step limit drifts")
    axes[2].axvline(1.0, color="0.6", lw=0.8)
    axes[2].set(xlabel="α (0: start, 1: end of the flow)", ylabel="cos(F, end − start)", title="path-angle")
    axes[2].legend(fontsize=7, ncol=2, loc="lower left", bbox_to_anchor=(1.02, 0.0))
    return fig
