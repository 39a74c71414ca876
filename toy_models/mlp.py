"""A tiny functional MLP on a flat parameter vector (works under torch.func transforms)."""

from __future__ import annotations

import torch

from .quadrature import DTYPE


def param_count(sizes: tuple[int, ...]) -> int:
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))


ACTIVATIONS = ("tanh", "silu")


def check_activation(name: str) -> str:
    from ..errors import UnknownName

    if name not in ACTIVATIONS:
        raise UnknownName("activation", name, ACTIVATIONS)
    return name


def forward(params: torch.Tensor, x: torch.Tensor, sizes: tuple[int, ...], activation: str = "tanh") -> torch.Tensor:
    """MLP (tanh or SiLU hidden layers); x is (n,) for 1-D input or (n, d); returns (n,)."""
    h = x.unsqueeze(-1) if x.dim() == 1 else x
    shapes = list(zip(sizes[:-1], sizes[1:]))
    # one split, not a slice per tensor: a slice's backward adds a zero-filled copy of all of
    # params per tensor, a split's writes each gradient into place once (the same numbers)
    pieces = params.split([n for i, o in shapes for n in (i * o, o)], dim=-1)
    for layer, (i, o) in enumerate(shapes):
        w, b = pieces[2 * layer].reshape(i, o), pieces[2 * layer + 1]
        h = h @ w + b
        if layer < len(sizes) - 2:
            h = torch.tanh(h) if activation == "tanh" else torch.nn.functional.silu(h)
    return h.squeeze(-1)


def init(sizes: tuple[int, ...], generator: torch.Generator, dtype=DTYPE) -> torch.Tensor:
    """Uniform(±1/√fan_in) weights and biases, as torch.nn.Linear does."""
    parts = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        bound = 1 / i**0.5
        parts.append((torch.rand(i * o + o, generator=generator, dtype=dtype) * 2 - 1) * bound)
    return torch.cat(parts)


def forward_batched(params: torch.Tensor, x: torch.Tensor, sizes: tuple[int, ...],
                    activation: str = "tanh") -> torch.Tensor:
    """R independent MLPs at once: params (R, P), x (R, n) for 1-D or (R, n, d) inputs;
    returns (R, n). Same parameter layout as `forward`: run r is ``forward(params[r], x[r])``.

    tanh layers are evaluated as s = σ(2a), tanh(a) = 2s − 1, with the factors 2 and the −1 folded
    into the (small) weights of the layers around them, so that each hidden layer costs one
    elementwise pass over its (R, n, width) activations instead of four
    (``python benchmarks/toy2d_step.py`` times both forms side by side).
    """
    h = x.unsqueeze(-1) if x.dim() == 2 else x
    k, folded = 0, False  # folded: h holds s = σ(2a) rather than tanh(a)
    for layer, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = params[:, k : k + i * o].reshape(-1, i, o)
        b = params[:, k + i * o : k + i * o + o].unsqueeze(1)
        k += i * o + o
        if folded:  # (2s − 1) W + b = s (2W) + (b − Σ_i W_i·)
            w, b = 2 * w, b - w.sum(1, keepdim=True)
        hidden = layer < len(sizes) - 2
        if hidden and activation == "tanh":
            h, folded = torch.sigmoid(torch.baddbmm(2 * b, h, 2 * w)), True
        else:
            h, folded = torch.baddbmm(b, h, w), False
            if hidden:
                h = torch.nn.functional.silu(h)
    return h.squeeze(-1)


def param_grad_norms(params: torch.Tensor, x: torch.Tensor, sizes: tuple[int, ...],
                     activation: str = "tanh") -> torch.Tensor:
    """|∇_params H(x)| of each of R batched MLPs (`forward_batched`'s layout) at each of its points,
    (R, n). One point's gradient in a layer's weights is the outer product of the error δ back-propagated
    to that layer and the layer's input a, so |∇|² = Σ_layers |δ|²(|a|² + 1); points do not interact,
    so one backward pass of Σ H gives every point's δ."""
    h = x.unsqueeze(-1) if x.dim() == 2 else x
    k, inputs, pre = 0, [], []
    with torch.enable_grad():
        for layer, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
            w = params[:, k : k + i * o].reshape(-1, i, o).detach()
            b = params[:, k + i * o : k + i * o + o].unsqueeze(1).detach()
            k += i * o + o
            inputs.append(h.detach())
            z = torch.baddbmm(b, h, w)
            if layer == 0:
                z.requires_grad_(True)
            pre.append(z)
            if layer < len(sizes) - 2:
                h = torch.tanh(z) if activation == "tanh" else torch.nn.functional.silu(z)
            else:
                h = z
        deltas = torch.autograd.grad(h.sum(), pre)
    total = sum((d**2).sum(-1) * ((a**2).sum(-1) + 1) for d, a in zip(deltas, inputs))
    return total.sqrt()


def fast_tanh(h: torch.Tensor) -> torch.Tensor:
    """tanh(h) = 2σ(2h) − 1, exactly: torch's CPU tanh is ~4x slower than this form on the pinned
    torch. `forward_batched` folds its factors into the weights; this unfolded form is the
    benchmarks' reference (``benchmarks/toy2d_step.py``, ``benchmarks/trainer_throughput.py``)."""
    return 2 * torch.sigmoid(2 * h) - 1


def init_batched(runs: int, sizes: tuple[int, ...], generator: torch.Generator, dtype=DTYPE,
                 device=None) -> torch.Tensor:
    """``runs`` independent initialisations, drawn in one call (on the generator's device)."""
    parts = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        bound = 1 / i**0.5
        u = torch.rand(runs, i * o + o, generator=generator, dtype=dtype, device=device)
        parts.append((u * 2 - 1) * bound)
    return torch.cat(parts, dim=1)
