"""How far the paper-1d trainer is from its floor, measured side by side in one run.

One step of `febm reproduce paper-1d` (paper1d.DEFAULT_CONFIG: 9 divergences × 4 seeds = 36 runs, batch
500 data + 500 model points, critic 1-16-16-1, simultaneous updates) is counted in FLOPs: the
critic's three matmuls forward, and twice that backward (input and weight gradients). The floor
is a plain batched matmul (torch.bmm) of exactly those shapes, forward and backward, timed on this
machine; the trainer's step is timed on the same machine in the same run. A torch.profiler pass
then splits the trainer's CPU time by kind of op.

    python benchmarks/trainer_floor.py [--steps 200] [--threads 1] [--out RESULT.json]

It also times a critic warm-up step (ω only, one Jensen–Shannon link for every run) beside a
training step, in the same process.

It also times the trainer's step side by side in fresh processes: glibc's default allocator
against `memory.retain_freed_pages` (what the febm command uses), and 1 against 2 threads.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import replace

import torch

from febm.divergences import resolve
from febm.dynamics.memory import retain_freed_pages
from febm.dynamics.training import paper1d
from febm.dynamics.training.trainer import BatchedGaussianFEBM
from febm.threads import limit_threads
from febm.toy_models import paper_mixture

SEEDS = 4
KINDS = {  # profile buckets: an aten op name contains one of these
    "matmul": ("mm", "bmm", "addmm", "baddbmm", "matmul", "linear"),
    "exp/log/tanh": ("exp", "log", "tanh", "sigmoid", "softplus", "pow", "sqrt"),
    "sampling": ("randn", "normal", "uniform", "rand", "multinomial", "index", "gather", "special_ndtri",
                 "searchsorted"),
    "reductions": ("sum", "mean", "max", "min", "norm", "logsumexp"),
}


def trainer(steps: int, warmup: int = 0) -> BatchedGaussianFEBM:
    cfg = replace(paper1d.DEFAULT_CONFIG, steps=steps, critic_warmup=warmup, record_every=steps, device="cpu")
    divs = [resolve(n) for n in paper1d.DIVERGENCES for _ in range(SEEDS)]
    return BatchedGaussianFEBM(divs, paper_mixture(), cfg, seed=0)


def step_flops(runs: int, points: int, sizes) -> float:
    forward = sum(2 * i * o for i, o in zip(sizes[:-1], sizes[1:]))
    return 3.0 * forward * runs * points  # forward + two backward matmuls per layer


def time_trainer(steps: int) -> float:
    t = trainer(steps)
    t.train()  # warm-up: allocator, first-call dispatch
    t = trainer(steps)
    start = time.perf_counter()
    t.train()
    return (time.perf_counter() - start) / steps


def time_warmup(steps: int) -> float:
    """One warm-up step (the default run's first 1000 are these), timed like `time_trainer`."""
    trainer(1, warmup=steps)._warmup()
    t = trainer(1, warmup=steps)
    start = time.perf_counter()
    t._warmup()
    return (time.perf_counter() - start) / steps


def time_floor(steps: int, runs: int, points: int, sizes) -> float:
    """bmm forward (x W) and backward (dx = dy Wᵀ, dW = xᵀ dy) for every layer, nothing else."""
    layers = [(torch.randn(runs, points, i), torch.randn(runs, i, o), torch.randn(runs, points, o))
              for i, o in zip(sizes[:-1], sizes[1:])]

    def one():
        for x, w, dy in layers:
            torch.bmm(x, w)
            torch.bmm(dy, w.transpose(1, 2))
            torch.bmm(x.transpose(1, 2), dy)

    for _ in range(10):
        one()
    start = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - start) / steps


def profile_shares(steps: int) -> tuple[dict, float, int]:
    from torch.profiler import ProfilerActivity, profile

    t = trainer(steps)
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t.train()
    wall = time.perf_counter() - start
    shares, ops = defaultdict(float), 0
    for event in prof.key_averages():
        if not event.key.startswith("aten::"):
            continue
        ops += event.count
        name = event.key.removeprefix("aten::")
        kind = next((k for k, words in KINDS.items() if any(w == name or name.startswith(w) for w in words)),
                    "other elementwise and copies")
        shares[kind] += event.self_cpu_time_total / 1e6
    return dict(shares), wall, ops // steps


def side_by_side(steps: int) -> dict:
    """The step time in fresh processes: allocator policy × threads (a process cannot undo mallopt)."""
    rows = {}
    for retain in (False, True):
        for threads in (1, 2):
            out = subprocess.run([sys.executable, __file__, "--steps", str(steps), "--threads", str(threads),
                                  "--step-only"] + ([] if retain else ["--no-retain"]),
                                 check=True, capture_output=True, text=True).stdout
            rows[retain, threads] = float(out.split()[-1])
    base = rows[False, 1]
    print("step time side by side (fresh processes, same shapes):")
    for (retain, threads), t in rows.items():
        label = f"{'freed pages kept' if retain else 'glibc default   '}, {threads} thread(s)"
        print(f"  {label:34} {t * 1e3:7.2f} ms   speed-up {base / t:4.2f}x")
    return {f"{'retain' if retain else 'default'}-{threads}": t for (retain, threads), t in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-retain", action="store_true", help="leave glibc's allocator as it is")
    parser.add_argument("--step-only", action="store_true", help="print one step time (seconds) and stop")
    parser.add_argument("--out", metavar="JSON", help="also write the measurements here")
    args = parser.parse_args()
    limit_threads(args.threads)
    if not args.no_retain:
        retain_freed_pages()
    if args.step_only:
        print(time_trainer(args.steps))
        return
    config = paper1d.DEFAULT_CONFIG
    runs, points, sizes = len(paper1d.DIVERGENCES) * SEEDS, 2 * config.batch, config.critic_sizes
    flops = step_flops(runs, points, sizes)
    step, floor = time_trainer(args.steps), time_floor(args.steps, runs, points, sizes)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps")
    print(f"one step: {runs} runs × {points} points × {flops / runs / points:.0f} FLOP = {flops / 1e6:.1f} MFLOP")
    print(f"trainer step  {step * 1e3:7.2f} ms  {flops / step / 1e9:6.2f} GFLOP/s")
    print(f"bmm floor     {floor * 1e3:7.2f} ms  {flops / floor / 1e9:6.2f} GFLOP/s")
    print(f"ratio trainer / floor: {step / floor:.1f}x")
    warmup = time_warmup(args.steps)
    print(f"warm-up step  {warmup * 1e3:7.2f} ms  (training step / warm-up step: {step / warmup:.1f}x)")
    shares, wall, ops = profile_shares(max(args.steps // 4, 20))
    total_ops = sum(shares.values())
    print(f"profile ({ops} aten ops per step; profiled wall {wall:.2f} s, of which ops {total_ops:.2f} s):")
    for kind, seconds in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:30} {seconds / wall:6.1%}")
    print(f"  {'Python, dispatch, autograd':30} {1 - total_ops / wall:6.1%}")
    fresh = side_by_side(args.steps)
    if args.out:
        import json

        result = {"torch": torch.__version__, "threads": args.threads, "steps": args.steps,
                  "mflop_per_step": flops / 1e6, "trainer_step_s": step, "floor_step_s": floor,
                  "warmup_step_s": warmup, "fresh_processes_step_s": fresh}
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
