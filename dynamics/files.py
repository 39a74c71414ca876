"""Write result files whole or not at all, and a set of files all together or not at all.

A command's files are written into a hidden staging folder beside them (``DIR/.febm-staging-PID-N/``)
and committed by renames. A set of more than one file is committed through a journal: the staging
folder's ``commit.json``, written (atomically) only once every file is whole, is the commit point. A
run killed before it (Ctrl-C, SIGTERM, kill -9, a timeout) changed nothing in DIR; a run killed during
the renames left a journal, and the next run that writes into DIR (or `recover`) completes the renames,
so DIR ends with the whole new set. Either way a reader sees the old set or the new one, never a mix
once `recover` has run; `pending` tells a reader that a commit is under way or was cut short.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

STAGING = ".febm-staging-"  # DIR/.febm-staging-PID-N/: files/NAME (staged) and commit.json (the journal)
JOURNAL = "commit.json"
WRITTEN: list[str] = []  # files this process committed: what an interrupted command says it left
EVENTS: list[tuple[str, str, list[str]]] = []  # ("committed" | "discarded", folder, file names), in order
_serial = itertools.count()


class Terminated(KeyboardInterrupt):
    """SIGTERM while a command runs: handled as Ctrl-C is (staged files discarded), exit 143."""


def interrupted_message() -> str:
    """The line for a Ctrl-C or SIGTERM: for each folder this run wrote into, whether it is as it was
    before the run or holds the whole new set (no folder is ever left with a mix)."""
    if not EVENTS:
        return "febm: interrupted; files from earlier runs are left as they were"
    parts, seen = [], {}
    for kind, folder, names in EVENTS:
        seen.setdefault(folder, []).append((kind, names))
    for folder, events in seen.items():
        committed = [n for kind, names in events if kind == "committed" for n in names]
        if events[-1][0] == "committed":
            parts.append(f"{folder} holds the complete new set ({_names(committed)}, written whole)")
        elif committed:
            parts.append(f"{folder} holds the {_names(committed)} written whole earlier in this run; the set being "
                         f"written when interrupted ({_names(events[-1][1])}) was discarded")
        else:
            parts.append(f"{folder} is as it was before this run (nothing was committed; discarded: "
                         f"{_names(events[-1][1])})")
    return "febm: interrupted; " + "; ".join(parts)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{len(names)} file{'s' * (len(names) != 1)}: {shown}" if names else "no file"


class Staging:
    """Files written into a staging folder and committed together when the block ends without error.

    ```python
    with Staging() as files:
        fig.savefig(files.stage("out/a.png"))
        files.stage("out/manifest.json").write_text("{}")
    ```

    The files of one set share a folder. They are committed in staging order (stage a manifest
    last); Ctrl-C and SIGTERM are held back during the commit, and a kill -9 during it is completed
    by the next run (`recover`).
    """

    def __init__(self):
        self.pending: list[tuple[Path, Path]] = []
        self.folder: Path | None = None  # where the files go
        self.staging: Path | None = None  # the staging folder inside it

    def stage(self, path) -> Path:
        """The path to write instead of ``path`` (in the staging folder, same name: a same-disk rename)."""
        final = Path(path)
        if self.staging is None:
            recover(final.parent)  # what a killed earlier run left there, before this run adds to it
            self.folder = final.parent
            self.staging = final.parent / f"{STAGING}{os.getpid()}-{next(_serial)}"
            self.staging.mkdir()  # no parent folder made here: a missing one fails as a plain write would
            (self.staging / "files").mkdir()
        elif final.parent != self.folder:
            raise ValueError(f"one set of files is committed into one folder: {final} is not in {self.folder}")
        if any(f.name == final.name for _, f in self.pending):
            raise ValueError(f"{final} is staged twice")
        temp = self.staging / "files" / final.name
        self.pending.append((temp, final))
        return temp

    def commit(self) -> None:
        """Write the journal (the commit point), then rename in staging order, with Ctrl-C and SIGTERM
        held back until every rename is done, so that a signal cannot split the set."""
        if not self.pending:
            self._remove_staging()
            return
        with _signals_held():
            if len(self.pending) > 1:  # one rename is atomic by itself: no journal needed
                for temp, _ in self.pending:
                    _fsync(temp)  # whole on disk before the journal says so
                _write_journal(self.staging, [final.name for _, final in self.pending])
            for temp, final in self.pending:
                os.replace(temp, final)
                WRITTEN.append(str(final))
            EVENTS.append(("committed", str(self.folder), [final.name for _, final in self.pending]))
            self.pending.clear()
            self._remove_staging()

    def discard(self) -> None:
        if self.pending:
            EVENTS.append(("discarded", str(self.folder), [final.name for _, final in self.pending]))
        self.pending.clear()
        self._remove_staging()

    def _remove_staging(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:  # KeyboardInterrupt included: the old files stay as they were
            with _signals_held():  # a second Ctrl-C cannot leave staged files behind
                self.discard()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_journal(staging: Path, names: list[str]) -> None:
    """The names to rename, in order, written whole (temporary name, fsync, rename): the commit point."""
    temp = staging / f"{JOURNAL}.tmp"
    temp.write_text(json.dumps({"pid": os.getpid(), "files": names}))
    _fsync(temp)
    os.replace(temp, staging / JOURNAL)
    try:
        fd = os.open(staging, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # a folder cannot be opened for fsync everywhere
        pass


def recover(folder, say: bool = True) -> list[str]:
    """Finish what killed runs left in ``folder``: a staging folder without a journal (killed before its
    commit point) is removed, so the folder's files stay the old set; one with a journal (killed during
    its renames) has its remaining renames done, so the folder holds that run's whole new set. Half-written
    ``.NAME.partial-PID.EXT`` files of older febm versions are removed too. Staging folders of running
    processes are left alone. One line per action, printed on stderr (``say``) and returned."""
    folder = Path(folder)
    lines = []
    try:
        candidates = sorted(folder.glob(f"{STAGING}*"))
        legacy = sorted(folder.glob(".*.partial-*"))
    except OSError:
        return lines
    for staging in candidates:
        pid = _pid(staging.name.removeprefix(STAGING).split("-", 1)[0])
        if pid is None or _alive(pid):
            continue
        try:
            names = json.loads((staging / JOURNAL).read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            names = None
        if names is None:
            staged = sorted(p.name for p in (staging / "files").glob("*")) if (staging / "files").is_dir() else []
            shutil.rmtree(staging, ignore_errors=True)
            lines.append(f"{folder}: removed the half-written files of a run that was killed before committing them "
                         f"(pid {pid}: {_names(staged)}); the files they were to replace are as they were")
            continue
        with _signals_held():
            done = []
            for name in names:
                if (staging / "files" / name).exists():
                    os.replace(staging / "files" / name, folder / name)
                    done.append(name)
            shutil.rmtree(staging, ignore_errors=True)
        lines.append(f"{folder}: completed the commit that a killed run (pid {pid}) had begun ({len(done)} of "
                     f"{len(names)} renames were left): the folder holds its whole new set ({_names(names)})")
    removed = []
    for temp in legacy:
        pid = _pid(temp.name.rsplit(".partial-", 1)[1].split(".", 1)[0])
        if pid is not None and not _alive(pid):
            temp.unlink(missing_ok=True)
            removed.append(temp.name)
    if removed:
        lines.append(f"{folder}: removed {_names(removed)} half-written by a killed run")
    if say:
        for line in lines:
            _note(line)
    return lines


def pending(folder) -> list[str]:
    """The commits under way or cut short in ``folder``: one line each (empty: its files are one set).
    A reader that finds one should not trust the folder's files to agree until `recover` has run."""
    lines = []
    for staging in sorted(Path(folder).glob(f"{STAGING}*")):
        if (staging / JOURNAL).exists():
            pid = _pid(staging.name.removeprefix(STAGING).split("-", 1)[0])
            state = "under way" if pid is not None and _alive(pid) else "cut short by a killed run"
            lines.append(f"{folder}: a commit of several files is {state} (pid {pid}); its files may be a mix of "
                         "old and new until the next febm run writing there completes it")
    return lines


def clean_stale(folder) -> list[str]:
    """`recover` the folder (what it did said on stderr); one line per action."""
    return recover(folder)


def _pid(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _note(line: str) -> None:
    """One line on stderr, around an open progress bar rather than glued to it."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None and getattr(getattr(tqdm, "tqdm", None), "_instances", None):
        tqdm.tqdm.write(f"febm: note: {line}", file=sys.stderr)
    else:
        print(f"febm: note: {line}", file=sys.stderr)


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


def _alive(pid: int) -> bool:
    """Whether process ``pid`` is running (a zombie, killed but not yet reaped, has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_text(path, text: str, files: Staging | None = None) -> str:
    """Write ``text`` to ``path`` atomically (or stage it in ``files``, a set committed later); returns the path."""
    with staged_in(files) as staged:
        staged.stage(path).write_text(text)
    return str(path)


def save_figure(fig, path, files: Staging | None = None, **kwargs) -> str:
    """``fig.savefig`` to ``path`` atomically (or staged in ``files``); returns the path."""
    with staged_in(files) as staged:
        fig.savefig(staged.stage(path), **kwargs)
    return str(path)


def save_figures(figures: dict, directory, dpi: int = 110, files: Staging | None = None) -> list[str]:
    """Each matplotlib figure of ``figures`` (name -> Figure) as ``directory/NAME.png``, committed as one
    set (or staged in ``files``, a set its owner commits with more files); returns the paths."""
    import matplotlib.pyplot as plt

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with staged_in(files) as staged:
        for name, fig in figures.items():
            path = out / f"{name}.png"
            fig.savefig(staged.stage(path), dpi=dpi)
            plt.close(fig)
            paths.append(str(path))
    return paths


@contextmanager
def staged_in(files: Staging | None):
    """``files`` itself (its owner commits it), or a new set of one committed at the block's end."""
    if files is not None:
        yield files
        return
    with Staging() as own:
        yield own


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


def write_json(path, data: dict, indent: int = 1, argv=None, files: Staging | None = None, **dumps) -> str:
    """Write a result file atomically, with ``provenance`` (see :func:`provenance`) added as its
    last key; the commands and studies write their result JSON through this. ``dumps`` goes to
    ``json.dumps`` (``allow_nan=False`` to refuse NaN); ``files``: staged in that set. Returns the path."""
    if not isinstance(data, dict):
        raise TypeError("a result file is a JSON object (a dict)")
    record = {**data, "provenance": provenance(argv)}
    return write_text(path, json.dumps(record, indent=indent, default=_plain, **dumps) + "\n", files)


def _plain(x):
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON")
