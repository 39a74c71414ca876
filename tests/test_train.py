"""The batched stochastic f-EBM trainer: vectorized runs, determinism, convergence, status."""

import math

import numpy as np
import pytest
import torch

from divergences import divergence
from dynamics.exact_fit import fit_gaussian
from dynamics.train import BatchedGaussianFEBM, TrainConfig, resolve_device
from toy_models import Gaussian, mlp, paper_mixture

SMALL = {"steps": 300, "batch": 256, "critic_sizes": (1, 8, 8, 1), "lr_theta": 3e-3, "lr_omega": 1e-2}


def _trainer(names, seed=0, data=None, **overrides):
    cfg = TrainConfig(**{**SMALL, **overrides})
    return BatchedGaussianFEBM([divergence(n) for n in names], data or Gaussian(0.5, 1.3), cfg, seed=seed)


def test_batched_mlp_equals_per_run_mlp():
    sizes = (1, 5, 4, 1)
    params = mlp.init_batched(3, sizes, torch.Generator().manual_seed(0))
    x = torch.randn(3, 7, dtype=params.dtype, generator=torch.Generator().manual_seed(1))
    batched = mlp.forward_batched(params, x, sizes)
    for r in range(3):
        assert torch.allclose(batched[r], mlp.forward(params[r], x[r], sizes), atol=1e-14)


def test_surrogate_gradient_is_the_game_gradient_with_covariance_term():
    """With huge batches, ∇_θ S matches quadrature of E_p[g'∇E] − E_q[h'∇E] + Cov_q(h, ∇E)."""
    # JS: h grows linearly, so every moment is finite (KL's e^r under q would not be)
    t = _trainer(["jensen_shannon"], dtype=torch.float64, quadratic_skip=False, clip=None)
    g, h = t.links["jensen_shannon"]
    theta = torch.tensor([[0.2, math.log(1.1)]], dtype=torch.float64)
    n = 400_000
    x_p, z = t.sample(n)
    x_q = theta[:, :1] + torch.exp(theta[:, 1:]) * z
    (g_theta,) = t._grads(theta, t.omega, x_p, x_q, ("theta",))
    # the same quantity by Gauss–Hermite quadrature (independent of the sampler)
    zz, ww = np.polynomial.hermite_e.hermegauss(80)
    ww = torch.tensor(ww / math.sqrt(2 * math.pi))
    zz = torch.tensor(zz)
    xp = 0.5 + 1.3 * zz
    xq = 0.2 + 1.1 * zz
    th = theta[0].clone().requires_grad_(True)

    def energy(x):
        return 0.5 * ((x - th[0]) * torch.exp(-th[1])) ** 2

    def critic(x):
        return mlp.forward(t.omega[0], x, SMALL["critic_sizes"])

    r_p, r_q = critic(xp) + energy(xp), critic(xq) + energy(xq)
    hq = h(r_q)
    c = (hq - (ww * hq).sum()).detach()
    S = (ww * g(r_p)).sum() - (ww * hq).sum() + (ww * c * energy(xq)).sum()
    (expected,) = torch.autograd.grad(S, th)
    assert torch.allclose(g_theta[0], expected, atol=5e-3, rtol=0)
    assert float(expected.abs().max()) > 0.05  # not trivially zero


def test_same_seed_same_numbers_on_cpu():
    a = _trainer(["kl", "jensen_shannon"], seed=3).train()
    b = _trainer(["kl", "jensen_shannon"], seed=3).train()
    c = _trainer(["kl", "jensen_shannon"], seed=4).train()
    assert torch.equal(a.history, b.history) and torch.equal(a.omega, b.omega)
    assert not torch.equal(a.history, c.history)


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_realizable_gaussian_is_recovered(update):
    res = _trainer(["kl", "reverse_kl", "squared_hellinger"], steps=1200, update=update).train()
    assert res.status == ["ok"] * 3
    assert torch.allclose(res.mu_sigma, torch.tensor([[0.5, 1.3]] * 3), atol=0.05)


def test_non_finite_runs_are_reported_and_frozen():
    t = _trainer(["kl", "kl"], steps=5)
    t.omega[1, 0] = float("nan")
    res = t.train()
    assert res.status[0] == "ok" and "run 1" in res.status[1] and "step 1" in res.status[1]
    assert torch.isfinite(res.theta).all()
    # a run that died before the averaging window reports its last finite θ, not a biased zero
    assert torch.equal(res.theta_average[1], res.theta[1])


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(ValueError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_the_cpu_statistically():
    cpu = _trainer(["kl"] * 4, steps=800, dtype=torch.float64).train()
    gpu = _trainer(["kl"] * 4, steps=800, dtype=torch.float64, device="cuda").train()
    assert torch.allclose(cpu.mu_sigma.mean(0), gpu.mu_sigma.mean(0), atol=0.05)


def test_exact_fit_of_kl_is_moment_matching():
    p = paper_mixture()
    fit = fit_gaussian(divergence("kl").function("f"), lambda x: p.log_prob(torch.as_tensor(x)).numpy())
    mean = 0.33 * -1 + 0.67 * 2
    var = 0.33 * (0.25**2 + 1) + 0.67 * (2 + 4) - mean**2
    assert abs(fit.mu - mean) < 1e-6 and abs(fit.sigma - math.sqrt(var)) < 1e-6


def test_reproduce_paper_1d_json_keys(capsys):
    import json

    from dynamics.cli import main

    code = main(["reproduce", "paper-1d", "--json", "--steps", "30", "--seeds", "2", "--device", "cpu"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and {"rows", "elapsed_s"} <= set(out)
    names = [r["divergence"] for r in out["rows"]]
    assert names == ["kl", "reverse_kl", "jensen_shannon", "squared_hellinger", "alpha=-0.5", "alpha=-1",
                     "alpha=0.9", "neyman_chi2", "pearson_chi2"]
    row = out["rows"][0]
    assert set(row["exact"]) == {"mu", "sigma"} and set(row["reference"]) == {"mu", "sigma"}
    assert set(row["febm"]) == {"mu", "sigma", "mu_sd", "sigma_sd"}
    assert abs(row["exact"]["mu"] - 1.01) < 1e-6  # KL's minimizer matches moments


@pytest.mark.parametrize("argv", [["reproduce", "paper-2d"], ["reproduce", "paper-1d", "--seeds", "0"],
                                  ["reproduce", "paper-1d", "--device", "tpu"]])
def test_reproduce_bad_input_exits_2(capsys, argv):
    from dynamics.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("febm: error:")


def test_reproduce_knobs_reach_the_config():
    from dynamics import paper1d

    cfg = paper1d.configure(steps=100, warmup=50, clip=None, init_sigma=1.4, dtype=torch.float64)
    assert (cfg.steps, cfg.critic_warmup, cfg.clip, cfg.init_sigma, cfg.dtype) == (
        100, 50, None, 1.4, torch.float64)
    assert paper1d.configure().clip == paper1d.DEFAULT.clip


def test_reproduce_knob_errors_exit_2(capsys):
    from dynamics.cli import main

    assert main(["reproduce", "paper-1d", "--init-sigma", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
