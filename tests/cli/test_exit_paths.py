"""Every exit path gives an exit code and at most one line (issue 22): output folders refused before
any work, unwritable output, streams that cannot encode the symbols, Ctrl-C during the imports, a
worker whose parent was killed, and files a killed run left half-written. No test waits a fixed
time: each waits for the event itself, within a generous bound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

FEBM = [sys.executable, "-m", "febm"]


def _febm(*args, **kw):
    return subprocess.run([*FEBM, *args], capture_output=True, text=True, **kw)


def _one_line_error(proc, words: str):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert words in proc.stderr


def _in_process(capsys, *args):
    """The CLI's main in this process (no second torch import): (exit code, stderr)."""
    from febm.dynamics.commands.cli import main

    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own exit for a refused argument
        code = exc.code
    return subprocess.CompletedProcess(args, code, "", capsys.readouterr().err)


@pytest.mark.parametrize("folder, words", [
    ("", "cannot be empty"),
    ("{file}/x", "Not a directory"),
    ("/proc/febm-out", "cannot write to /proc"),
    ("{tmp}/" + "a" * 300, "File name too long"),
])
def test_output_folders_are_refused_before_any_work(tmp_path, capsys, folder, words):
    (tmp_path / "afile").write_text("")
    folder = folder.format(file=tmp_path / "afile", tmp=tmp_path)
    _one_line_error(_in_process(capsys, "check", "kl", "--plot", folder), words)


def test_an_output_folder_made_for_a_failed_run_is_removed(tmp_path, capsys):
    out = tmp_path / "new" / "plots"
    _one_line_error(_in_process(capsys, "atlas", "not_a_divergence", "--plot", str(out)), "unknown divergence")
    assert not (tmp_path / "new").exists()


def test_a_deadline_has_a_maximum(capsys):
    _one_line_error(_in_process(capsys, "show", "kl", "--deadline", "1e300"), "at most 3600")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*FEBM, "show", "kl", "--json"], stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2 and proc.stderr == "febm: error: cannot write the output: No space left on device\n"


def test_a_stream_that_cannot_encode_the_symbols_gets_ascii():
    proc = _febm("divergences", env={**os.environ, "PYTHONIOENCODING": "ascii"})  # no torch: quick
    assert proc.returncode == 0, proc.stderr
    assert "f''(1)" in proc.stdout.splitlines()[0] and "?" not in proc.stdout.splitlines()[0]
    from febm.entry import _ascii_fallback  # noqa: F401  (the handler is registered on import)

    assert "η_ω/η_θ ≤ ∞, Re λ".encode("ascii", errors="febm-ascii") == b"eta_omega/eta_theta <= inf, Re lambda"


def test_ctrl_c_during_the_imports_is_one_line_and_130():
    """The entry point's handler is installed before the heavy imports; the signal arrives while
    Python is still importing (sent by the process to itself, so no timing is involved)."""
    code = ("import os, signal, febm.entry as e; signal.signal(signal.SIGINT, e._quit); "
            "os.kill(os.getpid(), signal.SIGINT); import febm.dynamics.commands.cli; import torch")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 130
    assert proc.stderr.strip() == "febm: interrupted; files from earlier runs are left as they were"


def _blocking_parent(tmp_path, tail: str):
    """A script whose derivation worker blocks an hour in its last step and whose first line of
    output is the worker's pid; ``tail`` starts the derivation."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import time\n"
        "from febm.divergences import derived, worker\n"
        "derived.record = lambda *a, **k: time.sleep(3600)\n"
        "worker.LIMITS.deadline = 3600\n"
        "real = worker.multiprocessing.get_context\n"
        "def noted(kind):\n"
        "    ctx = real(kind)\n"
        "    class P(ctx.Process):\n"
        "        def start(self):\n"
        "            super().start(); print(self.pid, flush=True)\n"
        "    ctx.Process = P\n"
        "    return ctx\n"
        "worker.multiprocessing.get_context = noted\n"
        + tail)
    return script


def test_the_derivation_worker_dies_with_its_parent(tmp_path):
    """A parent killed with -9 cannot stop its worker; the worker asks the kernel to end it then."""
    script = _blocking_parent(tmp_path, "worker.derive('(t-1)**2')\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 60  # a bound on the wait, not a sleep: it ends when the child does
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def test_ctrl_c_during_a_derivation_prints_nothing_from_the_worker(tmp_path):
    """Ctrl-C goes to the whole process group; the worker used to print "Process ForkProcess-1:"
    and a traceback of its own."""
    script = _blocking_parent(tmp_path, "try:\n"
                                        "    worker.derive('(t-1)**2')\n"
                                        "except KeyboardInterrupt:\n"
                                        "    print('parent interrupted', flush=True)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 60  # until the worker has entered its blocking step (not a fixed sleep)
        while time.monotonic() < deadline and "sleep" not in _wchan(child):
            time.sleep(0.05)
        assert _ignores(child, signal.SIGINT)  # whoever wins the race below, the worker cannot print
        os.killpg(parent.pid, signal.SIGINT)
        out, err = parent.communicate(timeout=60)
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
    assert "parent interrupted" in out
    assert "ForkProcess" not in err and "Traceback" not in err, err


def _ignores(pid: int, number: int) -> bool:
    with open(f"/proc/{pid}/status") as fh:
        mask = next(int(line.split()[1], 16) for line in fh if line.startswith("SigIgn:"))
    return bool(mask >> (number - 1) & 1)


def _wchan(pid: int) -> str:
    """What the process waits in (a kernel symbol such as hrtimer_nanosleep), or ''."""
    try:
        with open(f"/proc/{pid}/wchan") as fh:
            return fh.read()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_half_written_files_of_a_killed_run_are_removed_at_the_next_start(tmp_path):
    from febm.dynamics.files import clean_stale

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".spectra.partial-{int(dead.stdout)}.png"
    mine = tmp_path / f".spectra.partial-{os.getpid()}.png"
    stale.write_text("x")
    mine.write_text("x")
    [line] = clean_stale(tmp_path)
    assert stale.name in line and "killed run" in line
    assert mine.exists() and not stale.exists()


def test_a_setup_file_in_a_folder_whose_name_holds_dot_py(tmp_path):
    from febm.toy_models import setup

    folder = tmp_path / "a.pydir"
    folder.mkdir()
    (folder / "setup.py").write_text("import febm\nS = febm.setup('gaussian-1d')\n")
    assert setup(f"{folder}/setup.py:S").name == "gaussian-1d"


def test_a_closed_pipe_is_exit_2_and_one_line():
    """Output into a pipe whose reader has gone: exit 2 and one line on stderr (the pipe is closed
    before febm starts, so the outcome does not depend on timing)."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "febm", "divergences"], stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "febm: error: cannot write the output: the reading end of the pipe was closed"]


def test_ctrl_c_exits_130_with_one_line_and_keeps_the_old_manifest(tmp_path):
    """SIGINT while `febm figures` draws: code 130, one line, the earlier run's files untouched."""
    import signal

    out = tmp_path / "figs"
    out.mkdir()
    (out / "manifest.json").write_text('{"figures": [], "fast": true}')
    proc = subprocess.Popen([sys.executable, "-m", "febm", "figures", "--fast", "--only", "paper-1d", "--seed", "7",
                             "--out", str(out)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen = ""
    while "paper-1d:" not in seen:  # the progress bar names the figure once its drawing (training) starts
        char = proc.stderr.read(1)
        assert char, f"the command ended before drawing: {seen}"
        seen += char
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    err = seen + rest
    assert proc.returncode == 130, err
    # one line of its own (a progress bar may be redrawn around it as the process exits)
    assert "Traceback" not in err and [ln for ln in err.splitlines() if "interrupted" in ln] == [
        "febm: interrupted; files from earlier runs are left as they were"], err
    assert (out / "manifest.json").read_text() == '{"figures": [], "fast": true}'
    assert [p.name for p in out.iterdir()] == ["manifest.json"]
