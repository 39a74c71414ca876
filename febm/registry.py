"""One registry style for every named thing febm knows: divergences, set-ups, datasets, figures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from .errors import UnknownName

V = TypeVar("V")


class Registry(Mapping[str, V], Generic[V]):
    """A read-only mapping name -> entry, filled by `register`.

    A missing name raises `febm.errors.UnknownName`, which lists the close
    matches and the choices; the CLI catches that one error type.
    """

    def __init__(self, kind: str, hint: str = ""):
        self.kind, self.hint = kind, hint
        self._entries: dict[str, V] = {}

    def register(self, name: str, entry: V | None = None):
        """``registry.register(name, entry)``, or ``@registry.register(name)`` as a decorator."""
        if entry is not None:
            self._entries[name] = entry
            return entry

        def decorate(obj: V) -> V:
            self._entries[name] = obj
            return obj

        return decorate

    def __getitem__(self, name: str) -> V:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownName(self.kind, name, list(self._entries), self.hint) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self):
        return f"Registry({self.kind!r}, {list(self._entries)})"

