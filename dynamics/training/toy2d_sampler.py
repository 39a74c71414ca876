"""The 2-D toys' model samplers: persistent Langevin chains (their energy gradient, optionally
through torch.compile, and the replay restarts) and the exact grid sampler of exp(−E)."""

from __future__ import annotations

from functools import cache

import torch

from ...toy_models import mlp


def energy_gradient(sizes: tuple, activation: str):
    """(θ, x) ↦ ∇_x Σ E_θ(x) for R networks at once, through torch.func (which torch.compile traces)."""
    def gradient(theta, x):
        return torch.func.grad(lambda y: mlp.forward_batched(theta, y, sizes, activation).sum())(x)

    return gradient


@cache
def compiled_energy_gradient(sizes: tuple, activation: str):
    """`energy_gradient` through torch.compile; one per network shape, kept for the process, so that
    every run and bench cell after the first reuses it."""
    return torch.compile(energy_gradient(sizes, activation), dynamic=False)


def grid_centres(config, **kw) -> tuple:
    """(centres (n², 2), cell width) of the sampler grid: n = ``config.sampler_grid`` cells a side over
    the box."""
    n, box = config.sampler_grid, config.box
    width = 2 * box / n
    ticks = torch.linspace(-box + width / 2, box - width / 2, n, **kw)
    return torch.cartesian_prod(ticks, ticks), width


def grid_samples(theta, config, gen, kw) -> torch.Tensor:
    """(R, chains, 2) exact draws from each run's exp(−E) on the sampler grid: a cell by its
    probability (each run from its own stream), then a uniform point inside the cell."""
    n = config.sampler_grid
    centres, width = grid_centres(config, **kw)
    with torch.no_grad():
        logits = -mlp.forward_batched(theta, centres.expand(len(theta), -1, -1), config.sizes,
                                      config.activation)
        probs = torch.softmax(torch.nan_to_num(logits, nan=-torch.inf), dim=-1)
    probs = torch.where(torch.isfinite(probs).all(-1, keepdim=True), probs, torch.full_like(probs, 1 / n**2))
    cells = torch.stack([torch.multinomial(p, config.chains, replacement=True, generator=g)
                         for p, g in zip(probs, gen.generators)])
    jitter = (gen.rand((len(theta), config.chains, 2), **kw) - 0.5) * width
    return centres[cells] + jitter


def refresh(chains, config, gen, kw):
    """The chains with a fraction ``config.reinit`` restarted from uniform noise over the box (a
    replay buffer's role)."""
    restart = gen.rand(chains.shape[:2], **kw) < config.reinit
    noise = (gen.rand(chains.shape, **kw) * 2 - 1) * config.box
    return torch.where(restart[..., None], noise, chains)
