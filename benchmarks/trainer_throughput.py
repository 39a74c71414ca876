"""Throughput of the batched f-EBM trainer, measured side by side in one run.

Prints, for the paper-1d trainer configuration (paper1d.DEFAULT_CONFIG: MLP critic 1-16-16-1, batch 500):
  * batched R runs in one computation vs the same R runs as a Python loop of single-run trainers,
  * run-steps per second as R grows, R = 1 ... 1024 (scaling), each as a multiple of the
    single-run CPU loop's rate, as a table and (--plot PATH) a log-log figure,
  * the same on CUDA when torch sees a GPU (issue #14's goal: >= 200x the single-run CPU loop
    at R = 1024),
  * optionally (--paper) the wall time of `febm reproduce paper-1d`,
  * and torch.tanh against 2σ(2x) − 1 (mlp.fast_tanh; the batched MLPs fold it further).

    python benchmarks/trainer_throughput.py [--steps 50] [--paper] [--plot scaling.png] [--out RESULT.json]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from febm.divergences import resolve
from febm.dynamics.memory import retain_freed_pages
from febm.dynamics.training import paper1d
from febm.dynamics.training.trainer import BatchedGaussianFEBM
from febm.toy_models import mlp, paper_mixture

NAMES = ["kl", "jensen_shannon", "squared_hellinger", "reverse_kl"]


def _time(runs: int, steps: int, device: str, loop: bool) -> float:
    cfg = replace(paper1d.DEFAULT_CONFIG, steps=steps, critic_warmup=0, device=device, record_every=steps)
    divs = [resolve(NAMES[k % len(NAMES)]) for k in range(runs)]
    data = paper_mixture()
    start = time.perf_counter()
    if loop:
        for k, d in enumerate(divs):
            BatchedGaussianFEBM([d], data, cfg, seed=k).train()
    else:
        BatchedGaussianFEBM(divs, data, cfg, seed=0).train()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


RUNS = (1, 4, 16, 64, 256, 1024)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--paper", action="store_true", help="also time the full paper-1d reproduction")
    parser.add_argument("--plot", metavar="PATH", help="write the log-log scaling figure here")
    parser.add_argument("--out", metavar="JSON", help="also write the rates here")
    args = parser.parse_args()
    retain_freed_pages()  # as the febm command does
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, steps {args.steps}")
    _time(2, 5, "cpu", False)  # warm-up
    r = 16
    loop = _time(r, args.steps, "cpu", True)
    single = r * args.steps / loop  # run-steps/s of the single-run CPU loop: the unit below
    print(f"[cpu] {r} runs: Python loop of single runs {loop:.2f} s ({single:.0f} run-steps/s), "
          f"batched {_time(r, args.steps, 'cpu', False):.2f} s")
    table = {}
    for device in devices:
        _time(2, 5, device, False)  # warm-up
        for runs in RUNS:
            t = _time(runs, args.steps, device, False)
            table[device, runs] = runs * args.steps / t
            print(f"[{device}] R = {runs:4d}: {t:7.2f} s, {table[device, runs]:9.0f} run-steps/s, "
                  f"{table[device, runs] / single:7.1f}x the single-run CPU loop")
    if "cuda" in devices:
        print(f"CUDA / CPU at R = {RUNS[-1]}: {table['cuda', RUNS[-1]] / table['cpu', RUNS[-1]]:.1f}x")
    if args.plot:
        _plot(table, single, args.plot)
    if args.out:
        import json

        rates = {device: {str(r): table[device, r] for r in RUNS} for device in devices}
        with open(args.out, "w") as fh:
            json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "steps": args.steps,
                       "single_run_loop": single, "batched": rates}, fh, indent=1)
    x = torch.randn(36, 1000, 16)
    for name, fn in (("torch.tanh", torch.tanh), ("2σ(2x)−1", mlp.fast_tanh)):
        start = time.perf_counter()
        for _ in range(200):
            fn(x)
        print(f"{name:12} on (36, 1000, 16): {(time.perf_counter() - start) / 200 * 1e3:.3f} ms")
    if args.paper:
        out = paper1d.run(device="auto")
        print(f"paper-1d: {out.elapsed_s:.1f} s on {out.device} "
              f"({sum(r.within_tolerance for r in out.rows)}/{len(out.rows)} within tolerance)")


def _plot(table, single, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    for device in dict.fromkeys(d for d, _ in table):
        ax.plot(RUNS, [table[device, r] for r in RUNS], "o-", label=f"batched, {device}")
    ax.axhline(single, color="k", ls="--", label="single-run CPU loop")
    ax.set(xscale="log", yscale="log", xlabel="runs R in one batch", ylabel="run-steps per second",
           title="paper-1d trainer: batched throughput")
    ax.legend()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
