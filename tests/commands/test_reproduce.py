"""`febm reproduce`: what it refuses before training."""

from __future__ import annotations


def test_reproduce_refuses_a_bad_divergence_before_training(tmp_path, capsys):
    from febm.dynamics.commands.cli import main

    assert main(["reproduce", "paper-1d", "--divergences", "kl", "t**2", "--plot", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "f(1)" in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists()
