"""The f-EBM surrogate loss: one backward pass gives both players' gradient estimates.

    S = mean_p g(r) − mean_q h(r) + mean_q[c · E_θ(x)],   c = stopgrad(h(r) − mean_q h(r)),

with r = H_ω + E_θ and the samples of q held fixed: ∇_ω S = ∇_ω L, and ∇_θ S is the f-EBM
estimator of ∇_θ L with its covariance term.
"""

from __future__ import annotations

import torch

from ...divergences.numeric import exp_bounds_for
from ...errors import InputError


def febm_surrogate(g, h, r_p, r_q, e_q, w_p=None, w_q=None):
    """Mean over the last axis of g(r_p) − h(r_q) + stopgrad(h(r_q) − mean h(r_q))·E_θ(x_q); with
    weights ``w_p``, ``w_q`` (summing to 1 over the last axis: exact expectations on nodes) the
    weighted sums instead of the means."""
    mean_p, mean_q = _average(w_p), _average(w_q)
    hq = h(r_q)
    c = (hq - mean_q(hq)[..., None]).detach()
    return mean_p(g(r_p)) - mean_q(hq) + mean_q(c * e_q)


def _average(w):
    """The mean over the last axis, or the ``w``-weighted sum (a zero weight ignores its term)."""
    if w is None:
        return lambda v: v.mean(dim=-1)
    return lambda v: torch.where(w > 0, w * v, 0.0).sum(dim=-1)


def curvature(d) -> float:
    """f''(1) as a float, with 0 where it vanishes or f has a kink at 1."""
    return 0.0 if d.f2_at_1 is None else float(d.f2_at_1)


def inverse_curvature(d) -> float:
    """1/f''(1): playing L/f''(1) keeps f's minimizer and gives the linearization unit curvature.
    A divergence without curvature is left unscaled."""
    f2 = curvature(d)
    return 1.0 / f2 if f2 > 0 else 1.0


def objective_scale(divergences, per_f2, **kw):
    """1/f''(1) per run when ``per_f2`` (D_f/f''(1) has f's minimizer), else ones."""
    if not per_f2:
        return torch.ones(len(divergences), **kw)
    require_curvature(divergences)
    return 1 / torch.tensor([curvature(d) for d in divergences], **kw)


def require_curvature(divergences) -> None:
    """Refuse an f without f''(1) > 0, for every trainer alike (reproduce and toy2d/bench used to
    differ: toy2d trained (t-1)**4 and total variation unscaled and called the runs ok)."""
    flat = sorted({d.name for d in divergences if curvature(d) <= 0})
    if flat:
        raise InputError(f"{', '.join(flat)}: f''(1) is 0 or undefined; training plays D_f/f''(1) (f's minimizer at "
                         "unit curvature) and needs f''(1) > 0")


def link_groups(divergences, clip=None):
    """{name: ((g, h) torch links, run indices)} in first-seen order. ``clip``: None, one bound C or
    {name: C}; a link with a bound has every exp(a) evaluated as exp(min(a, C)) (the reference
    code's clamps)."""
    groups: dict = {}
    for k, d in enumerate(divergences):
        groups.setdefault(d.name, (d, []))[1].append(k)
    out = {}
    for name, (d, idx) in groups.items():
        c = exp_bounds_for(name, clip)
        out[name] = ((d.function("g", "torch", exp_clip=c), d.function("h", "torch", exp_clip=c)), _index(idx))
    return out


def _index(idx):
    """A slice when the runs are contiguous (a view, no gather), else an index tensor."""
    if idx == list(range(idx[0], idx[-1] + 1)):
        return slice(idx[0], idx[-1] + 1)
    return torch.tensor(idx)

