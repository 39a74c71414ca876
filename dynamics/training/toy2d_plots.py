"""The 2-D toys' figure: model samples over the data density, one panel per method."""

from __future__ import annotations

import torch

from ...toy_models import toy2d


def draw_samples(plt, out):
    """One panel per method: model samples over the data density (``out``: a `toy2d_training.Toy2DReport`)."""
    data, box = toy2d(out.dataset), out.config.box
    ticks = torch.linspace(-box, box, 200, dtype=torch.float64)
    xy = torch.cartesian_prod(ticks, ticks)
    density = data.log_prob(xy).exp().reshape(200, 200).T
    n = len(out.methods)
    cols = min(n, 6)
    rows = -(-n // cols)
    # square panels (equal aspect) need the height for two title lines and the x label besides
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.7 * rows + 0.4), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax, method, samples, sc in zip(axes.flat, out.methods, out.samples, out.scores):
        ax.contourf(ticks, ticks, density, levels=12, cmap="Greys")
        s = samples.cpu().numpy()
        ax.scatter(s[:, 0], s[:, 1], s=3, color="C3", label="model samples")
        ax.set_title(f"{method}\nJS {sc.js:.3f}, {sc.high_quality:.0%} near a mode", fontsize=9)
        ax.set_xlim(-box, box)
        ax.set_ylim(-box, box)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    axes[0][0].legend(loc="lower left", fontsize=7)
    fig.suptitle(f"{out.dataset}: f-EBM and CD after {out.config.steps} steps (grid JS to the data; "
                 "near a mode: samples within 3 sd of a component)")
    return fig
