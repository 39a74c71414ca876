"""A registry of named figures. Each is a function of explicit parameters and a seed that
returns the numbers it plots; `render` writes PNG and PDF files and a manifest.

``fast=True`` shrinks the stochastic and training figures so that the whole set regenerates in
minutes on a CPU; the plotted quantities are the same.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
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
from ..files import Staging, clean_stale, sha256
from ..report import Report
from ..training.trainer import progress_bar

FIGURES: Registry["Figure"] = Registry("figure", hint="see `febm figures --list`")


@dataclass
class Figure:
    name: str
    title: str
    draw: callable  # (plt, params, seed) -> (fig, data)
    params: dict
    fast_params: dict


def figure(name, title, params=None, fast=None):
    """Decorator: register ``draw(plt, params, seed) -> (fig, data)`` as a named figure."""

    def register(draw):
        FIGURES.register(name, Figure(name, title, draw, params or {}, {**(params or {}), **(fast or {})}))
        return draw

    return register


# --- helpers ---------------------------------------------------------------------------
def _linearization(name, model="gaussian-1d") -> Linearization:
    """The LocalAnalysis's linearization (a figure is drawn only at a verified equilibrium)."""
    return LocalAnalysis.build(name, model).require().lin


# --- (a) spectra -------------------------------------------------------------------------
@figure("spectra", "Eigenvalues of J for several divergences: the f''(1) scaling",
        {"divergences": ["jensen_shannon", "kl", "pearson_chi2", "symmetric_chi2"], "model": "gaussian-1d"})
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


# --- (b) phase portraits -----------------------------------------------------------------
@figure("phase-portrait", "The 1-D Gaussian's (μ, σ) plane: f-EBM trajectories and the CD stream plot",
        {"divergence": "kl", "starts": 8, "radius": 0.6, "t_end": 12.0, "grid": 21})
def phase_portrait(plt, params, seed):
    from ..analysis import CDField
    from ..analysis.simulate import flow, start_point

    lin = _linearization(params["divergence"])
    game, F, z_star = lin.game, lin.field(), lin.z_star
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    data = {"trajectories": []}

    for k in range(params["starts"]):
        z0 = start_point(z_star, params["radius"], seed + k)
        traj = flow(F, z_star, z0, params["t_end"], points=300, rtol=1e-6, atol=1e-6, blowup=np.inf,
                    max_evals=None, remove_residual=False, keep_states=True)
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
        {"divergence": "kl", "model": "shifted-linear", "points": 120})
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
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True, layout="constrained")
    for ax, (kind, R) in zip(axes, rho.items()):
        im = ax.pcolormesh(etas, ratios, np.clip(np.log10(R), -0.1, 0.1), cmap="RdBu_r", vmin=-0.1, vmax=0.1,
                           shading="auto")
        ax.contour(etas, ratios, R, levels=[1.0], colors="k")
        ax.set(xscale="log", yscale="log", xlabel="step size η_θ", title=f"{kind} GDA (black line: ρ = 1)")
    axes[0].set_ylabel("η_ω / η_θ")
    fig.colorbar(im, ax=axes, extend="both", label="log10 ρ of one step (clipped at ±0.1)")
    fig.suptitle(f"Stable steps of {params['divergence']} on {params['model']}: blue contracts, red grows")
    return fig, rho


# --- (e) paper 1-D fits ------------------------------------------------------------------
@figure("paper-1d", "The paper's 1-D experiment: exact and f-EBM fits, and each critic H + E against log p/q",
        {"steps": 3600, "seeds": 4, "device": "auto"}, {"steps": 600, "seeds": 2})
def paper_fits(plt, params, seed):
    from ..training import paper1d

    out = paper1d.run(seeds=params["seeds"], device=params["device"], seed=seed, progress=False,
                      config=paper1d.with_steps(params["steps"]))
    fits = {r.divergence: (r.febm.mu, r.febm.sigma) for r in out.rows}
    return paper1d.draw(plt, out), fits


# --- (f) 2-D toys ------------------------------------------------------------------------
@figure("toy2d", "2-D toy: f-EBM samples per divergence beside contrastive divergence",
        {"dataset": "8gaussians", "methods": ["cd", "kl", "jensen_shannon", "squared_hellinger"],
         "steps": 2000, "device": "auto"},
        {"steps": 300})
def toy2d_samples(plt, params, seed):
    from dataclasses import asdict

    from ..training.toy2d import Toy2DConfig, draw_samples, train_toy2d

    config = Toy2DConfig(steps=params["steps"], device=params["device"])
    out = train_toy2d(params["dataset"], params["methods"], config, seed=seed, progress=False)
    return draw_samples(plt, out), {m: asdict(sc) for m, sc in zip(params["methods"], out.scores)}


# --- (g) α atlas -------------------------------------------------------------------------
@figure("alpha-atlas",
        "Stability across the α-family: the linearization is blind to α, finite perturbations are not",
        {"alphas": [-2, -1, -0.5, 0.5, 0.9, 1.5, 2, 3], "model": "gaussian-1d", "size": 0.5})
def alpha_atlas(plt, params, seed):
    from ..analysis.simulate import flow

    base = resolve("alpha")
    rows = {"max_real": [], "eta_max": [], "time_to_1e-2": []}
    s = setup(params["model"])
    for a in params["alphas"]:
        lin = LocalAnalysis.build(base.bind(alpha=a), s).require().lin
        J = lin.G
        rows["max_real"].append(float(np.max(np.linalg.eigvals(J).real)))
        rows["eta_max"].append(lin.eta_max("simultaneous"))
        z0, _ = lin.mode_start(J, params["size"])
        traj = flow(lin.field(), s.z_star, z0, 40.0, jac=J, blowup=50.0)
        below = np.flatnonzero(traj.distances <= 1e-2 * params["size"])
        rows["time_to_1e-2"].append(float(traj.times[below[0]]) if below.size else np.nan)
    fig, (ax1, ax3, ax2) = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    # each quantity on its own axis, drawn from 0: flat lines read as flat, not as a value of 0
    ax1.plot(params["alphas"], rows["max_real"], "o-", color="C0")
    ax1.set_ylim(1.3 * min(rows["max_real"]), 0)
    ax1.set(xlabel="α", ylabel="slowest rate max Re λ", title="linearization: the same for every α")
    ax3.plot(params["alphas"], rows["eta_max"], "s-", color="C1")
    ax3.set_ylim(0, 1.3 * max(rows["eta_max"]))
    ax3.set(xlabel="α", ylabel="largest stable step η_max (simultaneous)", title="… so is the step limit")
    times = np.array(rows["time_to_1e-2"])
    ax2.plot(params["alphas"], times, "o-", color="C3", label=f"from distance {params['size']} along the slowest mode")
    ax2.set_ylim(0, 1.15 * np.nanmax(times))  # from 0: the effect is a few per cent, shown at its size
    ax2.text(0.03, 0.06, f"range {np.nanmin(times):.2f}–{np.nanmax(times):.2f} "
             f"({np.nanmax(times) / np.nanmin(times) - 1:.0%} apart)", transform=ax2.transAxes, fontsize=9)
    ax2.set(xlabel="α", ylabel="time to reach 1% of the start",
            title="nonlinear flow: f'''(1) = α − 2 matters")
    ax2.legend(fontsize=8, loc="upper left")
    return fig, rows


# --- (h) where the claim fails -----------------------------------------------------------
@figure("failures", "Where the local claim fails: f''(1) = 0, and an unstable parametrization",
        {"t_end": 60.0})
def failures(plt, params, seed):
    from ..analysis import GDAField
    from ..analysis.simulate import flow, start_point

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    data = {}
    s = setup("gaussian-1d")
    for k, name in enumerate(["kl", "(t-1)**4"]):
        F = GDAField(Game.from_setup(resolve(name).validate(), s))
        traj = flow(F, s.z_star, start_point(s.z_star, 0.05, seed), params["t_end"], blowup=10.0)
        data[name] = traj.distances
        ax1.semilogy(traj.times, traj.distances, color=f"C{k}", label=f"{name}")
    ax1.set(xlabel="time", ylabel="distance to the equilibrium", title="f''(1) = 0: no exponential rate")
    ax1.legend(fontsize=8)
    s = setup("shifted-linear")
    for k, ratio in enumerate([1.0, 3.0, 3.4, 5.0]):
        F = GDAField(Game.from_setup(resolve("kl"), s), 1.0, ratio)
        traj = flow(F, s.z_star, start_point(s.z_star, 1e-3, seed), 15.0, blowup=1.0)
        data[f"ratio={ratio}"] = traj.distances
        ax2.semilogy(traj.times, traj.distances, color=f"C{k}", label=f"η_ω/η_θ = {ratio:g}")
    ax2.axhline(1e-3, color="0.7", lw=1)
    ax2.set(xlabel="time", ylabel="distance", title="shifted-linear: unstable below η_ω/η_θ = 3.2")
    ax2.legend(fontsize=8)
    return fig, data


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

    def to_json(self) -> dict:
        return {"figures": self.figures, "version": self.version, "git_commit": self.git_commit,
                "fast": self.fast, "out": self.out}

    def text(self) -> str:
        lines = [f"{e['name']:16} {e['elapsed_s']:6.1f} s  {e['files'][0]}" for e in self.figures]
        return "\n".join(lines + [f"manifest: {self.out}/manifest.json"])


def render(out_dir, only=None, fast: bool = False, seed: int = 0, device: str = devices.DEFAULT,
           progress: bool = True) -> FiguresReport:
    """Draw the chosen figures into ``out_dir`` (PNG and PDF) and write manifest.json.

    ``device`` reaches the figures that train (paper-1d, toy2d); "auto" picks CUDA when present.
    """
    import matplotlib

    matplotlib.use("Agg")
    from importlib.metadata import version

    import matplotlib.pyplot as plt

    chosen = [FIGURES[n] for n in (only or FIGURES)]  # an unknown name fails before any drawing
    devices.select(device)  # so does --device cuda without CUDA
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)  # what a killed earlier run left half-written
    kept = _kept(out, only, fast)  # a foreign manifest.json is refused here, before any drawing
    entries, commit = [], _git_commit()
    with Staging() as files:  # every figure and the manifest appear together, or none of them
        bar = progress_bar(len(chosen), progress, "febm figures")
        for fig_def in chosen:
            bar.set_description(f"febm figures: {fig_def.name}")
            entries.append({**_render_one(plt, fig_def, out, files, fast, seed, device), "git_commit": commit})
            bar.update(1)
        bar.close()
        report = FiguresReport(kept + entries, version("febm"), commit, fast, str(out))
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
    t0 = time.perf_counter()
    fig, _ = fig_def.draw(plt, params, seed)
    title = fig._suptitle.get_text() if fig._suptitle else fig_def.title
    if fast and fig_def.fast_params != fig_def.params:  # this figure's numbers come from a shortened run
        title += "\n(short run, --fast: fewer steps or runs than `febm figures`)"
    fig.suptitle(title, fontsize=10)
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    paths = [out / f"{fig_def.name}.{ext}" for ext in ("png", "pdf")]
    digests = {}
    for path in paths:
        staged = files.stage(path)
        fig.savefig(staged, dpi=120)
        digests[path.name] = sha256(staged)
    plt.close(fig)
    return {"name": fig_def.name, "files": [str(p) for p in paths], "sha256": digests, "params": params,
            "seed": seed, "elapsed_s": time.perf_counter() - t0}
