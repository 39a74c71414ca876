"""The capped derivation worker (divergences/worker.py): a deadline and a memory cap, the numeric
path past the deadline, results that read back, and a deadline that ends with its command."""

import json
import time

import pytest

from febm.dynamics.commands.cli import main
from febm.errors import InputError


def test_worker_caps_time_and_reports_the_step(monkeypatch):
    """A derivation that cannot finish (its last step blocks, in the forked worker only) is stopped
    at the deadline, on any machine however fast, and the message names the step."""
    from febm.divergences import derived, worker

    monkeypatch.setattr(derived, "record", lambda *a, **k: time.sleep(3600))
    monkeypatch.setattr(worker.LIMITS, "deadline", 0.5)
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"ran past the 0.5 s deadline in the \w+"):  # whichever step it reached
        worker.derive("(t-1)**2")
    assert time.perf_counter() - start < 600  # stopped, not waited out (the block is an hour)


@pytest.mark.slow  # 12 s: the worker allocates up to its cap; make test-all
def test_worker_caps_memory():
    from febm.divergences import worker

    with pytest.raises(InputError, match="MB"):
        worker.derive("exp(exp(t))-exp(e)")


def test_valid_slow_generator_gets_an_answer_on_the_numeric_path(capsys):
    """Past the deadline, febm redoes the work with symbolic steps skipped and says so."""
    from febm.divergences import worker

    old = worker.LIMITS.deadline
    worker.LIMITS.deadline = 3.0
    try:
        d = worker.derive("2*(1/t+t-2)+3*((t-1)*tanh(t-1))+0.5*(cosh(t-1)-1)")
    finally:
        worker.LIMITS.deadline = old
    assert d.conjugate.method == "numeric" and d.validation["convex"].ok
    assert any("deadline" in n for n in d.notes)


@pytest.mark.slow  # 19 s of derivation
def test_worker_result_with_the_imaginary_unit_reads_back(capsys):
    text = "(sqrt(t) - 1)**2 - exp(2)/atan(2) + exp(t + 1)/(t*atan(2))"
    assert main(["show", "--json", "--deadline", "600", "--", text]) == 0  # a bound, not a race: 19 s idle
    out = json.loads(capsys.readouterr().out)
    assert out["tails"]["g"]["+inf"]["kind"] == "superexponential"


def test_a_deadline_given_to_one_command_does_not_outlive_it():
    from febm.divergences.worker import LIMITS

    before = LIMITS.deadline
    assert main(["show", "kl", "--deadline", "0.5", "--json"]) == 0
    assert LIMITS.deadline == before
