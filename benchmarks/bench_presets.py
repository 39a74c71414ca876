"""The bench's presets side by side in one run: the time a run-step of each (CD and KL, 5 seeds each,
one batch, as `febm bench` runs a toy), its ratio to the under-trained preset's, and what that makes
one toy at the preset's budget (for CD and one f; every further f adds its share).

    python benchmarks/bench_presets.py [--steps 20] [--repeats 3] [--threads 2] [--presets NAME ...]

The cpu-exact preset is the exact grid arm at a 64² grid and 2-32-32-1 tanh; gpu-exact is the GPU
pilot's exact arm (160² grid, 2-128-128-1 SiLU), measured here on the CPU to say what it costs
without a GPU. Timings are the best of ``repeats`` interleaved runs of ``steps`` steps.
"""

from __future__ import annotations

import argparse
import time

from febm.dynamics.training import bench
from febm.dynamics.training.budget import steps_within
from febm.dynamics.training.toy2d_training import Run, train_batch
from febm.threads import limit_threads

METHODS = ("cd", "kl")
SEEDS = 5


def job(preset: bench.Preset, steps: int):
    config = preset.config(device="cpu")
    runs = [Run(m, f"presets/{m}/{s}", config.lr, config.critic_lr_ratio, steps) for m in METHODS for s in range(SEEDS)]
    return lambda: train_batch("moons", runs, config, seed=0), config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="caps torch and the BLAS")
    parser.add_argument("--presets", nargs="*", default=list(bench.PRESETS))
    args = parser.parse_args()
    limit_threads(args.threads)
    jobs = {name: job(bench.PRESETS[name], args.steps) for name in args.presets}
    best = {name: float("inf") for name in jobs}
    for _ in range(args.repeats):  # interleaved, so that a change in load touches every preset
        for name, (run, _) in jobs.items():
            t0 = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t0)
    base = best.get("under-trained")
    print(f"{len(METHODS) * SEEDS} runs (cd and kl, {SEEDS} seeds) on moons, {args.steps} steps, "
          f"{args.threads} threads")
    for name, (_, config) in jobs.items():
        per_step = best[name] / args.steps
        preset = bench.PRESETS[name]
        steps = max(steps_within(preset.budget, m, config) for m in METHODS)
        ratio = "" if base is None else f"  {per_step / (base / args.steps):5.2f}x under-trained's"
        print(f"{name:14} {1e3 * per_step / (len(METHODS) * SEEDS):7.2f} ms a run-step{ratio}; "
              f"{preset.budget / 1e6:g} M evaluations = {steps:,} steps: {per_step * steps / 60:5.1f} min a toy")


if __name__ == "__main__":
    main()
