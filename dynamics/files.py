"""Write result files whole or not at all: to a hidden temporary name, renamed when complete.

An interrupted run (Ctrl-C, a killed process) then leaves the previous files, never a half-written
figure or a manifest that disagrees with the figures beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

WRITTEN: list[str] = []  # files this process committed: what an interrupted command says it left


def interrupted_message() -> str:
    """The line for a Ctrl-C: true about the files, whether or not a set was committed before it."""
    if not WRITTEN:
        return "febm: interrupted; files from earlier runs are left as they were"
    return (f"febm: interrupted after writing {len(WRITTEN)} file(s) whole (the last: {WRITTEN[-1]}); "
            "no file was left half-written")


class Staging:
    """Files written under temporary names and renamed together when the block ends without error.

    ```python
    with Staging() as files:
        fig.savefig(files.stage("out/a.png"))
        files.stage("out/manifest.json").write_text("{}")
    ```
    """

    def __init__(self):
        self.pending: list[tuple[Path, Path]] = []

    def stage(self, path) -> Path:
        """The temporary path to write instead of ``path`` (same folder, same suffix: a same-disk rename)."""
        final = Path(path)
        temp = final.with_name(f".{final.stem}.partial-{os.getpid()}{final.suffix}")
        self.pending.append((temp, final))
        return temp

    def commit(self) -> None:
        """Rename in staging order (stage a manifest last: it is the commit point) with Ctrl-C and
        SIGTERM held back until every rename is done, so that a signal cannot split the set."""
        with _signals_held():
            for temp, final in self.pending:
                os.replace(temp, final)
                WRITTEN.append(str(final))
            self.pending.clear()

    def discard(self) -> None:
        for temp, _ in self.pending:
            temp.unlink(missing_ok=True)
        self.pending.clear()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:  # KeyboardInterrupt included: the old files stay as they were
            with _signals_held():  # a second Ctrl-C cannot leave .partial files behind
                self.discard()


@contextmanager
def _signals_held():
    """Record SIGINT/SIGTERM instead of acting on them, then re-raise them. (A signal mask would not
    do: a process-directed signal goes to any thread that leaves it unblocked, torch's included.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {s: signal.signal(s, lambda number, frame: caught.append(number)) for s in _HELD}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        for number in caught:
            signal.raise_signal(number)


_HELD = (signal.SIGINT, signal.SIGTERM)


def sha256(path) -> str:
    """The file's SHA-256 (a manifest names each file's content, so a reader can check the set)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def clean_stale(folder) -> list[str]:
    """Remove the ``.NAME.partial-PID.EXT`` files in ``folder`` whose process is gone (a run killed
    with -9 or past a timeout cannot clean up after itself); returns what was removed."""
    removed = []
    for temp in Path(folder).glob(".*.partial-*"):
        pid = temp.name.rsplit(".partial-", 1)[1].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            temp.unlink(missing_ok=True)
            removed.append(str(temp))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_text(path, text: str) -> str:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with Staging() as files:
        files.stage(path).write_text(text)
    return str(path)


def save_figure(fig, path, **kwargs) -> str:
    """``fig.savefig`` to ``path`` atomically; returns the path."""
    with Staging() as files:
        fig.savefig(files.stage(path), **kwargs)
    return str(path)


def provenance(argv=None) -> dict:
    """Where a result came from: febm's version, the git commit (``-dirty`` when the tree has
    uncommitted changes), the command line and the date (UTC)."""
    return {"febm_version": _version(), "git_commit": git_commit(),
            "command": shlex.join(sys.argv if argv is None else argv),
            "date_utc": datetime.now(UTC).isoformat(timespec="seconds")}


def _version() -> str:
    """febm's installed version (as febm.__version__; read here so the files layer imports nothing of febm)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("febm")
    except PackageNotFoundError:
        return "0+unknown"


def git_commit() -> str | None:
    """HEAD of the repository febm runs from, ``-dirty`` if tracked files changed; None outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=root, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=root, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def write_json(path, data: dict, indent: int = 1, argv=None, **dumps) -> str:
    """Write a result file atomically, with ``provenance`` (see :func:`provenance`) added as its
    last key; the commands and studies write their result JSON through this. ``dumps`` goes to
    ``json.dumps`` (``allow_nan=False`` to refuse NaN). Returns the path."""
    if not isinstance(data, dict):
        raise TypeError("a result file is a JSON object (a dict)")
    record = {**data, "provenance": provenance(argv)}
    return write_text(path, json.dumps(record, indent=indent, default=_plain, **dumps) + "\n")


def _plain(x):
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON")
