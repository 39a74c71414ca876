"""The reference code's 1-D run as it is (ermongroup/f-EBM, 1d-example/gaussian_febm.py).

SGD at 10⁻³ on (μ, σ) and on a 1-64-64-1 tanh critic, the critic's step first, batch 1000 i.i.d.,
30,000 steps, no clipping, warm-up or averaging, and its clamps inside the links: exp(min(u, 3)) in
KL's h and exp(min(·, 6)) in both of Pearson χ²'s links; its other links are unclamped.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .paper1d import REFERENCE_SETTINGS

REFERENCE_CLAMPS = {"kl": (-math.inf, 3.0), "pearson_chi2": (-math.inf, 6.0)}
REFERENCE_EXACT = replace(
    REFERENCE_SETTINGS, batch=1000, critic_sizes=(1, 64, 64, 1), scale_parameter="sigma",
    link_clip=REFERENCE_CLAMPS, average_from=0.0, record_every=10,
)
