"""A seeded fuzz of the whole command line: every subcommand and option, with valid small values
and hostile ones, run in-process through ``main``. Each case must end with exit 0 (valid JSON with
--json, no "None" in text) or exit 2 with one line; anything else escaping ``main`` is a failure.

The cases are drawn once from a fixed seed (so a failure names a case that can be rerun) and run
in chunks, so that the two test workers share them. Budgets stay small where a value is valid.
"""

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_inputs import GARBAGE

from febm.dynamics.commands.cli import main

CASES_PER_CHUNK = 65
CHUNKS = 8  # 520 cases
HOSTILE = ["", " ", "nan", "inf", "-inf", "-1", "0", "1e400", "-0", "abc", "１２", "0x10", "1_0", "9" * 30,
           "−1", "None", "--json", "1e-400", "2.5", "\x1b[31m"]
GENERATORS = ["kl", "jensen_shannon", "alpha=0.5", "alpha=2", "(t-1)**2", "t*log(t)", "alpha", "alpha=nan",
              "alpha=1e9", "nope", "(t-1)**4", "abs(t-1)", "t**0.5", "-t", "log(", "total_variation",
              "1/(t-t)", "exp(710100)", "t*log(t) + 1e-300*t**400", "abs(t-1)**0.5", "exp(-1/abs(t-1))"]
MODELS = ["gaussian-1d", "shifted-linear", "gauge", "gaussian-1d-natural", "nope", "x.py:S", "x.py", "",
          "file.py:", ":S", "../nope.py:NAME"]
PATH_KINDS = ["new", "file/below", "", "/proc/febm-fuzz", "a" * 300, "/sys/febm"]


def _path(kind, tmp):
    if kind == "new":
        return str(tmp / "out")
    if kind == "file/below":
        (tmp / "file").write_text("x")
        return str(tmp / "file" / "below")
    return kind


# subcommand: (fixed argv that keeps valid runs cheap, {option: valid values}, flags)
COMMANDS = {
    "divergences": ([], {}, ["--json"]),
    "show": (["GEN"], {"--deadline": ["2", "0.5"]}, ["--json", "--latex"]),
    "check": (["GEN", "--no-simulation"], {"--model": MODELS, "--lr-ratio": ["1", "5", "1e-6", "1e7"],
                                            "--seed": ["0", "3", str(2**63)], "--deadline": ["2"],
                                            "--critic": ["mlp:4", "mlp:", "mlp:0", "mlp:a", "foo"],
                                            "--link-clip": ["5", "-inf,3", "3,2", "1,x", "reference"],
                                            "--plot": ["PATH"]}, ["--json"]),
    "confirm": (["GEN", "--runs", "2", "--batch", "8"],
                {"--model": MODELS, "--lr-ratio": ["1", "2"], "--runs": ["2", "1", "3"], "--batch": ["8", "2", "1"],
                 "--spread": ["0.5", "1", "1.05", "0.999"], "--steps": ["10", "9"], "--seed": ["1"],
                 "--deadline": ["2"]}, ["--json"]),
    "atlas": (["GEN", "--model", "gaussian-1d"], {"--model": MODELS, "--batch": ["16", "1", "0"], "--deadline": ["2"],
                                                  "--lr-ratio": ["1"], "--plot": ["PATH"], "--lr": ["0.01", "0"],
                                                  "--steps": ["5", "0"], "--critic": ["linear", "mlp:2", "x.py:C"],
                                                  "--measure": ["0", "65"], "--seed": ["1", "-1"]},
              ["--json", "--basins"]),
    "calibrate": (["GEN", "--critic", "mlp:3", "--flow-steps", "0", "--warm-steps", "0", "--edge-steps", "10",
                   "--time-steps", "10"],
                  {"--model": ["paper-1d", "gaussian-1d", "nope"], "--critic": ["mlp:3", "mlp:", "x.py:C", "foo"],
                   "--quantities": ["eta_max", "time_to_0.05", "eta_max,rate", "spread", ",", ""],
                   "--time-steps": ["10", "9", "20"], "--batch": ["64", "1"],
                   "--flow-steps": ["0", "5"], "--warm-steps": ["0", "5"], "--edge-steps": ["10", "9"],
                   "--plot": ["PATH"], "--seed": ["2"], "--deadline": ["2"],
                   "--link-clip": ["reference", "5", "0"]}, ["--json"]),
    "toy2d": (["moons", "--steps", "1", "--methods", "cd"],
              {"--methods": ["cd", "kl", "cd,kl", ",", "cd,,kl", "nope", "(t-1)**2"], "--steps": ["1", "2"],
               "--device": ["cpu", "gpu", "cuda"], "--seed": ["4"], "--plot": ["PATH"],
               "--link-clip": ["5", "701", "0.5", "-inf,3", "reference"], "--sampler": ["grid", "exact"],
               "--sampler-grid": ["8", "7"],
               "--hidden": ["4,4", "4", "0", "4,x", ""], "--activation": ["silu", "relu"]}, ["--json"]),
    "bench": (["toy2d", "moons", "--methods", "cd", "--seeds", "2", "--budget", "0.0005"],
              {"--methods": ["cd", "kl,cd", "nope"], "--seeds": ["2", "1"], "--budget": ["0.0005", "0"],
               "--preset": ["under-trained", "cpu-exact", "gpu-exact", "nope"],
               "--critic-form": ["free", "residual", "nope"], "--device": ["cpu", "x"], "--seed": ["1"],
               "--link-clip": ["5", "-5"],
               "--plot": ["PATH"], "--sampler": ["grid", "langevin", "mcmc"], "--sampler-grid": ["16", "2000"],
               "--hidden": ["8", "8,8,8", "-1"], "--activation": ["silu", "gelu"]}, ["--json", "--tune", "--compile"]),
    "figures": (["--fast", "--only", "spectra"], {"--out": ["PATH"], "--only": ["spectra", "nope", ""],
                                                  "--device": ["cpu", "tpu"], "--seed": ["1"]},
                ["--json", "--list"]),
    "reproduce": (["paper-1d", "--steps", "2", "--warmup", "0", "--seeds", "1", "--divergences", "kl"],
                  {"--device": ["cpu", "x"], "--seeds": ["1", "0"], "--divergences": ["kl", "(t-1)**2", "nope"],
                   "--steps": ["2", "0"], "--warmup": ["0", "1"], "--clip": ["0", "1", "-1"],
                   "--init-sigma": ["1.4", "0"], "--update": ["alternating", "both"],
                   "--dtype": ["float64", "int8"], "--seed": ["3"], "--plot": ["PATH"]}, ["--json"]),
}


def _value(option, valid, rng):
    return rng.choice(HOSTILE) if rng.random() < 0.5 else rng.choice(valid)


def _case(rng: random.Random) -> list:
    """One argv (with PATH placeholders as (kind,) tuples)."""
    name = rng.choice(sorted(COMMANDS))
    fixed, options, flags = COMMANDS[name]
    argv = [] if rng.random() < 0.8 else ["--threads", rng.choice(["1", "2", "0", "x", "257"])]
    argv.append(name)
    for token in fixed:
        argv.append(rng.choice(GENERATORS + HOSTILE[:4]) if token == "GEN" else token)
    for option in rng.sample(sorted(options), k=min(len(options), rng.randint(0, 3))):
        value = _value(option, options[option], rng)
        argv += [option, (rng.choice(PATH_KINDS),) if value == "PATH" else value]
    argv += [f for f in flags if rng.random() < 0.5]
    if rng.random() < 0.05:
        argv.append(rng.choice(["--nope", "extra", "-h", "--version"]))
    return argv


ALL = [_case(random.Random(f"febm-cli-fuzz-{i}")) for i in range(CASES_PER_CHUNK * CHUNKS)]


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_cli_fuzz_every_case_answers_or_refuses_with_one_line(chunk, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    failures = []
    for i in range(chunk * CASES_PER_CHUNK, (chunk + 1) * CASES_PER_CHUNK):
        case = tmp_path / f"case{i}"
        case.mkdir()
        argv = [_path(a[0], case) if isinstance(a, tuple) else a for a in ALL[i]]
        problem = _run(argv, capsys)
        if problem:
            failures.append(f"case {i} {argv!r}: {problem}")
    assert not failures, "\n".join(failures)


def _run(argv, capsys) -> str | None:
    try:
        code = main(argv)
    except SystemExit as exc:  # --help and --version print and exit 0
        code = exc.code
        if code != 0:
            return f"SystemExit({code})"
    except BaseException as exc:  # noqa: BLE001 (anything else escaping main is what the fuzz looks for)
        return f"{type(exc).__name__}: {exc}"
    out, err = capsys.readouterr()
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("febm: error:")]
        if len(lines) != 1 or "Traceback" in err:
            return f"exit 2 with stderr {err[-400:]!r}"
        return f"an internal error as the message: {lines[0]}" if INTERNAL.search(lines[0]) else None
    if code != 0:
        return f"exit {code}: {err[-400:]!r}"
    if _printed_nothing_wrong(out):
        return f"{_printed_nothing_wrong(out)}: {out[:400]!r}"
    if "--json" in argv and "-h" not in argv and "--help" not in argv:
        try:
            json.loads(out, parse_constant=_refuse)
        except ValueError as exc:
            return f"not JSON: {exc}: {out[:200]!r}"
    elif " None" in out:
        return f"text prints None: {out[:400]!r}"
    return None


INTERNAL = re.compile(r"\b[A-Z]\w*(Error|Exception):|NaN comparison")  # a Python exception's name or text


def _refuse(token):
    raise ValueError(f"{token} is not JSON")


def test_the_fuzz_covers_every_subcommand_and_option():
    import argparse

    from febm.dynamics.commands.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    wanted = {o for a in parser._actions for o in a.option_strings}
    for command, p in sub.choices.items():
        assert any(command in case for case in ALL), command
        wanted |= {o for a in p._actions for o in a.option_strings}
    used = {a for case in ALL for a in case if isinstance(a, str) and a.startswith("-")}
    assert wanted - {"--help"} <= used, wanted - used


# --- issue 38: users' modules, extreme but parseable numbers, repeated names, large sizes ----------
# Each case also must not print a measurement over no runs, and must not use more than HANG_S of
# this process's CPU time and its children's (CPU, not wall-clock: other processes' load cannot move it).
import os  # noqa: E402
import time  # noqa: E402

import user_modules  # noqa: E402 (tests/ is on the path)

HANG_S = 60.0
EXTREME = ["1e-300", "5e-324", "0.999999999", "1e300", "1.7976931348623157e308", "1e-9", "0.999999", "1e308",
           "1e-13", "1000.5"]
# --budget is millions of gradient evaluations: 1000.5 or 1 - 1e-9 is a real, long bench run (not a
# tiny job), so bench draws from this list of the same length (the other cases stay as they were)
BUDGET_EXTREME = ["1e-300", "5e-324", "1e-7", "1e300", "1.7976931348623157e308", "1e-9", "1e-6", "1e308", "1e-13",
                  "100000.5"]
NETS = [("NET", name) for name in user_modules.NAMES] + [("NET", "quits")]
HARD_GENERATORS = ["kl", "jensen_shannon", "(t-1)**2*1e-60*1e-60*1e-60*1e-60*1e-60*1e-60",
                   "exp(700*t)-exp(700)-700*exp(700)*(t-1)", "(t-1)**2*1e60*1e60*1e60*1e60*1e60*1e60",
                   "cosh(t-1)-1", "(t-1)**4", "-log(t)"]
BIG_CRITICS = ["mlp:1024,1024,1024,1024", "mlp:1024", "mlp:４", "mlp:2", "mlp:2,2"]
HARD = {
    "check": (["GEN", "--no-simulation"], {"--model": ["paper-1d", "toy2d-moons", "gaussian-1d"],
                                           "--critic": NETS + BIG_CRITICS, "--lr-ratio": EXTREME,
                                           "--link-clip": EXTREME + ["-inf,1e300"], "--seed": ["１"]}),
    "confirm": (["GEN", "--runs", "2", "--batch", "2", "--steps", "10"],
                {"--spread": EXTREME + ["0.5"], "--lr-ratio": EXTREME, "--runs": ["２", "2"]}),
    "atlas": (["GEN", "--model", "gaussian-1d"], {"--lr": EXTREME, "--steps": ["1", "10"], "--batch": ["1", "２"],
                                                  "LIST": [["kl", "kl"], ["kl", "jensen_shannon", "kl"]]}),
    "calibrate": (["GEN", "--flow-steps", "0", "--warm-steps", "0", "--edge-steps", "10", "--time-steps", "10",
                   "--quantities", "eta_max"],
                  {"--critic": NETS + BIG_CRITICS, "--quantities": ["rate,rate", "eta_max"],
                   "--batch": ["2", "1e300"], "LIST": [["kl", "kl"]]}),
    "toy2d": (["moons", "--steps", "1", "--methods", "cd"],
              {"--hidden": ["4096,4096,4096", "4,4,4,4,4,4,4,4", "٤", "4"], "--link-clip": EXTREME,
               "--methods": ["cd,cd", "kl,cd,kl", "(t-1)**4", "total_variation", "cd"]}),
    "bench": (["toy2d", "moons", "--methods", "cd", "--seeds", "2", "--budget", "0.0005"],
              {"--budget": BUDGET_EXTREME, "--methods": ["cd,cd", "cd"], "LIST": [["moons", "moons"]],
               "--hidden": ["4096,4096,4096", "4"]}),
    "figures": (["--list"], {"--only": [["spectra", "spectra"], ["spectra"]], "--out": ["/proc/febm-x"]}),
    "reproduce": (["paper-1d", "--steps", "2", "--warmup", "0", "--seeds", "1"],
                  {"--init-sigma": EXTREME, "--clip": EXTREME,
                   "--divergences": [["kl", "kl"], ["cosh(t-1)-1"], ["(t-1)**4"], ["kl"], ["total_variation"]]}),
    "show": (["GEN"], {}),
}
HARD_CHUNKS = 8  # 520 cases: with the 520 above, 1,040
FAST_SAMPLE = 24  # of them in `make test`


def _hard_case(rng: random.Random) -> list:
    name = rng.choice(sorted(HARD))
    fixed, options, _ = (*HARD[name], None)
    argv = [name] + [rng.choice(HARD_GENERATORS) if t == "GEN" else t for t in fixed]
    for option in rng.sample(sorted(options), k=min(len(options), rng.randint(1, 2))):
        value = rng.choice(options[option])
        if option == "LIST":  # repeated positional names, in place of the single generator
            argv = [name, *value, *argv[2:]] if name != "bench" else [name, "toy2d", *value, *argv[3:]]
        elif isinstance(value, list):
            argv += [option, *value]
        else:
            argv += [option, value]
    return argv


HARD_CASES = [_hard_case(random.Random(f"febm-cli-fuzz-38-{i}")) for i in range(CASES_PER_CHUNK * HARD_CHUNKS)]


def _run_hard(argv, folder, capsys) -> str | None:
    argv = [str(folder / "quits.py") + ":S" if a == ("NET", "quits") else
            f"{folder / 'nets.py'}:{a[1]}" if isinstance(a, tuple) else a for a in argv]
    start = _cpu_time()
    with _cpu_bound(2 * HANG_S):  # a hang is stopped and named, not waited for
        problem = _run(argv, capsys)
    spent = _cpu_time() - start
    if problem:
        return f"{argv!r}: {problem}"
    if spent > HANG_S:
        return f"{argv!r}: {spent:.0f} s of CPU for a tiny job"
    return None


def _cpu_time() -> float:
    """This process's CPU time and its finished children's (a case's work in a child counts too)."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


class Hung(BaseException):
    """Raised in a case that has used more CPU than a tiny job may (not caught by febm's handlers)."""


def _cpu_bound(seconds):
    """febm's own CPU-time limit (`time_limit`), raising `Hung` instead."""
    from febm.divergences.symbolic import time_limit

    return time_limit(seconds, lambda: Hung(f"stopped after {seconds:.0f} s of CPU"))


def _hard_chunk(cases, tmp_path, monkeypatch, capsys):
    from febm.dynamics import memory

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(memory, "available", lambda: 2**30)  # large sizes meet a 1 GB machine's bound
    user_modules.write(tmp_path)
    failures = [p for p in (_run_hard(argv, tmp_path, capsys) for argv in cases) if p]
    assert not failures, "\n".join(failures)


def _printed_nothing_wrong(out: str) -> str | None:
    return "a measurement over no runs" if re.search(r"nan ± nan|over 0 runs", out) else None


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(HARD_CHUNKS))
def test_cli_fuzz_of_users_modules_extreme_numbers_and_repeats(chunk, tmp_path, monkeypatch, capsys):
    _hard_chunk(HARD_CASES[chunk * CASES_PER_CHUNK:(chunk + 1) * CASES_PER_CHUNK], tmp_path, monkeypatch, capsys)


def test_cli_fuzz_fast_sample_of_the_hard_cases(tmp_path, monkeypatch, capsys):
    _hard_chunk(HARD_CASES[:FAST_SAMPLE], tmp_path, monkeypatch, capsys)


@pytest.mark.slow
def test_cli_fuzz_one_line_errors_within_the_deadline(tmp_path):
    febm = str(Path(sys.executable).with_name("febm"))
    texts = [t for t in GARBAGE[:20] if "\x00" not in t]  # argv cannot carry a NUL byte
    for text in texts + ["exp(exp(t))-exp(e)", "t**2-1", "log(t/cosh(exp(710100)))"]:
        proc = subprocess.run([febm, "show", text, "--deadline", "3"], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60)
        assert proc.returncode in (0, 2), (text, proc.stderr[-500:])
        if proc.returncode == 2:
            assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, text
    assert not (tmp_path / "CANARY").exists()
