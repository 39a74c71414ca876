"""`febm reproduce paper-1d` at its defaults on many master seeds: per f, the worst error of its
4-seed mean over the master seeds, how many meet the 0.002 target, and the time per run.

    python benchmarks/paper1d_master_seeds.py run OUT.json [--from 0] [--to 16] [--threads 1]
        [--steps N --divergences NAME ...]   # another step count, or some of the nine f
    python benchmarks/paper1d_master_seeds.py merge OUT.json PART.json ...
    python benchmarks/paper1d_master_seeds.py table OUT.json   # the table in docs/paper-1d.md

`run` appends each master seed to OUT.json as it finishes (two processes can share the seeds).
The times are wall times of single runs on whatever else the machine is doing; the JSON says
how many threads each had.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def run(out: str, first: int, last: int, threads: int, steps: int | None = None, names=None) -> None:
    from febm.dynamics.training import paper1d
    from febm.threads import limit_threads

    limit_threads(threads)
    config = paper1d.DEFAULT_CONFIG if steps is None else paper1d.with_steps(steps)
    names = list(names or paper1d.DIVERGENCES)
    result = json.load(open(out)) if os.path.exists(out) else {"threads": threads, "seeds": {}}
    result.update({"steps": config.steps, "divergences": names})
    for master in range(first, last):
        t0 = time.perf_counter()
        report = paper1d.run(seed=master, config=config, names=names, progress=False)
        result["seeds"][str(master)] = {
            "elapsed_s": time.perf_counter() - t0,
            "errors": {r.divergence: r.error for r in report.rows},
            "finite": {r.divergence: all(s.ok for s in r.status) for r in report.rows},
            "tolerance": report.tolerance}
        worst = max(report.rows, key=lambda r: r.error)
        print(f"master seed {master}: worst {worst.error:.4f} ({worst.divergence}), "
              f"{result['seeds'][str(master)]['elapsed_s']:.0f} s", flush=True)
        with open(out + ".tmp", "w") as fh:
            json.dump(result, fh, indent=1)
        os.replace(out + ".tmp", out)


def merge(out: str, parts: list[str]) -> None:
    merged = {"threads": None, "seeds": {}}
    for p in parts:
        d = json.load(open(p))
        merged.update({k: d[k] for k in ("threads", "steps", "divergences") if k in d})
        merged["seeds"].update(d["seeds"])
    merged["seeds"] = dict(sorted(merged["seeds"].items(), key=lambda kv: int(kv[0])))
    with open(out, "w") as fh:
        json.dump(merged, fh, indent=1)


def summary(result: dict) -> dict:
    """Per f: the worst error over the master seeds, where it is, and how many meet the target."""
    seeds = result["seeds"]
    names = list(next(iter(seeds.values()))["errors"])
    out = {}
    for n in names:
        errors = {int(m): s["errors"][n] for m, s in seeds.items()}
        worst = max(errors, key=errors.get)
        met = sum(e <= s["tolerance"] and s["finite"][n] for e, s in zip(errors.values(), seeds.values()))
        out[n] = {"worst": errors[worst], "master_seed": worst, "met": met}
    return out


def table(result: dict) -> str:
    seeds = result["seeds"]
    times = [s["elapsed_s"] for s in seeds.values()]
    lines = ["| f | worst error over master seeds | on master seed | within 0.002 |", "|---|---|---|---|"]
    lines += [f"| {n} | {s['worst']:.4f} | {s['master_seed']} | {s['met']} of {len(seeds)} |"
              for n, s in summary(result).items()]
    every = sum(all(e <= s["tolerance"] and s["finite"][n] for n, e in s["errors"].items()) for s in seeds.values())
    which = "All nine" if len(next(iter(seeds.values()))["errors"]) == 9 else "All of them"
    lines += ["", f"{which} within 0.002 on {every} of {len(seeds)} master seeds "
                  f"({min(map(int, seeds))}–{max(map(int, seeds))}); one run took "
                  f"{min(times):.0f}–{max(times):.0f} s ({result['threads']} thread, beside other jobs)."]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("run", "merge", "table"))
    p.add_argument("out")
    p.add_argument("parts", nargs="*")
    p.add_argument("--from", dest="first", type=int, default=0)
    p.add_argument("--to", dest="last", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, help="training steps (default: the default run's 3600)")
    p.add_argument("--divergences", nargs="+", help="some of the nine f (default: all nine)")
    a = p.parse_args(argv)
    if a.command == "run":
        run(a.out, a.first, a.last, a.threads, a.steps, a.divergences)
    elif a.command == "merge":
        merge(a.out, a.parts)
    else:
        print(table(json.load(open(a.out))))


if __name__ == "__main__":
    main(sys.argv[1:])
