"""The ``febm`` command line: parse arguments, call one core function, print its report.

Every command has ``--json``; bad input exits 2 with one line on stderr. The scientific layers
are imported inside the commands, so ``febm --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from . import arguments as arg


class UsageError(Exception):
    """Bad command-line usage (argparse's own errors are routed here)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        if "generator" in message:
            message += " (put -- before an expression that starts with '-')"
        raise UsageError(message)


def _emit(report, args) -> int:
    print(report.json_text() if args.json else report.text())
    return 0


def _cmd_divergences(args) -> int:
    from .catalog import catalog

    return _emit(catalog(), args)


def _cmd_show(args) -> int:
    from .catalog import show

    return _emit(show(args.generator, latex=args.latex), args)


def _cmd_check(args) -> int:
    from .check import check

    report = check(args.generator, args.model, args.lr_ratio, simulate_runs=not args.no_simulation,
                   seed=args.seed, critic=args.critic, link_clip=args.link_clip)
    if not args.plot:
        return _emit(report, args)
    plots = report.save_figures(args.plot, dpi=120)
    if args.json:
        import json

        from ..report import jsonable

        print(json.dumps(jsonable({**report.to_json(), "plots": plots}), indent=2, allow_nan=False))
        return 0
    print(report.text())
    print("plots: " + (", ".join(plots) if plots else "none (no spectrum to draw)"))
    return 0


def _cmd_reproduce(args) -> int:
    import torch

    from ..training import paper1d

    clip = "default" if args.clip is None else (None if args.clip <= 0 else args.clip)
    config = paper1d.configure(args.steps, args.warmup, clip, args.init_sigma,
                               None if args.dtype is None else getattr(torch, args.dtype), args.update)
    names = tuple(arg.once_each(args.divergences, "--divergences")) if args.divergences else paper1d.DIVERGENCES
    report = paper1d.run(seeds=args.seeds, device=args.device, seed=args.seed, config=config,
                         names=names, progress=not args.json)
    if args.plot:
        report.plot = ", ".join(report.save_figures(args.plot))
    return _emit(report, args)


def _cmd_confirm(args) -> int:
    if args.spread is not None:
        from .spread import spread

        return _emit(spread(args.generator, args.model, batch=args.batch, fraction=args.spread,
                            lr_ratio=args.lr_ratio, runs=args.runs, steps=args.steps, seed=args.seed), args)
    from .confirm import confirm

    return _emit(confirm(args.generator, args.model, args.lr_ratio, runs=args.runs, batch=args.batch,
                         seed=args.seed, progress=not args.json), args)


def _cmd_atlas(args) -> int:
    if args.critic not in (None, "linear"):
        return _cmd_trained_atlas(args)
    if args.measure:
        from ...errors import InputError

        raise InputError("--measure runs the trained game: give --critic mlp:W,... (the stand-in has no runs)")
    from .atlas import atlas

    budget = None if args.lr is None else args.lr * args.steps
    names = arg.once_each(args.generators, "the list of divergences")
    report = atlas(names or None, args.model, batch=args.batch, lr_ratio=args.lr_ratio,
                   progress=not args.json, basins=args.basins, budget=budget)
    if args.plot:
        report.plot = report.save_figures(args.plot)[0]
    return _emit(report, args)


def _cmd_trained_atlas(args) -> int:
    from ...errors import InputError
    from ..training.cells import MAX_BATCH, MAX_STEPS, OperatingPoint
    from .trained_atlas import trained_atlas

    for given, why in ((args.basins, "--basins"), (args.lr_ratio != 1.0, "--lr-ratio")):
        if given:
            raise InputError(f"{why} belongs to the stand-in game; the trained game (--critic) plays both players "
                             "at one lr")
    if args.steps > MAX_STEPS:
        raise InputError(f"--steps with --critic: at most {MAX_STEPS:,} (each step trains every run)")
    if args.batch > MAX_BATCH:
        raise InputError(f"--batch with --critic: at most {MAX_BATCH:,} (every run holds the batch's activations)")
    names = arg.once_each(args.generators, "the list of divergences") or None
    lr = 1e-2 if args.lr is None else args.lr
    point = OperatingPoint(lr, args.batch, args.steps)
    report = trained_atlas(names or DEFAULT_TRAINED, args.model, args.critic, [point], measure=args.measure,
                           seed=args.seed, progress=not args.json)
    if args.plot:
        report.plot = report.save_figures(args.plot)[0]
    return _emit(report, args)


# the curved catalog f (toy2d.all_methods()[1:]), kept here so that parsing imports no torch
DEFAULT_TRAINED = ("kl", "reverse_kl", "jensen_shannon", "gan", "squared_hellinger", "pearson_chi2", "neyman_chi2",
                   "jeffreys", "triangular", "le_cam", "symmetric_chi2", "alpha=-1", "alpha=-0.5", "alpha=0.5",
                   "alpha=0.9", "alpha=2")


def _cmd_calibrate(args) -> int:
    from .calibrate import calibrate

    names = arg.once_each(args.generators, "the list of divergences")
    report = calibrate(names, args.model, critic=args.critic, seed=args.seed,
                       flow_steps=args.flow_steps, edge_steps=args.edge_steps, warm_steps=args.warm_steps,
                       progress=not args.json, quantities=args.quantities, time_steps=args.time_steps,
                       batch=args.batch, link_clip=args.link_clip)
    if args.plot:
        report.plot = report.save_figures(args.plot)[0]
    return _emit(report, args)


def _cmd_toy2d(args) -> int:
    from ..training.toy2d_training import Toy2DConfig, all_methods, train_toy2d

    methods = all_methods() if args.methods == "all" else arg.once_each(args.methods.split(","), "--methods")
    report = train_toy2d(args.dataset, methods, Toy2DConfig(steps=args.steps, device=args.device,
                                                           link_clip=args.link_clip, **_network_config(args)),
                         seed=args.seed, progress=not args.json)
    if args.plot:
        report.plot = report.save_figures(args.plot)[0]
    return _emit(report, args)


def _cmd_bench(args) -> int:
    from ..training import bench

    methods = None if args.methods == "all" else arg.once_each(args.methods.split(","), "--methods")
    datasets = arg.once_each(args.datasets, "the list of datasets") or list(bench.DATASETS)
    preset = bench.PRESETS[args.preset]
    budget = preset.budget if args.budget is None else args.budget * 1e6
    config = preset.config(device=args.device, critic=args.critic_form, link_clip=args.link_clip,
                           **{k: v for k, v in _network_config(args).items() if v is not None})
    report = bench.run(datasets, methods, seeds=args.seeds, budget=budget, tune=args.tune, config=config,
                       tuning=preset.tuning, seed=args.seed, progress=not args.json)
    if args.plot:
        import json

        import matplotlib

        from ..files import Staging, clean_stale, save_figures, write_json

        matplotlib.use("Agg")  # files only
        Path(args.plot).mkdir(parents=True, exist_ok=True)
        clean_stale(args.plot)  # what a killed earlier run left there, said before this run adds to it
        with Staging() as files:  # the figure and its JSON appear together, or neither
            report.plot = save_figures(report.all_figures(), args.plot, files=files)[0]
            write_json(Path(args.plot) / "bench-toy2d.json", json.loads(report.json_text()), indent=2,
                       allow_nan=False, files=files)
    return _emit(report, args)


def _cmd_figures(args) -> int:
    from .figures import FIGURES, render

    if args.list:
        rows = [{"name": f.name, "title": f.title} for f in FIGURES.values()]
        if args.json:
            import json

            print(json.dumps(rows, indent=2))
        else:
            print("\n".join(f"{r['name']:16} {r['title']}" for r in rows))
        return 0
    only = None if args.only is None else arg.once_each(args.only, "--only")
    try:
        out = arg.output_dir(args.out)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"argument --out: {exc}") from None
    return _emit(render(out, only, fast=args.fast, seed=args.seed, device=args.device,
                              progress=not args.json), args)


# the bench's presets, spelt out so that --help need not import torch (a test keeps them in step with
# `training.bench.PRESETS`): what each is, and its cost on this project's 2-core machine
PRESETS = {
    "cpu-exact": "exact grid samples, 2-32-32-1 tanh, lr 1e-2, where CD learns 8 Gaussians and moons; about 3-5 "
                 "min a toy for cd and one f at 5 seeds on one thread (x2.2 with --tune)",
    "under-trained": "Langevin chains, 2-32-32-1 tanh, lr 2e-3, 6 M evaluations, where no method learns 25 "
                     "Gaussians or rings; about 1 min a toy for cd and one f",
    "gpu-exact": "exact samples from a 160x160 grid, 2-128-128-1 SiLU, 60 M evaluations; meant for a GPU (about "
                 "35 min a toy for cd and one f on one CPU thread)",
}
GENERATOR_HELP = 'a catalog name, alpha=VALUE, or an expression such as "(t-1)*log(t)"'
# the registered set-ups, spelt out so that --help need not import torch (a test keeps it in step)
MODELS = ("gaussian-1d", "gaussian-1d-natural", "gaussian-2d", "expfam-finite", "shifted-linear", "gauge",
          "mlp-1d", "paper-1d", "toy2d-8gaussians", "toy2d-25gaussians", "toy2d-moons", "toy2d-rings")
MODEL_HELP = ("a set-up: " + ", ".join(MODELS) + " (default {default}), or path/to/file.py:NAME: your own "
              "set-up, loaded by running that Python file (your code, unlike the whitelisted expressions)")


def _common(p, seed_help="seed") -> None:
    p.add_argument("--seed", type=arg.seed, default=0, help=seed_help)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _deadline(p) -> None:
    p.add_argument("--deadline", type=arg.deadline, default=None, metavar="SECONDS",
                   help="time for each step of deriving a generator that is not in the catalog, three steps' "
                        "worth for all of them (default 10 s; past it febm retries with symbolic steps "
                        "skipped, then gives up with one line)")


def _network_and_sampler(p, preset: bool = False) -> None:
    """The 2-D commands' network and sampler (docs/bench.md's operating-point pilot varies these);
    with ``preset``, an option not given takes the preset's value."""
    default = (lambda value, text: (None, "the preset's")) if preset else (lambda value, text: (value, text))
    sampler, sampler_text = default("langevin", "langevin")
    p.add_argument("--sampler", choices=["langevin", "grid"], default=sampler,
                   help="model samples: langevin (persistent chains) or grid (exact draws of exp(-E) normalized "
                        f"on a grid over the box: CD becomes exact maximum likelihood); default {sampler_text}")
    cells, cells_text = default(64, "64")
    p.add_argument("--sampler-grid", type=arg.count(8, 1024), default=cells, metavar="N",
                   help=f"the grid sampler's cells per side (default {cells_text})")
    hidden, hidden_text = default((32, 32), "32,32")
    p.add_argument("--hidden", type=arg.hidden, default=hidden, metavar="W,W",
                   help=f"hidden widths of the energy and critic networks (default {hidden_text})")
    activation, activation_text = default("tanh", "tanh")
    p.add_argument("--activation", choices=["tanh", "silu"], default=activation,
                   help=f"hidden activation of both networks (default {activation_text})")
    p.add_argument("--compile", action="store_true",
                   help="the Langevin energy gradient through torch.compile (docs/bench.md: 2.4x faster a call, "
                        "1.14x on a 6 M bench cell with its cold compile); it rounds differently, so runs differ")


def _network_config(args) -> dict:
    return {"sampler": args.sampler, "sampler_grid": args.sampler_grid,
            "sizes": None if args.hidden is None else (2, *args.hidden, 1), "activation": args.activation,
            "compile": args.compile}


def _link_clip(p) -> None:
    """--link-clip, one grammar on every command that takes it (check, calibrate, toy2d, bench)."""
    p.add_argument("--link-clip", type=arg.link_bounds, default=None, metavar="C|LO,HI|reference",
                   help="clamped links, as the reference code plays the game: every exp(a) inside g and h "
                        "evaluates exp(clip(a, -C, C)) (its image code: 5), or clip(a, LO, HI) (write "
                        "--link-clip=-inf,3), or the 1-D "
                        "reference code's own (reference: KL -inf,3, Pearson chi2 -inf,6, none elsewhere); "
                        "default: the exact links")


def _game_arguments(p) -> None:
    """The generator, --model and --lr-ratio of the commands that play the game."""
    p.add_argument("generator", help=GENERATOR_HELP)
    _deadline(p)
    p.add_argument("--model", default="gaussian-1d", help=MODEL_HELP.format(default="gaussian-1d"))
    p.add_argument("--lr-ratio", type=arg.ratio, default=1.0, help="η_ω/η_θ (default 1)")


def _add_divergences(sub) -> None:
    p = sub.add_parser("divergences", help="list the catalog with f*, dom f* and f''(1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_divergences)


def _add_show(sub) -> None:
    p = sub.add_parser("show", help="derive and check one generator (catalog name or expression in t)")
    p.add_argument("generator", help=GENERATOR_HELP)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--latex", action="store_true", help="LaTeX forms of f, f', f'', f*, g, h")
    _deadline(p)
    p.set_defaults(run=_cmd_show)


def _add_check(sub) -> None:
    p = sub.add_parser("check", help="linearize the f-EBM game at its equilibrium and read the spectrum")
    _game_arguments(p)
    _common(p, "seed of the equilibrium root-solve's start")
    p.add_argument("--no-simulation", action="store_true", help="skip the flow and discrete runs")
    p.add_argument("--critic", default=None, metavar="SPEC",
                   help="a network critic instead of the set-up's own (paper-1d): mlp:W1,W2,... or "
                        "path/to/file.py:NAME (your torch.nn.Module; that file is run)")
    p.add_argument("--plot", metavar="DIR", type=arg.output_dir,
                   help="write the spectrum and the convergence curve here")
    _link_clip(p)
    p.set_defaults(run=_cmd_check)


def _add_confirm(sub) -> None:
    p = sub.add_parser("confirm", help="stochastic minibatch runs near the equilibrium vs the predicted rate")
    _game_arguments(p)
    p.add_argument("--runs", type=arg.count(2, 100_000), default=128, help="coupled run pairs (default 128)")
    p.add_argument("--batch", type=arg.count(2, 1_000_000), default=4096,
                   help="minibatch size per player and run (default 4096)")
    p.add_argument("--spread", type=arg.fraction, metavar="FRACTION",
                   help="instead of rates: the stationary spread of simultaneous steps at FRACTION (in (0, 1)) "
                        "of the mean-square edge η_ms at the batch, "
                        "predicted (mean-square analysis) and measured (runs from the equilibrium); refused near 0 "
                        "or 1, where the burn-in of five relaxation times passes 100,000 steps")
    p.add_argument("--steps", type=arg.count(10, 10_000_000), default=1500,
                   help="with --spread: measured steps after the burn-in (default 1500)")
    _common(p, "seed of the minibatches")
    p.set_defaults(run=_cmd_confirm)


def _add_atlas(sub) -> None:
    p = sub.add_parser("atlas", help="where f matters: tails, misspecified equilibria, variance, basins, "
                                     "and a prediction per divergence")
    p.add_argument("generators", nargs="*", metavar="NAME|EXPR",
                   help="divergences (default: every catalog divergence with f''(1) > 0)")
    _deadline(p)
    p.add_argument("--model", default="paper-1d", help=MODEL_HELP.format(default="paper-1d"))
    p.add_argument("--batch", type=arg.count(1, 10_000_000), default=1000, help="minibatch size (default 1000)")
    p.add_argument("--lr-ratio", type=arg.ratio, default=1.0, help="η_ω/η_θ (default 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="DIR", type=arg.output_dir, help="write the atlas figure here")
    p.add_argument("--basins", action="store_true",
                   help="also bisect basin radii along the slowest mode and 2 random directions (slow)")
    p.add_argument("--lr", type=arg.learning_rate, default=None,
                   help="predict a training run with this learning rate (both players) and --steps: the "
                        "exact flow from the start is followed for time lr × steps (lr in [1e-12, 1e3])")
    p.add_argument("--steps", type=arg.count(1, 10**9), default=20000, help="with --lr: training steps (default 20000)")
    p.add_argument("--critic", default=None, metavar="SPEC",
                   help="answer from the network that trains: mlp:W1,W2,... (mlp:64,64 is the reference code's "
                        "critic) or path/to/file.py:NAME; predicts per f the class (trains/slow/dies), the time to "
                        "error 0.05 and the fraction of runs that die at --lr (default 1e-2), --batch and --steps. "
                        "'linear' (the default): the stand-in game, a critic linear in 10 bumps")
    p.add_argument("--measure", type=arg.count(0, 64), default=0, metavar="N",
                   help="with --critic: also run N seeded runs of each cell and print predicted and measured side by "
                        "side (about 2 minutes per f at batch 1000 and 10,000 steps on 2 cores)")
    p.add_argument("--seed", type=arg.count(0, 2**31 - 1), default=0,
                   help="with --critic: seed of the critic's initialisation and of the runs (default 0)")
    p.set_defaults(run=_cmd_atlas)


# calibrate.MEASURED and calibrate.DEFAULT_QUANTITIES, kept here so that parsing imports no torch
CALIBRATED = ("eta_max", "rate", "time_to_0.05", "rate_from_start", "eta_ms", "spread")
CALIBRATED_DEFAULT = ("eta_max", "rate", "time_to_0.05", "rate_from_start")


def _add_calibrate(sub) -> None:
    p = sub.add_parser("calibrate", help="the trained game (network critic): predicted vs measured largest stable "
                                         "step, local rate (θ-mode), time to 0.05 and the rate "
                                         "from the start")
    p.add_argument("generators", nargs="+", metavar="NAME|EXPR", help="divergences: " + GENERATOR_HELP)
    p.add_argument("--quantities", type=arg.subset(CALIBRATED), default=CALIBRATED_DEFAULT, metavar="Q,...",
                   help=f"what to predict and measure, of {','.join(CALIBRATED)} (default "
                        f"{','.join(CALIBRATED_DEFAULT)}; eta_ms and spread take about 17 minutes per f)")
    _deadline(p)
    p.add_argument("--model", default="paper-1d", help="a set-up that takes a network critic (default paper-1d)")
    p.add_argument("--critic", default="mlp:64,64",
                   help="mlp:W1,W2,... (tanh; default mlp:64,64, the reference code's 1-64-64-1), or "
                        "path/to/file.py:NAME, your own torch.nn.Module (loaded by running that file: your code)")
    p.add_argument("--flow-steps", type=arg.count(0, 10_000_000), default=6000,
                   help="full-batch GDA steps from the start before predicting (default 6000)")
    p.add_argument("--warm-steps", type=arg.count(0, 10_000_000), default=2000,
                   help="Jensen–Shannon critic steps at the start's θ before the flow (default 2000)")
    p.add_argument("--edge-steps", type=arg.count(10, 1_000_000), default=500,
                   help="steps of each measuring run pair (default 500)")
    p.add_argument("--time-steps", type=arg.count(10, 1_000_000), default=20000,
                   help="horizon of the time-to-0.05 runs: a noise-free flow that has not arrived by then does "
                        "not arrive (default 20000)")
    p.add_argument("--batch", type=arg.count(2, 1_000_000), default=1000,
                   help="minibatch size of the eta_ms and spread runs and of their recursion (default 1000, "
                        "the reference code's)")
    p.add_argument("--plot", metavar="DIR", type=arg.output_dir, help="write the calibration figure here")
    _link_clip(p)
    _common(p, "seed of the critic's initialisation and of the measuring perturbation")
    p.set_defaults(run=_cmd_calibrate)


def _add_toy2d(sub) -> None:
    p = sub.add_parser("toy2d", help="train MLP EBMs on a 2-D toy with f-EBM and contrastive divergence")
    p.add_argument("dataset", help="8gaussians, 25gaussians, moons or rings")
    p.add_argument("--methods", default="cd,kl,jensen_shannon,reverse_kl,squared_hellinger",
                   help="comma-separated divergences and cd (contrastive divergence), or all: "
                        "cd and every catalog divergence with f''(1) > 0")
    p.add_argument("--steps", type=arg.count(1, 10_000_000), default=1000, help="training steps (default 1000)")
    p.add_argument("--device", type=arg.device, default="auto", help="auto, cpu or cuda (default auto)")
    _link_clip(p)
    _network_and_sampler(p)
    _common(p)
    p.add_argument("--plot", metavar="DIR", type=arg.output_dir, help="write the samples over the data density here")
    p.set_defaults(run=_cmd_toy2d)


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="f-EBM against contrastive divergence on the 2-D toys: seeds, equal "
                                     "counted budgets, 95%% intervals")
    p.add_argument("suite", choices=["toy2d"], help="which benchmark")
    p.add_argument("datasets", nargs="*", metavar="DATASET",
                   help="8gaussians, 25gaussians, moons, rings (default: all four)")
    p.add_argument("--methods", default="all",
                   help="comma-separated divergences and cd, or all (default): cd and every catalog "
                        "divergence with f''(1) > 0")
    p.add_argument("--seeds", type=arg.count(2, 1000), default=5, help="seeds per method (default 5)")
    p.add_argument("--preset", choices=list(PRESETS), default="cpu-exact",
                   help="a named operating point (default cpu-exact): " + "; ".join(
                       f"{name}: {text}" for name, text in PRESETS.items()) + ". Options given beside it win")
    p.add_argument("--budget", type=arg.budget, default=None,
                   help="millions of gradient evaluations per run (default: the preset's)")
    p.add_argument("--tune", action="store_true",
                   help="first pick each method's lr and critic ratio from a 3 x 2 grid on a validation seed")
    p.add_argument("--critic-form", choices=["free", "residual"], default="free",
                   help="free: H is its own network (default); residual: H = -E + R with R starting at 0")
    p.add_argument("--device", type=arg.device, default="auto", help="auto, cpu or cuda (default auto)")
    _link_clip(p)
    _network_and_sampler(p, preset=True)
    _common(p, "master seed")
    p.add_argument("--plot", metavar="DIR", type=arg.output_dir,
                   help="write the learning curves and the results as JSON here")
    p.set_defaults(run=_cmd_bench)


def _add_figures(sub) -> None:
    p = sub.add_parser("figures", help="regenerate the named figures (PNG and PDF) and a manifest")
    p.add_argument("--out", default="figures-out", help="output folder (default figures-out; not made or checked "
                                                         "with --list)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these figures (see --list)")
    p.add_argument("--device", type=arg.device, default="auto", help="auto, cpu or cuda, for the figures that train")
    p.add_argument("--fast", action="store_true", help="smaller stochastic and training runs")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    _common(p, "seed of every stochastic figure")
    p.set_defaults(run=_cmd_figures)


def _add_reproduce(sub) -> None:
    p = sub.add_parser("reproduce", help="rerun an experiment of the paper")
    p.add_argument("experiment", choices=["paper-1d"], help="which experiment")
    p.add_argument("--device", type=arg.device, default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--seeds", type=arg.count(1, 100_000), default=4, help="runs per divergence (default 4)")
    p.add_argument("--divergences", nargs="+", metavar="NAME|EXPR",
                   help="the f to fit: catalog names, family=value or expressions in t (default: the "
                        "paper's nine)")
    p.add_argument("--steps", type=arg.count(1, 10_000_000), default=None, help="training steps (default 3600)")
    p.add_argument("--warmup", type=arg.count(0, 10_000_000), default=None,
                   help="critic-only steps first (default 1000)")
    p.add_argument("--clip", type=arg.nonnegative_float, default=None,
                   help="per-run θ-gradient cap; 0: off (default 10)")
    p.add_argument("--init-sigma", type=arg.positive_float, default=None,
                   help="initial σ (default 1.4; the paper's 1 makes Pearson χ² infinite)")
    p.add_argument("--update", choices=["simultaneous", "alternating"], default=None,
                   help="default simultaneous; the reference code alternates")
    p.add_argument("--dtype", choices=["float32", "float64"], default=None, help="default float32")
    p.add_argument("--plot", metavar="DIR", type=arg.output_dir,
                   help="write the figures here: fits and critics, (μ, σ) against the step per f, the error")
    _common(p, "master seed")
    p.set_defaults(run=_cmd_reproduce)


COMMANDS = (_add_divergences, _add_show, _add_check, _add_confirm, _add_atlas,  # the order of `febm --help`
            _add_calibrate, _add_toy2d, _add_bench, _add_figures, _add_reproduce)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="febm", description="Check the theory of f-EBM training.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--threads", type=arg.count(1, 256), default=1,
                        help="threads of every pool: torch's and the BLAS/OpenMP under numpy and scipy (default 1: "
                             "febm's tensors are small, and on busy cores extra threads made single operations "
                             "10-100x slower)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for add in COMMANDS:
        add(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("febm")
    except PackageNotFoundError:
        return "unknown"


@contextmanager
def _deadline_set(seconds):
    """The derivation deadline for one command, restored after it (``main`` may run many times in
    one process: tests, notebooks)."""
    if seconds is None:
        yield
        return
    from ...divergences.worker import LIMITS

    before, LIMITS.deadline = LIMITS.deadline, seconds
    try:
        yield
    finally:
        LIMITS.deadline = before


def _options_before_separator(parser, argv: list) -> list:
    """``check -- "-log(t)" --no-simulation``: argparse reads every token after ``--`` as a
    positional, so the options a user wrote there were refused as extra arguments. Options of the
    command found after ``--`` (long ones, with their value) are moved before it; what remains after
    it (the expression) is still never read as an option."""
    if "--" not in argv:
        return argv
    k = argv.index("--")
    sub = next((p for a in parser._actions if isinstance(a, argparse._SubParsersAction)
                for name, p in a.choices.items() if name in argv[:k]), None)
    if sub is None:
        return argv
    takes = {o: a.nargs != 0 for a in sub._actions for o in a.option_strings if o.startswith("--")}
    moved, rest, tail, i = [], [], argv[k + 1:], 0
    while i < len(tail):
        name = tail[i].split("=", 1)[0]
        if name in takes:
            moved.append(tail[i])
            if takes[name] and "=" not in tail[i] and i + 1 < len(tail):
                i += 1
                moved.append(tail[i])
        else:
            rest.append(tail[i])
        i += 1
    return argv[:k] + moved + ["--"] + rest


def end_progress_lines() -> None:
    """Close every open progress bar, ending its line: an error printed next then starts a line of
    its own instead of being glued to a half-drawn bar (`atlas --plot DIR` on a full disk)."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ())):
        try:
            bar.close()
        except (OSError, ValueError):  # the stream itself failed: nothing more to end
            pass


def main(argv=None) -> int:
    from ...errors import InputError, one_line
    from ...threads import limit_threads
    from ..files import EVENTS, WRITTEN
    from ..memory import retain_freed_pages

    WRITTEN.clear()  # main may run many times in one process (tests, notebooks)
    EVENTS.clear()

    parser = build_parser()
    try:
        args = parser.parse_args(_options_before_separator(parser, sys.argv[1:] if argv is None else list(argv)))
        if args.command is None:
            parser.print_help()
            return 0
        limit_threads(args.threads)
        retain_freed_pages()
        with _deadline_set(getattr(args, "deadline", None)):
            code = args.run(args)
        arg.CREATED.clear()  # the folders made for the output now hold it
        return code
    except (UsageError, InputError) as exc:
        arg.remove_created()
        end_progress_lines()
        print(f"febm: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `febm ... | head`: the reader left before the output was whole
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("febm: error: cannot write the output: the reading end of the pipe was closed", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # result files are written whole or not at all (dynamics.files)
        arg.remove_created()
        end_progress_lines()
        from ..files import Terminated, interrupted_message

        print(f"\n{interrupted_message()}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
