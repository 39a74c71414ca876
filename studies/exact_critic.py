"""paper-1d.md's item 2: the θ-player alone, against the exact critic H = log p − log q_θ − E_θ
(so r = H + E = log p/q_θ at the current θ, with θ-gradient only through E), with Adam or with
clipped SGD on θ, and with stratified or i.i.d. batches of 500. Everything else is the default run
(per-f² scaling, 3600 steps from (0, 1.4), lr 0.03 with the cosine decay), 4 seeds of each of the
nine f on master seed 0. The error is max(|Δμ|, |Δσ|) of the 4-seed mean against the exact minimizer.

    python -m studies exact_critic run OUT.json            # both optimizers
    python -m studies exact_critic text docs/results/paper-1d-exact-critic.json
"""

from dataclasses import replace

from studies import load, verb, write

DESCRIPTION = "paper-1d.md's item 2: the θ-player alone against the exact critic, Adam or clipped SGD"
SEEDS = 4
ARMS = [(opt, sampling) for sampling in ("stratified", "iid") for opt in ("adam", "sgd")]


def exact_critic_trainer():
    """The default trainer's class with its critic replaced by the exact log-ratio (zero_forcing_bias
    uses it too)."""
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
        trainer = exact_critic_trainer()([d for d in divs for _ in range(SEEDS)], data, config, seed=0)
        fits = trainer.train(progress=False).mu_sigma.double().reshape(len(divs), SEEDS, 2).mean(1)
        arms[f"{opt}/{sampling}"] = {d.name: max(abs(float(fits[k, 0]) - exact[d.name].mu),
                                 abs(float(fits[k, 1]) - exact[d.name].sigma)) for k, d in enumerate(divs)}
    write(out, {"seeds": SEEDS, "master_seed": 0, "lr_theta": paper1d.DEFAULT_CONFIG.lr_theta, "error": arms})


def text(path) -> str:
    d = load(path)["error"]
    parts = []
    for sampling in ("stratified", "iid"):
        adam, sgd = d[f"adam/{sampling}"], d[f"sgd/{sampling}"]
        parts.append(f"with {'stratified' if sampling == 'stratified' else 'i.i.d.'} batches, Adam ends Neyman χ² "
                     f"{adam['neyman_chi2']:.4f} away and clipped SGD {sgd['neyman_chi2']:.4f} (the worst of the "
                     f"nine f: {max(adam.values()):.4f} and {max(sgd.values()):.4f})")
    return "; ".join(parts)


def commands(verbs) -> None:
    verb(verbs, "run", run, "both optimizers, stratified and i.i.d. batches (4 min)", "out", writes="out")
    verb(verbs, "text", text, "the sentence in docs/paper-1d.md", "path")
