"""The trained-game atlas's costs, side by side in one run: `febm atlas F --critic mlp:64,64` with
prediction only and with `--measure 8`, against `febm calibrate F` at its defaults, for one f, at an
operating point (default lr 10⁻², batch 1000, 3,000 steps). Targets: one f predicted in ≤ 60 s on
2 cores; `--measure 8` adds ≤ 2 minutes per f. Prints each median and its ratio to calibrate's.

    python benchmarks/trained_atlas.py [--threads N] [--repeats N] [--f NAME] [--lr LR] [--batch B] [--steps S]
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
    parser.add_argument("--f", default="kl")
    parser.add_argument("--lr", default="1e-2")
    parser.add_argument("--batch", default="1000")
    parser.add_argument("--steps", default="3000")
    args = parser.parse_args()
    t = ["--threads", str(args.threads)]
    point = ["--critic", "mlp:64,64", "--lr", args.lr, "--batch", args.batch, "--steps", args.steps, "--json"]
    commands = {
        f"calibrate {args.f} (defaults)": febm(*t, "calibrate", args.f, "--json"),
        f"atlas {args.f} --critic, predicted": febm(*t, "atlas", args.f, *point),
        f"atlas {args.f} --critic --measure 8": febm(*t, "atlas", args.f, *point, "--measure", "8"),
    }
    times = {name: [] for name in commands}
    for _ in range(args.repeats):  # interleaved, so that a change in load touches every command
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    medians = {name: statistics.median(v) for name, v in times.items()}
    base = medians[f"calibrate {args.f} (defaults)"]
    print(f"operating point: lr {args.lr}, batch {args.batch}, {args.steps} steps; {args.threads} threads")
    for name, m in medians.items():
        print(f"{name:42} {m:8.1f} s   {m / base:6.2f}x calibrate's")
    added = medians[f"atlas {args.f} --critic --measure 8"] - medians[f"atlas {args.f} --critic, predicted"]
    print(f"--measure 8 adds {added:.1f} s to the prediction")


if __name__ == "__main__":
    main()
