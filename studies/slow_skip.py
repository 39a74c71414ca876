"""paper-1d.md's item 5: the critic's quadratic skip H = MLP + a·x + b·x² moving at the MLP's rate
(factor 1) against 10× slower (the default 0.1), for the χ²-type f, 16 runs each on master seed 0,
the default run otherwise. Per run: the final error max(|Δμ|, |Δσ|) against the exact minimizer,
the skip's b and u(−4) = H + E at x = −4 beside log p/q there. A run *fails* when its error is
over `FAIL` (fixed before measuring: 5 times the page's tolerance of 0.002).

    python -m studies slow_skip run OUT.json FACTOR      # one arm (run both, then merge)
    python -m studies slow_skip merge OUT.json PART.json ...
    python -m studies slow_skip text docs/results/paper-1d-slow-skip.json
"""

from dataclasses import replace

from studies import load, union, verb, write

DESCRIPTION = "paper-1d.md's item 5: the critic's quadratic skip at the MLP's rate against 10x slower"
NAMES, SEEDS, FAIL, X = ("neyman_chi2", "alpha=-1"), 16, 0.01, -4.0


def run(out, factor: float) -> None:
    import torch

    from febm.divergences import resolve
    from febm.dynamics.training import paper1d
    from febm.dynamics.training.trainer import GAUSSIAN, BatchedGaussianFEBM
    from febm.threads import limit_threads
    from febm.toy_models.exact_fit import fit_gaussian

    limit_threads(1)
    data = paper1d.paper_mixture()  # the mixture paper-1d trains on
    divs = [resolve(n).validate() for n in NAMES]
    config = replace(paper1d.DEFAULT_CONFIG, skip_lr_factor=factor, device="cpu")
    trainer = BatchedGaussianFEBM([d for d in divs for _ in range(SEEDS)], data, config, seed=0)
    result = trainer.train(progress=False)
    x = torch.tensor([[X]], dtype=config.dtype).expand(len(trainer.theta), 1)
    with torch.no_grad():
        u = (trainer.critic(trainer.omega, x) + trainer.energy(trainer.theta, x))[:, 0]
        log_ratio = (data.log_prob(x.double()) - GAUSSIAN.log_prob(trainer.theta, x).double())[:, 0]
    arm = {}
    for k, (name, d) in enumerate(zip(NAMES, divs)):
        exact = fit_gaussian(d.function("f"), lambda v: data.log_prob(torch.as_tensor(v)).numpy())
        runs = range(k * SEEDS, (k + 1) * SEEDS)
        fits = result.mu_sigma[list(runs)].double()
        arm[name] = {"exact": [exact.mu, exact.sigma],
                     "error": [max(abs(float(m) - exact.mu), abs(float(s) - exact.sigma)) for m, s in fits],
                     "b": [float(trainer.omega[r, -1]) for r in runs], "u": [float(u[r]) for r in runs],
                     "log_ratio": [float(log_ratio[r]) for r in runs],
                     "finite": [result.status[r].ok for r in runs]}
    write(out, {str(factor): arm})


def merge(out, parts) -> None:
    """The arms (one part each) in one file."""
    arms = union(parts)
    write(out, {"divergences": list(NAMES), "seeds": SEEDS, "master_seed": 0, "fail_above": FAIL, "x": X,
                   "arms": arms})


def failures(runs: dict) -> list[int]:
    return [i for i, (e, ok) in enumerate(zip(runs["error"], runs["finite"])) if not ok or e > FAIL]


def text(path) -> str:
    d = load(path)
    parts = []
    for factor, label in (("1.0", "at the MLP's rate"), ("0.1", "10x slower (the default)")):
        runs = list(d["arms"][factor].values())
        bad = sum(len(failures(r)) for r in runs)
        errors = [e for r in runs for e in r["error"]]
        b = [v for r in runs for v in r["b"]]
        parts.append(f"with the skip {label}, {bad} of {len(errors)} runs failed (errors {min(errors):.4f}–"
                     f"{max(errors):.4f}, b from {min(b):.2f} to {max(b):.2f})")
    return "; ".join(parts).replace("-", "−")


def commands(verbs) -> None:
    verb(verbs, "run", run, "one arm: the skip's rate factor (3 min)", "out", ("factor", {"type": float}),
         writes="out")
    verb(verbs, "merge", merge, "the arms in one file", "out", ("parts", {"nargs": "+"}), writes="out")
    verb(verbs, "text", text, "the sentence in docs/paper-1d.md", "path")
