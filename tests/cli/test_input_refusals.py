"""Issue 38: every input answered. A user's network is probed before any work, numeric options
are bounded where the work would hang, repeated names are refused, and each refusal is exit 2 with
one line and no traceback."""


import pytest
from user_modules import write as write_modules

from febm.divergences import resolve
from febm.dynamics.commands.cli import main
from febm.errors import InputError


def refused(argv, capsys) -> str:
    """Run febm in-process; assert exit 2 with exactly one error line and no traceback; return it."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("febm: error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def nets(tmp_path):
    return write_modules(tmp_path)


@pytest.mark.parametrize("name, says", [
    ("WIDE", "takes inputs of width 3, but this set-up's x has 1"),
    ("NOPARAM", "has no parameters"),
    ("NAN", "non-finite"),
    ("SHAPE", "returns shape (4, 3) for 4 inputs; expected (4,) or (4, 1)"),
    ("SINGLE", "returns float32"),
    ("CONSTANT", "does not depend on its parameters"),
    ("BROKEN", "fails on a batch of this set-up's inputs, shape (4, 1) (float64): my own failure"),
])
@pytest.mark.parametrize("command", [["check", "kl", "--no-simulation"],
                                     ["calibrate", "kl", "--flow-steps", "0", "--warm-steps", "0"]])
def test_a_user_critic_is_probed_before_any_work(command, name, says, nets, capsys, monkeypatch):
    from febm.dynamics.analysis import game

    def no_work(*args, **kwargs):  # the refusal comes before the game is played
        raise AssertionError("the game was built before the critic was probed")

    monkeypatch.setattr(game.Game, "__init__", no_work)
    line = refused([*command, "--model", "paper-1d", "--critic", f"{nets}:{name}"], capsys)
    assert f"critic nets.py:{name}" in line and says in line


def test_a_module_critic_from_python_is_probed_too(nets):
    import torch

    from febm.errors import InputError
    from febm.toy_models import with_critic
    from febm.toy_models.critics import ModuleCritic

    with pytest.raises(InputError, match="width 3"):
        with_critic("paper-1d", ModuleCritic(torch.nn.Linear(3, 1), name="mine"))
    with pytest.raises(InputError, match="width 1"):
        with_critic("toy2d-moons", ModuleCritic(torch.nn.Linear(1, 1), name="mine"))


def test_a_user_file_that_exits_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "quits.py").write_text("import sys\nsys.exit(3)\n")
    line = refused(["check", "kl", "--model", f"{tmp_path / 'quits.py'}:S"], capsys)
    assert "exited while loading (sys.exit(3))" in line
    (tmp_path / "later.py").write_text("import sys\n\ndef S():\n    sys.exit('bye')\n")
    line = refused(["check", "kl", "--model", f"{tmp_path / 'later.py'}:S"], capsys)
    assert "later.py:S exited" in line


# --- numbers that used to hang: refused before the work, with the range that works --------------
def test_spread_near_0_or_1_is_refused_before_any_run(capsys, monkeypatch):
    from febm.dynamics.commands import spread

    monkeypatch.setattr(spread, "minibatch_run", lambda *a, **k: pytest.fail("runs started"))
    for fraction, says in (("1e-300", "never ends"), ("1e-9", "151,851,090,003 steps"),
                           ("0.999999", "9,122,208 steps")):
        line = refused(["confirm", "kl", "--spread", fraction, "--runs", "2", "--batch", "2", "--steps", "10"], capsys)
        assert says in line and "at most 100,000 steps" in line and "at 0.5 it takes 303 steps" in line


def test_spread_where_every_run_diverges_is_no_result_not_nan(capsys):
    line = refused(["confirm", "kl", "--spread", "0.999", "--runs", "2", "--batch", "2", "--steps", "10"], capsys)
    assert "all 2 runs stopped being finite" in line and "nan" not in line


def test_a_learning_rate_whose_flow_time_cannot_move_the_start_is_refused(capsys):
    for lr in ("1e-300", "1e-13", "1e4"):
        assert "between 1e-12 and 1000" in refused(["atlas", "kl", "--lr", lr, "--steps", "1"], capsys)


def test_a_critic_too_large_for_the_dense_jacobian_is_refused_before_work(capsys, monkeypatch):
    from febm.dynamics.analysis import game

    monkeypatch.setattr(game.Game, "__init__", lambda *a, **k: pytest.fail("the game was built"))
    line = refused(["check", "kl", "--model", "paper-1d", "--critic", "mlp:1024,1024,1024,1024",
                    "--no-simulation"], capsys)
    assert "3,151,875 parameters" in line and "217 TB" in line and "narrower critic" in line


def test_large_networks_are_refused_past_memory_and_announced_before_training(capsys, monkeypatch):
    from febm.dynamics import memory
    from febm.dynamics.training import toy2d_training as toy2d

    monkeypatch.setattr(memory, "available", lambda: 2**30)  # a 1 GB machine: the bound, not this one's
    monkeypatch.setattr(toy2d, "_gradients", lambda *a, **k: pytest.fail("training started"))
    line = refused(["toy2d", "moons", "--steps", "1", "--methods", "cd", "--hidden", "4096,4096,4096"], capsys)
    assert "33,579,009 parameters each" in line and "narrower --hidden" in line
    monkeypatch.undo()
    monkeypatch.setattr(toy2d, "_multiply_adds_per_second", lambda kw: 1.0)  # a slow machine: announced
    assert main(["toy2d", "moons", "--steps", "1", "--methods", "cd", "--hidden", "4,4"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("febm: 1 run(s) of networks with 37 parameters each: about ") and " h (" in err


# --- repeated names ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv, what", [
    (["figures", "--only", "spectra", "spectra"], "--only"),
    (["atlas", "kl", "kl"], "the list of divergences"),
    (["calibrate", "kl", "kl"], "the list of divergences"),
    (["toy2d", "moons", "--methods", "cd,cd"], "--methods"),
    (["bench", "toy2d", "--methods", "kl,cd,kl"], "--methods"),
    (["bench", "toy2d", "moons", "moons"], "the list of datasets"),
    (["reproduce", "paper-1d", "--divergences", "kl", "kl"], "--divergences"),
    (["calibrate", "kl", "--quantities", "rate,rate"], "--quantities"),
])
def test_a_name_given_twice_is_refused_the_same_way_everywhere(argv, what, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = refused(argv, capsys)
    assert what in line and "twice; give each once" in line
    assert not (tmp_path / "figures-out").exists()  # before any work or folder


# --- streams ------------------------------------------------------------------------------------
def _febm_shell(argv, redirect: str):
    import subprocess
    import sys

    return subprocess.run(["sh", "-c", f'"{sys.executable}" -m febm "$@" {redirect}', "sh", *argv],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv, redirect, says", [
    (["divergences"], ">&-", "standard output is closed"),
    (["check", "nope"], "2>&-", ""),
    (["--threads", "x"], "2>&-", ""),
])
def test_a_closed_stream_gives_a_defined_status_and_one_line_where_one_is_open(argv, redirect, says):
    done = _febm_shell(argv, redirect)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    if says:
        assert done.stderr.strip().splitlines() == [f"febm: error: {says}; nothing can be written "
                                                     "(discard it with >/dev/null)"]


def test_a_progress_bar_is_ended_before_the_error_line(tmp_path, capfd, monkeypatch):
    import errno

    from febm import entry
    from febm.dynamics.commands import atlas

    def full_disk(*args, **kwargs):  # fails while the bar is drawn (a full disk mid-work)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atlas, "atlas_row", full_disk)
    assert entry.main(["atlas", "kl", "--model", "gaussian-1d", "--plot", str(tmp_path / "plots")]) == 2
    err = capfd.readouterr().err
    assert "febm atlas" in err  # the bar was drawn
    assert "\nfebm: error: cannot write the output: No space left on device\n" in err
    assert err.count("febm: error") == 1 and "Traceback" not in err


# --- no wrong number with exit 0 ------------------------------------------------------------------
@pytest.mark.parametrize("expression, says", [
    ("(t-1)**2*1e-60*1e-60*1e-60*1e-60*1e-60*1e-60", "f''(1) = 2.00E-360 underflows float64"),
    ("exp(700*t)-exp(700)-700*exp(700)*(t-1)", "f''(1) = 4.97E+309 overflows float64"),
    ("(t-1)**2*1e60*1e60*1e60*1e60*1e60*1e60", "f''(1) = 2.00E+360 overflows float64"),
])
@pytest.mark.parametrize("command", [["show"], ["check", "--no-simulation"]])
def test_an_f2_outside_float64_is_said_as_such(command, expression, says, capsys):
    line = refused([command[0], expression, *command[1:]], capsys)
    assert says in line and "Error" not in line


def test_a_derivation_that_breaks_down_shows_no_python_exception(monkeypatch, capsys):
    from febm.divergences import divergence

    def broken(*args, **kwargs):
        raise ValueError("max() arg is an empty sequence")

    monkeypatch.setattr(divergence, "verify", broken)  # the forked worker inherits it
    line = refused(["show", "(t-1)**2*3"], capsys)
    assert "the conjugate check could not be completed" in line
    assert "ValueError" not in line and "max()" not in line


def test_reproduce_refuses_an_f_without_an_exact_minimizer_before_training(capsys, monkeypatch):
    from febm.dynamics.training import paper1d

    monkeypatch.setattr(paper1d, "BatchedGaussianFEBM", lambda *a, **k: pytest.fail("training started"))
    line = refused(["reproduce", "paper-1d", "--divergences", "cosh(t-1)-1", "--steps", "2", "--warmup", "0",
                    "--seeds", "1"], capsys)
    assert "no exact minimizer" in line and "infinite for every Gaussian" in line


@pytest.mark.parametrize("f", ["(t-1)**4", "total_variation"])
def test_toy2d_and_reproduce_refuse_the_same_f_without_curvature(f, capsys):
    toy = refused(["toy2d", "moons", "--steps", "1", "--methods", f], capsys)
    paper = refused(["reproduce", "paper-1d", "--divergences", f, "--steps", "2", "--warmup", "0", "--seeds", "1"],
                    capsys)
    assert toy == paper and "needs f''(1) > 0" in toy


@pytest.mark.parametrize("argv, says", [
    (["check", "kl", "--model", "paper-1d", "--critic", "mlp:４"], "got 'mlp:４'"),
    (["confirm", "kl", "--runs", "４"], "ASCII digits, not '４'"),
    (["atlas", "kl", "--lr", "０.1"], "ASCII digits, not '０.1'"),
    (["toy2d", "moons", "--hidden", "٤"], "ASCII digits"),
    (["--threads", "２", "divergences"], "ASCII digits"),
    (["check", "kl", "--seed", "３"], "ASCII digits"),
    (["reproduce", "paper-1d", "--clip", "１"], "ASCII digits"),
])
def test_numbers_take_ascii_digits_only(argv, says, capsys):
    assert says in refused(argv, capsys)


# --- a newcomer's snags ----------------------------------------------------------------------------
def test_options_after_the_separator_are_read(capsys):
    assert main(["show", "--", "-log(t)", "--json"]) == 0
    assert '"name": "-log(t)"' in capsys.readouterr().out


def test_an_empty_choice_list_says_so(tmp_path, capsys):
    (tmp_path / "empty.py").write_text("x = 1\n")
    line = refused(["check", "kl", "--model", f"{tmp_path / 'empty.py'}:S"], capsys)
    assert line.endswith(f"there is no Setup in {tmp_path / 'empty.py'} to choose") and "choose from ;" not in line


def test_figures_list_makes_and_checks_no_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["figures", "--list"]) == 0 and main(["figures", "--list", "--out", "/proc/febm-x"]) == 0
    assert not (tmp_path / "figures-out").exists() and "spectra" in capsys.readouterr().out
    assert "argument --out: cannot write to /proc/febm-x" in refused(["figures", "--out", "/proc/febm-x"], capsys)


def test_nothing_is_executed_through_any_entry_point(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary = tmp_path / "pwned"
    payloads = [f"__import__('os').system('touch {canary}')", f"eval(\"open('{canary}','w')\")",
                f"t*exec('open(\"{canary}\",\"w\")')"]
    for payload in payloads:
        for argv in (["show", payload], ["check", payload, "--no-simulation"], ["atlas", payload]):
            assert main(argv) == 2
        with pytest.raises(InputError):
            resolve(payload)
    assert not canary.exists()


@pytest.mark.parametrize("text, fragment", [
    ("cosh(cosh(62093))-cosh(cosh(62093/t))", "beyond float range"),
    ("t*((((((2**64)**64)**64)**64)**64)**64)", "beyond float range"),
    ("alpha=1e64", "exceeds the limit"),
    ("t**log(-1)", "not a finite real number"),
    ("(t-1)*log(t", "unclosed parenthesis"),
    ("hellinger", "squared_hellinger"),
])
def test_reproducers_are_refused_with_one_line(text, fragment, capsys):
    assert main(["show", text]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


@pytest.mark.parametrize("text, fragment", [
    ("abs(t-1)**0.5", "not convex"),  # f' → ∓∞ beside the kink: was "Invalid NaN comparison"
    ("exp(-1/abs(t-1))", "f(1) is undefined"),  # was "Invalid NaN comparison", then "f(1) = nan"
    ("(t-1)**2 - abs(t-1)", "f' jumps down at the kink t = 1"),
])
def test_invalid_generators_get_their_reason_not_an_internal_error(text, fragment, capsys):
    assert main(["show", text]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "NaN comparison" not in err and "nan" not in err


@pytest.mark.parametrize("value", ["0", "-5", "701", "nan", "inf"])
def test_link_clip_out_of_range_is_one_line(value, capsys):
    assert main(["toy2d", "moons", "--steps", "1", "--link-clip", value]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_budget_beyond_any_run_is_one_line(capsys):
    """Found by the CLI fuzz: --budget 1e30 overflowed a step count deep in the trainer."""
    assert main(["bench", "toy2d", "moons", "--methods", "cd", "--budget", "9" * 30]) == 2
    assert "must be at most 100000 (millions)" in capsys.readouterr().err
