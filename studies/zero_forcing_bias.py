"""Probe: where the zero-forcing f's last 0.001–0.002 of error on paper-1d comes from.

The θ-player alone against the exact critic (`exact_critic.py`), Neyman χ², α = −1 and α = −0.5,
SEEDS runs each (default 8) on master seed 0, under one change to the default run (ARM): default,
noclip, clip30, clip100, avg0.05, avg0.2, lr0.015, f64 or steps7200. PATCH changes the estimator: "unbiased"
(the covariance term times n/(n − 1)) or "clampE" (stratified uniforms clamped to [E, 1 − E]
instead of [1e-7, 1 − 1e-7]). Prints per f the mean (Δμ, Δσ) against the exact minimizer and the
per-run sd of (μ, σ). The readings are in the stop note of 2026-11-30, not in the docs.

    SEEDS=32 python -m studies zero_forcing_bias run ARM [PATCH]

It prints and writes no file.
"""

import json
import os
from dataclasses import replace

import torch

from studies import verb

DESCRIPTION = "a probe: the zero-forcing f's bias against the exact critic under one change to the default run"

NAMES = ("neyman_chi2", "alpha=-1", "alpha=-0.5")
ARMS = {"default": {}, "noclip": {"clip": None}, "clip30": {"clip": 30.0}, "clip100": {"clip": 100.0},
        "avg0.05": {"average_from": 0.05}, "avg0.2": {"average_from": 0.2}, "lr0.015": {"lr_theta": 0.015},
        "f64": {"dtype": torch.float64}, "steps7200": {"steps": 7200}}


def patch(name: str) -> None:
    from febm.dynamics.training import trainer

    if name == "unbiased":
        def surrogate(g, h, r_p, r_q, e_q):
            hq, n = h(r_q), r_q.shape[-1]
            c = (hq - hq.mean(dim=-1, keepdim=True)).detach() * (n / (n - 1))
            return g(r_p).mean(dim=-1) - hq.mean(dim=-1) + (c * e_q).mean(dim=-1)

        trainer.febm_surrogate = surrogate
    elif name.startswith("clamp"):
        eps = float(name.removeprefix("clamp"))

        def stratified(runs, n, generator, **kw):
            u = (torch.arange(n, **kw) + torch.rand(runs, n, generator=generator, **kw)) / n
            return u.clamp(eps, 1 - eps)

        trainer.stratified_uniform = stratified


def run(arm: str, change: str | None = None) -> None:
    from febm.divergences import resolve
    from febm.dynamics.training import paper1d
    from febm.threads import limit_threads
    from febm.toy_models.exact_fit import fit_gaussian
    from studies.exact_critic import exact_critic_trainer

    limit_threads(1)
    if change:
        patch(change)
    seeds = int(os.environ.get("SEEDS", 8))
    data = paper1d.paper_mixture()
    divs = [resolve(n).validate() for n in NAMES]
    config = replace(paper1d.DEFAULT_CONFIG, device="cpu", critic_warmup=0, lr_omega=0.0, **ARMS[arm])
    fits = exact_critic_trainer()([d for d in divs for _ in range(seeds)], data, config, seed=0).train().mu_sigma
    fits = fits.double().reshape(len(divs), seeds, 2)
    out = {}
    for k, d in enumerate(divs):
        exact = fit_gaussian(d.function("f"), lambda v: data.log_prob(torch.as_tensor(v)).numpy())
        mean, sd = fits[k].mean(0), fits[k].std(0)
        out[d.name] = {"bias": [round(float(mean[0]) - exact.mu, 5), round(float(mean[1]) - exact.sigma, 5)],
                       "sd": [round(float(sd[0]), 5), round(float(sd[1]), 5)]}
    print(arm, change or "", seeds, json.dumps(out))


def commands(verbs) -> None:
    verb(verbs, "run", run, "one arm (SEEDS=N runs each; 40 s at 8 seeds to 3 min at 32), printed",
         ("arm", {"choices": list(ARMS)}), ("change", {"nargs": "?", "help": "unbiased, or clampE (E a number)"}))
