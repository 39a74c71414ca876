"""Reproducers of reported failures: each gives a right answer or exit 2 with one line."""

import json
import os
import signal

import pytest
import sympy as sp

from febm.divergences import T, U
from febm.divergences.serial import UnserializableError, from_text, to_text
from febm.dynamics.commands.cli import main


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


@pytest.mark.slow  # 19 s of derivation
def test_worker_result_with_the_imaginary_unit_reads_back(capsys):
    text = "(sqrt(t) - 1)**2 - exp(2)/atan(2) + exp(t + 1)/(t*atan(2))"
    assert main(["show", "--json", "--deadline", "600", "--", text]) == 0  # a bound, not a race: 19 s idle
    out = json.loads(capsys.readouterr().out)
    assert out["tails"]["g"]["+inf"]["kind"] == "superexponential"


def test_kinks_are_located_with_symbolic_steps_off(monkeypatch):
    """The reported valid generator was refused on the numeric path ("cannot locate the kinks")."""
    from febm.divergences import symbolic
    from febm.divergences.pieces import _sign_changes, kinks
    from febm.divergences.resolve import resolve_fresh

    monkeypatch.setitem(symbolic.SYMBOLIC, "enabled", False)
    d = resolve_fresh("t**3*cosh(t-1) - 3*t - log(t) + cosh(abs(t-1)) + 1")
    assert kinks(d.f) == [1]
    assert d.conjugate_verification.ok
    # sympy finds no closed form here: the grid's sign change, refined
    (root,) = _sign_changes(sp.Abs(T**5 - T - 1 + sp.sin(T) / 10))
    assert abs(float((T**5 - T - 1 + sp.sin(T) / 10).subs(T, root))) < 1e-12


@pytest.mark.parametrize("expr, kind", [
    (sp.exp(sp.exp(U) - U), "superexponential"), (sp.exp(U**2), "superexponential"),
    (sp.exp(2 * U), "exponential"), (U**3, "polynomial"), (sp.log(1 + U**2), "logarithmic"), (sp.exp(-U), "bounded"),
])
def test_link_growth_faster_than_any_exponential_is_not_called_bounded(expr, kind):
    from febm.divergences.tails import growth

    assert growth(expr, 1).kind == kind


def test_a_superexponential_link_makes_every_reachable_moment_infinite():
    import torch

    from febm.divergences.tails import Growth, LinkTails

    tails = LinkTails({(k, s): Growth("superexponential", s * float("inf")) if k == "h_prime" and s == 1
                       else Growth("bounded", 0.0) for k in ("g", "h", "g_prime", "h_prime") for s in (1, -1)})
    assert tails.rate("h_prime", 1) == float("inf")
    assert any("faster than any exponential" in line for line in tails.implications())
    rho, k = torch.tensor([0.0, 0.5]), tails.rate("h_prime", 1)
    k_rho = torch.where(rho == 0, torch.zeros_like(rho), k * rho)  # the finiteness rule's product
    assert k_rho.tolist() == [0.0, float("inf")]


def test_staging_commit_holds_ctrl_c_until_every_rename_is_done(tmp_path, monkeypatch):
    from febm.dynamics import files as files_module

    names = ["a.png", "b.png", "manifest.json"]
    for name in names:
        (tmp_path / name).write_text("old")
    real_replace, done = os.replace, []

    def replace_then_interrupt(src, dst):
        real_replace(src, dst)
        if os.path.dirname(dst) != str(tmp_path):  # the commit's journal, written first
            return
        done.append(dst)
        if len(done) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the first and second rename

    monkeypatch.setattr(files_module.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt), files_module.Staging() as staged:
        for name in names:
            staged.stage(tmp_path / name).write_text("new")
    assert [(tmp_path / n).read_text() for n in names] == ["new"] * 3
    assert len(done) == 3


@pytest.mark.parametrize("content", ["[1, 2]", "null", '{"figures": [1, 2]}', '{"figures": []}', "not json"])
def test_figures_refuses_a_foreign_manifest_before_drawing(tmp_path, capsys, content):
    (tmp_path / "manifest.json").write_text(content)
    assert main(["figures", "--fast", "--only", "spectra", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a manifest febm wrote" in err
    assert (tmp_path / "manifest.json").read_text() == content
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_figures_device_cuda_without_cuda_is_refused_before_the_progress_bar(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "new"
    assert main(["figures", "--fast", "--only", "paper-1d", "--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "febm: error: --device cuda was asked for, but torch sees no CUDA device\n"
    assert not out.exists()  # the folder made for the output is removed again


def test_limit_threads_caps_pools_loaded_before_it(tmp_path):
    """--threads reaches the BLAS under numpy and scipy too, even when they were loaded first
    (environment variables alone only reach libraries loaded later)."""
    import subprocess
    import sys

    code = ("import json, numpy, scipy.linalg, torch\n"
            "from febm.threads import limit_threads, thread_counts\n"
            "limit_threads(1)\nprint(json.dumps(thread_counts()))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         check=True).stdout
    counts = json.loads(out)
    assert counts["openblas"] == 1 and counts["torch"] == 1 and set(counts.values()) == {1}, counts


def test_serial_runs_one_thread_a_pool_and_restores_the_caps(tmp_path):
    """`serial()` (the node-space flows and the LSODA runner) puts every pool at one thread for its
    block, as a context and as a decorator, and gives back the cap --threads set."""
    import subprocess
    import sys

    code = ("import json, numpy, torch\n"
            "from febm.threads import limit_threads, serial, thread_counts\n"
            "limit_threads(2)\nbefore = thread_counts()\n"
            "with serial():\n    inside = thread_counts()\n"
            "decorated = serial()(thread_counts)()\n"
            "print(json.dumps([before, inside, decorated, thread_counts()]))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         check=True).stdout
    before, inside, decorated, after = json.loads(out)
    assert before["torch"] == 2 and before == after, (before, after)
    assert set(inside.values()) == {1} and inside == decorated, inside


@pytest.mark.parametrize("text, fragment", [
    ("abs(t-1)**0.5", "not convex"),  # f' → ∓∞ beside the kink: was "Invalid NaN comparison"
    ("exp(-1/abs(t-1))", "f(1) is undefined"),  # was "Invalid NaN comparison", then "f(1) = nan"
    ("(t-1)**2 - abs(t-1)", "f' jumps down at the kink t = 1"),
])
def test_invalid_generators_get_their_reason_not_an_internal_error(text, fragment, capsys):
    assert main(["show", text]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "NaN comparison" not in err and "nan" not in err


def test_a_deadline_given_to_one_command_does_not_outlive_it():
    from febm.divergences.worker import LIMITS

    before = LIMITS.deadline
    assert main(["show", "kl", "--deadline", "0.5", "--json"]) == 0
    assert LIMITS.deadline == before


@pytest.mark.parametrize("value", ["0", "-5", "701", "nan", "inf"])
def test_link_clip_out_of_range_is_one_line(value, capsys):
    assert main(["toy2d", "moons", "--steps", "1", "--link-clip", value]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_python_api_shows_progress_unless_told_not_to(capsys):
    """Long Python calls were silent (reproduce_paper_1d ran 100 s without a word)."""
    import febm

    febm.atlas(["kl"], model="gaussian-1d")
    assert "febm atlas" in capsys.readouterr().err
    febm.atlas(["kl"], model="gaussian-1d", progress=False)
    assert capsys.readouterr().err == ""


def test_a_budget_beyond_any_run_is_one_line(capsys):
    """Found by the CLI fuzz: --budget 1e30 overflowed a step count deep in the trainer."""
    assert main(["bench", "toy2d", "moons", "--methods", "cd", "--budget", "9" * 30]) == 2
    assert "must be at most 100000 (millions)" in capsys.readouterr().err
