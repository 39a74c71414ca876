"""docs/atlas.md's runs that die: seeded simultaneous minibatch runs from the equilibrium of
paper-1d (linear critic, K = 10) at a fixed fraction of the deterministic η_max, counting the runs
that stop being finite, with the step's place against the corrected mean-square edge.

    python -m studies runs_that_die run docs/results/runs-that-die.json
    python -m studies runs_that_die text docs/results/runs-that-die.json
"""

import torch

from studies import load, verb, write
from studies.readings import reads

DESCRIPTION = "atlas.md's runs that die: 64 minibatch runs per f from z* at 0.1 η_max"

NAMES = ("reverse_kl", "squared_hellinger")
SETTINGS = dict(model="paper-1d", batch=1024, fraction_of_eta_max=0.1, runs=64, steps=1500, seed=0)


def run(out_path) -> None:
    from febm.divergences import resolve
    from febm.dynamics.analysis import Game
    from febm.dynamics.analysis.local import LocalAnalysis
    from febm.dynamics.analysis.mean_square import mean_square
    from febm.dynamics.training.minibatch import minibatch_run
    from febm.threads import limit_threads
    from febm.toy_models import setup

    limit_threads(1)
    s, rows = setup(SETTINGS["model"]), {}
    for name in NAMES:
        div = resolve(name).validate()
        lin = LocalAnalysis.build(div, s).require().lin
        eta_max = lin.eta_max("simultaneous", 1.0)
        eta_ms = mean_square(lin, SETTINGS["batch"]).edge(eta_max)
        eta = SETTINGS["fraction_of_eta_max"] * eta_max
        gen = torch.Generator().manual_seed(SETTINGS["seed"])
        traj = minibatch_run(Game.from_setup(div, s), s.data, lin.z_star.repeat(SETTINGS["runs"], 1), eta, eta,
                             "simultaneous", SETTINGS["steps"], SETTINGS["batch"], gen)
        finite = torch.isfinite(traj).all(dim=2)  # (steps + 1, runs)
        died = ~finite.all(dim=0)
        first = [int((~finite[:, r]).nonzero()[0]) for r in range(SETTINGS["runs"]) if died[r]]
        rows[name] = {"eta_max": eta_max, "eta_ms": eta_ms, "eta": eta, "died": int(died.sum()),
                      "first_non_finite_steps": first}
        print(name, rows[name], flush=True)
    write(out_path, {"settings": SETTINGS, "rows": rows})


def text(path) -> str:
    """The sentence atlas.md prints, per f."""
    d = load(path)
    n = d["settings"]["runs"]
    return "\n".join(f"- {name}: {r['died']} of {n} runs stopped being finite; the step is "
                     f"{r['eta'] / r['eta_ms']:.2g} × its corrected mean-square edge." for name, r in d["rows"].items())


@reads("runs-that-die.json")
def readings(d: dict) -> dict:
    """The runs' settings, and the words atlas.md puts around them: reverse KL's step is above its
    mean-square edge, squared Hellinger's below it, and every squared Hellinger run died."""
    rkl, sqh = d["rows"]["reverse_kl"], d["rows"]["squared_hellinger"]
    assert rkl["eta"] > rkl["eta_ms"] and sqh["eta"] < sqh["eta_ms"] and sqh["died"] == d["settings"]["runs"], \
        "the prose says reverse KL steps above its edge, squared Hellinger below it and all its runs die"
    return dict(d["settings"])


def commands(verbs) -> None:
    verb(verbs, "run", run, "the runs (2 min)", "out_path", writes="out_path")
    verb(verbs, "text", text, "the sentence atlas.md prints, per f", "path")
