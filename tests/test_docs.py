"""Every python and bash block in docs/ runs; the site builds with mkdocs --strict.

Python blocks of one page run together, in order, in a fresh interpreter (as a reader would
paste them). Bash blocks run `febm ...` commands without a shell.
"""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _blocks(lang):
    for page in sorted(DOCS.rglob("*.md")):
        blocks = [body for kind, body in FENCE.findall(page.read_text()) if kind == lang]
        if blocks:
            yield pytest.param(page, blocks, id=str(page.relative_to(DOCS)))


@pytest.mark.parametrize("page, blocks", list(_blocks("python")))
def test_python_blocks_run(page, blocks, tmp_path):
    script = tmp_path / "page.py"
    script.write_text("\n".join(blocks))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("page, blocks", list(_blocks("bash")))
def test_bash_blocks_run(page, blocks, tmp_path):
    febm = shutil.which("febm") or str(Path(sys.executable).with_name("febm"))
    (tmp_path / "docs").symlink_to(DOCS)  # commands name files under docs/ as from the repository root
    for block in blocks:
        for line in block.strip().splitlines():
            argv = shlex.split(line, comments=True)
            assert argv[0] == "febm", f"docs may only run febm commands: {line}"
            proc = subprocess.run([febm, *argv[1:]], capture_output=True, text=True, cwd=tmp_path,
                                  timeout=600)
            assert proc.returncode == 0, f"{line}: {proc.stderr[-1000:]}"


def test_every_fenced_block_is_python_or_bash():
    """So that every block is one that the tests above run."""
    for page in DOCS.rglob("*.md"):
        for kind, _ in FENCE.findall(page.read_text()):
            assert kind in ("python", "bash"), (page, kind)


def test_site_builds_strict(tmp_path):
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
    proc = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          capture_output=True, text=True, cwd=DOCS.parent, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
