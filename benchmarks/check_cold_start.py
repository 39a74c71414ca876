"""Cold start of `febm check kl` against the bare imports it cannot avoid, and of the catalog.

Runs each command REPEATS times, interleaved, in fresh processes, and prints the medians and
the ratio. Targets: `febm check kl` within 1.2x of `import torch, sympy, scipy` (issue #14; it was
under 3 s for the first issue), `febm divergences` and `febm show kl` under 1.5 s (issue #14).

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
# what `check` cannot do without: solve_ivp for the simulated flow pulls scipy.linalg, optimize, special
NEEDED = [sys.executable, "-c", "import torch, sympy, scipy.integrate, scipy.optimize, scipy.linalg"]


def febm_command(*args) -> list[str]:
    exe = shutil.which("febm") or str(Path(sys.executable).with_name("febm"))
    return [exe, *args]


def wall(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    commands = {"python -c 'import torch, sympy, scipy'": BASELINE, "+ scipy.integrate, optimize, linalg": NEEDED,
                "febm check kl": febm_command("check", "kl"),
                "febm divergences": febm_command("divergences"), "febm show kl": febm_command("show", "kl")}
    for cmd in commands.values():
        wall(cmd)  # warm the OS file cache, as a second run by a user would find it
    times = {label: [] for label in commands}
    for _ in range(args.repeats):
        for label, cmd in commands.items():
            times[label].append(wall(cmd))
    med = {label: statistics.median(runs) for label, runs in times.items()}
    for label, runs in times.items():
        print(f"{label:40} median {med[label]:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in runs)})")
    ratio = med["febm check kl"] / med["python -c 'import torch, sympy, scipy'"]
    print(f"ratio febm check / bare imports          {ratio:.2f}  (target 1.2: {'met' if ratio <= 1.2 else 'MISSED'})")
    needed = med["febm check kl"] / med["+ scipy.integrate, optimize, linalg"]
    print(f"ratio febm check / the imports it needs  {needed:.2f}")
    for label in ("febm divergences", "febm show kl"):
        print(f"{label:40} target < 1.5 s: {'met' if med[label] < 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
