"""How the f-EBM links grow in their tails, and what that implies for training.

For each link ψ ∈ {g, h, g', h'} and each side u → ±∞, the growth is one of

* superexponential: log|ψ(u)| grows faster than linearly (e^{e^u}, e^{u²}); its rate is ±∞;
* exponential: |ψ(u)| ~ e^{k u} with k ≠ 0 growing (k > 0 at +∞, k < 0 at −∞);
* polynomial: |ψ(u)| ~ |u|^m;
* logarithmic: |ψ(u)| ~ log|u|;
* bounded: ψ(u) tends to a finite limit (a link that decays exponentially is bounded too, and
  its exponential rate is kept);
* zero: ψ vanishes identically on that side (the flat pieces of total variation).

The exponential rate k = lim log|ψ(u)|/u is what the estimator's variance depends on: a sample
where the critic's r = H + E sits far out contributes ψ(r)² ~ e^{2kr} to a second moment. It is
found numerically, from the link evaluated at |u| = 50, 200 and 800 with 500 digits (so
that e^{800} neither overflows nor cancels), or by sympy's limit under a time budget
(``method="symbolic"``), which falls back to the numeric rate where sympy gives up. The tests
check that the two methods agree on the whole catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .symbolic import U, attempt

LINKS = ("g", "h", "g_prime", "h_prime")
SIDES = (1, -1)  # u -> +oo, u -> -oo
_FAR = (50.0, 200.0, 800.0)  # |u| at which the numeric method evaluates a link
_DIGITS = 500  # e^{800} ~ 10^347: cancellations such as u − log(e^u + 1) stay exact
_LN4 = 1.3862943611198906


@dataclass(frozen=True)
class Growth:
    """The growth of one link on one side."""

    kind: str  # "superexponential", "exponential", "polynomial", "logarithmic", "bounded" or "zero"
    rate: float  # k in |ψ| ~ e^{k u} (growing or decaying); 0 when no exponential dominates
    degree: float = 0.0  # m in |ψ| ~ |u|^m for polynomial growth
    method: str = "numeric"  # "symbolic" (sympy's limit) or "numeric"

    @property
    def grows_exponentially(self) -> bool:
        """At least exponentially (a superexponential link outgrows every e^{k u})."""
        return self.kind in ("exponential", "superexponential")

    def text(self) -> str:
        if self.kind == "superexponential":
            return "super-exponential"
        if self.kind == "exponential":
            return f"e^{{{_num(abs(self.rate))}·|u|}}"
        if self.kind == "polynomial":
            return "|u|" if self.degree == 1 else f"|u|^{_num(self.degree)}"
        if self.kind == "bounded" and self.rate:
            return f"→ 0 like e^{{−{_num(abs(self.rate))}·|u|}}"
        return {"logarithmic": "log|u|", "zero": "0", "bounded": "bounded"}[self.kind]


def _num(x: float) -> str:
    if x in (float("inf"), -float("inf")):
        return "∞"
    frac = Fraction(x).limit_denominator(12)
    return str(frac) if abs(float(frac) - x) < 1e-9 else f"{x:.3g}"


def _rational(x: float, tol: float = 1e-4) -> float:
    """Snap a numeric rate to a nearby fraction with a small denominator (rates are 1/2, 2, 3/2, ...)."""
    frac = Fraction(x).limit_denominator(12)
    return float(frac) if abs(float(frac) - x) < tol else x


def _far_values(expr, side: int):
    """ψ at side·_FAR, evaluated with _DIGITS digits (None where not a finite real number)."""
    out = []
    for u in _FAR:
        v = sp.N(expr.subs(U, sp.Float(side * u, _DIGITS)), _DIGITS)
        out.append(v if v.is_real and v.is_finite else None)
    return out


def _numeric(expr, side: int) -> Growth:
    values = _far_values(expr, side)
    if any(v is None for v in values) or all(v == 0 for v in values):
        return Growth("zero", 0.0)
    logs = [float(sp.log(abs(v))) if v != 0 else -float("inf") for v in values]
    k_low = (logs[1] - logs[0]) / (side * (_FAR[1] - _FAR[0]))
    k = (logs[2] - logs[1]) / (side * (_FAR[2] - _FAR[1]))
    # log|ψ| grows linearly for e^{ku}; for |u|^m its slope falls fourfold between the two windows
    if abs(k) > 1e-3 and abs(k_low - k) < 0.1 * abs(k):
        return Growth("exponential" if k * side > 0 else "bounded", _rational(k))
    if k * side > 1.0 and k * side > 2 * k_low * side:  # log|ψ| convex in |u|: faster than any e^{ku}
        return Growth("superexponential", side * float("inf"))
    m_low, m_high = (logs[1] - logs[0]) / _LN4, (logs[2] - logs[1]) / _LN4
    if m_high > 0.05 and abs(m_high - m_low) < 0.05 * m_high:
        return Growth("polynomial", 0.0, _rational(m_high, tol=0.01))  # u + c: slope 0.999 at 800
    step_low, step_high = float(values[1] - values[0]), float(values[2] - values[1])
    if abs(step_high) <= 1e-12 * max(1.0, abs(float(values[2]))):
        return Growth("bounded", 0.0)
    if abs(step_high - step_low) < 0.05 * abs(step_high):  # equal increments per factor 4: a·log|u|
        return Growth("logarithmic", 0.0)
    return Growth("bounded", 0.0)


def _symbolic_rate(expr, side: int):
    """lim log|ψ(u)|/u as u -> side·∞ by sympy (3 s budget), or None."""
    far = _far_values(expr, side)[0]
    if far is None or far == 0:
        return None
    arg = expr if far > 0 else -expr
    value = attempt(lambda: sp.limit(sp.log(arg) / U, U, side * sp.oo), 3.0)
    if value is None or not value.is_number or not value.is_finite:
        return None
    return float(value)


def growth(expr: sp.Expr, side: int, method: str = "numeric") -> Growth:
    """The growth of ``expr`` (a function of u) as u -> side·∞.

    ``method="symbolic"`` takes the exponential rate from sympy's limit where sympy finds it
    (within 3 s) and the numeric method otherwise; the classification is the numeric one.
    """
    if expr.is_number:
        return Growth("zero" if expr == 0 else "bounded", 0.0)
    found = _numeric(expr, side)
    if method != "symbolic" or found.kind == "zero":
        return found
    k = _symbolic_rate(expr, side)
    if k is None:
        return found
    if abs(k) < 1e-12:
        return Growth(found.kind if found.kind != "exponential" else "bounded", 0.0, found.degree, "symbolic")
    return Growth("exponential" if k * side > 0 else "bounded", k, method="symbolic")


@dataclass(frozen=True)
class LinkTails:
    """Growth of g, h, g', h' at u -> +∞ and u -> −∞."""

    by_link: dict  # {(link, side): Growth}

    def __getitem__(self, key) -> Growth:
        return self.by_link[key]

    def rate(self, link: str, side: int) -> float:
        """The exponential growth rate k (|ψ| ~ e^{k u}) of a link that grows exponentially, else 0."""
        g = self.by_link[(link, side)]
        return g.rate if g.grows_exponentially else 0.0

    def table(self) -> list[str]:
        names = {"g": "g", "h": "h", "g_prime": "g'", "h_prime": "h'"}
        return [f"{names[link]:3} u → +∞: {self.by_link[(link, 1)].text():22}  u → −∞: "
                f"{self.by_link[(link, -1)].text()}" for link in LINKS]

    def implications(self) -> list[str]:
        """Plain statements of what the tails imply for the stochastic estimator."""
        out = []
        gp_low, hp_high = self.by_link[("g_prime", -1)], self.by_link[("h_prime", 1)]
        for name, g, side in (("g'", gp_low, "−"), ("h'", hp_high, "+")):
            if g.kind == "superexponential":
                out.append(f"{name} grows faster than any exponential as u → {side}∞: no tail of the data or "
                           "the model is light enough, so some second moments of the estimator are infinite "
                           "wherever the critic can reach that side.")
        if gp_low.kind == "exponential":
            out.append(
                f"g' grows like e^{{{_num(abs(gp_low.rate))}·|u|}} as u → −∞: u = H + E is the critic's estimate "
                "of log p/q, so data points where the critic judges q ≫ p (the model puts far more mass there "
                "than the data) carry exponentially large weight, and rare data points dominate both players' "
                "gradients; near the equilibrium (u ≈ log p/q) the data-side second moments are finite only where "
                f"p's tails outweigh (q/p)^{_num(2 * abs(gp_low.rate))}.")
        if hp_high.kind == "exponential":
            out.append(
                f"h' grows like e^{{{_num(abs(hp_high.rate))}·u}} as u → +∞: u = H + E is the critic's estimate "
                "of log p/q, so model samples where the critic judges p ≫ q (data mass the model misses) "
                "dominate the gradients; near the equilibrium (u ≈ log p/q) the model-side second moments need "
                f"q's tails to outweigh (p/q)^{_num(2 * abs(hp_high.rate))}.")
        if not out:
            out.append("g' and h' grow at most polynomially: no link weighs a sample exponentially, so the "
                       "estimator's second moments are finite whenever the features' are.")
        if self.by_link[("g_prime", 1)].kind == "zero" or self.by_link[("h_prime", -1)].kind == "zero":
            out.append("a link is flat on one side: samples there carry no gradient at all.")
        return out


def link_tails(divergence, method: str = "numeric") -> LinkTails:
    """The tails of a bound divergence's links (see `Growth` and `growth`)."""
    if divergence.params:
        from ..errors import InputError

        raise InputError(f"{divergence.name} has a free parameter: bind it first, e.g. {divergence.name}=0.5")
    return LinkTails({(link, side): growth(getattr(divergence, link), side, method)
                      for link in LINKS for side in SIDES})
