"""The Divergence object: a generator f and everything febm derives from it, lazily."""

from __future__ import annotations

from functools import cached_property

import sympy as sp

from ..errors import InputError
from . import validation as _validation
from .conjugate import Conjugate, derive, derive_parametric
from .fstar import conjugate_function
from .numeric import compile_expr, exp_bounds
from .pieces import Piece, split
from .stable import stable_form
from .symbolic import T, U, attempt, simplify
from .verify import ConjugateVerification, verify, verify_parametric

_U_SAMPLES = [sp.Rational(v) for v in ("-3", "-1", "-3/10", "0", "2/5", "3/2", "4")]
LINKS = ("g", "h", "g_prime", "h_prime", "g_second", "h_second")
FUNCTIONS = ("f", "f_prime", "f_double_prime", *LINKS, "f_star")


class lazily_derived(cached_property):
    """A cached property that first looks for a shipped loader (``obj._shipped[name]``, set by
    `febm.divergences.derived.restore`): the catalog's stored text is parsed only when asked for.
    (Once computed, the value sits in the instance's __dict__, which Python reads before this.)"""

    def __get__(self, obj, cls=None):
        if obj is not None and self.attrname in obj._shipped:
            obj.__dict__[self.attrname] = obj._shipped.pop(self.attrname)()
        return super().__get__(obj, cls)


def _same_function(a, b, var) -> bool:
    """Whether a and b agree to 1e-20 at sample points (30-digit evaluation)."""
    for x in _U_SAMPLES:
        try:
            va, vb = complex(sp.N(a.subs(var, x), 30)), complex(sp.N(b.subs(var, x), 30))
            if not abs(va - vb) <= 1e-20 * max(1.0, abs(vb)):
                return False
        except (TypeError, OverflowError):  # not a number there (a kink), or beyond float range
            return False
    return True


_SHORT = 3  # links with at most this many operations are final; simplify costs ~0.1 s a call


def _tidy(expr, var=U):
    """The shortest of a few simplified forms that numerically equals ``expr``.

    ``expand_log(force=True)`` can be wrong off the positive reals, so every form is
    compared with the raw expression at sample points before it is accepted. Forms with
    free parameters are accepted unchecked here; the tests check their identities.
    """
    if sp.count_ops(expr) <= _SHORT:
        return expr
    expanded = sp.expand(expr)  # exact, and enough for many links (KL's h = e^u)
    if sp.count_ops(expanded) <= _SHORT:
        return expanded
    forms = [
        lambda: simplify(sp.expand_log(sp.factor_terms(expr), force=True)),
        lambda: simplify(expr),
    ]
    best = expr
    for form in forms:
        candidate = attempt(form, 4.0)
        if candidate is None or candidate.has(sp.nan, sp.zoo):
            continue
        if expr.free_symbols - {var} or _same_function(candidate, expr, var):
            if sp.count_ops(candidate) < sp.count_ops(best):
                best = candidate
    return best


def _drop_dirac(expr):
    return expr.replace(lambda n: isinstance(n, sp.DiracDelta), lambda n: sp.S.Zero)


def _derivative(link: sp.Expr) -> sp.Expr:
    """d/du of a link. A link built by pieces (`Divergence._by_piece`) holds a constant at each kink
    u = c; differentiated as it stands that gives 0 there, so the derivative at c is taken as the mean
    of its neighbours' one-sided derivatives (the derivative itself where the pieces join smoothly)."""
    if not isinstance(link, sp.Piecewise):
        return sp.diff(link, U)
    args = list(link.args)
    out = []
    for i, (expr, cond) in enumerate(args):
        if isinstance(cond, sp.Eq) and 0 < i < len(args) - 1:
            point = cond.rhs if cond.lhs == U else cond.lhs
            sides = sp.diff(args[i - 1][0], U) + sp.diff(args[i + 1][0], U)
            out.append((sides.subs(U, point) / 2, cond))
        else:
            out.append((sp.diff(expr, U), cond))
    return sp.Piecewise(*out)


class Divergence:
    """An f-divergence D_f(P‖Q) = E_Q[f(p/q)] given by its generator f(t).

    Everything else is derived on first use and cached: derivatives, the conjugate f*
    and its domain, the f-EBM links g(u) = f'(e^u) and h(u) = f*(f'(e^u)), validation
    checks, and numpy/torch callables. ``params`` lists free parameters (e.g. alpha);
    bind them with `bind` before evaluating numerically.
    """

    def __init__(self, name: str, f: sp.Expr, expression: str, param_tests=()):
        self.name = name
        self.f = f
        self.expression = expression
        self.param_tests = list(param_tests)
        self.notes: list[str] = []  # how the derivation went, where it departed from the symbolic path
        self._functions: dict = {}
        self._numeric_forms: dict = {}
        self._shipped: dict = {}  # attribute name -> loader of its shipped value (see `lazily_derived`)

    def __repr__(self):
        return f"Divergence({self.name!r}, f={self.f})"

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        return tuple(sorted(self.f.free_symbols - {T}, key=str))

    # --- derivatives -------------------------------------------------------------
    @lazily_derived
    def f_prime(self) -> sp.Expr:
        return sp.diff(self.f, T)

    @lazily_derived
    def f_prime_simplified(self) -> sp.Expr:
        return simplify(self.f_prime)

    @lazily_derived
    def f_double_prime(self) -> sp.Expr:
        return simplify(sp.diff(self.f, T, 2))

    @lazily_derived
    def pieces(self) -> list[Piece]:
        return split(self.f)

    @lazily_derived
    def smoothness(self) -> _validation.Smoothness:
        return _validation.smooth_at_1(self.pieces)

    @cached_property
    def regularity(self) -> tuple[_validation.Regularity, str]:
        """(kind, message): how smooth f is at 1 (`validation.Regularity`)."""
        return _validation.regularity(self.pieces, self.smoothness)

    @cached_property
    def affine(self) -> bool:
        """Whether f is affine on (0, ∞), f(t) = c (t − 1): then D_f(p‖q) = c (E_q[p/q] − 1) = 0 for
        every p and q, so the game has no signal (g and h are constants)."""
        return len(self.pieces) == 1 and self.pieces[0].is_linear

    @property
    def f2_at_1(self) -> sp.Expr | None:
        """f''(1), or None where f'' is undefined at 1 (a kink or a jump)."""
        return self.smoothness.f2

    @property
    def f3_at_1(self) -> sp.Expr | None:
        return self.smoothness.f3

    # --- validation --------------------------------------------------------------
    @lazily_derived
    def validation(self) -> dict[str, _validation.Validation]:
        result = {"f_at_1": _validation.f_at_1(self.f)}
        if self.params:
            bound = [self.bind(**{str(k): v for k, v in b.items()}) for b in self.param_tests]
            result["real"] = _all_bound(bound, "real", "real")
            result["convex"] = _all_bound(bound, "convex", "convexity")
        else:
            result["real"] = _validation.real(self.pieces)
            result["convex"] = _validation.convex(self.pieces)
        result["smooth_at_1"] = self.smoothness.validation
        return result

    def validate(self) -> "Divergence":
        """Raise `InputError` unless f is real and convex on (0, oo) with f(1) = 0."""
        for key in ("real", "f_at_1", "convex"):
            item = self.validation[key]
            if not item.ok:
                raise InputError(f"{self.name}: {item.detail}")
        beyond = _validation.outside_float_range(self.f2_at_1)
        if beyond:
            raise InputError(f"{self.name}: {beyond}")
        return self

    # --- conjugate and links -----------------------------------------------------
    @lazily_derived
    def conjugate(self) -> Conjugate:
        if self.params:
            return derive_parametric(self.f, self.param_tests)
        return derive(self.f)

    @lazily_derived
    def conjugate_verification(self) -> ConjugateVerification:
        if self.params:
            expr = self.conjugate.expr
            return verify_parametric(expr, self.f, self.param_tests)
        return verify(self.conjugate, self.f, self.pieces, self.function("f_star"))

    @lazily_derived
    def g(self) -> sp.Expr:
        """g(u) = f'(e^u); at a kink, the midpoint of the subdifferential."""
        return self._by_piece(lambda f: _tidy(sp.diff(f, T).subs(T, sp.exp(U))))

    @lazily_derived
    def h(self) -> sp.Expr:
        """`h(u) = f*(f'(e^u)) = e^u g(u) − f(e^u)` (the Fenchel–Young equality: no `f*` needed)."""
        return self._by_piece(
            lambda f: _tidy(sp.exp(U) * sp.diff(f, T).subs(T, sp.exp(U)) - f.subs(T, sp.exp(U)))
        )

    def _by_piece(self, link):
        """A link built on each smooth piece of f, so kinks leave no cancellation behind.

        With a single piece this is just ``link(f)``. At a kink c the value is the mean of
        both sides (for total variation, the same convention as sign(0) = 0).
        """
        if self.params or len(self.pieces) == 1:
            return link(self.f)
        branches = []
        for left, right in zip(self.pieces[:-1], self.pieces[1:]):
            c = sp.log(left.hi)
            branches.append((link(left.f), U < c))
            branches.append(((link(left.f) + link(right.f)).subs(U, c) / 2, sp.Eq(U, c)))
        branches.append((link(self.pieces[-1].f), True))
        return sp.Piecewise(*branches)

    @lazily_derived
    def g_prime(self) -> sp.Expr:
        """g'(u), away from kinks (the Dirac mass of a kink's f'' is dropped)."""
        return _tidy(_drop_dirac(_derivative(self.g)))

    @lazily_derived
    def h_prime(self) -> sp.Expr:
        """h'(u) = e^u g'(u), away from kinks (the identity, rather than differentiating h's longer form)."""
        return _tidy(sp.exp(U) * self.g_prime)

    @lazily_derived
    def g_second(self) -> sp.Expr:
        """g''(u), with g''(0) = f'''(1) + f''(1); it enters the Jacobian off a realizable equilibrium."""
        return _drop_dirac(_derivative(self.g_prime))  # only evaluated, never shown: no tidying

    @lazily_derived
    def h_second(self) -> sp.Expr:
        """h''(u) = e^u (g'(u) + g''(u))."""
        return sp.exp(U) * (self.g_prime + self.g_second)

    @lazily_derived
    def tails(self):
        """The growth of g, h, g', h' as u -> ±∞ (`febm.divergences.tails.LinkTails`)."""
        from .tails import link_tails

        return link_tails(self)

    def function(self, name: str, backend: str = "numpy", exp_clip=None):
        """An elementwise numpy or torch function for one of `FUNCTIONS`.

        ``exp_clip`` = c (links only) evaluates the link as written with every exp(a) replaced by
        exp(clip(a, −c, c)): the practice of the f-EBM reference code (±5 in its image code), which
        bounds the links at the price of a biased estimator beyond the clip. A pair (lo, hi) gives
        other bounds: the 1-D reference code clamps from above only, (−inf, 3) for KL."""
        if name not in FUNCTIONS:
            raise ValueError(f"unknown function {name!r}; choose from {FUNCTIONS}")
        if self.params:
            raise InputError(f"{self.name} has a free parameter: give its value, e.g. "
                             f"{self.name}=0.5 (bind {', '.join(map(str, self.params))} first)")
        if exp_clip is not None:
            if name not in LINKS:
                raise ValueError(f"exp_clip bounds a link ({LINKS}), not {name}")
            exp_clip = exp_bounds(exp_clip)
            key = (name, backend, exp_clip)
            if key not in self._functions:
                self._functions[key] = compile_expr(getattr(self, name), [U], backend, stable=False,
                                                    exp_clip=exp_clip)
            return self._functions[key]
        key = (name, backend)
        if key not in self._functions:
            if name == "f_star":
                self._functions[key] = conjugate_function(self.conjugate, backend)
            elif name in LINKS:
                self._functions[key] = compile_expr(self.numeric_form(name), [U], backend)
            else:
                self._functions[key] = compile_expr(getattr(self, name), [T], backend)
        return self._functions[key]

    def numeric_form(self, link: str) -> sp.Expr:
        """The form of a link that floating point evaluates accurately: piecewise in u, chosen among
        rewrites by a high-precision check (`stable`)."""
        if link not in self._numeric_forms:
            load = self._shipped.pop(f"numeric:{link}", None)
            self._numeric_forms[link] = load() if load else stable_form(getattr(self, link))[0]
        return self._numeric_forms[link]

    # --- parameters --------------------------------------------------------------
    def bind(self, **values) -> "Divergence":
        """Fix parameters, e.g. ``alpha.bind(alpha=0.5)``; singular values use the limit."""
        from .parser import check_powers, parse_number

        f = self.f
        labels = []
        for key, raw in values.items():
            sym = next((p for p in self.params if str(p) == key), None)
            if sym is None:
                raise InputError(f"{self.name} has no parameter {key!r}")
            value = parse_number(raw) if isinstance(raw, str) else sp.nsimplify(raw)
            check_powers(f.subs(sym, value))  # alpha=1e64 would make t**(1e64)
            direct = attempt(lambda f=f, sym=sym, value=value: sp.simplify(f.subs(sym, value)), 5.0,
                             f.subs(sym, value))
            if direct.has(sp.zoo, sp.nan):
                direct = attempt(lambda f=f, sym=sym, value=value: sp.limit(f, sym, value), 5.0)
                if direct is None:
                    raise InputError(f"{self.name} has no limit at {key}={raw}")
            f = direct
            labels.append(f"{key}={raw}")
        label = ",".join(labels)
        name = label if [str(p) for p in self.params] == [self.name] else f"{self.name}({label})"
        return Divergence(name, f, self.expression)

    # --- reporting ---------------------------------------------------------------
    def as_dict(self) -> dict:
        """The JSON record of ``febm show`` (stable keys)."""
        conj = self.conjugate
        checks = {k: c.as_dict() for k, c in self.validation.items()}
        checks["conjugate"] = self.conjugate_verification.as_dict()
        return {
            "name": self.name,
            "expression": self.expression,
            "f": str(self.f),
            "f_prime": str(self.f_prime_simplified),
            "f_double_prime": str(self.f_double_prime),
            "f2_at_1": number(self.f2_at_1),
            "f3_at_1": number(self.f3_at_1),
            "conjugate": None if conj.expr is None else str(conj.expr),
            "conjugate_domain": conj.domain_text,
            "conjugate_method": conj.method,
            "conjugate_notes": list(conj.notes),
            "g": str(self.g),
            "h": str(self.h),
            "params": [str(p) for p in self.params],
            "checks": checks,
            "notes": list(self.notes),
        }


def _all_bound(bound, key, label):
    failed = [b for b in bound if not b.validation[key].ok]
    names = ", ".join(b.name for b in bound)
    if failed:
        return _validation.Validation(label, False, "numeric", f"{failed[0].name}: {failed[0].validation[key].detail}")
    return _validation.Validation(label, True, "numeric", f"holds at {names}")


def number(x):
    """A JSON-friendly value: int, float, a string for symbolic values, or None."""
    if x is None:
        return None
    if x.free_symbols:
        return str(x)
    value = float(x)
    return int(value) if value.is_integer() else value
