"""The trained game of a network critic: node-space linearization, Arnoldi, the measured step edge,
critic spellings and `febm calibrate`."""


import numpy as np
import pytest
import torch

from febm.divergences import resolve
from febm.dynamics.analysis import jacobian, krylov, nodespace, spectrum, step_edge
from febm.dynamics.analysis.fields import GDAField
from febm.dynamics.analysis.game import Game
from febm.errors import InputError
from febm.toy_models import LinearCritic, MLPCritic, polynomial
from febm.toy_models.critics import ModuleCritic, parse_critic
from febm.toy_models.data import paper_mixture
from febm.toy_models.misspecified import OnNodes, paper_1d


def _game(name="kl", critic="mlp:4"):
    """The game and a point near the start (θ near the KL minimizer; no exact fit, to stay quick)."""
    c = parse_critic(critic)
    s = paper_1d(critic=c)
    z = torch.cat([torch.tensor([1.0, 0.6], dtype=torch.float64), c.init(0)])
    return Game.from_setup(resolve(name).validate(), s), z


def test_critic_spellings():
    assert parse_critic("mlp:64,64").dim == 2 * 64 + 64 * 64 + 64 + 65
    assert parse_critic("mlp:64,64").sizes == (1, 64, 64, 1)
    for bad in ("mlp:", "mlp:0", "mlp:a,b", "rnn:3", "mlp:1,2,3,4,5"):
        with pytest.raises(InputError):
            parse_critic(bad)


def test_module_critic_is_the_same_function_as_the_mlp():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(1, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    flat = ModuleCritic(module)
    ours = MLPCritic((1, 5, 1))
    # MLPCritic stores each layer as (in × out) then the bias; nn.Linear stores (out × in)
    omega = torch.cat([torch.cat([m.weight.detach().T.reshape(-1), m.bias.detach()]) for m in module[::2]]).double()
    x = torch.linspace(-3, 3, 17, dtype=torch.float64)
    assert flat.dim == ours.dim
    torch.testing.assert_close(flat.value(flat.init(), x), ours.value(omega, x))


def test_node_field_is_the_estimator():
    """The node-space field (autodiff through L(θ, h(ω))) equals the f-EBM estimator with its covariance term."""
    for name in ("kl", "jensen_shannon"):
        game, z = _game(name)
        torch.testing.assert_close(nodespace.NodeGame(game).field(z), GDAField(game)(z), rtol=1e-10, atol=1e-12)


def test_node_jacobian_spectrum_equals_the_full_one_for_a_critic_linear_in_omega():
    """With ∇²_ω H = 0 the dropped term is exactly zero, so G_node's non-zero eigenvalues are J's."""
    s = paper_1d()
    data = OnNodes(paper_mixture(), *s.model.grid)
    critic = LinearCritic(polynomial(2)).with_dim(torch.zeros(1, dtype=torch.float64))
    game = Game(resolve("jensen_shannon").validate(), s.model, critic, data)
    z = torch.cat([torch.tensor([0.8, 0.5], dtype=torch.float64), torch.tensor([0.1, 0.2, -0.3],
                                                                               dtype=torch.float64)])
    nj = nodespace.NodeJacobian.at(nodespace.NodeGame(game), z)
    dense = np.linalg.eigvals(jacobian.autodiff(GDAField(game), z).numpy())
    node = np.linalg.eigvals(spectrum.transverse(nj.G, nj.kernel_null()))
    assert nj.rank == critic.dim
    key = lambda v: (round(v.real, 6), round(v.imag, 6))  # noqa: E731
    np.testing.assert_allclose(sorted(dense, key=key), sorted(node, key=key), rtol=1e-7, atol=1e-9)


def test_arnoldi_matches_the_dense_spectrum():
    game, z = _game("kl", "mlp:6")
    field = GDAField(game)
    dense = np.linalg.eigvals(jacobian.autodiff(field, z).numpy())
    top = dense[np.argsort(-np.abs(dense))][:4]
    found = krylov.largest_modulus(krylov.jacobian_operator(field, z), k=4)
    np.testing.assert_allclose(np.abs(found), np.abs(top), rtol=1e-8)
    stable = top[top.real < 0]
    assert krylov.step_limit(stable) == pytest.approx(spectrum.eta_max_simultaneous(np.diag(stable)))


def test_the_node_fields_linearization_is_the_dense_jacobian():
    """Arnoldi's products by reverse over reverse on one graph (`NodeGame._linearized`) are J v, for
    the whole field and for the critic-only field (θ's rows masked), and agree with forward mode."""
    game, z = _game("kl", "mlp:6")
    ng = nodespace.NodeGame(game)
    J = jacobian.autodiff(ng.field, z)
    critic_only = ng.critic_field(z[: game.dim_theta])
    keep = (torch.arange(len(z)) >= game.dim_theta).double()
    V = torch.randn(len(z), 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for field, dense in ((ng.field, J), (critic_only, keep[:, None] * J)):
        graph, forward = krylov.jacobian_operator(field, z), krylov.jacobian_operator(field, z, forward_mode=True)
        for v in V.T:
            torch.testing.assert_close(torch.as_tensor(graph.matvec(v.numpy())), dense @ v, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(graph.matvec(v.numpy()), forward.matvec(v.numpy()), rtol=1e-10, atol=1e-12)


def test_measured_edge_matches_the_formula_on_a_nonlinear_field():
    """Runs of z ← z + η F(z) with F(z) = A z + (z·z) b: the bisected edge brackets 2|Re λ|/|λ|², and is
    within the resolution plus the detection bias the module states."""
    A = torch.tensor([[-3.0, 4.0, 0.0], [-4.0, -3.0, 0.0], [0.0, 0.0, -10.0]], dtype=torch.float64)
    b = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
    field = lambda z: A @ z + (z @ z) * b  # noqa: E731
    exact = min(2 * 3 / 25, 2 / 10)  # −3 ± 4i allows 0.24, −10 allows 0.2: the real mode binds
    z = torch.zeros(3, dtype=torch.float64)
    direction = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64)
    m = step_edge.measured(field, z, guess=0.17, direction=direction, steps=1000)
    assert m.bracket[0] <= exact * 1.005 and m.bracket[1] >= exact * 0.999
    assert m.eta == pytest.approx(exact, rel=0.006)
    assert step_edge.predicted(field, z, k=2)[0] == pytest.approx(exact, rel=1e-9)


def test_check_with_a_wide_critic_gives_no_verdict_without_an_equilibrium(monkeypatch):
    """A wide critic is located by the flow (no dense root-solve); where the flow does not reach
    |F| ≤ 1e-8 the verdict is NO-EQUILIBRIUM with |F| along the way, and no step limit is printed."""
    from febm.dynamics.analysis import nodespace as ns
    from febm.dynamics.commands.check import check

    monkeypatch.setattr(ns, "WIDE", 10)  # mlp:4 (13 parameters) counts as wide here
    monkeypatch.setattr(ns, "FLOW_STEPS", 400)
    monkeypatch.setattr(ns, "WARM_STEPS", 100)
    report = check("kl", "paper-1d", critic="mlp:4", simulate_runs=False)
    assert report.verdict == "no-equilibrium"
    assert "the flow came to" in report.reason and report.eta_max_simultaneous is None
    assert "STABLE" not in report.text()


def test_a_2d_toy_plays_an_mlp_energy_against_a_network_critic_on_shared_nodes():
    from febm.dynamics.analysis.nodespace import NodeGame, shares_nodes
    from febm.toy_models import with_critic

    s = with_critic("toy2d-moons", "mlp:3", seed=2)
    game = Game.from_setup(resolve("jensen_shannon"), s)
    assert shares_nodes(game) and game.dim_theta == 1185 and game.dim_omega == 13
    z = s.initial_guess(game.divergence)
    assert torch.equal(z[1185:], s.critic.init(2)) and not torch.equal(z[:13], z[1185:])
    q = s.model.nodes(z[:1185])
    assert torch.isclose(q.w.sum(), torch.tensor(1.0, dtype=q.w.dtype))
    assert torch.isfinite(NodeGame(game).field(z)).all()
    assert torch.isclose(s.data.nodes().w.sum(), torch.tensor(1.0, dtype=q.w.dtype))


def test_the_2d_node_game_adds_the_trainers_energy_penalty_to_the_energys_field_only():
    """λ/2·Σ (p_i + q_i) E_i², with q's weights held (the trainer's q samples are not differentiated):
    the field with the penalty minus the field without is −∇_θ of that sum in θ, and 0 in ω."""
    from febm.dynamics.analysis.nodespace import NodeGame
    from febm.toy_models import with_critic
    from febm.toy_models.misspecified import TOY2D_PENALTY

    s = with_critic("toy2d-moons", "mlp:3", seed=2)
    node_game = NodeGame(Game.from_setup(resolve("jensen_shannon"), s))
    z = s.initial_guess(node_game.game.divergence)
    assert s.model.penalty == TOY2D_PENALTY > 0
    with_penalty = node_game.field(z)
    s.model.penalty = 0.0
    without = node_game.field(z)
    n = node_game.n_theta
    theta = z[:n].clone().requires_grad_()
    p, q = s.data.nodes().w, s.model.nodes(z[:n]).w
    term = TOY2D_PENALTY / 2 * ((p + q) * s.model.energy(theta, node_game.x) ** 2).sum()
    (expected,) = torch.autograd.grad(term, theta)
    torch.testing.assert_close(with_penalty[:n] - without[:n], -expected, rtol=1e-9, atol=1e-12)
    assert torch.equal(with_penalty[n:], without[n:])


def test_the_moment_forms_curvature_is_the_mean_of_per_node_hessians():
    """E[c ∇²H] by the Hessian of E[c·H] (`game.hessian_mean`, no (n, d, d) stack) against the mean of
    per-node Hessians by forward over forward, for an MLP critic; and the closed form of the
    Gaussian energy against the autodiff form of the same energy."""
    from torch.func import jacfwd

    from febm.dynamics.analysis.game import hessian_mean
    from febm.toy_models.nodes import Nodes

    game, z = _game("kl", "mlp:4")
    theta, omega = game.split(z)
    nodes = game.model.nodes(theta)
    c = torch.linspace(-1, 2, len(nodes.w), dtype=z.dtype)[:, None, None]
    other = torch.randn(len(nodes.w), len(omega), len(omega), dtype=z.dtype, generator=torch.Generator().manual_seed(3))
    stack = jacfwd(jacfwd(game.critic.value, argnums=0), argnums=0)(omega, nodes.x)
    mean = hessian_mean(game.critic, "value", omega, nodes)
    torch.testing.assert_close(mean(c), nodes.mean(c * stack), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(mean(c, other), nodes.mean(other + c * stack), rtol=1e-10, atol=1e-12)

    energy = game.model
    assert callable(getattr(energy, "hessian", None))
    autodiff_only = type("Bare", (), {"energy": staticmethod(energy.energy)})()
    x = Nodes(torch.linspace(-3, 4, 40, dtype=z.dtype), torch.full((40,), 1 / 40, dtype=z.dtype))
    cx = torch.cos(x.x)[:, None, None]
    torch.testing.assert_close(hessian_mean(energy, "energy", theta, x)(cx),
                               hessian_mean(autodiff_only, "energy", theta, x)(cx), rtol=1e-10, atol=1e-12)


def test_a_network_energy_makes_the_game_wide_whatever_the_critic(monkeypatch):
    """A 2-D toy's 2-32-32-1 energy with a 13-parameter critic is located by the flow: its dense
    moment form would stack 1024 × 1185² per-node terms (11 GB; it was killed for memory)."""
    from febm.dynamics.analysis import nodespace as ns
    from febm.dynamics.commands.check import check
    from febm.toy_models import with_critic

    assert ns.is_wide(Game.from_setup(resolve("kl"), with_critic("toy2d-moons", "mlp:3", seed=0)))
    assert not ns.is_wide(_game("kl", "mlp:4")[0])
    monkeypatch.setattr(ns, "FLOW_STEPS", 20)
    monkeypatch.setattr(ns, "WARM_STEPS", 10)
    report = check("squared_hellinger", "toy2d-moons", critic="mlp:3", simulate_runs=False)
    assert report.verdict == "no-equilibrium" and "the flow came to" in report.reason
    assert "STABLE" not in report.text()


def test_check_reads_a_flow_that_overflowed_as_not_finite():
    """A located point whose |F| is not finite is null in the JSON and "not finite" in the text
    (the text raised a TypeError on it)."""
    from febm.dynamics.commands.check import check

    report = check("kl", "paper-1d", critic="mlp:4", simulate_runs=False)
    d = report.to_json()
    d["equilibrium"]["solved_residual"] = None
    again = type(report).from_json(d)
    assert "|F| = not finite" in again.text()


def test_check_reads_a_wide_games_step_limit_from_its_trained_analysis(monkeypatch):
    """A wide game's located point is a `TrainedAnalysis`'s resting point, kept by `LocalAnalysis`;
    its Arnoldi step limit (largest-modulus eigenvalues only) equals the one read off every eigenvalue
    of the dense Jacobian there, and `check` prints it beside the missing verdict."""
    from torch.func import jacrev

    from febm.dynamics.analysis import nodespace as ns
    from febm.dynamics.analysis.local import LocalAnalysis
    from febm.dynamics.analysis.trained import RestStatus, TrainedAnalysis
    from febm.dynamics.commands.check import check

    monkeypatch.setattr(ns, "WIDE", 10)  # mlp:4 (13 parameters) counts as wide here
    monkeypatch.setattr(ns, "FLOW_STEPS", 2000)
    ta = LocalAnalysis.build("kl", "paper-1d", critic="mlp:4").trained
    assert isinstance(ta, TrainedAnalysis) and ta.status is RestStatus.RESTED
    eigs = np.linalg.eigvals(jacrev(ta.node_game.field)(ta.z).numpy())
    assert len(eigs) > len(ta.eigenvalues)  # Arnoldi saw only some of them
    dense = min(-2 * e.real / abs(e) ** 2 for e in eigs if e.real < 0)
    assert ta.eta_max == pytest.approx(dense, rel=1e-9)
    report = check("kl", "paper-1d", critic="mlp:4", simulate_runs=False)
    assert report.verdict == "no-equilibrium"
    assert report.to_json()["trained"]["eta_max"] == pytest.approx(ta.eta_max, rel=1e-12)
    assert f"η_max = {ta.eta_max:.4g} at η_ω = η_θ, at the flow's resting point, not an equilibrium" in report.text()
