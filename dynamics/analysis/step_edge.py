"""The largest stable step of full-batch simultaneous GDA on the trained game: predicted from the
Jacobian's spectrum (Arnoldi), and measured from runs of the nonlinear step map on the nodes.

Measured: at a step η, a pair of runs starts at z and at z + ε v (v a given direction) and takes
`steps` steps; η is unstable when the pair's distance has grown by more than `GROWTH` or a run
stopped being finite. A pair, not one run, so that the slow drift of a point that is only nearly an
equilibrium does not count as growth. A mode that grows by 1 + 2δ a step passes `GROWTH` from an
overlap a with v once 2δ·steps > log(GROWTH/a): at 1000 steps and a = 0.1, δ ≈ 0.35%, so the
measured edge can sit that much above the true one. Bisection stops when the bracket is
`RESOLUTION` wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import ArpackError
from torch.func import vmap

from ...threads import serial
from . import krylov

GROWTH = 100.0  # pair distance ratio that counts as unstable (set before measuring)
RESOLUTION = 0.002  # relative width of the final bracket
EPSILON = 1e-7  # the pair's initial distance


@dataclass
class EdgeMeasurement:
    eta: float  # midpoint of the final bracket
    bracket: tuple[float, float]  # (largest stable η seen, smallest unstable η seen)
    steps: int
    runs: int  # step-map runs taken (pairs count twice)


@serial()  # thousands of small steps: a second thread slows them down (febm.threads.serial)
def gda_steps(field, z: torch.Tensor, eta: float, steps: int) -> torch.Tensor:
    """``steps`` simultaneous GDA steps z ← z + η F(z) (full batch, on the nodes); by the field's
    eager form where it has one. Plain steps, not the ODE flow (that is `simulate.flow`)."""
    step = getattr(field, "eager", field)
    for _ in range(steps):
        z = z + eta * step(z)
    return z.detach()


def predicted(field, z: torch.Tensor, k: int = 8, seed: int = 0):
    """The step limit of the k largest-modulus eigenvalues of ∂F/∂z (Arnoldi), the eigenvalues, and
    the real part of the eigenvector of the one that sets the limit (None without a limit; no
    eigenvalues, only nan, where Jacobian–vector products are not finite)."""
    operator = krylov.jacobian_operator(field, z)
    probe = operator.matvec(np.random.default_rng(seed).standard_normal(z.numel()))
    if not np.all(np.isfinite(probe)):  # the links overflow here: no linearization to read
        return None, np.array([complex("nan")]), None
    try:
        values, vecs = krylov.largest_modulus(operator, k=k, seed=seed, vectors=True)
    except ArpackError:  # products too large for ARPACK's arithmetic (overflowing links)
        return None, np.array([complex("nan")]), None
    eta = krylov.step_limit(values)
    if eta is None:
        return None, values, None
    binding = int(np.argmin(2 * np.abs(values.real) / np.abs(values) ** 2))
    v = vecs[:, binding].real
    return eta, values, torch.as_tensor(v / np.linalg.norm(v), dtype=z.dtype)


def pair_run(step, z: torch.Tensor, direction: torch.Tensor, eta: float, steps: int, epsilon: float,
             stacked: bool = False):
    """febm's one pair of runs: plain steps x ← x + η·step(x) from z and from z + ε·direction/|direction|,
    yielding (k, the gap b − a) at the start (k = 0) and after each step k = 1 … ``steps``.
    ``stacked``: ``step`` takes both runs as one (2, n) tensor (a vmapped field), one call a step."""
    a, b = z.clone(), z + epsilon * direction / direction.norm()
    Z = torch.stack([a, b]) if stacked else None
    yield 0, b - a
    for k in range(1, steps + 1):
        if stacked:
            Z = Z + eta * step(Z)
            a, b = Z[0], Z[1]
        else:
            a, b = a + eta * step(a), b + eta * step(b)
        yield k, b - a


@serial()
def grows(field, z: torch.Tensor, eta: float, steps: int, direction: torch.Tensor) -> bool:
    """Whether a pair from z and z + ε·direction separates by more than GROWTH in ``steps`` steps
    of size η (or stops being finite)."""
    with torch.no_grad():
        for _, last in pair_run(vmap(field), z, direction, eta, steps, EPSILON, stacked=True):
            gap = last
    size = float(gap.norm())
    return not (np.isfinite(size) and size <= GROWTH * EPSILON)


def measured(field, z: torch.Tensor, guess: float, direction: torch.Tensor, steps: int = 1000,
             span: float = 0.1) -> EdgeMeasurement:
    """The stable/unstable boundary in η by bisection from [guess·(1 − span), guess·(1 + span)]
    (widened until its ends are stable and unstable)."""
    runs = 0

    def unstable(eta):
        nonlocal runs
        runs += 2
        return grows(field, z, eta, steps, direction)

    lo, hi = guess * (1 - span), guess * (1 + span)
    while unstable(lo) and lo > 1e-6 * guess:
        lo, hi = lo * (1 - span) ** 2, lo
    while not unstable(hi) and hi < 1e6 * guess:
        lo, hi = hi, hi * (1 + span) ** 2
    while (hi - lo) / lo > RESOLUTION:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return EdgeMeasurement((lo + hi) / 2, (lo, hi), steps, runs)


CHECKPOINT_EVERY = 1000


def flow_to_rest(field, z, steps: int, seed: int, record: bool = True):
    """Half the steps at 1/|λ|max of the start (where a random critic can make the flow unstable),
    half at 0.8 of the predicted η_max at the half-way point, if it has one. Every
    `CHECKPOINT_EVERY` steps: |F|, and with ``record`` the predicted η_max and the largest-modulus
    eigenvalue (an Arnoldi run each; without ``record`` they are None/nan but at the half-way point)."""
    eta0, values, _ = predicted(field, z, seed=seed)
    eta = 1 / float(np.abs(values[0]))
    checkpoints = {"step": [0], "residual": [float(field(z).norm())], "eta_max": [eta0],
                   "top_eigenvalue": [[float(values[0].real), float(values[0].imag)]]}
    done = 0
    while done < steps:
        chunk = min(CHECKPOINT_EVERY, steps - done, steps // 2 - done if done < steps // 2 else steps)
        z = gda_steps(field, z, eta, chunk)
        done += chunk
        finite = bool(torch.isfinite(z).all())
        needed = finite and (record or done == steps // 2)  # the half-way point sets the second half's step
        pred, values, _ = predicted(field, z, seed=seed) if needed else (None, [complex("nan")], None)
        checkpoints["step"].append(done)
        checkpoints["residual"].append(float(field(z).norm()) if finite else float("nan"))
        checkpoints["eta_max"].append(pred)
        checkpoints["top_eigenvalue"].append([float(values[0].real), float(values[0].imag)])
        if done == steps // 2 and pred:
            eta = 0.8 * pred
        if not finite:
            break
    return z, checkpoints


def path_angle(field, start, end, points: int = 41) -> dict:
    """Berard et al. (2020)'s path-angle: along z(α) = start + α (end − start), α in [0, 1.2], the
    cosine between the field and the path's direction, and |F|. A minimization's field points along
    the path up to its end; a game's rotates away from it near the end."""
    direction = end - start
    alphas = np.linspace(0.0, 1.2, points)
    cosine, norm = [], []
    for a in alphas:
        f = field(start + float(a) * direction)
        cosine.append(float(f @ direction / (f.norm() * direction.norm())))
        norm.append(float(f.norm()))
    return {"alpha": alphas.tolist(), "cosine": cosine, "residual": norm}
