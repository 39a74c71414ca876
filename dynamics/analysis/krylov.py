"""Matrix-free eigenvalues of a field's Jacobian: Arnoldi (scipy's ARPACK) on Jacobian–vector
products, for games too large to form J (a network critic has thousands of parameters)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigs
from torch.func import jvp


def jacobian_operator(field, z: torch.Tensor, rates: np.ndarray | None = None,
                      forward_mode: bool = False) -> LinearOperator:
    """diag(rates) ∂F/∂z at z as a LinearOperator (exact products): by the field's own
    ``linearized(z)`` where it has one (one graph for every product) unless ``forward_mode``, else
    one forward-mode pass per product. The two agree to rounding, not bit for bit."""
    n = z.numel()
    scale = np.ones(n) if rates is None else np.asarray(rates, dtype=float)
    linearized = None if forward_mode else getattr(field, "linearized", None)
    product = linearized(z) if linearized is not None else (lambda t: jvp(field, (z,), (t,))[1].detach())

    def matvec(v):
        v = np.asarray(v).reshape(-1)
        if np.iscomplexobj(v):
            return matvec(v.real) + 1j * matvec(v.imag)
        return scale * product(torch.as_tensor(v, dtype=z.dtype)).numpy()

    return LinearOperator((n, n), matvec=matvec, dtype=np.float64)


def largest_modulus(operator: LinearOperator, k: int = 8, seed: int = 0, tol: float = 1e-10,
                    vectors: bool = False):
    """The k eigenvalues of largest modulus (ARPACK, from a seeded start vector), largest first;
    with ``vectors``, also their eigenvectors as columns."""
    n = operator.shape[0]
    if k >= n - 1:  # ARPACK needs k < n − 1: a game this small is cheap to form
        values, vecs = np.linalg.eig(operator.matmat(np.eye(n)))
    else:
        v0 = np.random.default_rng(seed).standard_normal(n)
        values, vecs = eigs(operator, k=k, which="LM", v0=v0, tol=tol, maxiter=5000)
    order = np.argsort(-np.abs(values))[:k]
    return (values[order], vecs[:, order]) if vectors else values[order]


def step_limit(eigenvalues: np.ndarray) -> float | None:
    """min over λ of 2|Re λ|/|λ|²: the largest simultaneous step these eigenvalues allow (None if
    one has Re λ ≥ 0, which no step stabilizes)."""
    eigenvalues = np.asarray(eigenvalues)
    if eigenvalues.size == 0 or np.any(eigenvalues.real >= 0):
        return None
    return float(np.min(2 * np.abs(eigenvalues.real) / np.abs(eigenvalues) ** 2))
