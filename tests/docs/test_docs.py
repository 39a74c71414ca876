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

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


# the two heaviest pages (a numeric conjugate derived, ~20 s each) run in `make test-all`, which keeps
# `make test` under 6 minutes on 2 cores
SLOW_PAGES = {"tutorials/check-a-divergence.md", "tutorials/study-from-python.md"}


def _blocks(lang):
    for page in sorted(DOCS.rglob("*.md")):
        blocks = [body for kind, body in FENCE.findall(page.read_text()) if kind == lang]
        if blocks:
            name = str(page.relative_to(DOCS))
            marks = [pytest.mark.slow] if lang == "python" and name in SLOW_PAGES else []
            yield pytest.param(page, blocks, id=name, marks=marks)


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
            if not argv:  # a comment on its own line
                continue
            assert argv[0] == "febm", f"docs may only run febm commands: {line}"
            proc = subprocess.run([febm, *argv[1:]], capture_output=True, text=True, cwd=tmp_path,
                                  timeout=600)
            assert proc.returncode == 0, f"{line}: {proc.stderr[-1000:]}"


def test_every_fenced_block_is_python_or_bash():
    """So that every block is one that the tests above run ("text" shows expected output)."""
    for page in DOCS.rglob("*.md"):
        for kind, _ in FENCE.findall(page.read_text()):
            assert kind in ("python", "bash", "text"), (page, kind)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once with mkdocs --strict (warnings fail the build)."""
    out = tmp_path_factory.mktemp("site")
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
    proc = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(out)],
                          capture_output=True, text=True, cwd=DOCS.parent, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_site_builds_strict(site):
    assert (site / "theory" / "index.html").exists()


# A resource the browser would fetch: a script, a stylesheet, a font, a preconnect (plain <a> links are fine).
FETCHED = re.compile(r'<(script|link|img|iframe)\b[^>]*\b(src|href)="(https?:)?//', re.I)


def test_built_pages_fetch_nothing_from_the_network(site):
    for page in site.rglob("*.html"):
        assert not FETCHED.search(page.read_text()), page


def test_math_is_typeset_at_build_time(site):
    """No TeX is left for a script to find: every formula is MathML."""
    theory = (site / "theory" / "index.html").read_text()
    assert theory.count("<math") > 50
    assert "\\(" not in theory and "\\[" not in theory


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
const subs = [...document.querySelectorAll('msub')];
const lowered = subs.filter(s => s.children[1].getBoundingClientRect().bottom
                                 > s.children[0].getBoundingClientRect().bottom + 1).length;
document.body.setAttribute('data-probe', lowered + '/' + subs.length);
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")
def test_theory_page_typesets_in_headless_chromium_offline(site, tmp_path):
    """Chromium lays the MathML out as mathematics: every subscript sits below its base's baseline
    (unknown inline elements would leave them on one line). Loaded from file://,
    with background networking off: no network is needed."""
    page = site / "theory" / "probe.html"
    page.write_text((site / "theory" / "index.html").read_text().replace("</body>", PROBE))
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    probe = re.search(r'data-probe="(\d+)/(\d+)"', proc.stdout)
    assert probe, proc.stderr[-2000:]
    lowered, total = map(int, probe.groups())
    assert total > 50 and lowered == total


def test_the_tests_the_docs_cite_exist():
    """A promise in the docs names its test as [`test_file.py`] or [`test_file.py::test_name`]."""
    tests = Path(__file__).resolve().parents[1]  # tests/: a file is cited by its name, wherever it lies
    cited = {m for page in DOCS.rglob("*.md") for m in re.findall(r"\[`(test_\w+\.py(?:::\w+)?)`\]", page.read_text())}
    assert cited, "no citation found: the pattern no longer matches the docs"
    for ref in cited:
        file, _, name = ref.partition("::")
        found = sorted(tests.rglob(file))
        assert len(found) == 1, ref
        assert not name or re.search(rf"^def {name}\(", found[0].read_text(), re.M), ref
