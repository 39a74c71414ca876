"""What every command returns: a report dataclass with ``to_json()`` and ``text()``.

Reports display themselves in a notebook (``_repr_markdown_``) and their JSON has stable
keys. Statuses are enums whose values are the strings the JSON has always carried.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import fields, is_dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import ClassVar

import numpy as np


class Verdict(StrEnum):
    """The local verdict of a linearization."""

    STABLE = "stable"
    UNSTABLE = "unstable"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not-applicable"
    NO_EQUILIBRIUM = "no-equilibrium"  # the residual at the best point found misses its tolerance
    UNRELIABLE = "unreliable"  # the Jacobian is not finite, or its evaluations disagree


class RunState(StrEnum):
    """The state of one stochastic run."""

    OK = "ok"
    NON_FINITE = "non-finite"


class RunStatus:
    """One run's state, with where and when it stopped being finite. Its JSON is the message.

    A plain value class rather than a dataclass, so that ``dataclasses.asdict`` of a report
    keeps it whole; it compares equal to its message (``status == "ok"``).
    """

    __slots__ = ("state", "message")

    def __init__(self, state: RunState = RunState.OK, message: str = "ok"):
        self.state, self.message = RunState(state), message

    @classmethod
    def non_finite(cls, who: str, step: int) -> "RunStatus":
        return cls(RunState.NON_FINITE, f"{who} became non-finite at step {step}")

    @classmethod
    def from_message(cls, message: str) -> "RunStatus":
        """The status back from its JSON (its message)."""
        return cls() if message == RunState.OK.value else cls(RunState.NON_FINITE, message)

    from_json = from_message

    @property
    def ok(self) -> bool:
        return self.state is RunState.OK

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"RunStatus({self.state.value!r}, {self.message!r})"

    def __eq__(self, other):
        if isinstance(other, str):
            return self.message == other
        return isinstance(other, RunStatus) and (self.state, self.message) == (other.state, other.message)

    def __hash__(self):
        return hash((self.state, self.message))


def finite_or_none(x):
    """A float, or None for None, inf and nan (where a value is undefined rather than infinite)."""
    return None if x is None or not math.isfinite(x) else float(x)


def json_number(x: float):
    """febm's one policy for non-finite numbers in JSON (which has none): ±inf is the string
    "inf" / "-inf" (an infinite tail index, an unbounded interval), nan is null."""
    if math.isnan(x):
        return None
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def revive(x):
    """The inverse of `json_number` over a JSON value: "inf" and "-inf" back to floats."""
    if isinstance(x, dict):
        return {k: revive(v) for k, v in x.items()}
    if isinstance(x, list):
        return [revive(v) for v in x]
    return float(x) if x in ("inf", "-inf") else x


def jsonable(x):
    """Plain JSON values from numpy scalars and arrays, enums, statuses, tuples, non-finite floats,
    values with their own ``to_json`` and dataclasses (by their fields: `fields_to_json`)."""
    if isinstance(x, Enum):
        return x.value
    if isinstance(x, RunStatus):
        return x.message
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, float):
        return json_number(x)
    if not isinstance(x, type) and callable(getattr(x, "to_json", None)):
        return jsonable(x.to_json())
    if is_dataclass(x) and not isinstance(x, type):
        return fields_to_json(x)
    return x


def fields_to_json(obj) -> dict:
    """A dataclass's JSON: its fields in order, each through `jsonable` (febm's one policy for
    non-finite numbers), shaped by four optional class attributes: ``json_drop`` (fields left
    out), ``json_if_set`` (fields written only when not None and not empty), ``json_rename``
    (field -> key) and ``json_order`` (fields written first, in that order, where the JSON's key
    order predates the fields' order)."""
    drop, if_set = getattr(obj, "json_drop", ()), getattr(obj, "json_if_set", ())
    rename, first = getattr(obj, "json_rename", {}), getattr(obj, "json_order", ())
    out = {}
    for f in sorted(fields(obj), key=lambda f: first.index(f.name) if f.name in first else len(first)):
        value = getattr(obj, f.name)
        unset = value is None or isinstance(value, (list, tuple, dict)) and not value
        if f.name in drop or (f.name in if_set and unset):
            continue
        out[rename.get(f.name, f.name)] = jsonable(value)
    return out


def fields_from_json(cls, d: dict):
    """The dataclass ``cls`` back from `fields_to_json`'s JSON: infinities revived (`revive`) and each
    field rebuilt from its annotation (enums, statuses, nested dataclasses, types with their own
    ``from_json``, lists and dicts of them); keys that are not fields are ignored, missing fields
    keep their defaults."""
    d = revive(d)
    back = {key: name for name, key in getattr(cls, "json_rename", {}).items()}
    d = {back.get(k, k): v for k, v in d.items()}
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation that does not resolve at run time: plain values
        hints = {}
    return cls(**{f.name: _as_type(hints.get(f.name), d[f.name]) for f in fields(cls) if f.init and f.name in d})


def _as_type(tp, value):
    """``value`` (plain JSON) as the annotated type ``tp``, where that is unambiguous."""
    if value is None or tp is None:
        return value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _as_type(options[0], value) if len(options) == 1 else value
    if origin is list and args and isinstance(value, list):
        return [_as_type(args[0], v) for v in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _as_type(args[1], v) for k, v in value.items()}
    if not isinstance(tp, type):
        return value
    if callable(getattr(tp, "from_json", None)):
        return tp.from_json(value)
    if issubclass(tp, Enum):
        return tp(value)
    if is_dataclass(tp) and isinstance(value, dict):
        return fields_from_json(tp, value)
    return value


class JsonFields:
    """A dataclass whose JSON is its fields (`fields_to_json`, shaped by the same class attributes as
    a `Report`'s) and that loads back from it (`fields_from_json`): the parts of reports that are
    built and stored on their own (a basin, a local rate)."""

    def to_json(self) -> dict:
        return fields_to_json(self)

    @classmethod
    def from_json(cls, d: dict):
        return fields_from_json(cls, d)


class Report:
    """Base of the command reports (dataclasses). A subclass defines ``text``; the base gives every
    report its JSON from its fields (`fields_to_json`: no NaN or Infinity ever reaches the text;
    ``json_drop``, ``json_if_set``, ``json_rename`` and ``json_order`` shape it), ``from_json`` back
    from the fields' annotations (`fields_from_json`), and ``save_figures``. Reports whose JSON is a
    view rather than their fields (check's, show's, the catalog's) override the two, writing the view
    as an explicit record dataclass through the same `fields_to_json` / `fields_from_json`.
    """

    json_drop: ClassVar[tuple[str, ...]] = ()  # fields left out of the JSON
    json_if_set: ClassVar[tuple[str, ...]] = ()  # fields written only when set (not None, not empty)
    json_rename: ClassVar[dict[str, str]] = {}  # field -> its key in the JSON
    json_order: ClassVar[tuple[str, ...]] = ()  # fields written first, in this order

    def to_json(self) -> dict:
        return fields_to_json(self)

    def text(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_json(cls, d: dict) -> "Report":
        """The report back from its JSON (to reprint, redraw or compare saved results)."""
        return fields_from_json(cls, d)

    def json_text(self) -> str:
        return json.dumps(jsonable(self.to_json()), indent=2, allow_nan=False)

    def all_figures(self) -> dict:
        """name -> matplotlib Figure, for the reports that draw (default: ``figure()`` if defined)."""
        draw = getattr(self, "figure", None)
        return {} if draw is None else {type(self).__name__.removesuffix("Report").lower(): draw()}

    def save_figures(self, directory, dpi: int = 110) -> list[str]:
        """Write each figure as ``directory/NAME.png``, all committed together; returns the paths."""
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt

        from .files import Staging, clean_stale

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        paths = []
        with Staging() as files:  # all the figures appear together, or none (reproduce --plot mixed old and new)
            for name, fig in self.all_figures().items():
                path = out / f"{name}.png"
                fig.savefig(files.stage(path), dpi=dpi)
                plt.close(fig)
                paths.append(str(path))
        return paths

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.text() + "\n```"

    def __str__(self):
        return self.text()
