"""A tiny functional MLP on a flat parameter vector (works under torch.func transforms)."""

from __future__ import annotations

import torch

from .quadrature import DTYPE


def param_count(sizes: tuple[int, ...]) -> int:
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))


def forward(params: torch.Tensor, x: torch.Tensor, sizes: tuple[int, ...]) -> torch.Tensor:
    """tanh MLP; x is (n,) for 1-D input or (n, d); returns (n,)."""
    h = x.unsqueeze(-1) if x.dim() == 1 else x
    k = 0
    for layer, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = params[k : k + i * o].reshape(i, o)
        b = params[k + i * o : k + i * o + o]
        k += i * o + o
        h = h @ w + b
        if layer < len(sizes) - 2:
            h = torch.tanh(h)
    return h.squeeze(-1)


def init(sizes: tuple[int, ...], generator: torch.Generator, dtype=DTYPE) -> torch.Tensor:
    """Uniform(±1/√fan_in) weights and biases, as torch.nn.Linear does."""
    parts = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        bound = 1 / i**0.5
        parts.append((torch.rand(i * o + o, generator=generator, dtype=dtype) * 2 - 1) * bound)
    return torch.cat(parts)
