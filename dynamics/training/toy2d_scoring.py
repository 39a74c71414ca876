"""Scores of a trained 2-D EBM against the known density: grid KL and JS, mode coverage, samples
near a mode, and the held-out NLL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch

from ...toy_models import mlp, toy2d


@dataclass
class Score:
    """A trained EBM against the known density: grid KL(p‖q) and JS after normalizing q, the
    fraction of modes with a sample near them, the fraction of samples near a mode, and the
    negative log-likelihood (nats) of held-out data under the normalized q."""

    kl: float | None
    js: float
    mode_coverage: float
    high_quality: float
    nll: float | None = None


def score(data, energy, samples, box: float, grid: int = 160) -> Score:
    """KL(p‖q) and JS on a grid after normalizing q = e^{−E} numerically; mode coverage and the
    fraction of samples within 3 sd of a mixture component ("high quality"); the NLL of held-out
    data under q normalized on the same grid."""
    xy, _, _ = _grid(data.name, box, grid)
    with torch.no_grad():
        e_grid = energy(xy.to(samples.dtype)).to(torch.float64)
        e_held = energy(held_out_data(data).to(samples.dtype)).to(torch.float64)
    return _score(data, e_grid, e_held, samples, box, grid)


def score_runs(data, theta, chains, config, grid: int = 160, chunk: int = 16) -> list[Score]:
    """`score` for every run of a batch, the energies evaluated batched, ``chunk`` runs at a time."""
    xy, _, _ = _grid(data.name, config.box, grid)
    points = torch.cat([xy, held_out_data(data)]).to(device=theta.device, dtype=chains.dtype)
    out = []
    with torch.no_grad():
        for lo in range(0, len(theta), chunk):
            part = theta[lo : lo + chunk]
            energies = mlp.forward_batched(part, points.expand(len(part), -1, -1), config.sizes,
                                            config.activation)
            for k, e in enumerate(energies.to(torch.float64).cpu()):
                out.append(_score(data, e[: len(xy)], e[len(xy):], chains[lo + k], config.box, grid))
    return out


@lru_cache(maxsize=8)
def _grid(name: str, box: float, grid: int):
    """The scoring grid, log p normalized on it, and the log of a cell's area."""
    ticks = torch.linspace(-box, box, grid, dtype=torch.float64)
    xy = torch.cartesian_prod(ticks, ticks)
    log_p = toy2d(name).log_prob(xy)
    return xy, log_p - torch.logsumexp(log_p, 0), 2 * math.log(2 * box / (grid - 1))


def scoring_grid(name: str, box: float, grid: int = 160):
    """(points, log p normalized on them, log of a cell's area): the grid every 2-D score is taken on."""
    return _grid(name, box, grid)


def _score(data, e_grid, e_held, samples, box, grid) -> Score:
    _, log_p, log_cell = _grid(data.name, box, grid)
    log_z = torch.logsumexp(-e_grid, 0)  # log Z on the grid, up to the cell area
    log_q = -e_grid - log_z
    nll = float(e_held.mean() + log_z + log_cell)
    p, q = log_p.exp(), log_q.exp()
    m = 0.5 * (p + q)
    kl = float((p * (log_p - log_q)).sum())
    js = float(0.5 * (p * (log_p - m.log())).sum() + 0.5 * (q * (log_q - m.log())).sum())
    near = torch.cdist(samples.to(torch.float64).cpu(), data.centers) < 3 * data.sd
    return Score(
        kl=kl if math.isfinite(kl) else None,
        js=js,
        mode_coverage=float(near.any(dim=0).to(torch.float64).mean()),
        high_quality=float(near.any(dim=1).to(torch.float64).mean()),
        nll=nll if math.isfinite(nll) else None,
    )


@lru_cache(maxsize=8)
def _held_out(name: str, n: int) -> torch.Tensor:
    return toy2d(name).sample(n, torch.Generator().manual_seed(2**31 - 1), dtype=torch.float64)


def held_out_data(data, n: int = 4000) -> torch.Tensor:
    """A fixed held-out sample (its own seed, never used in training) for the NLL score."""
    return _held_out(data.name, n)
