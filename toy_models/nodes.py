"""Quadrature nodes: the one representation of an exact expectation in febm."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Nodes:
    """Quadrature nodes x (n,) or (n, d) and normalized weights w (n,)."""

    x: torch.Tensor
    w: torch.Tensor

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """E[values] where values has the nodes on its first axis."""
        return (self.w @ values.reshape(len(self.w), -1)).reshape(values.shape[1:])


def empirical(x: torch.Tensor) -> Nodes:
    """Samples (n,) or (n, d) as nodes with equal weights 1/n."""
    return Nodes(x, torch.full(x.shape[:1], 1.0 / len(x), dtype=x.dtype, device=x.device))
