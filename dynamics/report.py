"""What every command returns: a report dataclass with ``to_json()`` and ``text()``.

Reports display themselves in a notebook (``_repr_markdown_``) and their JSON has stable
keys. Statuses are enums whose values are the strings the JSON has always carried.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from enum import Enum, StrEnum
from pathlib import Path

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
        return cls() if message == "ok" else cls(RunState.NON_FINITE, message)

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
    """Plain JSON values from numpy scalars and arrays, enums, statuses, tuples and non-finite floats."""
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
    return x


class Report:
    """Base of the command reports. A subclass defines ``to_json`` and ``text``; the base gives
    every report one JSON conversion (`jsonable`: no NaN or Infinity ever reaches the text),
    ``from_json`` (by default the dataclass fields of the same names, infinities revived;
    reports whose JSON is shaped otherwise override it), and ``save_figures``.
    """

    def to_json(self) -> dict:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_json(cls, d: dict) -> "Report":
        """The report back from its JSON (to reprint, redraw or compare saved results)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in revive(d).items() if k in names})

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
