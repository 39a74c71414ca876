"""Issue 38: every input answered. A user's network is probed before any work, numeric options
are bounded where the work would hang, repeated names are refused, and each refusal is exit 2 with
one line and no traceback."""

import textwrap

import pytest

from febm.dynamics.commands.cli import main

MODULES = textwrap.dedent("""
    import torch

    class Nan(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            return self.layer(x) * float("nan")

    class Single(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            return self.layer(x).float()

    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            return x[:, 0] * 0.0

    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            raise RuntimeError("my own failure")

    WIDE = torch.nn.Linear(3, 1)
    NOPARAM = torch.nn.Identity()
    NAN = Nan()
    SHAPE = torch.nn.Linear(1, 3)
    SINGLE = Single()
    CONSTANT = Constant()
    BROKEN = Broken()
""")


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
    path = tmp_path / "nets.py"
    path.write_text(MODULES)
    return path


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
