"""Packaging: one `febm` import namespace, installable from a wheel, and imports that run one way."""

import ast
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("divergences", "toy_models", "dynamics")


@pytest.mark.slow  # 11 s; `make test` installs the package the same way before the suite
def test_wheel_installs_one_febm_namespace_into_a_fresh_venv(tmp_path):
    """pip install of the wheel gives `import febm`, no generic top-level packages, and a working
    `febm` command in another directory. The fresh venv reuses this environment's dependencies
    through a .pth file, so nothing is downloaded and the editable install stays out of sight."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel"), str(ROOT)], check=True, capture_output=True)
    wheel = next((tmp_path / "wheel").glob("febm-*.whl"))
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True)
    python = fresh / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "deprecat" not in proc.stderr.lower()
    probe = ("import importlib.util, febm, febm.dynamics.commands.cli, febm.dynamics.training.paper1d; "
             "print(febm.__file__); "
             "print([importlib.util.find_spec(n) is None for n in ('dynamics', 'divergences', 'toy_models')])")
    out = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    path, missing = out.stdout.splitlines()
    assert path.startswith(site) and missing == "[True, True, True]"
    cmd = subprocess.run([str(fresh / "bin" / "febm"), "show", "kl", "--json"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert cmd.returncode == 0 and json.loads(cmd.stdout)["conjugate"] == "exp(s - 1)"
    version = subprocess.run([str(fresh / "bin" / "febm"), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "febm 0.1.0"


def _imports(path: Path, package: str):
    """Absolute names of the febm modules that a module imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    parts = package.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(parts[: len(parts) - node.level + 1])
                if node.module:
                    yield f"{base}.{node.module}"
                else:  # from .. import device: the names are submodules
                    yield from (f"{base}.{a.name}" for a in node.names)
            elif node.module:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


# what each room may import, besides itself and the neutral febm.errors and febm.registry
# (dynamics.report, .device, .memory and .files are shared helpers of the dynamics layer)
NEUTRAL = ("febm.errors", "febm.registry", "febm.threads")
ALLOWED = {
    "febm.divergences": ("febm.divergences",),
    "febm.toy_models": ("febm.divergences", "febm.toy_models"),
    "febm.dynamics.analysis": ("febm.divergences", "febm.toy_models", "febm.dynamics.analysis",
                               "febm.dynamics.report", "febm.dynamics.device"),
    "febm.dynamics.training": ("febm.divergences", "febm.toy_models", "febm.dynamics.analysis",
                               "febm.dynamics.training", "febm.dynamics.report", "febm.dynamics.device",
                               "febm.dynamics.memory", "febm.dynamics.files"),
    "febm.dynamics.commands": ("febm",),
    "febm.dynamics.report": ("febm.divergences", "febm.dynamics.files"),
    "febm.dynamics.device": ("febm.divergences",),
    "febm.dynamics.memory": ("febm.divergences",),
    "febm.dynamics.files": (),
}


def _modules():
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            name = "febm." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
            name = name.removesuffix(".__init__")
            package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
            yield path, name, package


def test_imports_run_one_way():
    """divergences ← toy_models ← dynamics, and inside dynamics commands → training → analysis."""
    bad = []
    for path, name, package in _modules():
        room = next((r for r in sorted(ALLOWED, key=len, reverse=True) if name == r or name.startswith(r + ".")),
                    None)
        if room is None:  # dynamics/__init__: the lazy public surface
            continue
        for target in _imports(path, package):
            if target.startswith("febm") and not any(target == a or target.startswith(a + ".")
                                                     for a in ALLOWED[room] + NEUTRAL):
                bad.append(f"{name} imports {target}")
    assert bad == []


def test_symbolic_layer_never_imports_torch_at_module_level():
    for path in (ROOT / "divergences").glob("*.py"):
        top = ast.parse(path.read_text()).body
        names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in top if isinstance(n, ast.ImportFrom) and n.module]
        assert not any(n.split(".")[0] == "torch" for n in names), path


def test_every_subpackage_is_listed_for_the_wheel():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"febm"} | {name for _, name, package in _modules() if name == package}
    assert found == listed


def test_febm_folder_links_the_three_layers():
    """Static tools (griffe for the API docs) find febm.divergences through these links; pip uses
    the package-dir mapping in pyproject.toml."""
    for layer in LAYERS:
        link = ROOT / "febm" / layer
        assert link.is_symlink() and link.resolve() == (ROOT / layer).resolve()


def _import_graph(everywhere: bool) -> dict:
    """febm module -> the febm modules it imports (at module level, or anywhere when ``everywhere``)."""
    mods = {name: (path, package) for path, name, package in _modules()}
    graph = {}
    for name, (path, package) in mods.items():
        nodes = ast.walk(ast.parse(path.read_text())) if everywhere else ast.parse(path.read_text()).body
        targets = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                targets.update([f"{base}.{node.module}"] if node.module else (f"{base}.{a.name}" for a in node.names))
        graph[name] = {t for t in targets if t in mods and t != name}
    return graph


def test_no_import_cycles_even_through_imports_inside_functions():
    """An import inside a function can hide a cycle; none is left (derived, resolve and worker were one)."""
    graph = _import_graph(everywhere=True)
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
