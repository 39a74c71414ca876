"""Multi-file outputs are all-or-nothing (issue 38): a set of files written into DIR is either the old
set or the whole new one after a kill at any file (kill -9: a process that ends with no cleanup), and
the next run that writes there removes or completes what a killed run left, saying which. Ctrl-C and
SIGTERM say truthfully whether DIR is as before or holds the new set."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from febm.dynamics import files as files_module
from febm.dynamics.commands.cli import main
from febm.dynamics.files import STAGING, Staging, pending, recover

NAMES = ["a.png", "b.pdf", "c.png", "manifest.json"]  # committed in this order: the manifest last

# a child process that stages NAMES with "new" contents and dies like kill -9 (os._exit, no cleanup)
# half-way through staged file STAGED, or after RENAMED of the commit's renames
CHILD = textwrap.dedent("""
    import os, sys
    from febm.dynamics import files
    folder, staged_before_kill, renamed_before_kill = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = {names!r}
    real, done = os.replace, []

    def replace(src, dst):
        if "/files/" in str(src) and len(done) == renamed_before_kill:
            os._exit(137)
        real(src, dst)
        if "/files/" in str(src):  # a staged file renamed into place (not the journal)
            done.append(dst)

    files.os.replace = replace
    with files.Staging() as staged:
        for k, name in enumerate(names):
            path = staged.stage(os.path.join(folder, name))
            if k == staged_before_kill:  # killed half-way through file k
                path.write_text("ne")
                os._exit(137)
            path.write_text("new " + name)
    print("committed")
""").format(names=NAMES)


def _old_set(folder):
    for name in NAMES:
        (folder / name).write_text("old " + name)


def _contents(folder):
    return {name: (folder / name).read_text().split()[0] for name in NAMES}


def _killed_child(folder, staged, renamed):
    return subprocess.run([sys.executable, "-c", CHILD, str(folder), str(staged), str(renamed)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("k", range(len(NAMES)))
def test_a_kill_while_staging_file_k_leaves_the_old_set_and_the_next_run_removes_the_staged_files(tmp_path, k):
    _old_set(tmp_path)
    assert _killed_child(tmp_path, k, -1).returncode == 137
    assert _contents(tmp_path) == dict.fromkeys(NAMES, "old")
    assert pending(tmp_path) == []  # no commit had begun: nothing for a reader to distrust
    lines = recover(tmp_path, say=False)
    assert len(lines) == 1 and "killed before committing them" in lines[0] and "are as they were" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)  # the staging folder is gone
    assert _contents(tmp_path) == dict.fromkeys(NAMES, "old")


@pytest.mark.parametrize("k", range(len(NAMES) + 1))
def test_a_kill_after_k_renames_of_the_commit_is_completed_by_the_next_run(tmp_path, k):
    """kill -9 in the middle of the renames: the journal was written first, so the next run finishes
    them; a reader in between is told (`pending`) that the set is mid-commit."""
    _old_set(tmp_path)
    proc = _killed_child(tmp_path, len(NAMES), k)
    if k == len(NAMES):  # every rename done: the child committed and exited normally
        assert proc.returncode == 0 and proc.stdout.strip() == "committed"
        assert _contents(tmp_path) == dict.fromkeys(NAMES, "new")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)
        return
    assert proc.returncode == 137
    assert [v for v in _contents(tmp_path).values()] == ["new"] * k + ["old"] * (len(NAMES) - k)
    [line] = pending(tmp_path)
    assert "cut short by a killed run" in line
    lines = recover(tmp_path, say=False)
    assert len(lines) == 1 and "completed the commit" in lines[0] and f"{len(NAMES) - k} of {len(NAMES)}" in lines[0]
    assert _contents(tmp_path) == dict.fromkeys(NAMES, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)
    assert pending(tmp_path) == []


def test_the_next_staging_in_a_folder_recovers_it_and_says_so(tmp_path, capsys):
    _old_set(tmp_path)
    assert _killed_child(tmp_path, len(NAMES), 1).returncode == 137
    with Staging() as staged:  # a later run writing one other file there
        staged.stage(tmp_path / "other.json").write_text("{}")
    err = capsys.readouterr().err
    assert err.startswith("febm: note: ") and "completed the commit" in err and err.count("\n") == 1
    assert _contents(tmp_path) == dict.fromkeys(NAMES, "new")


def test_a_staging_folder_of_a_running_process_is_left_alone(tmp_path):
    with Staging() as staged:
        staged.stage(tmp_path / "a.png").write_text("new")
        assert recover(tmp_path, say=False) == []  # ours: alive
        assert len(list(tmp_path.glob(f"{STAGING}*"))) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_a_set_spans_one_folder_and_names_each_file_once(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(ValueError, match="one folder"), Staging() as staged:
        staged.stage(tmp_path / "a.png").write_text("x")
        staged.stage(tmp_path / "sub" / "b.png")
    with pytest.raises(ValueError, match="staged twice"), Staging() as staged:
        staged.stage(tmp_path / "a.png").write_text("x")
        staged.stage(tmp_path / "a.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_a_missing_folder_is_not_made_by_a_write(tmp_path):
    with pytest.raises(FileNotFoundError):
        files_module.write_text(tmp_path / "nope" / "a.json", "{}")
    assert not (tmp_path / "nope").exists()


# --- the commands, end to end: a signal at each point of the write ---------------------------------
# Runs febm's console entry with os.replace (the commit's renames) or savefig (the staging) wrapped so
# that a signal (or a kill -9) reaches the process at a chosen file.
WRAPPER = textwrap.dedent("""
    import os, signal, sys
    how, at = sys.argv[1], int(sys.argv[2])
    from febm.dynamics import files
    import matplotlib.figure
    real_replace, real_savefig, counts = os.replace, matplotlib.figure.Figure.savefig, [0, 0]
    SIGNAL = {"int": signal.SIGINT, "term": signal.SIGTERM, "kill": None}

    def hit():
        if SIGNAL[how] is None:
            os._exit(137)
        os.kill(os.getpid(), SIGNAL[how])

    def replace(src, dst):
        real_replace(src, dst)
        if ".febm-staging-" in str(src) and "/files/" in str(src):
            counts[0] += 1
            if at < 0 and counts[0] == -at:
                hit()

    def savefig(self, path, *args, **kwargs):
        counts[1] += 1
        if counts[1] == at:
            hit()
        return real_savefig(self, path, *args, **kwargs)

    files.os.replace = replace
    matplotlib.figure.Figure.savefig = savefig
    from febm.entry import main
    sys.exit(main(sys.argv[3:]))
""")


def _febm(how, at, argv, tmp_path):
    return subprocess.run([sys.executable, "-c", WRAPPER, how, str(at), *argv], capture_output=True, text=True,
                          timeout=900, cwd=tmp_path)  # minutes on a loaded machine: torch's import alone


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The new set (a `figures` run's files) and an old one told apart from it: each figure with bytes
    appended (PNG readers ignore them) and a manifest recording those."""
    root = tmp_path_factory.mktemp("figs")
    out = root / "new"
    proc = _febm("int", 0, ["figures", "--fast", "--only", "trainer-scaling-cpu", "links", "--out", str(out)], root)
    assert proc.returncode == 0, proc.stderr
    new = _snapshot(out)
    old = {name: data + b"old" for name, data in new.items() if name != "manifest.json"}
    manifest = json.loads(new["manifest.json"])
    for entry in manifest["figures"]:
        entry["sha256"] = {name: hashlib.sha256(old[name]).hexdigest() for name in entry["sha256"]}
    old["manifest.json"] = json.dumps(manifest).encode()
    return {"old": old, "new": new}


def _old_folder(tmp_path, drawn):
    out = tmp_path / "figs"
    out.mkdir()
    for name, data in drawn["old"].items():
        (out / name).write_bytes(data)
    return out


def _is_set(folder, drawn):
    """Which whole set the folder holds ("old", "new"), or None for a mix; its manifest must agree."""
    now = _snapshot(folder)
    manifest = json.loads(now["manifest.json"])
    for entry in manifest["figures"]:  # the manifest describes the figures beside it
        for name, digest in entry["sha256"].items():
            assert files_module.sha256(folder / name) == digest
    for label in ("old", "new"):
        if {n: d for n, d in now.items() if n != "manifest.json"} == \
                {n: d for n, d in drawn[label].items() if n != "manifest.json"}:
            return label
    return None


@pytest.mark.slow
@pytest.mark.parametrize(("how", "at"), [("int", 2), ("term", 1), ("int", -1), ("term", -3)])
def test_figures_interrupted_at_a_file_says_truthfully_what_the_folder_holds(tmp_path, drawn, how, at):
    """Ctrl-C or SIGTERM as the first or second figure file is staged (at > 0: the old set stays) or
    as the first or last file is renamed into place (at < 0: the commit is finished first, under the
    held signal): exit 130 or 143, one line saying which set the folder holds, and so it does."""
    out = _old_folder(tmp_path, drawn)
    proc = _febm(how, at, ["figures", "--fast", "--only", "trainer-scaling-cpu", "links", "--out", str(out)],
                 tmp_path)
    assert proc.returncode == {"int": 130, "term": 143}[how], proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("febm:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    held = _is_set(out, drawn)
    if at > 0:
        assert held == "old" and lines[0].startswith(f"febm: interrupted; {out} is as it was before this run "
                                                     "(nothing was committed; discarded: ")
    else:
        assert held == "new" and lines[0].startswith(f"febm: interrupted; {out} holds the complete new set (")
    assert sorted(p.name for p in out.iterdir()) == sorted(drawn["old"])  # nothing staged is left behind


@pytest.mark.slow
@pytest.mark.parametrize("at", [2, -2])
def test_figures_killed_at_a_file_is_one_set_once_the_next_run_has_looked(tmp_path, drawn, at):
    """kill -9 at a staged file or a rename: the folder is the old set (staged) or mid-commit
    (renames), and `pending` says so; the next run writing there completes or removes it,
    in one note, before its own work."""
    out = _old_folder(tmp_path, drawn)
    argv = ["figures", "--fast", "--only", "trainer-scaling-cpu", "links", "--out", str(out)]
    assert _febm("kill", at, argv, tmp_path).returncode == 137
    faults = pending(out)
    if at > 0:
        assert _is_set(out, drawn) == "old" and not any("commit" in f for f in faults)
    else:
        assert any("cut short by a killed run" in f for f in faults)
    proc = _febm("int", 0, ["figures", "--list", "--out", str(out)], tmp_path)  # writes nothing: no recovery
    assert proc.returncode == 0 and "note" not in proc.stderr
    proc = _febm("int", 0, ["figures", "--fast", "--only", "links", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("febm: note:")]
    assert len(notes) == 1
    assert ("completed the commit" if at < 0 else "killed before committing them") in notes[0]
    held = _is_set(out, drawn)  # the manifest describes the files beside it, either way
    if at < 0:  # the killed run's commit completed, then this run's links: all new
        assert held == "new"
    else:  # the killed run changed nothing: the links are this run's, the rest as before
        assert (out / "trainer-scaling-cpu.png").read_bytes() == drawn["old"]["trainer-scaling-cpu.png"]
    assert not list(out.glob(f"{STAGING}*"))


def test_sigterm_before_the_work_is_one_line_and_143(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "febm", "divergences"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    proc.send_signal(signal.SIGTERM)  # while Python imports febm (or just after, if the machine is fast)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (143, 0, -signal.SIGTERM) and "Traceback" not in err
    if proc.returncode == 143:
        assert err.strip().count("\n") == 0 and err.strip().startswith("febm: interrupted")


def test_bench_plot_files_are_one_set(tmp_path, monkeypatch):
    """bench --plot DIR: the figure and bench-toy2d.json are staged in one set (an interrupt at the
    JSON keeps the old figure too)."""
    from febm.dynamics.commands import cli

    calls = []
    real = files_module.Staging.commit

    def commit(self):
        calls.append(sorted(final.name for _, final in self.pending))
        return real(self)

    monkeypatch.setattr(files_module.Staging, "commit", commit)

    class Report:
        plot = None

        def all_figures(self):
            from matplotlib.figure import Figure

            return {"bench-toy2d": Figure()}

        def json_text(self):
            return "{}"

    from febm.dynamics.training import bench

    monkeypatch.setattr(bench, "run", lambda *a, **k: Report())
    monkeypatch.setattr(cli, "_emit", lambda report, args: 0)
    assert cli.main(["bench", "toy2d", "moons", "--methods", "cd", "--seeds", "2", "--budget", "0.0005",
                     "--plot", str(tmp_path)]) == 0
    assert calls == [["bench-toy2d.json", "bench-toy2d.png"]]


def test_staged_files_appear_together_or_not_at_all(tmp_path):
    from febm.dynamics.files import Staging, write_text

    write_text(tmp_path / "manifest.json", "old")
    with pytest.raises(KeyboardInterrupt), Staging() as files:
        files.stage(tmp_path / "a.png").write_text("new a")
        files.stage(tmp_path / "manifest.json").write_text("new")
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]
    assert (tmp_path / "manifest.json").read_text() == "old"
    with Staging() as files:
        files.stage(tmp_path / "a.png").write_text("new a")
    assert (tmp_path / "a.png").read_text() == "new a"
    assert not list(tmp_path.glob(".*partial*"))


def test_staging_commit_holds_ctrl_c_until_every_rename_is_done(tmp_path, monkeypatch):
    from febm.dynamics import files as files_module

    names = ["a.png", "b.png", "manifest.json"]
    for name in names:
        (tmp_path / name).write_text("old")
    real_replace, done = os.replace, []

    def replace_then_interrupt(src, dst):
        real_replace(src, dst)
        if os.path.dirname(dst) != str(tmp_path):  # the commit's journal, written first
            return
        done.append(dst)
        if len(done) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the first and second rename

    monkeypatch.setattr(files_module.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt), files_module.Staging() as staged:
        for name in names:
            staged.stage(tmp_path / name).write_text("new")
    assert [(tmp_path / n).read_text() for n in names] == ["new"] * 3
    assert len(done) == 3


# --- multi-file outputs: all or nothing, and a message that says which --------------------------------
def _two_figures(second_fails: bool):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from febm.dynamics.report import Report

    class TwoFigures(Report):
        def all_figures(self):
            figs = {"first": plt.figure(), "second": plt.figure()}
            if second_fails:
                def interrupted(*args, **kwargs):
                    raise KeyboardInterrupt

                figs["second"].savefig = interrupted
            return figs

        def text(self):
            return ""

    return TwoFigures()


def test_a_figure_set_is_written_whole_or_not_at_all(tmp_path):
    (tmp_path / "first.png").write_text("old")
    (tmp_path / "second.png").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        _two_figures(second_fails=True).save_figures(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.png", "second.png"]  # no .partial left
    assert (tmp_path / "first.png").read_text() == "old"  # the first was not replaced alone
    assert _two_figures(second_fails=False).save_figures(tmp_path) == [str(tmp_path / "first.png"),
                                                                        str(tmp_path / "second.png")]
    assert (tmp_path / "first.png").read_bytes().startswith(b"\x89PNG")


def test_an_interrupt_after_a_set_was_committed_says_so(tmp_path, capsys, monkeypatch):
    from febm.dynamics.commands import cli
    from febm.dynamics.files import write_text

    def writes_then_interrupted(args):
        write_text(tmp_path / "result.json", "{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_divergences", writes_then_interrupted)
    assert main(["divergences"]) == 130
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln]
    assert lines == [f"febm: interrupted; {tmp_path} holds the complete new set (1 file: result.json, written whole)"]
    monkeypatch.setattr(cli, "_cmd_divergences", lambda args: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(["divergences"]) == 130  # a later run in the same process wrote nothing
    assert "files from earlier runs are left as they were" in capsys.readouterr().err
