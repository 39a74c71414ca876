"""The febm command line as a whole: the console script executes nothing it is given, the catalog
commands start without torch, freed memory goes back to the system, and --help lists every model."""

import subprocess
import sys
from pathlib import Path

import pytest


def test_console_script_injection_is_not_executed(tmp_path):
    canary = tmp_path / "pwned"
    expr = f"__import__('os').system('touch {canary}')"
    proc = subprocess.run(
        [sys.executable, "-m", "febm", "show", expr],
        capture_output=True, text=True, cwd=Path(__file__).parents[2],
    )
    assert proc.returncode == 2 and not canary.exists()
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_catalog_commands_do_not_import_torch():
    """`febm divergences` and `febm show NAME` answer from the shipped catalog; torch's 2-4 s
    import, or scipy.optimize's 0.4 s, would be most of their cold start (issue #14: under 1.5 s)."""
    import subprocess
    import sys

    code = ("import sys; from febm.dynamics.commands.cli import main; "
            "main(['divergences']); main(['show', 'alpha=-0.5']); "
            "sys.exit(int('torch' in sys.modules or 'scipy.optimize' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]


def test_freed_pages_are_kept_on_glibc():
    import platform

    from febm.dynamics.memory import retain_freed_pages

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert retain_freed_pages() is True


def test_help_lists_every_registered_model():
    from febm.dynamics.commands.cli import MODELS
    from febm.toy_models import SETUPS

    assert list(MODELS) == list(SETUPS)
