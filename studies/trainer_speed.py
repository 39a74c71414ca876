"""paper-1d.md's paragraphs on the trainer's speed, rendered from the benchmarks' result files.

    python benchmarks/trainer_floor.py --steps 200 --threads 1 --out docs/results/trainer-floor.json
    python benchmarks/trainer_throughput.py --steps 30 --out docs/results/trainer-throughput.json
    febm figures --only trainer-scaling-cpu --out docs/figures   # the figure, from that result file
    python -m studies trainer_speed text docs/results/trainer-floor.json docs/results/trainer-throughput.json
"""

from studies import load, verb

DESCRIPTION = "paper-1d.md's paragraphs on the trainer's speed, from benchmarks/trainer_*.py's results"

STEPS = 4600  # the default run: 1000 warm-up steps and 3600 training steps
SEEDS, DEFAULT_SEEDS = 16, 4


def floor_text(path) -> str:
    d = load(path)
    wide = d["mflop_per_step"] * SEEDS / DEFAULT_SEEDS
    per_step = d["floor_step_s"] * SEEDS / DEFAULT_SEEDS  # the floor's time scales with the runs
    fresh = d["fresh_processes_step_s"]
    return (f"One step of {SEEDS} × 9 runs is {wide:.0f} MFLOP; at the plain batched-matmul rate that "
            f"`benchmarks/trainer_floor.py` measured ({d['mflop_per_step'] / 1e3 / d['floor_step_s']:.1f} GFLOP/s, "
            f"one thread) that is {per_step * 1e3:.0f} ms per step, or {per_step * STEPS:.0f} s for the "
            f"{STEPS} steps, before any elementwise work. The same run measured the trainer's step at "
            f"{d['trainer_step_s'] / d['floor_step_s']:.1f}x that floor ({d['trainer_step_s'] * 1e3:.1f} ms "
            f"against {d['floor_step_s'] * 1e3:.1f} ms for the default 36 runs); in fresh processes, keeping "
            f"freed pages mapped made a step {fresh['default-1'] / fresh['retain-1']:.2f}x faster with one "
            f"thread ({fresh['default-1'] / fresh['retain-2']:.2f}x with two)")


def warmup_text(path) -> str:
    d = load(path)
    return (f"A warm-up step takes {d['warmup_step_s'] * 1e3:.1f} ms against a training step's "
            f"{d['trainer_step_s'] * 1e3:.1f} ms, {d['trainer_step_s'] / d['warmup_step_s']:.1f}x less")


def throughput_text(path) -> str:
    d = load(path)
    rates = d["batched"]["cpu"]
    best = max(rates, key=rates.get)
    listed = [r for r in rates if r != "1"]
    return (f"({d['threads']} threads): one run alone makes {d['single_run_loop']:,.0f} run-steps/s; R runs in one "
            f"batch make {', '.join(f'{rates[r]:,.0f}' for r in listed[:-1])} and {rates[listed[-1]]:,.0f} "
            f"run-steps/s at R = {', '.join(listed[:-1])} and {listed[-1]}, up to "
            f"{rates[best] / d['single_run_loop']:.1f}x the single-run loop at R = {best}")


def text(floor, throughput) -> str:
    """The three paragraphs, one after another."""
    return "\n\n".join([floor_text(floor), warmup_text(floor), throughput_text(throughput)])


def commands(verbs) -> None:
    verb(verbs, "text", text, "the paragraphs in docs/paper-1d.md", "floor", "throughput")
