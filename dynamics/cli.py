"""The ``febm`` command line. Every command has ``--json``; bad input exits 2 with one line.

Imports of the scientific layers happen inside the commands, so ``febm --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys


class UsageError(Exception):
    """Bad command-line usage (argparse's own errors are routed here)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        if "generator" in message:
            message += " (put -- before an expression that starts with '-')"
        raise UsageError(message)


def _cmd_divergences(args) -> int:
    from divergences import catalog, divergence
    from divergences.divergence import number

    rows = []
    for name in catalog.names():
        d = divergence(name)
        rows.append(
            {
                "name": name,
                "f": str(d.f),
                "conjugate": None if d.conjugate.expr is None else str(d.conjugate.expr),
                "conjugate_domain": d.conjugate.domain_text,
                "conjugate_method": d.conjugate.method,
                "f2_at_1": number(d.f2_at_1),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':18} {'f(t)':44} {'dom f*':18} {'f´´(1)':>7}  f*(s)")
    for r in rows:
        conj = r["conjugate"] if r["conjugate"] is not None else "(numeric)"
        print(f"{r['name']:18} {_clip(r['f'], 44):44} {_clip(r['conjugate_domain'], 18):18} "
              f"{str(r['f2_at_1']):>7}  {_clip(conj, 70)}")
    return 0


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cmd_show(args) -> int:
    from divergences import divergence

    d = divergence(args.generator).validate()
    record = d.as_dict()
    if args.latex:
        record["latex"] = _latex(d)
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    print(_report(d, record, args.latex))
    return 0


def _latex(d) -> dict:
    import sympy as sp

    conj = d.conjugate.expr
    return {
        "f": sp.latex(d.f),
        "f_prime": sp.latex(d.f_prime),
        "f_double_prime": sp.latex(d.f_double_prime),
        "conjugate": None if conj is None else sp.latex(conj),
        "g": sp.latex(d.g),
        "h": sp.latex(d.h),
    }


def _report(d, r, latex: bool) -> str:
    show = r["latex"] if latex else r
    conj = show["conjugate"] if show["conjugate"] is not None else "no closed form: evaluated numerically"
    lines = [
        f"{r['name']}   (from {r['expression']!r})",
        f"  f(t)          = {show['f']}",
        f"  f'(t)         = {show['f_prime']}",
        f"  f''(t)        = {show['f_double_prime']}",
        f"  f''(1)        = {r['f2_at_1']}        f'''(1) = {r['f3_at_1']}",
        f"  f*(s)         = {conj}   [{r['conjugate_method']}]",
        f"  dom f*        = {r['conjugate_domain']}",
        f"  g(u) = f'(e^u)      = {show['g']}",
        f"  h(u) = f*(f'(e^u))  = {show['h']}",
        "checks",
    ]
    for key, check in r["checks"].items():
        mark = "ok" if check["ok"] else "!!"
        how = f" ({check['method']})" if "method" in check else ""
        lines.append(f"  [{mark}] {key}{how}: {check['detail']}")
    for note in r["conjugate_notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _check_game_args(args) -> None:
    """--model names a set-up and --lr-ratio is positive and finite (check, confirm)."""
    from toy_models import SETUPS

    if args.model not in SETUPS:
        raise UsageError(f"unknown model {args.model!r}; choose from {', '.join(SETUPS)}")
    if not (0 < args.lr_ratio < float("inf")):
        raise UsageError(f"--lr-ratio must be a positive number, not {args.lr_ratio}")


def _check_device(device: str) -> None:
    from .train import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _cmd_check(args) -> int:
    from .check import check

    _check_game_args(args)
    report = check(args.generator, args.model, args.lr_ratio, simulate_runs=not args.no_simulation,
                   seed=args.seed)
    record = report.as_dict()
    if args.plot:
        from .check_plots import write_plots

        record["plots"] = write_plots(report, args.plot)
    print(json.dumps(record, indent=2) if args.json else report.text())
    if args.plot and not args.json:
        print("plots: " + ", ".join(record["plots"]))
    return 0


def _cmd_reproduce(args) -> int:
    from . import paper1d

    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    _check_device(args.device)
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be at least 1")
    bad_warmup = args.warmup is not None and args.warmup < 0
    if bad_warmup or (args.init_sigma is not None and args.init_sigma <= 0):
        raise UsageError("--warmup must be >= 0 and --init-sigma > 0")
    import torch

    clip = "default" if args.clip is None else (None if args.clip <= 0 else args.clip)
    config = paper1d.configure(args.steps, args.warmup, clip, args.init_sigma,
                               None if args.dtype is None else getattr(torch, args.dtype), args.update)
    out = paper1d.run(seeds=args.seeds, device=args.device, seed=args.seed, config=config,
                      progress=not args.json)
    if args.plot:
        from pathlib import Path

        Path(args.plot).mkdir(parents=True, exist_ok=True)
        out["plot"] = paper1d.plot(out, Path(args.plot) / "paper-1d.png")
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"paper-1d on {out['device']}, {out['seeds']} seed(s), {out['elapsed_s']:.1f} s"
          f"  (target: |error| <= {out['tolerance']} in μ and σ)")
    print(f"{'divergence':18} {'exact μ, σ':>17} {'f-EBM μ, σ (± sd)':>32} {'reference':>17}  error")
    for r in out["rows"]:
        e, f, ref = r["exact"], r["febm"], r["reference"]
        mark = "ok" if r["within_tolerance"] else "MISSED"
        bad = [s for s in r["status"] if s != "ok"]
        print(f"{r['divergence']:18} {e['mu']:8.4f} {e['sigma']:8.4f}   "
              f"{f['mu']:7.4f}±{f['mu_sd']:.4f} {f['sigma']:7.4f}±{f['sigma_sd']:.4f}   "
              f"{ref['mu']:8.4f} {ref['sigma']:8.4f}  {r['error']:.4f} {mark}"
              + (f"  ({bad[0]})" if bad else ""))
        if r["cd"] is not None:
            c, ref = r["cd"], paper1d.CD_REFERENCE
            print(f"{'  CD (kl)':18} {'':17}   {c['mu']:7.4f}±{c['mu_sd']:.4f} "
                  f"{c['sigma']:7.4f}±{c['sigma_sd']:.4f}   {ref[0]:8.4f} {ref[1]:8.4f}")
    if args.plot:
        print(f"plot: {out['plot']}")
    return 0


def _cmd_confirm(args) -> int:
    from .confirm import as_json, confirm

    _check_game_args(args)
    if args.runs < 2 or args.batch < 2:
        raise UsageError("--runs and --batch must be at least 2")
    try:
        out = confirm(args.generator, args.model, args.lr_ratio, runs=args.runs, batch=args.batch,
                      seed=args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(as_json(out), indent=2))
        return 0
    print(f"febm confirm {out['name']} on {out['model']} (η_ω/η_θ = {out['lr_ratio']:g}): "
          f"{out['runs']} coupled run pairs, batch {out['batch']}, {out['elapsed_s']:.1f} s")
    for res in out["results"].values():
        measured = "n/a" if res.measured_rate is None else f"{res.measured_rate:.5g} ± {res.rate_sd:.1g}"
        err = "" if res.relative_error is None else f"  (relative error {res.relative_error:.1%})"
        print(f"  {res.update:12} η_θ = {res.eta_theta:.4g}: predicted {res.predicted_rate:.5g} per step, "
              f"measured {measured} over {res.steps} steps{err}")
    return 0


def _cmd_toy2d(args) -> int:
    from pathlib import Path

    from toy_models import TOY2D

    from .toy2d_train import Toy2DConfig, plot_samples, train_toy2d

    if args.dataset not in TOY2D:
        raise UsageError(f"unknown dataset {args.dataset!r}; choose from {', '.join(TOY2D)}")
    if args.steps < 1:
        raise UsageError("--steps must be at least 1")
    from divergences import divergence

    from .toy2d_train import all_methods

    methods = all_methods() if args.methods == "all" else args.methods.split(",")

    for m in methods:
        if m != "cd" and divergence(m).validate().params:  # bad names exit 2 before any training
            raise UsageError(f"{m} has a free parameter: give its value, e.g. alpha=0.5")
    _check_device(args.device)
    config = Toy2DConfig(steps=args.steps, device=args.device)
    out = train_toy2d(args.dataset, methods, config, seed=args.seed)
    record = {"dataset": args.dataset, "elapsed_s": out["elapsed_s"],
              "scores": dict(zip(methods, out["scores"])), "status": dict(zip(methods, out["status"]))}
    if args.plot:
        Path(args.plot).mkdir(parents=True, exist_ok=True)
        record["plot"] = plot_samples(out, Path(args.plot) / f"toy2d-{args.dataset}.png")
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    print(f"{args.dataset}: {args.steps} steps in {out['elapsed_s']:.1f} s")
    print(f"  {'method':18} {'KL(p|q)':>8} {'JS':>7} {'modes':>6} {'HQ':>6}")
    for m, sc in record["scores"].items():
        kl = "inf" if sc["kl"] is None else f"{sc['kl']:.3f}"
        state = record["status"][m]
        print(f"  {m:18} {kl:>8} {sc['js']:7.3f} {sc['mode_coverage']:6.2f} {sc['high_quality']:6.2f}"
              + ("" if state == "ok" else f"  ({state})"))
    if args.plot:
        print(f"  plot: {record['plot']}")
    return 0


def _cmd_figures(args) -> int:
    from .figures import FIGURES, render

    if args.list:
        rows = [{"name": f.name, "title": f.title} for f in FIGURES.values()]
        text = "\n".join(f"{r['name']:16} {r['title']}" for r in rows)
        print(json.dumps(rows, indent=2) if args.json else text)
        return 0
    unknown = [n for n in args.only or [] if n not in FIGURES]
    if unknown:
        raise UsageError(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    _check_device(args.device)
    manifest = render(args.out, args.only, fast=args.fast, seed=args.seed, device=args.device)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    for entry in manifest["figures"]:
        print(f"{entry['name']:16} {entry['elapsed_s']:6.1f} s  {entry['files'][0]}")
    print(f"manifest: {args.out}/manifest.json")
    return 0


GENERATOR_HELP = 'a catalog name, alpha=VALUE, or an expression such as "(t-1)*log(t)"'


def _game_arguments(p, model_help: str) -> None:
    """The generator, --model and --lr-ratio of the commands that play the game."""
    p.add_argument("generator", help=GENERATOR_HELP)
    p.add_argument("--model", default="gaussian-1d", help=model_help)
    p.add_argument("--lr-ratio", type=float, default=1.0, help="η_ω/η_θ (default 1)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="febm", description="Check the theory of f-EBM training.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("divergences", help="list the catalog with f*, dom f* and f''(1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_divergences)
    p = sub.add_parser("show", help="derive and check one generator (catalog name or expression in t)")
    p.add_argument("generator", help=GENERATOR_HELP)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--latex", action="store_true", help="LaTeX forms of f, f', f'', f*, g, h")
    p.set_defaults(run=_cmd_show)
    p = sub.add_parser("check", help="linearize the f-EBM game at its equilibrium and read the spectrum")
    _game_arguments(p, "toy set-up (default: gaussian-1d; see docs)")
    p.add_argument("--seed", type=int, default=0, help="seed of the equilibrium root-solve's start")
    p.add_argument("--no-simulation", action="store_true", help="skip the flow and discrete runs")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="DIR", help="write the spectrum and the convergence curve here")
    p.set_defaults(run=_cmd_check)
    p = sub.add_parser("confirm", help="stochastic minibatch runs near the equilibrium vs the predicted rate")
    _game_arguments(p, "toy set-up with an exact sampler")
    p.add_argument("--runs", type=int, default=128, help="coupled run pairs (default 128)")
    p.add_argument("--batch", type=int, default=4096, help="minibatch size per player and run (default 4096)")
    p.add_argument("--seed", type=int, default=0, help="seed of the minibatches")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_confirm)
    p = sub.add_parser("toy2d", help="train MLP EBMs on a 2-D toy with f-EBM and contrastive divergence")
    p.add_argument("dataset", help="8gaussians, 25gaussians, moons or rings")
    p.add_argument("--methods", default="cd,kl,jensen_shannon,reverse_kl,squared_hellinger",
                   help="comma-separated divergences and cd (contrastive divergence), or all: "
                        "cd and every catalog divergence with f''(1) > 0")
    p.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    p.add_argument("--seed", type=int, default=0, help="seed")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="DIR", help="write the samples over the data density here")
    p.set_defaults(run=_cmd_toy2d)
    p = sub.add_parser("figures", help="regenerate the named figures (PNG and PDF) and a manifest")
    p.add_argument("--out", default="figures-out", help="output folder (default figures-out)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these figures (see --list)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda, for the figures that train")
    p.add_argument("--fast", action="store_true", help="smaller stochastic and training runs")
    p.add_argument("--seed", type=int, default=0, help="seed of every stochastic figure")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_figures)
    p = sub.add_parser("reproduce", help="rerun an experiment of the paper")
    p.add_argument("experiment", choices=["paper-1d"], help="which experiment")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (auto picks CUDA when present)")
    p.add_argument("--seeds", type=int, default=4, help="runs per divergence (default 4)")
    p.add_argument("--seed", type=int, default=0, help="master seed")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 3600)")
    p.add_argument("--warmup", type=int, default=None, help="critic-only steps first (default 1000)")
    p.add_argument("--clip", type=float, default=None, help="per-run θ-gradient cap; 0: off (default 10)")
    p.add_argument("--init-sigma", type=float, default=None,
                   help="initial σ (default 1.4; the paper's 1 makes Pearson χ² infinite)")
    p.add_argument("--update", choices=["simultaneous", "alternating"], default=None,
                   help="default simultaneous; the reference code alternates")
    p.add_argument("--dtype", choices=["float32", "float64"], default=None, help="default float32")
    p.add_argument("--plot", metavar="DIR", help="write the fits and critics figure here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_reproduce)
    return parser


def main(argv=None) -> int:
    from divergences.errors import InputError

    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (UsageError, InputError) as exc:
        print(f"febm: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
