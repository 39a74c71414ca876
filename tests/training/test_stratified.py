"""Stratified sampling: each point stays marginally exact, and batch means get far less noisy."""

import math
from dataclasses import replace

import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.training.samplers import stratified_uniform
from febm.dynamics.training.trainer import BatchedGaussianFEBM, TrainConfig
from febm.errors import InputError, UnknownName
from febm.toy_models import Gaussian, paper_mixture

DT = torch.float64


def _mixture_moments(p):
    mean = sum(w * m for w, m in zip(p.weights, p.means))
    second = sum(w * (s**2 + m**2) for w, m, s in zip(p.weights, p.means, p.sds))
    return mean, second - mean**2


def test_stratified_uniforms_fill_one_slice_each_and_are_marginally_uniform():
    n, runs = 50, 4000
    u = stratified_uniform(runs, n, torch.Generator().manual_seed(0), dtype=DT)
    i = torch.arange(n, dtype=DT)
    assert bool(((u >= i / n) & (u < (i + 1) / n)).all())
    # pooled over the slices, a uniform: the CDF at 1000 points within a KS band
    pooled, _ = u.flatten().sort()
    ks = (pooled - torch.arange(1, pooled.numel() + 1, dtype=DT) / pooled.numel()).abs().max()
    assert float(ks) < 1.63 / math.sqrt(pooled.numel())  # 1% KS critical value


@pytest.mark.parametrize("data", [paper_mixture(), Gaussian(0.7, 1.3)], ids=["mixture", "gaussian"])
def test_from_uniform_is_the_inverse_cdf(data):
    """A midpoint grid of uniforms reproduces the exact mean and variance (to quadrature accuracy)."""
    n = 200_000
    x = data.from_uniform((torch.arange(n, dtype=DT) + 0.5) / n)
    mean, var = _mixture_moments(data) if hasattr(data, "weights") else (data.mu, data.sd**2)
    assert abs(float(x.mean()) - mean) < 1e-4 and abs(float(x.var()) - var) < 1e-3


def test_stratified_batch_means_are_unbiased_and_much_less_noisy():
    p, runs, n = paper_mixture(), 2000, 500
    gen = torch.Generator().manual_seed(1)
    strat = p.from_uniform(stratified_uniform(runs, n, gen, dtype=DT)).mean(1)
    iid = p.sample((runs, n), gen, dtype=DT).mean(1)
    mean, _ = _mixture_moments(p)
    assert abs(float(strat.mean()) - mean) < 3 * float(strat.std()) / math.sqrt(runs) + 1e-12
    assert float(iid.var() / strat.var()) > 100  # measured about 10^3 at n = 500


def _config(**kw):
    return replace(TrainConfig(steps=2, batch=8, critic_sizes=(1, 4, 1), device="cpu"), **kw)


def test_stratified_training_is_seeded_and_checks_its_input():
    kl = [resolve("kl")] * 2
    a = BatchedGaussianFEBM(kl, paper_mixture(), _config(sampling="stratified"), seed=5).train()
    b = BatchedGaussianFEBM(kl, paper_mixture(), _config(sampling="stratified"), seed=5).train()
    assert torch.equal(a.history, b.history)
    with pytest.raises(UnknownName):
        BatchedGaussianFEBM(kl, paper_mixture(), _config(sampling="sobol"))

    class NoInverse:
        def sample(self, shape, generator, device=None, dtype=None):
            return torch.zeros(shape)

    with pytest.raises(InputError, match="inverse CDF"):
        BatchedGaussianFEBM(kl, NoInverse(), _config(sampling="stratified"))
