"""The serializer of derived expressions (divergences/serial.py): what derivations produce reads
back, and what could not be read back is never written."""

import pytest
import sympy as sp

from febm.divergences import T
from febm.divergences.serial import UnserializableError, from_text, to_text


@pytest.mark.parametrize("expr", [
    sp.I * T + sp.sqrt(-2),  # what the derivation of the reported expression held
    sp.Max(T, 1) + sp.re(T) + sp.im(T) + sp.arg(T) + sp.atan2(1, T) + sp.asin(T) + sp.acos(T),
    sp.Piecewise((T, T < 1), (sp.Float(1.5), True)),
    sp.Interval(0, sp.oo, False, True),
])
def test_serializer_round_trips_what_derivations_produce(expr):
    assert from_text(to_text(expr)) == expr


def test_serializer_refuses_to_write_what_it_could_not_read():
    with pytest.raises(UnserializableError, match="gamma"):
        to_text(sp.gamma(T) + 1)
