"""Cold start of `febm check kl` against the bare imports it cannot avoid.

Runs both commands REPEATS times, interleaved, in fresh processes, and prints the medians and
their ratio. Target (issue: febm check): `febm check kl` under 3 s on the 2-core CI machine.

    python benchmarks/check_cold_start.py [--repeats N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASELINE = [sys.executable, "-c", "import torch, sympy, scipy"]


def febm_command() -> list[str]:
    exe = shutil.which("febm") or str(Path(sys.executable).with_name("febm"))
    return [exe, "check", "kl"]


def wall(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    febm = febm_command()
    wall(febm)  # warm the OS file cache, as a second run by a user would find it
    base, check = [], []
    for _ in range(args.repeats):
        base.append(wall(BASELINE))
        check.append(wall(febm))
    b, c = statistics.median(base), statistics.median(check)
    rows = (("python -c 'import torch, sympy, scipy'", base, b), ("febm check kl", check, c))
    for label, runs, med in rows:
        print(f"{label:40} median {med:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in runs)})")
    print(f"ratio febm check / bare imports          {c / b:.2f}")
    print(f"target < 3 s: {'met' if c < 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
