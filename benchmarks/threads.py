"""Threads on a shared machine, side by side in one run: the atlas with every core busy (one busy
process per core beside it), as febm runs by default against the same command with every pool
capped by the environment before start-up. Targets (issue #23): the default within 1.3x of the
env-capped run, and the whole-catalog atlas on paper-1d in <= 30 s that way.

    python benchmarks/threads.py [--repeats N] [--busy N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from check_cold_start import febm_command as febm  # benchmarks/ is on the path when run as a script

CAPPED = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def timed(cmd, env) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2, help="best of N, interleaved")
    parser.add_argument("--busy", type=int, default=os.cpu_count(), help="busy processes beside (default: one a core)")
    args = parser.parse_args()
    plain = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    runs = {
        "atlas kl reverse_kl gan, default": (febm("atlas", "kl", "reverse_kl", "gan", "--model", "paper-1d"), plain),
        "atlas kl reverse_kl gan, env-capped": (febm("atlas", "kl", "reverse_kl", "gan", "--model", "paper-1d"),
                                                {**plain, **CAPPED}),
        "atlas (whole catalog), default": (febm("atlas", "--model", "paper-1d"), plain),
    }
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, (cmd, env) in runs.items():
                times[name].append(timed(cmd, env))
    finally:
        for p in busy:
            p.kill()
    best = {name: min(v) for name, v in times.items()}
    print(f"{args.busy} busy processes beside each run, best of {args.repeats}")
    for name, t in best.items():
        print(f"{name:40} {t:7.1f} s")
    ratio = best["atlas kl reverse_kl gan, default"] / best["atlas kl reverse_kl gan, env-capped"]
    print(f"default / env-capped: {ratio:.2f}x (target <= 1.3x); whole catalog "
          f"{best['atlas (whole catalog), default']:.1f} s (target <= 30 s)")


if __name__ == "__main__":
    main()
