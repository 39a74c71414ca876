"""Numbers, tables and figures in README.md and docs/ filled from the result files that measured them.

A measured number is never typed into prose; it is written as a placeholder that names its result
file and the field inside it::

    {{ calibration-paper-1d.json:summary.eta_max.within }}     a field of docs/results/calibration-paper-1d.json
    {{ atlas-paper-1d.json:rows[name=kl].eta_ms | .3f }}        a list element picked by a key; a format spec
    {{ calibration-paper-1d.json:readings.late_max | .1f }}     a reading a study derives from the file
    {{ figures/bench-toy2d.json:protocol.seeds }}               a file elsewhere under docs/ (the name has a slash)
    {{ table:basins.table("docs/results/basins.json") }}        a table (or sentence) drawn by its study's renderer
    {{ table:compare.markdown("@docs/results/toy2d-atlas.json", "@docs/results/toy2d-training.json") }}
                                                                ("@" passes the file's parsed JSON)
    {{ figure:spectra.png | The Jacobian's spectra }}           an image of docs/figures, linked from any page

The path is dot-separated keys; ``[k=v]`` picks the one list element whose ``k`` is ``v``; ``[3]``
indexes a list; ``["time_to_0.05"]`` is a key with a dot in it. The format spec is Python's
(``.3f``, ``.0%``, ``d``) or ``sci``/``.1sci`` (``3·10⁻⁶``), ``exp`` (``10¹²``, the rounded power) or
``M`` (``6 M``, millions). ``\\{{`` writes two literal braces.
``readings`` is a dict that the function a study registered for that file (with ``@reads`` of
``studies/readings.py``) computes from it; it asserts the words the prose puts around its numbers
("rises", "every"), so that data which would make them false fail the build and the tests.

Where they are filled: docs/hooks/results.py fills docs/*.md as mkdocs builds the site;
``python -m febm.docs_render`` (``make readme``) renders README.template.md into README.md, which
GitHub shows as it is; tests/docs/test_docs_placeholders.py checks that every placeholder resolves and
that README.md is its template rendered.

A missing result file is an error, except for the names in ``PENDING``: files that a study in
progress will write, shown as "(pending)" until they exist.
"""

from __future__ import annotations

import ast
import importlib
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = DOCS / "results"
FIGURES = DOCS / "figures"
TEMPLATE = ROOT / "README.template.md"
README = ROOT / "README.md"

# Files a study in progress will write; a placeholder naming one renders "(pending)" while it is missing.
PENDING: frozenset = frozenset()

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_ESCAPED = "\x00escaped-braces\x00"
_SEGMENT = re.compile(r'\.?([^.\[\]]+)|\[([^\]]*)\]')
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class PlaceholderError(ValueError):
    """A placeholder that does not resolve: a missing file, field or renderer."""


def result_path(name: str) -> Path:
    """A name without a slash is under docs/results/; one with a slash is relative to docs/."""
    return (DOCS / name) if "/" in name else (RESULTS / name)


def _load(name: str, cache: dict) -> dict | None:
    if name not in cache:
        path = result_path(name)
        if not path.exists():
            if Path(name).name in PENDING:
                cache[name] = None
                return None
            raise PlaceholderError(f"no result file {path.relative_to(ROOT)}")
        cache[name] = json.loads(path.read_text())
    return cache[name]


def _studies():
    """The repository root on the path, so that the studies import as the package ``studies``."""
    root = str(ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


def readings(name: str, data: dict) -> dict:
    """The readings that a study registered for result file ``name`` (``@studies.readings.reads``)."""
    _studies()
    found = importlib.import_module("studies.readings").all_readings()
    if name not in found:
        raise PlaceholderError(f"no study derives readings from {name} (studies/readings.py)")
    return found[name](data)


def lookup(data, path: str, name: str = "?"):
    """The value at ``path`` (``a.b[k=v].c``) in ``data``."""
    value = data
    for key, bracket in _SEGMENT.findall(path):
        where = f"{name}:{path} at {key or '[' + bracket + ']'}"
        if key:
            if not isinstance(value, dict) or key not in value:
                raise PlaceholderError(f"no field {where}")
            value = value[key]
        elif bracket[:1] in "\"'":
            k = ast.literal_eval(bracket)
            if not isinstance(value, dict) or k not in value:
                raise PlaceholderError(f"no field {where}")
            value = value[k]
        elif isinstance(value, dict):
            if bracket not in value:
                raise PlaceholderError(f"no field {where}")
            value = value[bracket]
        elif isinstance(value, list) and "=" in bracket:
            k, v = bracket.split("=", 1)
            found = [x for x in value if isinstance(x, dict) and str(x.get(k)) == v]
            if len(found) != 1:
                raise PlaceholderError(f"{len(found)} elements match {where}")
            value = found[0]
        elif isinstance(value, list) and bracket.lstrip("-").isdigit():
            value = value[int(bracket)]
        else:
            raise PlaceholderError(f"cannot index {where}")
    return value


def fmt(value, spec: str = "") -> str:
    """``value`` formatted by a Python format spec, ``sci`` (3·10⁻⁶) or ``exp`` (10¹²); a leading minus is U+2212."""
    if isinstance(value, (dict, list)) or value is None:
        raise PlaceholderError(f"{value!r} is not a number or a word")
    if spec.endswith("sci"):
        digits = int(spec[1:-3] or 0) if spec.startswith(".") else 0
        exponent = math.floor(math.log10(abs(value)))
        mantissa = round(value / 10**exponent, digits)
        if abs(mantissa) >= 10:
            mantissa, exponent = mantissa / 10, exponent + 1
        power = "10" + str(exponent).translate(_SUPERSCRIPT)
        text = power if mantissa == 1 else f"{mantissa:.{digits}f}·{power}"
    elif spec == "M":
        text = f"{value / 1e6:g} M"
    elif spec == "exp":
        text = "10" + str(round(math.log10(value))).translate(_SUPERSCRIPT)
    elif spec:
        text = format(value, spec)
    elif isinstance(value, float):
        text = format(value, "g")
    else:
        text = str(value)
    return "−" + text[1:] if text.startswith("-") else text


def _table(call: str) -> str:
    """``module.function(literal, ...)``: a renderer of studies/ called with literal arguments."""
    tree = ast.parse(call, mode="eval").body
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute)
            and isinstance(tree.func.value, ast.Name)):
        raise PlaceholderError(f"a table is module.function(arguments): {call}")
    args = [ast.literal_eval(a) for a in tree.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in tree.keywords}
    for a in [*args, *kwargs.values()]:
        path = a.lstrip("@") if isinstance(a, str) else ""
        if path.startswith("docs/") and not (ROOT / path).exists():
            if Path(path).name in PENDING:
                return "*(pending: this table is drawn when its study has run)*"
            raise PlaceholderError(f"no result file {path}")
    # "@docs/results/x.json" passes the file's parsed JSON, for renderers that take a dict
    args = [json.loads((ROOT / a[1:]).read_text()) if isinstance(a, str) and a.startswith("@") else a for a in args]
    _studies()
    module_name = tree.func.value.id
    if not (ROOT / "studies" / f"{module_name}.py").exists():
        raise PlaceholderError(f"no study studies/{module_name}.py")
    module = importlib.import_module(f"studies.{module_name}")
    function = getattr(module, tree.func.attr, None)
    if function is None:
        raise PlaceholderError(f"no renderer {call}")
    import os
    cwd = os.getcwd()
    os.chdir(ROOT)  # the renderers' paths are relative to the repository root
    try:
        out = function(*args, **kwargs)
    finally:
        os.chdir(cwd)
    return "\n".join(out) if isinstance(out, list) else str(out).rstrip("\n")


def _figure(body: str, figures_url: str) -> str:
    name, _, alt = (s.strip() for s in body.partition("|"))
    if not (FIGURES / name).exists():
        if name in PENDING:
            return f"*(figure pending: {name} is drawn when its study has run)*"
        raise PlaceholderError(f"no figure docs/figures/{name}")
    return f"![{alt or name}]({figures_url}{name})"


def resolve(body: str, cache: dict, figures_url: str = "figures/") -> str:
    """The text one placeholder's ``body`` (between the braces) stands for."""
    if body.startswith("table:"):
        return _table(body[len("table:"):].strip())
    if body.startswith("figure:"):
        return _figure(body[len("figure:"):].strip(), figures_url)
    ref, _, spec = (s.strip() for s in body.partition("|"))
    name, sep, path = ref.partition(":")
    if not sep or not name.endswith(".json"):
        raise PlaceholderError(f"a number is FILE.json:PATH [| FORMAT]: {{{{ {body} }}}}")
    data = _load(name.strip(), cache)
    if data is None:
        return "(pending)"
    path = path.strip()
    if path == "readings" or path.startswith("readings.") or path.startswith("readings["):
        key = ("readings", name)
        if key not in cache:
            cache[key] = readings(name.strip(), data)
        return fmt(lookup(cache[key], path[len("readings"):], name), spec)
    return fmt(lookup(data, path, name), spec)


def render(text: str, figures_url: str = "figures/") -> str:
    """``text`` with every placeholder filled; ``figures_url`` is docs/figures/ as the page links it."""
    cache: dict = {}
    text = text.replace("\\{{", _ESCAPED)  # \{{ shows two braces: how a page writes about the syntax
    out = PLACEHOLDER.sub(lambda m: _indented(resolve(m[1], cache, figures_url), text, m.start()), text)
    if "{{" in out:
        line = out[out.index("{{"):].splitlines()[0]
        raise PlaceholderError(f"a placeholder is not closed with }}}}: {line[:120]}")
    return out.replace(_ESCAPED, "{{")


def _indented(value: str, text: str, at: int) -> str:
    """``value`` with its later lines indented as the placeholder's line is, where the placeholder
    starts its line (a table inside an admonition or a list item stays inside it)."""
    prefix = text[text.rfind("\n", 0, at) + 1:at]
    return value.replace("\n", "\n" + prefix) if prefix and not prefix.strip() else value


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text.replace("\\{{", _ESCAPED))


def readme() -> str:
    """README.md as its template renders it (figures linked as docs/figures/...)."""
    header = ("<!-- Generated from README.template.md by `make readme` (python -m febm.docs_render): "
              "edit the template, not this file. -->\n")
    return header + render(TEMPLATE.read_text(), figures_url="docs/figures/")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = readme()
    if "--check" in argv:
        if README.read_text() != text:
            print("README.md is not its template rendered: run `make readme`", file=sys.stderr)
            return 1
        return 0
    README.write_text(text)
    print(f"wrote {README.relative_to(ROOT)} ({len(text.split())} words)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
