"""paper-1d.md's item 2: the θ-player alone, against the exact critic H = log p − log q_θ − E_θ
(so r = H + E = log p/q_θ at the current θ, with θ-gradient only through E), with Adam or with
clipped SGD on θ, and with stratified or i.i.d. batches of 500. Everything else is the default run
(per-f² scaling, 3600 steps from (0, 1.4), lr 0.03 with the cosine decay), 4 seeds of each of the
nine f on master seed 0. The error is max(|Δμ|, |Δσ|) of the 4-seed mean against the exact minimizer.

    python studies/exact_critic.py run OUT.json            # both optimizers
    python studies/exact_critic.py text docs/results/paper-1d-exact-critic.json
"""

import json
import sys
from dataclasses import replace

from febm.dynamics.files import write_json

SEEDS = 4
ARMS = [(opt, sampling) for sampling in ("stratified", "iid") for opt in ("adam", "sgd")]


def _trainer_class():
    from febm.dynamics.training.trainer import GAUSSIAN, BatchedGaussianFEBM

    class ExactCritic(BatchedGaussianFEBM):
        """The default trainer with its critic replaced by the exact log-ratio (ω never moves)."""

        def critic(self, omega, x):
            theta = self.theta.detach()
            log_p = self.data.log_prob(x.double()).to(x.dtype)
            unused = 0 * omega[:, :1]  # keeps ω in the graph: its gradient is zero, as is its rate
            return log_p - GAUSSIAN.log_prob(theta, x) - self.energy(theta, x) + unused

    return ExactCritic


def run(out) -> None:
    import torch

    from febm.divergences import resolve
    from febm.dynamics.training import paper1d
    from febm.threads import limit_threads
    from febm.toy_models.exact_fit import fit_gaussian

    limit_threads(1)
    data = paper1d.paper_mixture()
    divs = [resolve(n).validate() for n in paper1d.DIVERGENCES]
    exact = {d.name: fit_gaussian(d.function("f"), lambda v: data.log_prob(torch.as_tensor(v)).numpy()) for d in divs}
    arms = {}
    for opt, sampling in ARMS:
        config = replace(paper1d.DEFAULT_CONFIG, theta_optimizer=opt, critic_warmup=0, lr_omega=0.0, sampling=sampling,
                         device="cpu")
        trainer = _trainer_class()([d for d in divs for _ in range(SEEDS)], data, config, seed=0)
        fits = trainer.train(progress=False).mu_sigma.double().reshape(len(divs), SEEDS, 2).mean(1)
        arms[f"{opt}/{sampling}"] = {d.name: max(abs(float(fits[k, 0]) - exact[d.name].mu),
                                 abs(float(fits[k, 1]) - exact[d.name].sigma)) for k, d in enumerate(divs)}
    write_json(out, {"seeds": SEEDS, "master_seed": 0, "lr_theta": paper1d.DEFAULT_CONFIG.lr_theta, "error": arms})


def text(path) -> str:
    d = json.load(open(path))["error"]
    parts = []
    for sampling in ("stratified", "iid"):
        adam, sgd = d[f"adam/{sampling}"], d[f"sgd/{sampling}"]
        parts.append(f"with {'stratified' if sampling == 'stratified' else 'i.i.d.'} batches, Adam ends Neyman χ² "
                     f"{adam['neyman_chi2']:.4f} away and clipped SGD {sgd['neyman_chi2']:.4f} (the worst of the "
                     f"nine f: {max(adam.values()):.4f} and {max(sgd.values()):.4f})")
    return "; ".join(parts)


if __name__ == "__main__":
    command, out = sys.argv[1:3]
    print(text(out)) if command == "text" else run(out)
