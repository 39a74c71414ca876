"""The two plots of ``febm check --plot``: the spectrum, and distance against time."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_plots(report, directory) -> list[str]:
    """Write spectrum.png and convergence.png for a CheckReport; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [_spectrum(plt, report, out / "spectrum.png")]
    if "_trajectory" in report.simulation.get("flow", {}):
        paths.append(_convergence(plt, report, out / "convergence.png"))
    return [str(p) for p in paths]


def _spectrum(plt, report, path):
    eig = report.spectrum.eigenvalues
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.axvline(0, color="0.6", lw=1)
    ax.axhline(0, color="0.85", lw=1)
    ax.scatter(eig.real, eig.imag, color="C3" if report.verdict == "unstable" else "C0", zorder=3,
               label=f"eigenvalues of J ({report.verdict})")
    title = f"{report.name} on {report.model}, η_ω/η_θ = {report.lr_ratio:g}"
    return _finish(plt, fig, ax, ("Re λ", "Im λ", title), path)


def _convergence(plt, report, path):
    flow = report.simulation["flow"]
    traj = flow["_trajectory"]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.semilogy(traj.times, traj.distances, label="nonlinear flow (LSODA)")
    t = np.asarray(traj.times)
    ax.semilogy(t, traj.distances[0] * np.exp(flow["predicted_rate"] * t), "--",
                label=f"predicted exp({flow['predicted_rate']:.4g} t)")
    title = f"{report.name} on {report.model}: convergence"
    labels = ("time t (η_θ = 1)", "distance to the equilibrium", title)
    return _finish(plt, fig, ax, labels, path)


def _finish(plt, fig, ax, labels, path):
    """Axis labels, title and legend, then save and close."""
    xlabel, ylabel, title = labels
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
