"""One thread against two for the node-space flows (`febm.threads.serial`), side by side in one run:
400 full-batch GDA steps of KL's trained game (paper-1d, the reference's 1-64-64-1 critic) with the
pools at two threads, and the same steps inside `serial()`, interleaved, best of N; first on a
quiet machine, then with one busy process per core beside them. The two give the same numbers bit
for bit (asserted). Run it where nothing else runs.

    python benchmarks/serial_flows.py [--repeats N] [--steps N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def best_of(repeats: int, steps: int) -> dict[str, float]:
    import torch

    from febm.divergences import resolve
    from febm.dynamics.analysis import step_edge
    from febm.dynamics.analysis.game import Game
    from febm.dynamics.analysis.nodespace import NodeGame
    from febm.toy_models import with_critic

    s = with_critic("paper-1d", "mlp:64,64", 0)
    div = resolve("kl")
    field = NodeGame(Game.from_setup(div, s)).field
    z = s.initial_guess(div)
    # __wrapped__: without serial
    ways = {"two threads": step_edge.gda_steps.__wrapped__, "serial": step_edge.gda_steps}
    best = dict.fromkeys(ways, float("inf"))
    ends = {}
    for _ in range(repeats):
        for name, flow in ways.items():
            start = time.perf_counter()
            ends[name] = flow(field, z, 0.01, steps)
            best[name] = min(best[name], (time.perf_counter() - start) / steps * 1e3)
    assert torch.equal(*ends.values())  # one thread or two: the same steps, bit for bit
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    from febm.threads import limit_threads

    limit_threads(2)
    for label, busy in (("quiet", 0), ("both cores busy", os.cpu_count())):
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            best = best_of(args.repeats, args.steps)
        finally:
            for p in loops:
                p.kill()
        print(f"{label:16} two threads {best['two threads']:6.2f} ms a step, serial {best['serial']:6.2f} ms "
              f"a step: serial is {best['two threads'] / best['serial']:.2f}x as fast")


if __name__ == "__main__":
    main()
