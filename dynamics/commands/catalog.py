"""``febm divergences`` and ``febm show``: the catalog, and one generator's derivation."""

from __future__ import annotations

from dataclasses import dataclass

from ...divergences import Divergence, names, resolve
from ...divergences.divergence import number
from ..report import Report


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class CatalogReport(Report):
    """Every catalog name with f, f*, dom f* and f''(1)."""

    rows: list[dict]

    def to_json(self) -> list:
        return self.rows

    def text(self) -> str:
        lines = [f"{'name':18} {'f(t)':44} {'dom f*':18} {'f´´(1)':>7}  f*(s)"]
        for r in self.rows:
            conj = r["conjugate"] if r["conjugate"] is not None else "(numeric)"
            lines.append(f"{r['name']:18} {_clip(r['f'], 44):44} {_clip(r['conjugate_domain'], 18):18} "
                         f"{str(r['f2_at_1']):>7}  {_clip(conj, 70)}")
        return "\n".join(lines)


def catalog() -> CatalogReport:
    rows = []
    for name in names():
        d = resolve(name)
        rows.append({
            "name": name,
            "f": str(d.f),
            "conjugate": None if d.conjugate.expr is None else str(d.conjugate.expr),
            "conjugate_domain": d.conjugate.domain_text,
            "conjugate_method": d.conjugate.method,
            "f2_at_1": number(d.f2_at_1),
        })
    return CatalogReport(rows)


@dataclass
class ShowReport(Report):
    """One generator: its derivatives, conjugate, links and validation."""

    divergence: Divergence
    record: dict

    def to_json(self) -> dict:
        return self.record

    def text(self) -> str:
        r = self.record
        shown = r["latex"] if "latex" in r else r
        conj = shown["conjugate"] if shown["conjugate"] is not None else "no closed form: evaluated numerically"
        lines = [
            f"{r['name']}   (from {r['expression']!r})",
            f"  f(t)          = {shown['f']}",
            f"  f'(t)         = {shown['f_prime']}",
            f"  f''(t)        = {shown['f_double_prime']}",
            f"  f''(1)        = {r['f2_at_1']}        f'''(1) = {r['f3_at_1']}",
            f"  f*(s)         = {conj}   [{r['conjugate_method']}]",
            f"  dom f*        = {r['conjugate_domain']}",
            f"  g(u) = f'(e^u)      = {shown['g']}",
            f"  h(u) = f*(f'(e^u))  = {shown['h']}",
            "checks",
        ]
        for key, item in r["checks"].items():
            mark = "ok" if item["ok"] else "!!"
            how = f" ({item['method']})" if "method" in item else ""
            lines.append(f"  [{mark}] {key}{how}: {item['detail']}")
        for note in r["conjugate_notes"]:
            lines.append(f"  note: {note}")
        if "tails" in r and not self.divergence.params:
            lines.append("tails of the links (as u = H + E → ±∞)")
            lines += [f"  {row}" for row in self.divergence.tails.table()]
            lines += [f"  means: {text}" for text in self.divergence.tails.implications()]
        return "\n".join(lines)


def _latex(d: Divergence) -> dict:
    import sympy as sp

    conj = d.conjugate.expr
    return {
        "f": sp.latex(d.f),
        "f_prime": sp.latex(d.f_prime),
        "f_double_prime": sp.latex(d.f_double_prime),
        "conjugate": None if conj is None else sp.latex(conj),
        "g": sp.latex(d.g),
        "h": sp.latex(d.h),
    }


def show(spec: str | Divergence, latex: bool = False) -> ShowReport:
    d = resolve(spec).validate()
    record = d.as_dict()
    if not d.params:
        record["tails"] = d.tails.to_json()
        record["tail_implications"] = d.tails.implications()
    if latex:
        record["latex"] = _latex(d)
    return ShowReport(d, record)
