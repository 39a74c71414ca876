"""The measurements behind docs/: one module per study, all run through ``python -m studies``.

The protocol, which every module of this package except ``__init__``, ``__main__`` and
``readings`` follows:

* ``DESCRIPTION``: one line, what the study measures (``python -m studies --help`` lists it;
  read from the source, so the help imports no study);
* ``commands(verbs)``: adds the study's verbs to ``verbs`` (an argparse sub-parsers object),
  each with :func:`verb`. The verbs are of three kinds:

  - ``run`` (and other measuring verbs): measure and write one new result file;
  - ``merge``: join the parts that several processes wrote into one new file, through
    :func:`union` or :func:`concatenate`;
  - renderers (``table``, ``text``, ``figure``, ...): read result files and print what the docs
    show. A docs page calls the same functions as ``{{ table:study.function(...) }}``
    (febm/docs_render.py).

* readings: the numbers the docs quote from one result file, registered with
  ``@studies.readings.reads("FILE.json")`` beside the study that writes or renders the file.

Result files are written once: a verb that writes declares its output argument (``writes=``) and
refuses a path that exists, so a result is never rewritten in place (a measurement that adds to
an earlier file writes a new file). They go through :func:`write` (febm's
``files.write_json``, which adds the provenance: febm's version, the git commit, the command line
and the date) and are read back with :func:`load`, which drops the provenance.

Studies use febm's public API or a documented internal module of it (``febm.dynamics...``),
import another study's public names only, and import as ``studies.NAME`` from the repository root
(``python -m studies`` from there, or pytest with the root on its ``pythonpath``).
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
NOT_STUDIES = frozenset({"__init__", "__main__", "readings"})
STUDIES = tuple(sorted(p.stem for p in FOLDER.glob("*.py") if p.stem not in NOT_STUDIES))


def description(name: str) -> str:
    """The study's ``DESCRIPTION``, read from its source without importing it."""
    tree = ast.parse((FOLDER / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DESCRIPTION" for t in node.targets):
            return ast.literal_eval(node.value)
    raise ValueError(f"studies/{name}.py has no DESCRIPTION")


def load(path) -> dict:
    """A result file's JSON without its ``provenance``."""
    data = json.loads(Path(path).read_text())
    return without_provenance(data)


def without_provenance(data: dict) -> dict:
    """``data`` less its ``provenance`` key (result files whose keys are names: set-ups, datasets)."""
    return {k: v for k, v in data.items() if k != "provenance"} if isinstance(data, dict) else data


def write(path, data: dict, **dumps) -> str:
    """Write a result file with its provenance (febm.dynamics.files.write_json; the command reads
    ``python -m studies ...`` when run through the entry); returns the path."""
    import sys

    from febm.dynamics.files import write_json

    argv = ["python", "-m", "studies", *sys.argv[1:]] if Path(sys.argv[0]).name == "__main__.py" and \
        Path(sys.argv[0]).resolve().parent == FOLDER else None
    return write_json(path, data, argv=argv, **dumps)


def write_report(path, report) -> str:
    """Write a febm report (its ``to_json``) as its own ``json_text`` does (indent 2, no NaN), with
    the provenance."""
    from febm.dynamics.report import jsonable

    return write(path, jsonable(report.to_json()), indent=2, allow_nan=False)


def union(paths) -> dict:
    """The parts' keys in one dict (each part measured other keys: arms, datasets); a key that two
    parts both have is an error."""
    out: dict = {}
    for p in paths:
        part = load(p)
        twice = set(out) & set(part)
        if twice:
            raise ValueError(f"{p}: {', '.join(sorted(twice))} already in an earlier part")
        out.update(part)
    return out


def concatenate(paths, field: str, same=()) -> tuple[dict, list]:
    """(the first part, the ``field`` lists of all parts joined in order); the parts must agree on
    every key in ``same`` (the settings they were measured under)."""
    parts = [load(p) for p in paths]
    for p, part in zip(paths, parts):
        for key in same:
            if part.get(key) != parts[0].get(key):
                raise ValueError(f"{p}: its {key} differ from {paths[0]}'s")
    return parts[0], [x for part in parts for x in part[field]]


def verb(verbs, name: str, function, help: str, *arguments, writes: str | None = None):
    """Add verb ``name`` that calls ``function`` with the parsed ``arguments`` in order; prints
    what it returns unless that is None. An argument is a name (one value), ``(name, kwargs)``
    (``add_argument``'s keywords: ``nargs``, ``type``, ``default``; a name starting with ``--`` is
    an option, passed by keyword). ``writes``: the argument that names the new result file; the
    verb refuses a path that exists. Returns the sub-parser."""
    parser = verbs.add_parser(name, help=help, description=help)
    positional, options = [], []
    for a in arguments:
        arg, kwargs = (a, {}) if isinstance(a, str) else a
        action = parser.add_argument(arg, **kwargs)
        (options if arg.startswith("-") else positional).append(action.dest)

    def call(args):
        if writes is not None and Path(getattr(args, writes)).exists():
            parser.exit(2, f"{parser.prog}: {getattr(args, writes)} exists; a result file is written once "
                           "(give a new path)\n")
        out = function(*[getattr(args, d) for d in positional], **{d: getattr(args, d) for d in options})
        if out is not None:
            print(out)

    parser.set_defaults(call=call)
    return parser


def main(argv=None) -> int:
    """``python -m studies NAME VERB ARGS``; ``python -m studies --help`` lists the studies."""
    import importlib

    top = argparse.ArgumentParser(
        prog="python -m studies", usage="python -m studies STUDY VERB [ARGS]",
        description="The measurements behind docs/ (studies/README.md). `python -m studies STUDY --help` lists "
                    "a study's verbs, `python -m studies STUDY VERB --help` a verb's arguments.")
    names = top.add_subparsers(dest="study", required=True, metavar="STUDY")
    for name in STUDIES:
        names.add_parser(name, help=description(name), add_help=False)
    args, rest = top.parse_known_args(argv)
    module = importlib.import_module(f"studies.{args.study}")
    parser = argparse.ArgumentParser(prog=f"python -m studies {args.study}", description=module.DESCRIPTION)
    module.commands(parser.add_subparsers(dest="verb", required=True, metavar="VERB"))
    parsed = parser.parse_args(rest)
    parsed.call(parsed)
    return 0
