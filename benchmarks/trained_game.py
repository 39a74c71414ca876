"""The trained game's costs, side by side in one run: `febm check kl --model paper-1d` with the
linear critic against the reference code's 1-64-64-1 critic (`--critic mlp:64,64`), and one
`febm calibrate kl` at its defaults. Targets (issue #20): check with the reference critic in
≤ 30 s on 2 cores; calibrate ≤ 10 minutes per f.

    python benchmarks/trained_game.py [--threads N] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics

from check_cold_start import febm_command as febm  # benchmarks/ is on the path when run as a script
from check_cold_start import wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2, help="caps torch and the BLAS in each run")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
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
