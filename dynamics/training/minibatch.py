"""Seeded minibatch f-EBM runs from given states, batched over runs with torch.func.vmap: the
measurement side of confirm and spread (and of any command that compares a linearization with runs).
"""

from __future__ import annotations

import torch
from torch.func import vmap

from ...errors import InputError
from ...toy_models import DataSampler, ExactSampler, Setup
from .. import memory


def minibatch_run(game, data, Z, eta_t, eta_o, update, steps, batch, generator, copies: int = 1, bar=None):
    """Minibatch GDA from the rows of Z (R, n); returns the states, (steps + 1, R, n).

    Every step draws B samples of p and B standard normals for q's exact sampler per run. With
    ``copies`` = 2 the first and second halves of the rows see the same samples (common random
    numbers, for twin runs). Alternating steps draw fresh samples for the θ half-step.
    """
    grads = vmap(game.sample_gradients)
    model, n_t = game.model, game.dim_theta
    runs = len(Z) // copies
    event = tuple(data.nodes().x.shape[1:])  # () in 1-D, (2,) in 2-D

    def repeat(x):
        return torch.cat([x] * copies)

    def minibatch_grads(Z):
        theta, omega = Z[:, :n_t], Z[:, n_t:]
        x_p = repeat(data.sample((runs, batch), generator, dtype=Z.dtype))
        eps = repeat(torch.randn((runs, batch) + event, generator=generator, dtype=Z.dtype))
        return grads(theta, omega, x_p, vmap(model.sample)(theta, eps))

    out = [Z]
    for _ in range(steps):
        g_t, g_o = minibatch_grads(Z)
        if update == "alternating":
            Z = torch.cat([Z[:, :n_t], Z[:, n_t:] + eta_o * g_o], dim=1)
            g_t, _ = minibatch_grads(Z)
            Z = torch.cat([Z[:, :n_t] - eta_t * g_t, Z[:, n_t:]], dim=1)
        else:
            Z = torch.cat([Z[:, :n_t] - eta_t * g_t, Z[:, n_t:] + eta_o * g_o], dim=1)
        out.append(Z)
        if bar is not None:
            bar.update(1)
    return torch.stack(out)


def check_memory(game, runs: int, batch: int, steps: int, what: str) -> None:
    """Per step: features and link values of 2 × batch points for 2 × runs runs (with autograd's
    copies, ~8 tensors of them); over the run: the stored states."""
    n = game.dim_theta + game.dim_omega
    memory.check(8 * 2 * runs * 2 * batch * (n + 4) * memory.FLOAT + steps * 2 * runs * n * memory.FLOAT, what)


def require_samplers(s: Setup) -> None:
    """An exact sampler for the model and a sampler for the data, or an `InputError`."""
    if not isinstance(s.model, ExactSampler):
        raise InputError(f"model {s.name!r} has no exact sampler from standard normals (sample(θ, z))")
    if not isinstance(s.data, DataSampler):
        raise InputError(f"the data of {s.name!r} cannot be sampled (sample(shape, generator))")
