"""The catalog of named generators, with textbook conjugates and reference links.

Each entry's generator is written as text and goes through the same whitelist parser
as a user's expression. ``conjugate`` and ``links`` are independent references used by
the tests: textbook f* (with dom f = (0, oo)) and the links listed in THEORY.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..registry import Registry
from .symbolic import S, U

ALPHA = sp.Symbol("alpha", real=True)
W = sp.LambertW(sp.exp(1 - S))


def _pw(*pairs):
    return sp.Piecewise(*pairs, (sp.oo, True))


@dataclass(frozen=True)
class Entry:
    name: str
    expression: str
    description: str
    conjugate: sp.Expr | None = None  # textbook f*(s); None where no closed form is known
    links: tuple | None = None  # (g(u), h(u), f''(1)) from THEORY.md
    params: tuple[sp.Symbol, ...] = ()
    param_tests: tuple[dict, ...] = field(default=())


_ALPHA_TESTS = tuple({ALPHA: v} for v in (sp.Rational(-1, 2), sp.Rational(1, 2), 2, 3))

ENTRIES = (
    Entry("kl", "t*log(t)", "Kullback–Leibler KL(P‖Q)", sp.exp(S - 1), (1 + U, sp.exp(U), 1)),
    Entry("reverse_kl", "-log(t)", "reverse KL, KL(Q‖P)", _pw((-1 - sp.log(-S), S < 0)),
          (-sp.exp(-U), U - 1, 1)),
    Entry("jensen_shannon", "-(t+1)*log((t+1)/2) + t*log(t)", "Jensen–Shannon in f-GAN form (2·JS)",
          _pw((-sp.log(2 - sp.exp(S)), S < sp.log(2))),
          (sp.log(2) + U - sp.log(1 + sp.exp(U)), -sp.log(2) + sp.log(1 + sp.exp(U)), sp.Rational(1, 2))),
    Entry("gan", "t*log(t) - (t+1)*log(t+1) + 2*log(2)",
          "f-GAN's GAN generator t log t − (t+1) log(t+1), shifted by log 4 so that f(1) = 0 "
          "(the raw f-GAN form has f(1) = −log 4 and D_f(P‖P) = −log 4)",
          _pw((-sp.log(1 - sp.exp(S)) - 2 * sp.log(2), S < 0))),
    Entry("squared_hellinger", "(sqrt(t)-1)**2", "squared Hellinger", _pw((S / (1 - S), S < 1)),
          (1 - sp.exp(-U / 2), sp.exp(U / 2) - 1, sp.Rational(1, 2))),
    Entry("pearson_chi2", "(t-1)**2", "Pearson χ²", _pw((-1, S < -2), (S + S**2 / 4, True)),
          (2 * (sp.exp(U) - 1), sp.exp(2 * U) - 1, 2)),
    Entry("neyman_chi2", "(1-t)**2/t", "Neyman χ²", _pw((2 - 2 * sp.sqrt(1 - S), S <= 1)),
          (1 - sp.exp(-2 * U), 2 - 2 * sp.exp(-U), 2)),
    Entry("total_variation", "abs(t-1)/2", "total variation (kink at t = 1)",
          _pw((-sp.Rational(1, 2), S < -sp.Rational(1, 2)), (S, S <= sp.Rational(1, 2)))),
    Entry("jeffreys", "(t-1)*log(t)", "Jeffreys (symmetric KL); f* needs Lambert W", W + 1 / W + S - 2),
    Entry("triangular", "(t-1)**2/(t+1)", "triangular discrimination",
          _pw((-1, S < -3), (4 - 4 * sp.sqrt(1 - S) - S, S <= 1))),
    Entry("le_cam", "(1-t)**2/(2*(t+1))", "Le Cam (half the triangular discrimination)",
          _pw((-sp.Rational(1, 2), S < -sp.Rational(3, 2)),
              (2 - 2 * sp.sqrt(1 - 2 * S) - S, S <= sp.Rational(1, 2)))),
    Entry("symmetric_chi2", "(t-1)**2*(t+1)/t", "symmetric χ² (Pearson + Neyman); f'(t) = s is a cubic"),
    Entry("alpha", "(t**alpha - 1 - alpha*(t-1))/(alpha*(alpha-1))",
          "α-divergence (Amari); α = 1 is KL, α = 0 reverse KL",
          ((1 + (ALPHA - 1) * S) ** (ALPHA / (ALPHA - 1)) - 1) / ALPHA,
          ((sp.exp((ALPHA - 1) * U) - 1) / (ALPHA - 1), (sp.exp(ALPHA * U) - 1) / ALPHA, 1),
          (ALPHA,), _ALPHA_TESTS),
)

ALPHA_PRESETS = ("-1", "-0.5", "0.5", "0.9", "2")
CATALOG: Registry[Entry] = Registry(
    "divergence", hint="see `febm divergences` for the catalog, or type an expression in t"
)
for _entry in ENTRIES:
    CATALOG.register(_entry.name, _entry)


def names() -> list[str]:
    """Every name the CLI accepts, with the α presets spelled alpha=VALUE."""
    return [e.name for e in ENTRIES] + [f"alpha={v}" for v in ALPHA_PRESETS]


def alpha_conjugate(alpha) -> sp.Expr:
    """Textbook f* of the α-divergence with dom f = (0, oo), for α ∉ {0, 1}."""
    a = sp.nsimplify(alpha)
    interior = ((1 + (a - 1) * S) ** (a / (a - 1)) - 1) / a
    if a < 1:
        return _pw((interior, S < 1 / (1 - a)))
    return sp.Piecewise((-1 / a, S < -1 / (a - 1)), (interior, True))
