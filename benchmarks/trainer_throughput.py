"""Throughput of the batched f-EBM trainer, measured side by side in one run.

Prints, for the paper-1d trainer configuration (paper1d.DEFAULT: MLP critic 1-16-16-1, batch 500):
  * batched R runs in one computation vs the same R runs as a Python loop of single-run trainers,
  * run-steps per second as R grows (scaling),
  * the same on CUDA when torch sees a GPU,
  * optionally (--paper) the wall time of `febm reproduce paper-1d`,
  * and the tanh of the batched MLPs against torch.tanh (why mlp.fast_tanh exists).

    python benchmarks/trainer_throughput.py [--steps 100] [--paper]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from febm.divergences import resolve
from febm.dynamics.training import paper1d
from febm.dynamics.training.trainer import BatchedGaussianFEBM
from febm.toy_models import mlp, paper_mixture

NAMES = ["kl", "jensen_shannon", "squared_hellinger", "reverse_kl"]


def _time(runs: int, steps: int, device: str, loop: bool) -> float:
    cfg = replace(paper1d.DEFAULT, steps=steps, critic_warmup=0, device=device, record_every=steps)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--paper", action="store_true", help="also time the full paper-1d reproduction")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, steps {args.steps}")
    for device in devices:
        _time(2, 5, device, False)  # warm-up
        r = 16
        loop, batched = _time(r, args.steps, device, True), _time(r, args.steps, device, False)
        print(f"[{device}] {r} runs: Python loop {loop:.2f} s, batched {batched:.2f} s, "
              f"speed-up x{loop / batched:.1f}")
        for runs in (1, 4, 16, 64, 256):
            t = _time(runs, args.steps, device, False)
            print(f"[{device}] R = {runs:4d}: {t:.2f} s, {runs * args.steps / t:9.0f} run-steps/s")
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


if __name__ == "__main__":
    main()
