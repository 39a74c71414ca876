"""A registry of named figures. Each is a function of explicit parameters and a seed that
returns the numbers it plots; `render` writes PNG (and PDF) files and a manifest.

A figure is either *computed* (drawn from a fresh computation of its own) or drawn from *results*:
result files under docs/ (``reads``), which the manifest names with their SHA-256, so that a
figure whose result file changed after it was drawn is found stale (`stale`).

``fast=True`` shrinks the stochastic and training figures so that the whole set regenerates in
minutes on a CPU; the plotted quantities are the same.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from ...divergences import resolve
from ...errors import InputError, printable
from ...registry import Registry
from ...toy_models import setup
from .. import device as devices
from ..analysis import Game, Linearization
from ..analysis.local import LocalAnalysis
from ..files import Staging, pending, recover, sha256
from ..report import Report
from ..training.monitor import progress_bar

FIGURES: Registry["Figure"] = Registry("figure", hint="see `febm figures --list`")


ROOT = Path(__file__).resolve().parents[2]  # the repository: result files are named relative to it


@dataclass
class Figure:
    name: str
    title: str
    draw: callable  # (plt, params, seed) -> (fig, data)
    params: dict
    fast_params: dict
    reads: tuple = ()  # result files (relative to ROOT) the figure is drawn from; none: computed
    formats: tuple = ("png", "pdf")
    suptitle: bool = True  # False: the figure's own axes title is its title
    uses: tuple = ()  # other code the picture depends on (helpers, drawing functions, "module:qualname")

    @property
    def kind(self) -> str:
        return "results" if self.reads else "computed"


def figure(name, title, params=None, fast=None, reads=(), formats=("png", "pdf"), suptitle=True, uses=()):
    """Decorator: register ``draw(plt, params, seed) -> (fig, data)`` as a named figure; ``reads``
    names the result files it draws from (the draw function reads them with `result`)."""

    def register(draw):
        FIGURES.register(name, Figure(name, title, draw, params or {}, {**(params or {}), **(fast or {})},
                                      tuple(reads), tuple(formats), suptitle, tuple(uses)))
        return draw

    return register


def result(path: str):
    """A result file's JSON, by its path relative to the repository."""
    import json

    full = ROOT / path
    if not full.is_file():
        raise InputError(f"result file {printable(path)} not found under {printable(str(ROOT))}: this figure is "
                         "drawn from it (run from a source checkout)")
    data = json.loads(full.read_text())
    if isinstance(data, dict):
        data.pop("provenance", None)  # where the file came from; no report reads it back
    return data


def code_sha256(fig_def: Figure) -> str:
    """SHA-256 of the code that draws the figure: its draw function's source with its decorator
    (the parameters), what it names in ``uses`` (helpers, drawing functions in other modules, a
    whole module, or a constant's repr) and `_render_one`. A figure drawn by other code is stale."""
    texts = []
    for ref in (fig_def.draw, *fig_def.uses, _render_one):
        obj = _resolve(ref)
        texts.append(inspect.getsource(obj) if inspect.ismodule(obj) or callable(obj) else repr(obj))
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def _resolve(ref):
    """A ``uses`` item: the object itself, or "module:qualname" (module relative to this package; no
    qualname: the module) imported when asked, so that importing the registry stays light."""
    if not isinstance(ref, str):
        return ref
    module, _, qualname = ref.partition(":")
    obj = importlib.import_module(module, __package__)
    for part in filter(None, qualname.split(".")):
        obj = getattr(obj, part)
    return obj


def stale(manifest: dict, root=ROOT) -> list[str]:
    """What in a manifest no longer describes the files: a result file whose SHA-256 differs from
    the one recorded when the figure reading it was drawn, or a figure file that changed since
    (drawn by hand or by another command), or the code that draws it (`code_sha256`), or a commit
    of the folder's files under way or cut short by a killed run (`dynamics.files.pending`). One
    line per fault; empty when all is current."""
    faults = []
    folders = dict.fromkeys(Path(root) / Path(file).parent for e in manifest["figures"] for file in e["files"])
    for folder in folders:  # a commit cut short by a kill: the files may be a mix until the next run finishes it
        faults += pending(folder)
    for entry in manifest["figures"]:
        redraw = entry.get("command", f"febm figures --only {entry['name']}")
        for item in entry.get("inputs", []):
            path = Path(root) / item["path"]
            if not path.is_file():
                faults.append(f"{entry['name']}: its result file {item['path']} is gone (redraw: {redraw})")
            elif sha256(path) != item["sha256"]:
                faults.append(f"{entry['name']}: {item['path']} changed after the figure was drawn (redraw: {redraw})")
        if entry["name"] in FIGURES and entry.get("code_sha256") != code_sha256(FIGURES[entry["name"]]):
            faults.append(f"{entry['name']}: the code that draws it changed after it was drawn (redraw: {redraw})")
        for file in entry["files"]:
            path = Path(root) / file
            digest = entry.get("sha256", {}).get(Path(file).name)
            if not path.is_file() or sha256(path) != digest:
                faults.append(f"{entry['name']}: {file} is not the file the manifest recorded (redraw: {redraw})")
    return faults


# --- helpers ---------------------------------------------------------------------------
def _linearization(name, model="gaussian-1d") -> Linearization:
    """The LocalAnalysis's linearization (a figure is drawn only at a verified equilibrium)."""
    return LocalAnalysis.build(name, model).require().lin


# --- (a) spectra -------------------------------------------------------------------------
@figure("spectra", "Eigenvalues of J for several divergences: the f''(1) scaling",
        {"divergences": ["jensen_shannon", "kl", "pearson_chi2", "symmetric_chi2"], "model": "gaussian-1d"},
        uses=[".figures:_linearization"])
def spectra(plt, params, seed):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    data = {}
    for k, name in enumerate(params["divergences"]):
        eig = np.linalg.eigvals(_linearization(name, params["model"]).G)
        f2 = float(resolve(name).f2_at_1)
        data[name] = eig
        ax1.scatter(eig.real, eig.imag, label=f"{name} (f''(1) = {f2:g})", color=f"C{k}", s=25)
        ax2.scatter((eig / f2).real, (eig / f2).imag, color=f"C{k}", s=60 - 12 * k, label=name)
    ax1.set(xlabel="Re λ", ylabel="Im λ", title="eigenvalues of the flow Jacobian J")
    ax2.set(xlabel="Re λ / f''(1)", ylabel="Im λ / f''(1)", title="rescaled by f''(1): one spectrum")
    for ax in (ax1, ax2):
        ax.axvline(0, color="0.7", lw=1)
        ax.legend(fontsize=7)
    return fig, data


@figure("links", "The links g(u) = f'(eᵘ) and h(u) = f*(f'(eᵘ)) and their tails (symmetric log scale), for a few f",
        {"divergences": ["kl", "reverse_kl", "jensen_shannon", "pearson_chi2", "alpha=-1"], "span": 6.0},
        formats=("png",))
def links(plt, params, seed):
    """g weighs the data's samples and h the model's (L = E_p g(r) − E_q h(r), r = H + E the critic's
    estimate of log p/q); how fast each grows as |u| → ∞ sets which estimates have finite variance."""
    import torch

    u = torch.linspace(-params["span"], params["span"], 601, dtype=torch.float64)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    data = {}
    for k, name in enumerate(params["divergences"]):
        d = resolve(name).validate()
        values = {link: d.function(link, "torch")(u).numpy() for link in ("g", "h")}
        data[name] = {link: v.tolist() for link, v in values.items()}
        for ax, link in zip(axes, ("g", "h")):
            ax.plot(u.numpy(), values[link], color=f"C{k}", label=name)
    axes[0].set(xlabel="u = H + E (the critic's log p/q)", ylabel="g(u)", yscale="symlog",
                title="g weighs the data's samples")
    axes[1].set(xlabel="u = H + E (the critic's log p/q)", ylabel="h(u)", yscale="symlog",
                title="h weighs the model's samples")
    for ax in axes:
        ax.axvline(0, color="0.7", lw=1)
        ax.legend(fontsize=7)
    return fig, data


# --- (b) phase portraits -----------------------------------------------------------------
@figure("phase-portrait", "The 1-D Gaussian's (μ, σ) plane: f-EBM trajectories and the CD stream plot",
        {"divergence": "kl", "starts": 8, "radius": 0.6, "t_end": 12.0, "grid": 21},
        uses=[".figures:_linearization", ".figures:_mark_equilibrium"])
def phase_portrait(plt, params, seed):
    from ..analysis import CDField
    from ..analysis.simulate import Budget, SaveAt, Stop, flow, start_point

    lin = _linearization(params["divergence"])
    game, F, z_star = lin.game, lin.field(), lin.z_star
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    data = {"trajectories": []}

    for k in range(params["starts"]):
        z0 = start_point(z_star, params["radius"], seed + k)
        traj = flow(F, z_star, z0, params["t_end"], save=SaveAt(points=300, states=True), stop=Stop(blowup=np.inf),
                    budget=Budget(max_evals=None, rtol=1e-6, atol=1e-6), remove_residual=False)
        mu, sigma = traj.states[:, 0], np.exp(traj.states[:, 1])
        data["trajectories"].append(np.stack([mu, sigma]))
        ax1.plot(mu, sigma, lw=1, color=f"C{k % 10}")
        ax1.plot(mu[0], sigma[0], "o", ms=3, color=f"C{k % 10}")
    _mark_equilibrium(ax1, "equilibrium q = p")
    ax1.set(xlabel="μ", ylabel="σ", title=f"f-EBM ({params['divergence']}) GDA flow, projected on θ")
    cd = CDField(game)
    mus = np.linspace(-0.5, 1.5, params["grid"])
    logs = np.log(np.linspace(0.6, 2.2, params["grid"]))
    U = np.zeros((len(logs), len(mus)))
    V = np.zeros_like(U)
    for i, ls in enumerate(logs):
        for j, m in enumerate(mus):
            d = cd(torch.tensor([m, ls], dtype=torch.float64)).numpy()
            U[i, j], V[i, j] = d[0], d[1] * np.exp(ls)  # dσ/dt = σ · d(log σ)/dt
    data["cd_field"] = np.stack([U, V])
    stream = ax2.streamplot(mus, np.exp(logs), U, V, density=1.0, color=np.hypot(U, V), cmap="viridis")
    fig.colorbar(stream.lines, ax=ax2, label="speed |d(μ, σ)/dt|")
    _mark_equilibrium(ax2, "maximum likelihood")
    ax2.set(xlabel="μ", ylabel="σ", title="contrastive divergence flow (stream plot)")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_locator(MaxNLocator(5))
    return fig, data


def _mark_equilibrium(ax, text):
    """The one equilibrium (μ, σ) = (0.5, 1.3), labelled beside it (a legend entry looked like a second star)."""
    ax.plot(0.5, 1.3, "k*", ms=12, zorder=6)
    ax.annotate(text, (0.5, 1.3), xytext=(8, -14), textcoords="offset points", fontsize=8,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8}, zorder=6)


# --- (c) convergence ---------------------------------------------------------------------
@figure("convergence", "Distance to the equilibrium: predicted vs measured; ODE, discrete and stochastic",
        {"divergence": "kl", "model": "gaussian-1d", "runs": 128, "batch": 4096},
        {"runs": 32, "batch": 1024})
def convergence(plt, params, seed):
    from .check import check
    from .confirm import confirm

    report = check(params["divergence"], params["model"])
    flow = report.flow
    traj = flow.trajectory
    stoch = confirm(params["divergence"], params["model"], runs=params["runs"], batch=params["batch"], progress=False,
                    seed=seed)
    # one panel per update rule: on a shared time axis the two nearly coincide and hide each other
    fig, axes = plt.subplots(1, len(stoch.results), figsize=(11, 4.5), sharey=True, layout="constrained")
    data = {"ode": traj.distances}
    lowest = []
    for k, (ax, (update, res)) in enumerate(zip(np.atleast_1d(axes), stoch.results.items())):
        t = np.arange(len(res.mean_deviation)) * res.eta_theta
        # predictions first, wide and pale: the measurements drawn over them stay visible where they agree
        ax.semilogy(traj.times, np.exp(flow.predicted_rate * traj.times), color="0.55", lw=6, alpha=0.45,
                    solid_capstyle="butt", label=r"predicted, flow: $e^{\mathrm{Re}\,\lambda\, t}$")
        ax.semilogy(t, np.exp(res.predicted_rate * t / res.eta_theta), color=f"C{k}", lw=6, alpha=0.3,
                    solid_capstyle="butt", label=r"predicted, steps: $|\mu|^{\mathrm{step}}$")
        ax.semilogy(traj.times, traj.distances / traj.distances[0], color="k", lw=1.2,
                    label="ODE (exact flow, LSODA)")
        measured = res.mean_deviation / res.mean_deviation[0]
        ax.semilogy(t, measured, "o", ms=3, color=f"C{k}",
                    label=f"minibatch runs (η_θ = {res.eta_theta:.3g}, mean of {stoch.runs})")
        ax.set(xlabel="time (steps × η_θ)", title=f"{update} GDA", xlim=(0, t[-1] * 1.05))
        ax.legend(fontsize=8, loc="upper right")
        lowest.append(float(np.min(measured[measured > 0])))
        data[update] = res.mean_deviation
    np.atleast_1d(axes)[0].set_ylim(0.5 * min(lowest), 1.5)  # down to the data, no empty band below
    np.atleast_1d(axes)[0].set_ylabel("distance / initial distance")
    fig.suptitle(f"{params['divergence']} on {params['model']}: linearization against the flow and minibatch runs")
    return fig, data


# --- (d) stability regions ---------------------------------------------------------------
@figure("stability-map", "Where discrete GDA is stable: step size η_θ against the ratio η_ω/η_θ",
        {"divergence": "kl", "model": "shifted-linear", "points": 120},
        uses=[".figures:_linearization", ".figures:equal_rates_window"])
def stability_map(plt, params, seed):
    from ..analysis.spectrum import spectral_radius

    lin = _linearization(params["divergence"], params["model"])
    etas = np.logspace(-3, 0.5, params["points"])
    ratios = np.logspace(-1, 2, params["points"])
    rho = {kind: np.zeros((len(ratios), len(etas))) for kind in ("simultaneous", "alternating")}
    for i, r in enumerate(ratios):
        for j, e in enumerate(etas):
            for kind in rho:
                rho[kind][i, j] = spectral_radius(lin.step_matrix(kind, e, r))
    lo, hi = equal_rates_window(lin)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True, layout="constrained")
    for ax, (kind, R) in zip(axes, rho.items()):
        im = ax.pcolormesh(etas, ratios, np.clip(np.log10(R), -0.1, 0.1), cmap="RdBu_r", vmin=-0.1, vmax=0.1,
                           shading="auto")
        ax.contour(etas, ratios, R, levels=[1.0], colors="k")
        ax.axhline(1.0, color="0.3", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="step size η_θ", title=f"{kind} GDA (black line: ρ = 1)")
    if lo is not None:  # the equal-rates window theory.md cites: alternating stable, simultaneous not
        axes[1].plot([lo, hi], [1.0, 1.0], color="limegreen", lw=5, solid_capstyle="butt", zorder=5)
        axes[1].annotate(f"equal rates (η_ω = η_θ): alternating stable\nfor {lo:.3f} < η_θ < {hi:.3f}, "
                         "where simultaneous\nsteps and the flow diverge", (np.sqrt(lo * hi), 1.0),
                         xytext=(1.2e-3, 0.16),
                         fontsize=8, arrowprops={"arrowstyle": "->", "color": "0.2"},
                         bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "none", "alpha": 0.85})
        axes[0].annotate("η_ω = η_θ: unstable at every step", (2e-3, 1.0), xytext=(0, -14), textcoords="offset points",
                         fontsize=8, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    axes[0].set_ylabel("η_ω / η_θ")
    fig.colorbar(im, ax=axes, extend="both", label="log10 ρ of one step (clipped at ±0.1)")
    fig.suptitle(f"Stable steps of {params['divergence']} on {params['model']}: blue contracts, red grows")
    return fig, {**rho, "equal_rates_window": (lo, hi)}


def equal_rates_window(lin, kind="alternating", other="simultaneous", points=4000):
    """The step sizes η_θ at η_ω = η_θ where ``kind`` steps contract (ρ < 1) and ``other`` steps do
    not: (lo, hi) of the widest such interval on a fine log grid, refined by bisection; (None, None)
    if there is none."""
    from ..analysis.spectrum import spectral_radius

    def window(e):
        return spectral_radius(lin.step_matrix(kind, e, 1.0)) < 1 <= spectral_radius(lin.step_matrix(other, e, 1.0))

    etas = np.logspace(-3, 1, points)
    inside = np.array([window(e) for e in etas])
    if not inside.any():
        return None, None
    edges = np.flatnonzero(np.diff(np.r_[0, inside.astype(int), 0]))
    runs = list(zip(edges[::2], edges[1::2]))  # [start, stop) index runs where inside
    a, b = max(runs, key=lambda r: r[1] - r[0])

    def edge(out, into):  # bisect between a point outside and one inside the window
        for _ in range(50):
            mid = np.sqrt(out * into)
            out, into = (out, mid) if window(mid) else (mid, into)
        return float(into)

    lo = edge(etas[a - 1], etas[a]) if a > 0 else float(etas[a])
    hi = edge(etas[b], etas[b - 1]) if b < len(etas) else float(etas[b - 1])
    return lo, hi


# --- (f) 2-D toys ------------------------------------------------------------------------
@figure("toy2d", "2-D toy: f-EBM samples per divergence beside contrastive divergence",
        {"dataset": "8gaussians", "methods": ["cd", "kl", "jensen_shannon", "squared_hellinger"],
         "steps": 2000, "device": "auto"},
        {"steps": 300}, uses=["..training.toy2d_training", "..training.toy2d_sampler",
                             "..training.toy2d_scoring", "..training.toy2d_plots"])
def toy2d_samples(plt, params, seed):
    from dataclasses import asdict

    from ..training.toy2d_plots import draw_samples
    from ..training.toy2d_training import Toy2DConfig, train_toy2d

    config = Toy2DConfig(steps=params["steps"], device=params["device"])
    out = train_toy2d(params["dataset"], params["methods"], config, seed=seed, progress=False)
    return draw_samples(plt, out), {m: asdict(sc) for m, sc in zip(params["methods"], out.scores)}


# --- (g) α atlas -------------------------------------------------------------------------
ALPHA_LIMITS = {0: "-log(t) + t - 1", 1: "t*log(t) - t + 1"}  # α → 0 and α → 1 of the α generator


@figure("alpha-atlas",
        "The α-family: one linearization for every α; the nonlinear flow's time to 1% differs by a few per cent",
        {"alphas": [-2, -1, -0.5, 0, 0.5, 0.9, 1, 1.5, 2, 3], "model": "gaussian-1d", "size": 0.5},
        uses=[".figures:ALPHA_LIMITS"])
def alpha_atlas(plt, params, seed):
    from ..analysis.simulate import Stop, flow

    base = resolve("alpha")
    rows = {"max_real": [], "eta_max": [], "time_to_1e-2": []}
    s = setup(params["model"])
    for a in params["alphas"]:
        # α = 0 and α = 1 are limits of the generator (reverse KL and KL, plus an affine term)
        div = resolve(ALPHA_LIMITS[a]) if a in ALPHA_LIMITS else base.bind(alpha=a)
        lin = LocalAnalysis.build(div, s).require().lin
        J = lin.G
        rows["max_real"].append(float(np.max(np.linalg.eigvals(J).real)))
        rows["eta_max"].append(lin.eta_max("simultaneous"))
        z0, _ = lin.mode_start(J, params["size"])
        traj = flow(lin.field(), s.z_star, z0, 40.0, jac=J, stop=Stop(blowup=50.0))
        below = np.flatnonzero(traj.distances <= 1e-2 * params["size"])
        rows["time_to_1e-2"].append(float(traj.times[below[0]]) if below.size else np.nan)
    alphas = params["alphas"]
    at = [k for k, a in enumerate(alphas) if a in ALPHA_LIMITS]
    fig, (ax1, ax3, ax2) = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
    # each quantity on its own axis, drawn from 0: flat lines read as flat, not as a value of 0
    for ax, key, style, colour in ((ax1, "max_real", "o-", "C0"), (ax3, "eta_max", "s-", "C1"),
                                   (ax2, "time_to_1e-2", "o-", "C3")):
        ax.plot(alphas, rows[key], style, color=colour)
        ax.plot([alphas[k] for k in at], [rows[key][k] for k in at], "o", ms=11, mfc="none", mec="k",
                label="α = 0 and 1: the limits\n(reverse KL and KL)")
    spread = np.ptp(rows["max_real"]) / abs(np.mean(rows["max_real"]))
    ax1.set_ylim(1.3 * min(rows["max_real"]), 0)
    ax1.set(xlabel="α", ylabel="slowest rate max Re λ",
            title=f"linearization: equal for every α\n(relative spread {spread:.0e})")
    ax3.set_ylim(0, 1.3 * max(rows["eta_max"]))
    ax3.set(xlabel="α", ylabel="largest stable step η_max (simultaneous)", title="the step limit: equal too")
    times = np.array(rows["time_to_1e-2"])
    apart = np.nanmax(times) / np.nanmin(times) - 1
    ax2.set_ylim(0, 1.15 * np.nanmax(times))  # from 0: the effect is a few per cent, shown at its size
    ax2.text(0.03, 0.06, f"from distance {params['size']} along the slowest mode\nrange {np.nanmin(times):.2f}–"
             f"{np.nanmax(times):.2f} ({apart:.0%} apart)", transform=ax2.transAxes, fontsize=9)
    ax2.set(xlabel="α", ylabel="time to reach 1% of the start",
            title=f"nonlinear flow: {apart:.0%} apart across α\n(f'''(1) = α − 2)")
    ax1.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"The α-family on {params['model']}: the linearization is the same for every α; "
                 f"the nonlinear flow's time to 1% differs by {apart:.0%} from α = {min(alphas):g} to {max(alphas):g}")
    return fig, rows


# --- (h) where the claim fails -----------------------------------------------------------
@figure("failures", "Where the local claim fails: f''(1) = 0, and an unstable parametrization",
        {"t_end": 60.0, "t_end_power_law": 1e5})
def failures(plt, params, seed):
    from ..analysis import GDAField
    from ..analysis.simulate import Stop, flow, start_point

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    data = {}
    s = setup("gaussian-1d")
    z0 = start_point(s.z_star, 0.05, seed)
    for k, name in enumerate(["kl", "(t-1)**4"]):
        F = GDAField(Game.from_setup(resolve(name).validate(), s))
        early = flow(F, s.z_star, z0, params["t_end"], stop=Stop(blowup=10.0))
        times, dist = early.times, early.distances
        if name != "kl":  # the power law needs decades of time: a second, long flow after the first
            late = flow(F, s.z_star, z0, params["t_end_power_law"], stop=Stop(blowup=10.0))
            keep = late.times > times[-1]
            times, dist = np.r_[times, late.times[keep]], np.r_[dist, late.distances[keep]]
        data[name] = np.stack([times, dist])
        shown = (times > 0) & (dist > 1e-15)
        ax1.loglog(times[shown], dist[shown], color=f"C{k}", lw=1.6, label=f"{name}")
    times, dist = data["(t-1)**4"]
    tail = times >= times[-1] / 10  # the last decade
    slope, icpt = np.polyfit(np.log(times[tail]), np.log(dist[tail]), 1)
    ref = np.logspace(np.log10(times[-1]) - 3, np.log10(times[-1]), 20)
    ax1.loglog(ref, 2 * np.exp(icpt) * ref ** slope, color="0.35", ls="--", lw=1,
               label=f"power law ∝ $t^{{{slope:.2f}}}$ (fit over the last decade, ×2 to stand clear)")
    data["power_law_slope"] = slope
    ax1.set(xlabel="time", ylabel="distance to the equilibrium", ylim=(1e-16, 0.2),
            title="f''(1) = 0: a power law, not an exponential (log–log)")
    ax1.legend(fontsize=8, loc="lower left")
    s = setup("shifted-linear")
    for k, ratio in enumerate([1.0, 3.0, 3.4, 5.0]):
        F = GDAField(Game.from_setup(resolve("kl"), s), 1.0, ratio)
        traj = flow(F, s.z_star, start_point(s.z_star, 1e-3, seed), 15.0, stop=Stop(blowup=1.0))
        data[f"ratio={ratio}"] = traj.distances
        ax2.semilogy(traj.times, traj.distances, color=f"C{k}", label=f"η_ω/η_θ = {ratio:g}")
    ax2.axhline(1e-3, color="0.6", lw=1, ls="--", label="start distance 10⁻³")
    ax2.set(xlabel="time", ylabel="distance to the equilibrium", title="shifted-linear: unstable below η_ω/η_θ = 3.2")
    ax2.legend(fontsize=8, loc="lower left")
    return fig, data


# --- (i) figures drawn from result files ------------------------------------------------
ATLAS = "docs/results/atlas-paper-1d.json"
CALIBRATION = "docs/results/calibration-paper-1d.json"
PAPER_1D = "docs/results/paper-1d.json"
THROUGHPUT = "docs/results/trainer-throughput.json"


@figure("atlas-paper-1d", "The atlas on paper-1d: predicted against measured per f", reads=[ATLAS],
        formats=("png",), uses=[".atlas:draw", ".atlas:AtlasReport.from_json"])
def atlas_paper_1d(plt, params, seed):
    from .atlas import AtlasReport

    return AtlasReport.from_json(result(ATLAS)).figure(), {}


@figure("calibration", "The trained game: predicted against measured, one panel per quantity",
        reads=[CALIBRATION], formats=("png",), uses=[".calibrate_figures", ".calibrate:CalibrateReport.from_json"])
def calibration(plt, params, seed):
    from .calibrate import CalibrateReport
    from .calibrate_figures import draw_calibration

    return draw_calibration(CalibrateReport.from_json(result(CALIBRATION))), {}


@figure("calibration-flow", "The trained game along its deterministic flow: |F|, η_max and the path angle",
        reads=[CALIBRATION], formats=("png",),
        uses=[".calibrate_figures:draw_flow", ".calibrate:CalibrateReport.from_json"])
def calibration_flow(plt, params, seed):
    from .calibrate import CalibrateReport
    from .calibrate_figures import draw_flow

    return draw_flow(CalibrateReport.from_json(result(CALIBRATION))), {}


def _bench(name: str, path: str, title: str):
    @figure(name, title, reads=[path], formats=("png",),
            uses=[*(f"..training.bench:{fn}" for fn in ("draw_curves", "_curve", "_final_js", "Cell", "CurvePoint")),
                  "..report:fields_from_json", "..report:_as_type"])  # the loader: the fields' types
    def draw(plt, params, seed):
        from ..training.bench import BenchReport

        return BenchReport.from_json(result(path)).figure(), {}

    return draw


_bench("bench-cpu-exact", "docs/results/cpu-verdict/verdict.json",
       "f-EBM against CD where CD learns: exact grid samples, tuned, 8 Gaussians and moons")
for _name, _title in (("bench-toy2d", "The 2-D toy bench: grid JS against gradient evaluations, CD and 16 f"),
                      ("bench-toy2d-tuned", "The 2-D toy bench, each method at its tuned (lr, ratio)"),
                      ("bench-toy2d-long", "The 2-D toy bench at a longer budget"),
                      ("bench-toy2d-residual", "The 2-D toy bench with the residual critic")):
    _bench(_name, f"docs/figures/{_name}.json", _title)


@figure("paper-1d", "The paper's 1-D experiment: each f's (μ, σ) path to its exact optimum, and each critic's "
        "error against log p/q", reads=[PAPER_1D],
        uses=["..training.paper1d:draw", "..training.paper1d:Paper1DReport.from_json"])
def paper_fits(plt, params, seed):
    from ..training.paper1d import Paper1DReport, draw

    report = Paper1DReport.from_json(result(PAPER_1D))
    return draw(plt, report), {r.divergence: (r.febm.mu, r.febm.sigma) for r in report.rows}


@figure("paper-1d-trajectories", "The paper's 1-D experiment: μ and σ against the step, every seed",
        reads=[PAPER_1D], formats=("png",),
        uses=["..training.paper1d:draw_trajectories", "..training.paper1d:Paper1DReport.from_json"])
def paper_trajectories(plt, params, seed):
    from ..training.paper1d import Paper1DReport, draw_trajectories

    return draw_trajectories(plt, Paper1DReport.from_json(result(PAPER_1D))), {}


@figure("paper-1d-error", "The paper's 1-D experiment: each f's distance to its exact minimizer against the step",
        reads=[PAPER_1D], formats=("png",), suptitle=False,
        uses=["..training.paper1d:draw_errors", "..training.paper1d:Paper1DReport.from_json"])
def paper_errors(plt, params, seed):
    from ..training.paper1d import Paper1DReport, draw_errors

    return draw_errors(plt, Paper1DReport.from_json(result(PAPER_1D))), {}


TRAINED_ATLAS = "docs/results/atlas-trained-paper-1d.json"
TRAINED_ATLAS_TOY = "docs/results/atlas-trained-toy2d-moons.json"


@figure("atlas-trained-paper-1d", "Will it train? The trained game's atlas on paper-1d, predicted against measured",
        reads=[TRAINED_ATLAS], formats=("png",), suptitle=False,
        uses=[".trained_atlas_figure", ".trained_atlas:TrainedAtlasReport.from_json"])
def atlas_trained(plt, params, seed):
    from .trained_atlas import TrainedAtlasReport

    return TrainedAtlasReport.from_json(result(TRAINED_ATLAS)).figure(), {}


@figure("atlas-trained-toy2d-moons", "Will it train? The trained game's atlas on moons with the bench's networks",
        reads=[TRAINED_ATLAS_TOY], formats=("png",), suptitle=False,
        uses=[".trained_atlas_figure", ".trained_atlas:TrainedAtlasReport.from_json"])
def atlas_trained_toy(plt, params, seed):
    from .trained_atlas import TrainedAtlasReport

    return TrainedAtlasReport.from_json(result(TRAINED_ATLAS_TOY)).figure(), {}


@figure("trainer-scaling-cpu", "The paper-1d trainer's batched throughput against the number of runs",
        reads=[THROUGHPUT], formats=("png",), suptitle=False)
def trainer_scaling(plt, params, seed):
    d = result(THROUGHPUT)
    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    for device, rates in d["batched"].items():
        runs = sorted(int(r) for r in rates)
        ax.plot(runs, [rates[str(r)] for r in runs], "o-", label=f"batched, {device}")
    ax.axhline(d["single_run_loop"], color="k", ls="--", label="single-run CPU loop")
    ax.set(xscale="log", yscale="log", xlabel="runs R in one batch", ylabel="run-steps per second",
           title=f"paper-1d trainer: batched throughput\n({d['threads']} thread{'s' * (d['threads'] != 1)}, "
                 f"{d['steps']} steps a run)")
    ax.legend()
    return fig, d["batched"]


# --- rendering ---------------------------------------------------------------------------
def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass
class FiguresReport(Report):
    """What ``febm figures`` wrote: one entry per figure, as in ``manifest.json``."""

    figures: list[dict]
    version: str
    git_commit: str | None
    fast: bool
    out: str
    skipped: list[dict] = field(default_factory=list)  # figures whose result files are not here
    json_if_set = ("skipped",)

    def text(self) -> str:
        lines = [f"{e['name']:22} {e['elapsed_s']:6.1f} s  {e['files'][0]}" for e in self.figures]
        lines += [f"{e['name']:22} skipped: {e['why']}" for e in self.skipped]
        return "\n".join(lines + [f"manifest: {self.out}/manifest.json"])


def render(out_dir, only=None, fast: bool = False, seed: int = 0, device: str = devices.DEFAULT_DEVICE,
           progress: bool = True) -> FiguresReport:
    """Draw the chosen figures into ``out_dir`` (PNG and PDF) and write manifest.json.

    ``device`` reaches the figures that train (paper-1d, toy2d); "auto" picks CUDA when present.
    """
    import matplotlib

    matplotlib.use("Agg")
    from importlib.metadata import version

    import matplotlib.pyplot as plt

    chosen = [FIGURES[n] for n in (only or FIGURES)]  # an unknown name fails before any drawing
    # a figure drawn from result files needs them (a source checkout): asked for by name it fails
    # here, before any drawing; in the whole set it is skipped, and the report says so
    skipped = []
    for fig_def in chosen:
        missing = [p for p in fig_def.reads if not (ROOT / p).is_file()]
        if missing and only:
            result(missing[0])  # raises the one-line InputError
        if missing:
            skipped.append({"name": fig_def.name, "why": f"its result file {missing[0]} is not under {ROOT} "
                                                         "(run from a source checkout)"})
    chosen = [f for f in chosen if f.name not in {e["name"] for e in skipped}]
    devices.select(device)  # so does --device cuda without CUDA
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    recover(out)  # what a killed earlier run left: its staged files removed, or its begun commit completed
    kept = _kept(out, only, fast)  # a foreign manifest.json is refused here, before any drawing
    entries, commit = [], _git_commit()
    with Staging() as files:  # every figure and the manifest appear together, or none of them
        bar = progress_bar(len(chosen), progress, "febm figures")
        for fig_def in chosen:
            bar.set_description(f"febm figures: {fig_def.name}")
            entries.append({**_render_one(plt, fig_def, out, files, fast, seed, device), "git_commit": commit})
            bar.update(1)
        bar.close()
        report = FiguresReport(kept + entries, version("febm"), commit, fast, str(out), skipped)
        files.stage(out / "manifest.json").write_text(report.json_text())
    return report


def _kept(out: Path, only, fast: bool) -> list[dict]:
    """With ``only``, the manifest's entries for the figures not redrawn (same fast setting), so that
    redrawing one figure keeps the manifest describing the whole folder. A manifest.json of any
    other shape is not febm's: refused with one line rather than overwritten."""
    path = out / "manifest.json"
    if not path.exists():
        return []
    import json

    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = None
    if not _is_manifest(old):
        raise InputError(f"{printable(str(path))} is not a manifest febm wrote; move it away or choose another --out")
    if not only or old["fast"] != fast:
        return []
    return [{**e, "git_commit": e.get("git_commit", old.get("git_commit"))} for e in old["figures"]
            if e["name"] not in only]


def _is_manifest(data) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("figures"), list) and isinstance(data.get("fast"), bool)
            and all(isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("files"), list)
                    for e in data["figures"]))


def _render_one(plt, fig_def, out: Path, files: Staging, fast: bool, seed: int, device: str) -> dict:
    """Draw one figure into staged PNG and PDF files; its manifest entry."""
    params = dict(fig_def.fast_params if fast else fig_def.params)
    if "device" in params:
        params["device"] = device
    inputs = [{"path": path, "sha256": sha256(ROOT / path) if (ROOT / path).is_file() else None}
              for path in fig_def.reads]  # hashed before drawing: the content the figure shows
    t0 = time.perf_counter()
    fig, _ = fig_def.draw(plt, params, seed)
    title = fig._suptitle.get_text() if fig._suptitle else fig_def.title
    if fast and fig_def.fast_params != fig_def.params:  # this figure's numbers come from a shortened run
        title += "\n(short run, --fast: fewer steps or runs than `febm figures`)"
    if fig._suptitle or fig_def.suptitle:  # a one-panel figure's own axes title says it already
        fig.suptitle(title, fontsize=10)
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    paths = [out / f"{fig_def.name}.{ext}" for ext in fig_def.formats]
    digests = {}
    for path in paths:
        staged = files.stage(path)
        # no creation date in a PDF: the same drawing gives the same bytes, so a redraw changes no file
        fig.savefig(staged, dpi=120, metadata={"CreationDate": None} if path.suffix == ".pdf" else None)
        digests[path.name] = sha256(staged)
    plt.close(fig)
    command = f"febm figures --only {fig_def.name} --out {out}" + (" --fast" if fast else "")
    return {"name": fig_def.name, "kind": fig_def.kind, "inputs": inputs, "command": command,
            "code_sha256": code_sha256(fig_def),
            "files": [str(p) for p in paths], "sha256": digests, "params": params,
            "seed": seed, "elapsed_s": time.perf_counter() - t0}


# --- the game, as a picture (theory.md) --------------------------------------------------
@figure("game", "The f-EBM game: data and model samples, r = H + E, the links g and h, and the two players",
        formats=("png",), suptitle=False, uses=[".game_picture"])
def game(plt, params, seed):
    from .game_picture import draw

    return draw(plt), {}
