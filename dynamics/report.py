"""What every command returns: a report dataclass with ``to_json()`` and ``text()``.

Reports display themselves in a notebook (``_repr_markdown_``) and their JSON has stable
keys. Statuses are enums whose values are the strings the JSON has always carried.
"""

from __future__ import annotations

import json
import math
from enum import Enum, StrEnum

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
    """A float, or None for None, inf and nan (JSON has neither)."""
    return None if x is None or not math.isfinite(x) else float(x)


def jsonable(x):
    """Plain JSON values from numpy scalars and arrays, enums, statuses and tuples."""
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
        return x.item()
    return x


class Report:
    """Base of the command reports: subclasses define ``to_json`` and ``text``."""

    def to_json(self) -> dict:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.text() + "\n```"

    def __str__(self):
        return self.text()
