"""Write result files whole or not at all: to a hidden temporary name, renamed when complete.

An interrupted run (Ctrl-C, a killed process) then leaves the previous files, never a half-written
figure or a manifest that disagrees with the figures beside it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path


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
