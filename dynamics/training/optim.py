"""Optimizers and step-size helpers for stacked runs: parameters of shape (R, P), run r in row r."""

from __future__ import annotations

import math

import torch

from ...errors import UnknownName


class Adam:
    """Adam on stacked run parameters with a per-run learning rate (torch.optim takes one scalar)."""

    def __init__(self, param, betas=(0.9, 0.999), eps=1e-8):
        self.m, self.v = torch.zeros_like(param), torch.zeros_like(param)
        self.betas, self.eps, self.t = betas, eps, 0

    def direction(self, grad, square=None):
        """The step's direction; ``square`` (default grad²) feeds the second moment: a minibatch
        gradient's square beside a mean gradient gives minibatch Adam's mean step."""
        self.t += 1
        b1, b2 = self.betas
        self.m.mul_(b1).add_(grad, alpha=1 - b1)
        if square is None:
            self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        else:
            self.v.mul_(b2).add_(square, alpha=1 - b2)
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return m_hat / (v_hat.sqrt() + self.eps)


class SGD:
    """Plain gradient steps: the direction is the gradient itself."""

    def direction(self, grad):
        return grad


OPTIMIZERS = {"adam": Adam, "sgd": lambda param: SGD()}


def optimizer(kind: str, param):
    if kind not in OPTIMIZERS:
        raise UnknownName("optimizer", kind, OPTIMIZERS)
    return OPTIMIZERS[kind](param)


def clip_per_run(grad, cap):
    """Scale each run's gradient down to norm ``cap`` (an outlier would otherwise freeze Adam
    for ~1/(1 − β2) steps through its second-moment estimate)."""
    if cap is None:
        return grad
    norm = grad.norm(dim=1, keepdim=True)
    return grad * torch.clamp(cap / (norm + 1e-30), max=1.0)


def cosine_schedule(step, steps, final):
    """The learning-rate factor at ``step``: 1 at the start, ``final`` at the last step."""
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * step / max(steps - 1, 1)))
