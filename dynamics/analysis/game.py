"""The f-EBM game with exact expectations.

L(θ, ω) = E_p[g(r)] − E_{q_θ}[h(r)],  r = H_ω + E_θ,  g(u) = f'(e^u),  h(u) = f*(f'(e^u)).
"""

from __future__ import annotations

import torch
from torch.func import hessian, jacfwd, jacrev, jvp

from ...divergences import Divergence
from ...divergences.numeric import exp_bounds_for
from ...errors import InputError
from ...toy_models import empirical


def _has(obj, method: str) -> bool:
    """What isinstance(obj, ClosedFormGradient) (or Hessian) decides, without typing's runtime
    protocol check: the flows ask twice per field evaluation, and that check cost a tenth of
    paper-1d's field. Per object, not per class: a grid energy sets its gradient in __init__."""
    return callable(getattr(obj, method, None))


def gradient(obj, fn: str, params, x):
    """Closed-form parameter gradient where the object has one, else forward-mode autodiff
    (few parameters, many nodes). Both stay differentiable for the flow's Jacobian."""
    if _has(obj, "gradient"):
        return obj.gradient(params, x)
    return jacfwd(getattr(obj, fn), argnums=0)(params, x)


def derivative(fn):
    """u ↦ fn'(u) for an elementwise torch function, by forward mode (composes with grad and vmap)."""
    return lambda u: jvp(fn, (u,), (torch.ones_like(u),))[1]


def hessian_mean(obj, fn: str, params, nodes):
    """(c, other) ↦ E[other + c · ∇²_params fn(params, x)] over ``nodes``, a (d, d) matrix (c: one
    coefficient per node and ``other`` per-point (d, d) terms, both shaped for (n, d, d)). From the
    per-point closed form where the object has one; else E[c·∇²fn] is the Hessian of E[c · fn] with c
    held fixed, which never forms the (n, d, d) stack of per-point Hessians (368 GB for a 2-D toy's
    2-32-32-1 energy). Both stay differentiable in c, ``other`` and params."""
    if _has(obj, "hessian"):
        per_point = obj.hessian(params, nodes.x)
        return lambda c, other=None: nodes.mean(c * per_point if other is None else other + c * per_point)
    f = getattr(obj, fn)

    def mean(c, other=None):
        curvature = hessian(lambda p: nodes.mean(c.reshape(-1) * f(p, nodes.x)))(params)
        return curvature if other is None else nodes.mean(other) + curvature

    return mean


class Game:
    """A divergence and a toy set-up (model, critic, data) with exact expectations.

    ``gradients`` uses the estimator of the paper: expectations of g'(r)∇E and h'(r)∇E plus
    the covariance term Cov_q(h(r), ∇_θ E) that comes from q_θ's dependence on θ. ``value``
    is L itself, so autodiff of ``value`` is an independent check of ``gradients``.

    ``link_clip`` plays the game a trainer plays with clamped links (the reference code's practice):
    every exp(a) inside g and h is evaluated as exp(clip(a, lo, hi)), and g', h', g'', h'' are those
    links' derivatives (zero where a is clamped), so the field jumps where a point's r crosses a bound.
    """

    def __init__(self, divergence: Divergence, model, critic, data, link_clip=None):
        if divergence.params:
            raise InputError(f"{divergence.name} has a free parameter: bind it first, e.g. {divergence.name}=0.5")
        self.divergence = divergence
        self.model, self.critic, self.data = model, critic, data
        self.link_clip = exp_bounds_for(divergence.name, link_clip)
        self.g = divergence.function("g", "torch", exp_clip=self.link_clip)
        self.h = divergence.function("h", "torch", exp_clip=self.link_clip)
        if self.link_clip is None:
            self.g1 = divergence.function("g_prime", "torch")
            self.h1 = divergence.function("h_prime", "torch")
        else:  # a clamped link's derivative is zero where an exp's argument is clamped: autodiff knows
            self.g1, self.h1 = derivative(self.g), derivative(self.h)
        self.dim_theta, self.dim_omega = model.dim, critic.dim

    @property
    def g2(self):
        """g''(u) as a torch function (compiled on first use: only off-equilibrium Jacobians need it)."""
        return self.divergence.function("g_second", "torch") if self.link_clip is None else derivative(self.g1)

    @property
    def h2(self):
        return self.divergence.function("h_second", "torch") if self.link_clip is None else derivative(self.h1)

    @classmethod
    def from_setup(cls, divergence: Divergence, setup, link_clip=None) -> "Game":
        """``link_clip``: the trainer's clamps inside the links (None, C, (lo, hi) or {f name: either})."""
        return cls(divergence, setup.model, setup.critic, setup.data, link_clip)

    def split(self, z):
        return z[: self.dim_theta], z[self.dim_theta :]

    def r(self, theta, omega, x):
        return self.critic.value(omega, x) + self.model.energy(theta, x)

    def value(self, theta, omega):
        p, q = self.data.nodes(), self.model.nodes(theta)
        return p.mean(self.g(self.r(theta, omega, p.x))) - q.mean(self.h(self.r(theta, omega, q.x)))

    def features(self, theta, omega, x):
        """∇_θ E and ∇_ω H at each node: (n, dθ) and (n, dω)."""
        return gradient(self.model, "energy", theta, x), gradient(self.critic, "value", omega, x)

    def gradients(self, theta, omega):
        """(∇_θ L, ∇_ω L) by the f-EBM estimator with exact expectations."""
        return self.estimate(theta, omega, self.data.nodes(), self.model.nodes(theta))

    def sample_gradients(self, theta, omega, x_p, x_q):
        """The same estimator on samples: x_p from p, x_q from q_θ (held fixed, so the θ-dependence
        of q enters only through the covariance term). torch.func.vmap batches it over runs."""
        return self.estimate(theta, omega, empirical(x_p), empirical(x_q.detach()))

    def estimate(self, theta, omega, p, q):
        """E_p[g'(r)∇E] − E_q[h'(r)∇E] + Cov_q(h(r), ∇E) and E_p[g'(r)∇H] − E_q[h'(r)∇H] over nodes."""
        a_p, b_p = self.features(theta, omega, p.x)
        a_q, b_q = self.features(theta, omega, q.x)
        r_p, r_q = self.r(theta, omega, p.x), self.r(theta, omega, q.x)
        g1p, h1q, hq = self.g1(r_p), self.h1(r_q), self.h(r_q)
        grad_omega = p.mean(g1p[:, None] * b_p) - q.mean(h1q[:, None] * b_q)
        cov = q.mean(hq[:, None] * a_q) - q.mean(hq) * q.mean(a_q)
        grad_theta = p.mean(g1p[:, None] * a_p) - q.mean(h1q[:, None] * a_q) + cov
        return grad_theta, grad_omega

    def autodiff_gradients(self, theta, omega):
        """(∇_θ L, ∇_ω L) by differentiating ``value`` (reparametrized or weighted nodes)."""
        return jacrev(self.value, argnums=(0, 1))(theta, omega)

    def feature_moments(self, theta, omega):
        """Under p: μ = E[∇θE], ν = E[∇ωH], C = Cov(∇θE), K = E[∇ωH ∇ωHᵀ] (THEORY.md)."""
        p = self.data.nodes()
        a, b = self.features(theta, omega, p.x)
        mu, nu = p.mean(a), p.mean(b)
        C = p.mean(a[:, :, None] * a[:, None, :]) - torch.outer(mu, mu)
        K = p.mean(b[:, :, None] * b[:, None, :])
        return mu, nu, C, K
