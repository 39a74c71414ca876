"""The time docs/atlas.md quotes: the whole catalog on paper-1d with the reference code's budget,
`febm --threads 2 atlas --model paper-1d --lr 1e-3 --steps 20000 --json`, in a fresh process,
best of N. Prints the wall time (start-up included) and the atlas's own elapsed time (the work),
and with --out writes both to a result file (docs/results/atlas-time.json). Run it where nothing
else runs; the limit an earlier issue set was 60 s.

    python benchmarks/atlas_time.py [--repeats N] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

from check_cold_start import febm_command as febm  # benchmarks/ is on the path when run as a script

COMMAND = ("--threads", "2", "atlas", "--model", "paper-1d", "--lr", "1e-3", "--steps", "20000", "--json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", help="write the times to this JSON file")
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        out = subprocess.run(febm(*COMMAND), check=True, capture_output=True, text=True).stdout
        runs.append({"wall_s": time.perf_counter() - start, "work_s": json.loads(out)["elapsed_s"]})
    best = min(runs, key=lambda r: r["wall_s"])
    print(f"febm {' '.join(COMMAND)}: {best['wall_s']:.1f} s wall, {best['work_s']:.1f} s of work "
          f"(best of {args.repeats}, {os.cpu_count()} cores)")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"command": "febm " + " ".join(COMMAND), "cores": os.cpu_count(), "runs": runs,
                       "best": best}, fh, indent=1)


if __name__ == "__main__":
    main()
