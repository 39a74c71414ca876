"""The error types that mark bad user input; the CLI turns each into exit 2 and one line."""

from __future__ import annotations

import difflib


def printable(text: str, limit: int = 60) -> str:
    """``text`` on one line: control characters escaped, long text cut (for error messages)."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return one_line(shown)


def one_line(text: str) -> str:
    """Every non-printable character escaped (\\r, \\n, \\x00, …), so a message stays on one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class InputError(ValueError):
    """A user-supplied generator, name, parameter or argument was rejected; the message is one line."""


class UnknownName(InputError, KeyError):
    """A name that no registry holds. The message names the close matches and the valid choices.

    It is a KeyError too, so that mapping-style lookups behave as Python users expect.
    """

    def __init__(self, kind: str, name: str, choices, hint: str = ""):
        self.kind, self.name, self.choices = kind, name, list(choices)
        close = difflib.get_close_matches(str(name).lower(), [c.lower() for c in self.choices], n=3, cutoff=0.6)
        close = [c for c in self.choices if c.lower() in close]
        message = f"unknown {kind} '{printable(str(name))}'"
        if close:
            message += f" (did you mean {', '.join(close)}?)"
        listed = f"choose from {', '.join(self.choices)}" if self.choices else f"there is no {kind} to choose"
        parts = [message, listed if len(self.choices) <= 20 else "", hint]
        super().__init__("; ".join(p for p in parts if p))

    def __str__(self):  # KeyError would quote the message
        return self.args[0]
