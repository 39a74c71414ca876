"""Watching batched runs, for every trainer (1-D, 2-D) and command: a progress bar, and which runs
are still finite."""

from __future__ import annotations

import torch

from ..report import RunStatus


def still_finite(alive, status, step, who, *tensors):
    """The runs that were alive and whose tensors are all finite; a run that just stopped being
    finite gets a status naming it (``who(k)``) and its step."""
    ok = alive.clone()
    for t in tensors:
        ok &= torch.isfinite(t.reshape(len(alive), -1)).all(dim=1)
    for k in torch.nonzero(alive & ~ok).flatten().tolist():
        status[k] = RunStatus.non_finite(who(k), step + 1)
    return ok


def progress_bar(total, enabled, desc):
    """A tqdm bar, or a silent stand-in when ``enabled`` is False."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", mininterval=0.5)


class _NoBar:
    def update(self, n=1):
        pass

    def set_description(self, text):
        pass

    def close(self):
        pass
