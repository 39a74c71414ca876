"""Where torch runs: one set of names, one default, one resolver for every command.

Checking a name needs no torch, so the CLI can refuse a bad ``--device`` before any import
of the heavy layers; only `resolve` asks torch whether CUDA is present.
"""

from __future__ import annotations

from ..errors import UnknownName

CHOICES = ("auto", "cpu", "cuda")
DEFAULT_DEVICE = "auto"  # CUDA when torch sees one, else the CPU


def check_name(name: str) -> str:
    if name not in CHOICES:
        raise UnknownName("device", name, CHOICES)
    return name


def select(name: str = DEFAULT_DEVICE) -> str:
    """"cpu" or "cuda" for ``name``; "cuda" without a CUDA device is an input error."""
    from ..errors import InputError

    check_name(name)
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but torch sees no CUDA device")
    return name
