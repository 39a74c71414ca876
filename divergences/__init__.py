"""Symbolic f-divergences: generators, conjugates, f-EBM links and validation (no torch needed).

```python
from febm.divergences import resolve
resolve("kl").conjugate.expr  # exp(s - 1)
```
"""

from .catalog import CATALOG, ENTRIES, names
from .conjugate import Conjugate, Region
from .divergence import FUNCTIONS, Divergence
from .parser import parse_expression
from .resolve import register_divergence, resolve
from .symbolic import S, T, U

__all__ = [
    "CATALOG",
    "ENTRIES",
    "FUNCTIONS",
    "Conjugate",
    "Divergence",
    "Region",
    "S",
    "T",
    "U",
    "names",
    "parse_expression",
    "register_divergence",
    "resolve",
]
