"""``febm divergences`` and ``febm show``: the catalog, and one generator's derivation."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...divergences import Divergence, names, resolve
from ...divergences.display import readable
from ...divergences.divergence import number
from ...divergences.tails import LINKS, Growth, LinkTails
from ...divergences.validation import Regularity
from ..report import Report, fields_from_json, fields_to_json, jsonable

AFFINE = ("f(t) = c·(t − 1) is affine, so D_f(p‖q) = c·(E_q[p/q] − 1) = 0 for every p and q: not a divergence. "
          "g and h are constants, the game has no force anywhere and every θ is an equilibrium")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class CatalogRow:
    """One catalog name in the JSON of ``febm divergences``."""

    name: str
    f: str
    conjugate: str | None
    conjugate_domain: str
    conjugate_method: str
    f2_at_1: float | str | None


@dataclass
class CatalogReport(Report):
    """Every catalog name with f, f*, dom f* and f''(1)."""

    rows: list[CatalogRow]
    conjugates: list[str] = field(default_factory=list)  # readable f* per row, for text() only

    def to_json(self) -> list:
        """The rows alone (a list: the JSON has always been one)."""
        return jsonable(self.rows)

    @classmethod
    def from_json(cls, rows: list) -> "CatalogReport":
        """Back from the rows; the readable f* of text() is derived again from each name."""
        rows = [fields_from_json(CatalogRow, r) for r in rows]
        return cls(rows, [_readable_conjugate(resolve(r.name)) for r in rows])

    def text(self) -> str:
        lines = [f"{'name':18} {'f(t)':44} {'dom f*':18}    f''(1)  f*(s)"]
        for r, conj in zip(self.rows, self.conjugates or [None] * len(self.rows)):
            conj = conj or ("(numeric)" if r.conjugate is None else r.conjugate)
            f2 = "undefined" if r.f2_at_1 is None else str(r.f2_at_1)
            lines.append(f"{r.name:18} {_clip(r.f, 44):44} {_clip(r.conjugate_domain, 18):18} "
                         f"{f2:>9}  {_clip(conj, 70)}")
        return "\n".join(lines)


def _readable_conjugate(d: Divergence) -> str:
    return "(numeric)" if d.conjugate.expr is None else readable(d.conjugate.expr)


def catalog() -> CatalogReport:
    rows, conjugates = [], []
    for name in names():
        d = resolve(name)
        conjugates.append(_readable_conjugate(d))
        rows.append(CatalogRow(name, str(d.f), None if d.conjugate.expr is None else str(d.conjugate.expr),
                               d.conjugate.domain_text, d.conjugate.method, number(d.f2_at_1)))
    return CatalogReport(rows, conjugates)


@dataclass(frozen=True)
class Sides:
    """One link's growth as u → +∞ and as u → −∞."""

    plus: Growth
    minus: Growth
    json_rename = {"plus": "+inf", "minus": "-inf"}


@dataclass(frozen=True)
class TailsView:
    """The tails of the four links in show's JSON (`LinkTails` keyed by link, then by side)."""

    g: Sides
    h: Sides
    g_prime: Sides
    h_prime: Sides

    @classmethod
    def of(cls, tails: LinkTails) -> "TailsView":
        return cls(*(Sides(tails[(link, 1)], tails[(link, -1)]) for link in LINKS))


@dataclass
class ShowRecord:
    """The JSON of ``febm show``: the divergence's record (`Divergence.as_dict`), then what show adds."""

    name: str
    expression: str
    f: str
    f_prime: str
    f_double_prime: str
    f2_at_1: float | str | None
    f3_at_1: float | str | None
    conjugate: str | None
    conjugate_domain: str
    conjugate_method: str
    conjugate_notes: list[str]
    g: str
    h: str
    params: list[str]
    checks: dict
    notes: list[str]
    affine: bool
    tails: TailsView | None = None  # None for a family with a free parameter
    tail_implications: list[str] | None = None
    latex: dict | None = None  # with --latex
    json_if_set = ("tails", "tail_implications", "latex")


@dataclass
class ShowReport(Report):
    """One generator: its derivatives, conjugate, links and validation."""

    divergence: Divergence
    record: ShowRecord

    def to_json(self) -> dict:
        """The record alone (the Divergence is no JSON)."""
        return fields_to_json(self.record)

    @classmethod
    def from_json(cls, record: dict) -> "ShowReport":
        """Back from the record; the Divergence is resolved again from its name (text() reads it)."""
        record = fields_from_json(ShowRecord, record)
        return cls(resolve(record.name), record)

    def text(self) -> str:
        r, d = self.record, self.divergence
        shown = r.latex if r.latex is not None else {
            "f": readable(d.f), "f_prime": readable(d.f_prime_simplified), "f_double_prime": readable(d.f_double_prime),
            "g": readable(d.g), "h": readable(d.h),
            "conjugate": None if d.conjugate.expr is None else readable(d.conjugate.expr)}
        conj = shown["conjugate"] if shown["conjugate"] is not None else "no closed form found: evaluated numerically"
        f2 = r.f2_at_1 if r.f2_at_1 is not None else (
            "∞" if d.regularity[0] == Regularity.INFINITE_CURVATURE else "undefined") + f" ({d.regularity[1]})"
        f3 = "—" if r.f3_at_1 is None else r.f3_at_1
        lines = [
            f"{r.name}   (from {r.expression!r})",
            f"  f(t)          = {shown['f']}",
            f"  f'(t)         = {shown['f_prime']}",
            f"  f''(t)        = {shown['f_double_prime']}",
            f"  f''(1)        = {f2}        f'''(1) = {f3}",
            f"  f*(s)         = {conj}   [{r.conjugate_method}]",
            f"  dom f*        = {r.conjugate_domain}",
            f"  g(u) = f'(e^u)      = {shown['g']}",
            f"  h(u) = f*(f'(e^u))  = {shown['h']}",
            *([f"  !! affine: {AFFINE}"] if r.affine else []),
            "checks",
        ]
        for key, item in r.checks.items():
            mark = "ok" if item["ok"] else "!!"
            how = f" ({item['method']})" if "method" in item else ""
            lines.append(f"  [{mark}] {key}{how}: {item['detail']}")
        for note in r.conjugate_notes:
            lines.append(f"  note: {note}")
        if r.tails is not None and not self.divergence.params:
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
    tails = None if d.params else d.tails
    record = ShowRecord(**d.as_dict(), affine=d.affine, tails=None if tails is None else TailsView.of(tails),
                        tail_implications=None if tails is None else tails.implications(),
                        latex=_latex(d) if latex else None)
    return ShowReport(d, record)
