"""The trained game's costs, side by side in one run: `febm check kl --model paper-1d` with the
linear critic against the reference code's 1-64-64-1 critic (`--critic mlp:64,64`), and one
`febm calibrate kl` at its defaults. Targets (issue #20): check with the reference critic in
≤ 30 s on 2 cores; calibrate ≤ 10 minutes per f. First, the node field that every flow step
calls, per evaluation: through torch.func (what jvp and vmap need) against plain autograd (what
the flows use), interleaved, with the ratio; and Arnoldi's Jacobian–vector product both ways: forward
mode through the functional field against reverse over reverse on one graph (`NodeGame._linearized`).

    python benchmarks/trained_game.py [--threads N] [--repeats N] [--field-only]
"""

from __future__ import annotations

import argparse
import statistics

from check_cold_start import febm_command as febm  # benchmarks/ is on the path when run as a script
from check_cold_start import wall


def field_costs(threads: int, calls: int = 300, rounds: int = 5) -> None:
    """ms per evaluation of KL's node field with the reference critic, both forms, best of rounds."""
    import time

    import torch

    from febm.divergences import resolve
    from febm.dynamics.analysis.game import Game
    from febm.dynamics.analysis.nodespace import NodeGame
    from febm.threads import limit_threads
    from febm.toy_models import with_critic

    limit_threads(threads)
    s = with_critic("paper-1d", "mlp:64,64", 0)
    div = resolve("kl")
    field = NodeGame(Game.from_setup(div, s)).field
    z = s.initial_guess(div)
    assert torch.equal(field(z), field.eager(z))  # the same numbers, bit for bit
    best = {"torch.func": float("inf"), "autograd": float("inf")}
    for _ in range(rounds):  # interleaved, so that a change in load touches both
        for name, fn in (("torch.func", field.functional), ("autograd", field.eager)):
            start = time.perf_counter()
            for _ in range(calls):
                fn(z)
            best[name] = min(best[name], (time.perf_counter() - start) / calls * 1e3)
    for name, ms in best.items():
        print(f"node field by {name:10} {ms:6.2f} ms a call")
    print(f"autograd is {best['torch.func'] / best['autograd']:.2f}x faster")
    product_costs(field, z, rounds)


def product_costs(field, z, rounds: int, calls: int = 10) -> None:
    """ms per Jacobian–vector product at z, forward mode against one graph, best of rounds, and the
    largest relative difference of their results."""
    import time

    import numpy as np

    from febm.dynamics.analysis import krylov

    v = np.random.default_rng(0).standard_normal(z.numel())
    ways = {"forward mode": krylov.jacobian_operator(field, z, forward_mode=True),
            "one graph": krylov.jacobian_operator(field, z)}
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for name, op in ways.items():
            start = time.perf_counter()
            for _ in range(calls):
                op.matvec(v)
            best[name] = min(best[name], (time.perf_counter() - start) / calls * 1e3)
    a, b = (op.matvec(v) for op in ways.values())
    for name, ms in best.items():
        print(f"J·v by {name:12} {ms:8.2f} ms a product")
    print(f"one graph is {best['forward mode'] / best['one graph']:.1f}x faster "
          f"(results differ by {np.max(np.abs(a - b)) / np.max(np.abs(a)):.1e}, relative)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2, help="caps torch and the BLAS in each run")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--field-only", action="store_true", help="only the node field's cost per call")
    args = parser.parse_args()
    field_costs(args.threads)
    if args.field_only:
        return
    t = ["--threads", str(args.threads)]
    commands = {
        "check kl, paper-1d, linear critic": febm(*t, "check", "kl", "--model", "paper-1d", "--no-simulation"),
        "check kl, paper-1d, --critic mlp:64,64": febm(*t, "check", "kl", "--model", "paper-1d", "--critic",
                                                      "mlp:64,64", "--no-simulation"),
        "calibrate kl, paper-1d (defaults)": febm(*t, "calibrate", "kl", "--json"),
    }
    times = {name: [] for name in commands}
    for _ in range(args.repeats):  # interleaved, so that a change in load touches every command
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    medians = {name: statistics.median(v) for name, v in times.items()}
    base = medians["check kl, paper-1d, linear critic"]
    for name, m in medians.items():
        print(f"{name:42} {m:8.1f} s   {m / base:6.1f}x the linear-critic check")


if __name__ == "__main__":
    main()
