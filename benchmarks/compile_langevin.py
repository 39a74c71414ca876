"""The 2-D bench's costliest piece, the energy gradient that every Langevin step takes, side by side
in one run: eager torch against torch.compile (inductor, CPU), and float32 against float64. The
bench's step is 21 of these gradients plus the loss (`docs/bench.md`), so this bounds what a
compiled or narrower step could buy.

For each network (the bench's 2-32-32-1 tanh, the operating point's 2-128-128-1 SiLU) and R runs
of 256 chains: the cold compile (first call), the steady time per call of each form (best of
``repeats`` interleaved rounds), their ratio, the number of calls after which the compile has paid
for itself, and the largest difference between the compiled and eager gradients.

Then one bench cell both ways, `Toy2DConfig(compile=False)` against `compile=True` (CD and KL on
8 Gaussians, 4 seeds each, ``--budget`` million counted evaluations): wall time (the compiled one
including its compile) and the mean final JS of each method, which agree statistically, not bitwise.

    python benchmarks/compile_langevin.py [--runs 16] [--calls 50] [--repeats 3] [--threads 1] [--budget 6] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from febm.dynamics.training.toy2d_sampler import energy_gradient
from febm.threads import limit_threads
from febm.toy_models import mlp

NETWORKS = {"2-32-32-1 tanh": ((2, 32, 32, 1), "tanh"), "2-128-128-1 silu": ((2, 128, 128, 1), "silu")}


def per_call(fn, theta, x, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn(theta, x)
    return (time.perf_counter() - start) / calls * 1e3


def compare(name, runs: int, calls: int, repeats: int) -> None:
    sizes, activation = NETWORKS[name]
    gen = torch.Generator().manual_seed(0)
    eager = energy_gradient(sizes, activation)
    forms = {"eager float32": (eager, torch.float32), "eager float64": (eager, torch.float64)}
    compiled = torch.compile(energy_gradient(sizes, activation), dynamic=False)
    inputs = {dtype: (mlp.init_batched(runs, sizes, gen, dtype=dtype), torch.rand((runs, 256, 2), generator=gen,
                                                                                   dtype=dtype) * 7 - 3.5)
              for dtype in (torch.float32, torch.float64)}
    start = time.perf_counter()
    out = compiled(*inputs[torch.float32])
    cold = time.perf_counter() - start
    forms["compiled float32"] = (compiled, torch.float32)
    best = dict.fromkeys(forms, float("inf"))
    for _ in range(repeats):
        for label, (fn, dtype) in forms.items():
            best[label] = min(best[label], per_call(fn, *inputs[dtype], calls))
    diff = float((out - eager(*inputs[torch.float32])).abs().max() / out.abs().max())
    saved = best["eager float32"] - best["compiled float32"]
    result = {"runs": runs, "cold_compile_s": cold, "ms_per_call": best, "relative_difference": diff}
    print(f"{name}, {runs} runs x 256 chains: cold compile {cold:.1f} s; relative difference {diff:.1e}")
    for label, ms in best.items():
        print(f"  {label:17} {ms:8.3f} ms a call")
    print(f"  compiled / eager (float32): {best['eager float32'] / best['compiled float32']:.2f}x faster; "
          + (f"pays back its compile after {cold / saved * 1e3:,.0f} calls" if saved > 0 else "never pays back")
          + f"; float64 / float32 (eager): {best['eager float64'] / best['eager float32']:.2f}x slower")
    return result


def bench_cell(budget: float) -> None:
    from dataclasses import replace

    from febm.dynamics.training import bench
    from febm.dynamics.training.toy2d_training import Toy2DConfig

    config = Toy2DConfig(device="cpu")
    times, js = {}, {}
    for label, c in (("eager", config), ("compiled", replace(config, compile=True))):
        start = time.perf_counter()
        report = bench.run(["8gaussians"], ["cd", "kl"], seeds=4, budget=budget * 1e6, config=c, progress=False)
        times[label] = time.perf_counter() - start
        js[label] = {cell.method: cell.summary["js"].mean for cell in report.cells}
    steps = next(cell.steps for cell in report.cells if cell.method == "cd")
    print(f"bench cell (8 Gaussians, CD and KL, 4 seeds, {budget:g} M, CD {steps} steps): "
          f"eager {times['eager']:.1f} s, compiled {times['compiled']:.1f} s with its compile, "
          f"{times['eager'] / times['compiled']:.2f}x")
    for label, means in js.items():
        print(f"  mean final JS, {label:8}: " + ", ".join(f"{m} {v:.3f}" for m, v in means.items()))
    return {"budget_m": budget, "cd_steps": steps, "wall_s": times, "mean_js": js}


def text(result: dict) -> str:
    """docs/bench.md's bullet on the compiled sampler, from the result file."""
    nets = result["networks"]
    speed = {n: r["ms_per_call"]["eager float32"] / r["ms_per_call"]["compiled float32"] for n, r in nets.items()}
    wide = {n: r["ms_per_call"]["eager float64"] / r["ms_per_call"]["eager float32"] for n, r in nets.items()}
    small, large = NETWORKS
    cell = result["bench_cell"]
    js = [", ".join(f"{m} {v:.3f}" for m, v in cell["mean_js"][k].items()) for k in ("eager", "compiled")]
    return (f"- **A compiled sampler.** `--compile` (`Toy2DConfig(compile=True)`) runs the Langevin steps' energy "
            f"gradient through torch.compile. Per call ({nets[small]['runs']} runs × 256 chains, "
            f"{result['threads']} thread) it is {speed[small]:.1f}× faster for the bench's {small} network and "
            f"{speed[large]:.1f}× for the operating point's {large}, after a cold compile of "
            f"{nets[small]['cold_compile_s']:.0f} s and {nets[large]['cold_compile_s']:.0f} s; float64 would cost "
            f"{min(wide.values()):.1f}–{max(wide.values()):.1f}× float32. A whole bench cell gains less: 8 Gaussians, "
            f"CD and KL, 4 seeds, {cell['budget_m']:g} M (CD {cell['cd_steps']:,} steps) took "
            f"{cell['wall_s']['eager']:.1f} s eager and {cell['wall_s']['compiled']:.1f} s compiled, compile "
            f"included ({cell['wall_s']['eager'] / cell['wall_s']['compiled']:.2f}×), with mean final JS {js[0]} "
            f"eager and {js[1]} compiled (`python benchmarks/compile_langevin.py --out "
            f"docs/results/compile-langevin.json`). It is off by default: it rounds differently, so its runs are "
            f"not the tables' runs.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=16, help="networks evaluated at once (the bench: 4 seeds x 4)")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=6.0, help="the bench cell's budget, millions (0: skip it)")
    parser.add_argument("--out", help="write the numbers to this JSON file")
    args = parser.parse_args()
    limit_threads(args.threads)
    result = {"threads": args.threads, "networks": {name: compare(name, args.runs, args.calls, args.repeats)
                                                    for name in NETWORKS}}
    if args.budget > 0:
        result["bench_cell"] = bench_cell(args.budget)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
