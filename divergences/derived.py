"""The catalog's derivations, shipped as data so that `febm divergences` and `febm show NAME`
answer at once instead of rerunning sympy's solve, simplify and limits every time.

``derived.json`` holds, for every catalog name, what `Divergence` derives lazily: f'',
the smoothness at 1, the validation, the conjugate with its regions and its verification, the
links and their accurate numeric forms, and the links' tails. Expressions are stored as srepr
text and read back through `serial` (a whitelist, no eval). An entry is used only when its
generator and the installed sympy version match; a user's own expression always derives fresh.

Regenerate the file with ``python -m febm.divergences.derived`` after changing a derivation; the
test suite re-derives every entry and compares (tests/divergences/test_derived_catalog.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import cache, partial
from importlib import resources

import sympy as sp

from .catalog import names
from .conjugate import Conjugate, Region
from .divergence import Divergence
from .fresh import resolve_fresh
from .pieces import Piece
from .serial import from_text, to_text
from .tails import Growth, LinkTails
from .validation import Smoothness, Validation
from .verify import ConjugateVerification

FORMAT = 3
FILE = "derived.json"
LINKS = ("g", "h", "g_prime", "h_prime", "g_second", "h_second")


def _validation(v: Validation) -> dict:
    return {"name": v.name, "ok": v.ok, "method": v.method, "detail": v.detail}


def _piece(p: Piece | None):
    return None if p is None else {"lo": to_text(p.lo), "hi": to_text(p.hi), "f": to_text(p.f)}


def _conjugate(c: Conjugate) -> dict:
    regions = None if c.regions is None else [
        {"upper": to_text(r.upper), "closed": r.closed, "kind": r.kind, "expr": to_text(r.expr),
         "piece": _piece(r.piece)} for r in c.regions]
    return {"regions": regions, "method": c.method, "expr": to_text(c.expr), "domain": to_text(c.domain),
            "domain_text": c.domain_text, "notes": list(c.notes)}


def record(d, progress=lambda step: None) -> dict:
    """Everything slow that ``d`` derives, as JSON (``progress`` hears the name of each step)."""
    s = d.smoothness
    out = {
        "name": d.name,
        "expression": d.expression,
        "f": to_text(d.f),
        "f_prime_simplified": to_text(d.f_prime_simplified),
        "f_double_prime": to_text(d.f_double_prime),
        "smoothness": {"f1": to_text(s.f1), "f2": to_text(s.f2), "f3": to_text(s.f3),
                       "validation": _validation(s.validation)},
        "validation": {k: _validation(v) for k, v in d.validation.items()},
        "conjugate": _conjugate(d.conjugate),
        "links": {k: to_text(getattr(d, k)) for k in LINKS[:4]},
    }
    if not d.params:
        v = d.conjugate_verification
        out["conjugate_verification"] = {"ok": v.ok, "sup_error": v.sup_error,
                                         "fenchel_young_error": v.fenchel_young_error, "points": v.points,
                                         "detail": v.detail}
        out["links"].update({k: to_text(getattr(d, k)) for k in LINKS[4:]})
        progress("numeric forms")
        out["numeric_forms"] = {k: to_text(d.numeric_form(k)) for k in LINKS}
        progress("tails")
        out["tails"] = {f"{link}|{side}": asdict(g) for (link, side), g in d.tails.by_link.items()}
    out["notes"] = list(d.notes)
    return out


def restore(d, entry: dict) -> None:
    """Give ``d`` its lazily derived attributes from a record (what ``cached_property`` would
    compute). Each is parsed on first use: listing the catalog needs only a few of them."""
    lazy = d._shipped
    d.notes[:] = entry.get("notes", [])
    for k in ("f_prime_simplified", "f_double_prime"):
        lazy[k] = partial(from_text, entry[k])
    lazy["smoothness"] = partial(_smoothness, entry["smoothness"])
    lazy["validation"] = partial(lambda v: {k: Validation(**x) for k, x in v.items()}, entry["validation"])
    lazy["conjugate"] = partial(_conjugate_from, entry["conjugate"])
    for k, text in entry["links"].items():
        lazy[k] = partial(from_text, text)
    if "conjugate_verification" in entry:
        lazy["conjugate_verification"] = partial(lambda v: ConjugateVerification(**v), entry["conjugate_verification"])
        lazy.update({f"numeric:{k}": partial(from_text, t) for k, t in entry["numeric_forms"].items()})
        lazy["tails"] = partial(_tails, entry["tails"])


def _smoothness(s: dict) -> Smoothness:
    return Smoothness(from_text(s["f1"]), from_text(s["f2"]), from_text(s["f3"]), Validation(**s["validation"]))


def _conjugate_from(c: dict) -> Conjugate:
    regions = None if c["regions"] is None else tuple(
        Region(from_text(r["upper"]), r["closed"], r["kind"], from_text(r["expr"]),
               None if r["piece"] is None else Piece(*(from_text(r["piece"][k]) for k in ("lo", "hi", "f"))))
        for r in c["regions"])
    return Conjugate(regions, c["method"], from_text(c["expr"]), from_text(c["domain"]), c["domain_text"],
                     tuple(c["notes"]))


def _tails(record: dict) -> LinkTails:
    return LinkTails({(k.split("|")[0], int(k.split("|")[1])): Growth(**g) for k, g in record.items()})


@cache
def shipped() -> dict:
    """The shipped entries by name, or {} when the file is missing or was made by another sympy."""
    try:
        data = json.loads(resources.files(__package__).joinpath(FILE).read_text())
    except (FileNotFoundError, OSError, ValueError):
        return {}
    if data.get("format") != FORMAT or data.get("sympy") != sp.__version__:
        return {}
    return data["entries"]


def load(name: str):
    """The shipped Divergence for a bound family member such as ``alpha=-0.5``, or None.

    Built from the stored generator, so it skips ``bind``'s sympy simplify (0.15 s each); the
    test suite checks that the stored generator is the one ``bind`` gives."""
    entry = shipped().get(name)
    if entry is None or "=" not in name:
        return None
    d = Divergence(entry["name"], from_text(entry["f"]), entry["expression"])
    restore(d, entry)
    return d


def apply(d, name: str) -> bool:
    """Restore ``d`` from the shipped entry for ``name`` if one matches its generator."""
    entry = shipped().get(name)
    if entry is None or entry["f"] != to_text(d.f):
        return False
    restore(d, entry)
    return True


def derive_all() -> dict:
    """Fresh records of every catalog name (ignoring the shipped file)."""
    return {name: record(resolve_fresh(name)) for name in ["alpha", *names()]}


def main() -> None:
    """Write derived.json beside this module."""
    from pathlib import Path

    path = Path(__file__).with_name(FILE)
    data = {"format": FORMAT, "sympy": sp.__version__, "entries": derive_all()}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({len(data['entries'])} entries)")


if __name__ == "__main__":
    main()
