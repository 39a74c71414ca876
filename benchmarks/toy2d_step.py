"""The batched MLP's tanh layers: four elementwise passes (2σ(2a) − 1) against one (σ with the
factors folded into the weights), measured side by side in one run on the two trainers that use
them: the 2-D bench (CD and three f, 4 seeds, 2-32-32-1, 20 Langevin steps a step) and the paper-1d
trainer (its default 36 runs, critic 1-16-16-1).

    python benchmarks/toy2d_step.py [--steps 40] [--repeats 3] [--threads 1]

Prints the best of ``repeats`` interleaved timings of each form, their ratio, and the largest
difference between the two forms' outputs on random inputs (float64; rounding only).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from febm.divergences import resolve
from febm.threads import limit_threads
from febm.toy_models import mlp, paper_mixture

FOLDED = mlp.forward_batched


def unfolded(params, x, sizes, activation="tanh"):
    """The previous form: tanh(a) = 2σ(2a) − 1 on the activations."""
    h = x.unsqueeze(-1) if x.dim() == 2 else x
    k = 0
    for layer, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = params[:, k : k + i * o].reshape(-1, i, o)
        b = params[:, k + i * o : k + i * o + o].unsqueeze(1)
        k += i * o + o
        h = torch.baddbmm(b, h, w)
        if layer < len(sizes) - 2:
            h = mlp.fast_tanh(h) if activation == "tanh" else torch.nn.functional.silu(h)
    return h.squeeze(-1)


def toy2d_job(steps: int):
    from febm.dynamics.training.toy2d_training import Run, Toy2DConfig, train_batch

    config = Toy2DConfig(device="cpu")
    runs = [Run(m, f"bench/{m}/{s}", config.lr, config.critic_lr_ratio, steps)
            for m in ("cd", "kl", "jensen_shannon", "reverse_kl") for s in range(4)]
    return lambda: train_batch("moons", runs, config, seed=0)


def paper1d_job(steps: int):
    from febm.dynamics.training import paper1d
    from febm.dynamics.training.trainer import BatchedGaussianFEBM

    config = replace(paper1d.DEFAULT_CONFIG, steps=steps, critic_warmup=0, record_every=steps, device="cpu")
    divs = [resolve(n) for n in paper1d.DIVERGENCES for _ in range(paper1d.SEEDS)]
    return lambda: BatchedGaussianFEBM(divs, paper_mixture(), config, seed=0).train()


def timed(job, form) -> float:
    mlp.forward_batched = form
    try:
        start = time.perf_counter()
        job()
        return time.perf_counter() - start
    finally:
        mlp.forward_batched = FOLDED


def largest_difference() -> float:
    g = torch.Generator().manual_seed(0)
    sizes = (2, 32, 32, 1)
    params = mlp.init_batched(8, sizes, g, dtype=torch.float64)
    x = torch.randn(8, 500, 2, generator=g, dtype=torch.float64) * 3
    return float((FOLDED(params, x, sizes) - unfolded(params, x, sizes)).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps, best of {args.repeats}")
    print(f"largest output difference of the two forms (float64, 8 runs x 500 points): {largest_difference():.1e}")
    for name, job in (("toy2d bench, 16 runs", toy2d_job(args.steps)), ("paper-1d, 36 runs", paper1d_job(args.steps))):
        job()  # warm-up
        best = {"unfolded": float("inf"), "folded": float("inf")}
        for _ in range(args.repeats):  # interleaved, so that a change of load hits both
            for label, form in (("unfolded", unfolded), ("folded", FOLDED)):
                best[label] = min(best[label], timed(job, form))
        print(f"{name}: 2σ(2a) − 1 {best['unfolded'] / args.steps * 1e3:7.2f} ms/step, folded "
              f"{best['folded'] / args.steps * 1e3:7.2f} ms/step, speed-up {best['unfolded'] / best['folded']:.2f}x")


if __name__ == "__main__":
    main()
