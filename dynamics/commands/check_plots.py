"""The two plots of ``febm check``: the spectrum, and distance against time."""

from __future__ import annotations

import numpy as np

from ..report import Verdict


def figures(report) -> list:
    """The spectrum and, when the flow ran, its convergence, as matplotlib Figures."""
    import matplotlib.pyplot as plt

    out = [_spectrum(plt, report)]
    if getattr(report.flow, "trajectory", None) is not None:  # the flow ran (not Skipped)
        out.append(_convergence(plt, report))
    return out


def _spectrum(plt, report):
    eig = report.spectrum.eigenvalues
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.axvline(0, color="0.6", lw=1)
    ax.axhline(0, color="0.85", lw=1)
    ax.scatter(eig.real, eig.imag, color="C3" if report.verdict == Verdict.UNSTABLE else "C0", zorder=3,
               label=f"eigenvalues of J ({report.verdict.value})")
    title = f"{report.name} on {report.model}, η_ω/η_θ = {report.lr_ratio:g}"
    return _finish(fig, ax, ("Re λ", "Im λ", title))


def _convergence(plt, report):
    flow = report.flow
    traj = flow.trajectory
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.semilogy(traj.times, traj.distances, label="nonlinear flow (LSODA)")
    t = np.asarray(traj.times)
    ax.semilogy(t, traj.distances[0] * np.exp(flow.predicted_rate * t), "--",
                label=f"predicted exp({flow.predicted_rate:.4g} t)")
    title = f"{report.name} on {report.model}: convergence"
    return _finish(fig, ax, ("time t (η_θ = 1)", "distance to the equilibrium", title))


def _finish(fig, ax, labels):
    """Axis labels, title and legend."""
    xlabel, ylabel, title = labels
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig
