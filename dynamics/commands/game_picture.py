"""A schematic of the f-EBM game for the theory page (`febm figures --only game`): where the data and
the model's samples enter, the two networks, r = H + E, the links g and h, and the two players'
gradients. A drawing of the definitions, not of a computation: it reads no result file."""

from __future__ import annotations

DATA, MODEL, CRITIC, ENERGY = "#1f77b4", "#d95f02", "#2ca02c", "#7b3294"


def _box(ax, x, y, w, h, text, edge, fill="white", size=10.5, weight="normal"):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", lw=1.6,
                                edgecolor=edge, facecolor=fill))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, weight=weight, linespacing=1.35)


def _arrow(ax, start, end, color, text=None, at=0.5, dx=0.0, dy=0.12, style="-|>", ls="-", size=9.5, rad=0.0):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, lw=1.6, color=color, ls=ls,
                                 shrinkA=2, shrinkB=2, connectionstyle=f"arc3,rad={rad}"))
    if text:
        x = start[0] + at * (end[0] - start[0]) + dx
        y = start[1] + at * (end[1] - start[1]) + dy
        ax.text(x, y, text, ha="center", va="bottom", fontsize=size, color=color)


def draw(plt):
    """The figure: data and model samples (left), r = H + E (middle), g and h and L (right), the
    critic's ascent above and the model's descent below."""
    fig, ax = plt.subplots(figsize=(11, 5.6))
    ax.set(xlim=(0, 11), ylim=(0, 5.6))
    ax.axis("off")

    # the two sources of samples
    _box(ax, 0.1, 3.35, 2.2, 0.9, "data\n$x \\sim p$", DATA, "#e8f1fa", weight="bold")
    _box(ax, 0.1, 1.35, 2.2, 0.9, "model samples\n$x \\sim q_\\theta = e^{-E_\\theta}/Z_\\theta$", MODEL, "#fdeee3")

    # r = H + E, evaluated at both kinds of point
    _box(ax, 3.3, 2.1, 2.6, 1.4,
         "$r(x) = H_\\omega(x) + E_\\theta(x)$\n\nthe critic's estimate\nof $\\log p/q_\\theta$", "0.25", "#f4f4f4")
    _arrow(ax, (2.3, 3.8), (3.3, 3.2), DATA)
    _arrow(ax, (2.3, 1.8), (3.3, 2.4), MODEL)

    # the links
    _box(ax, 6.7, 3.35, 1.9, 0.9, "$g(r) = f'(e^{r})$", DATA, "#e8f1fa")
    _box(ax, 6.7, 1.35, 1.9, 0.9, "$h(r) = f^*(f'(e^{r}))$", MODEL, "#fdeee3")
    _arrow(ax, (5.9, 3.2), (6.7, 3.8), DATA, "at data", at=0.35, dx=-0.3, dy=0.12)
    _arrow(ax, (5.9, 2.4), (6.7, 1.8), MODEL, "at samples", at=0.35, dx=-0.35, dy=-0.42)

    # the objective
    _box(ax, 9.1, 2.2, 1.8, 1.2, "$L(\\theta, \\omega) =$\n$\\mathbb{E}_p[g(r)]$\n$-\\ \\mathbb{E}_{q_\\theta}[h(r)]$",
         "0.1", "#fff8d6", size=11)
    _arrow(ax, (8.6, 3.8), (9.1, 3.2), DATA)
    _arrow(ax, (8.6, 1.8), (9.1, 2.4), MODEL)

    # the two players
    _box(ax, 3.0, 4.6, 5.0, 0.85, "critic $H_\\omega$ (player $\\omega$):  $\\mathrm{max}_{\\omega}\\, L$\n"
         "ascends:  $\\omega \\leftarrow \\omega + \\eta_\\omega \\nabla_\\omega L$", CRITIC, "#e9f6e9")
    _box(ax, 3.0, 0.1, 5.0, 0.85, "energy $E_\\theta$ (player $\\theta$):  $\\mathrm{min}_{\\theta}\\, L$\n"
         "descends:  $\\theta \\leftarrow \\theta - \\eta_\\theta \\nabla_\\theta L$", ENERGY, "#f3eaf7")
    _arrow(ax, (10.0, 3.4), (8.0, 5.0), CRITIC, "$\\nabla_\\omega L$", at=0.5, dx=0.55, dy=0.0, rad=0.25)
    _arrow(ax, (10.0, 2.2), (8.0, 0.55), ENERGY, "$\\nabla_\\theta L$", at=0.5, dx=0.55, dy=-0.3, rad=-0.25)
    _arrow(ax, (4.6, 4.6), (4.6, 3.5), CRITIC, "$H_\\omega$", at=0.5, dx=-0.3, dy=-0.1)
    _arrow(ax, (4.6, 0.95), (4.6, 2.1), ENERGY, "$E_\\theta$", at=0.5, dx=-0.3, dy=-0.1)
    _arrow(ax, (3.0, 0.55), (1.2, 1.35), ENERGY, "samples move\nwith $\\theta$", at=0.5, dx=-0.45, dy=-0.55,
           ls="--", size=9, rad=-0.2)
    return fig
