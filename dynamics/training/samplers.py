"""Langevin samplers for energies without an exact sampler: unadjusted (ULA) and MALA.

Both move x ← x − h ∇E(x) + √(2h)·τ·ξ on a batch of chains at once; ``energy`` maps points of
shape (..., d) to energies of shape (...). MALA (τ = 1) adds the Metropolis–Hastings correction,
so its chains target exp(−E) exactly; ULA is biased by O(h). Passing the returned state back in
gives persistent chains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .streams import normal, uniform


def stratified_uniform(runs: int, n: int, generator, **kw) -> torch.Tensor:
    """(runs, n) uniforms, point i of each run drawn from [i/n, (i+1)/n): each point is still
    uniform on (0, 1), so batch means stay unbiased, and for smooth integrands their variance falls
    from O(1/n) to O(1/n³)."""
    u = (torch.arange(n, **kw) + torch.rand(runs, n, generator=generator, **kw)) / n
    return u.clamp(1e-7, 1 - 1e-7)  # the normal quantile is infinite at 0 and 1


@dataclass
class LangevinResult:
    x: torch.Tensor
    acceptance: float | None  # MALA's mean acceptance rate; None for ULA


def _grad(energy, x):
    x = x.detach().requires_grad_(True)
    e = energy(x)
    (g,) = torch.autograd.grad(e.sum(), x)
    return e.detach(), g


def langevin(energy, x, steps: int, step_size: float, generator,
             noise: float = 1.0, mala: bool = False, gradient=None) -> LangevinResult:
    """Run ``steps`` Langevin steps from x (any batch shape (..., d)). ``gradient``: x ↦ ∇_x E (a
    compiled one, say) for the unadjusted steps; MALA needs the energies and uses ``energy``."""
    if not mala:
        return _unadjusted(gradient or (lambda y: _grad(energy, y)[1]), x, steps, step_size, generator, noise)
    h = step_size
    e, g = _grad(energy, x)
    accepted = 0.0
    for _ in range(steps):
        xi = normal(generator, x)
        proposal = x - h * g + (2 * h) ** 0.5 * noise * xi
        e_new, g_new = _grad(energy, proposal)
        log_forward = -((proposal - x + h * g) ** 2).sum(-1) / (4 * h)
        log_backward = -((x - proposal + h * g_new) ** 2).sum(-1) / (4 * h)
        log_alpha = (e - e_new) + log_backward - log_forward
        u = uniform(generator, log_alpha)
        accept = torch.log(u) < log_alpha
        x = torch.where(accept[..., None], proposal.detach(), x)
        e = torch.where(accept, e_new, e)
        g = torch.where(accept[..., None], g_new, g)
        accepted += float(accept.to(x.dtype).mean())
    return LangevinResult(x.detach(), accepted / steps if steps else None)


def _unadjusted(gradient, x, steps: int, h: float, generator, noise: float) -> LangevinResult:
    """The unadjusted steps of `langevin` (ULA), with ∇_x E given as a function."""
    x = x.detach()
    g = gradient(x)
    for _ in range(steps):
        x = (x - h * g + (2 * h) ** 0.5 * noise * normal(generator, x)).detach()
        g = gradient(x)
    return LangevinResult(x, None)
