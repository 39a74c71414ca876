"""The reference code's own 1-D f-EBM loop for Jensen–Shannon (ermongroup/f-EBM,
1d-example/gaussian_febm.py), run outside febm: where does it end after its 30,000 steps, at its
learning rate 10⁻³ and at 10⁻²?

The runs use the reference file unchanged but for: only its f-EBM loop is run (its KL, CD and direct
minimization parts are skipped), seeds for numpy and torch, one thread, headless plotting without
LaTeX, the learning rate and divergence from the command line, no progress bar, and the final (μ, σ)
written as JSON. The extraction recipe is `CHANGES`; the code itself is kept out of febm.

    python -m studies reference_js record OUT.json COMMIT RUN.json ...   # the runs' JSON, one file
    python -m studies reference_js text OUT.json                         # the sentence trained-game.md prints
"""

import json

import numpy as np

from studies import load, verb, write
from studies.readings import reads

DESCRIPTION = "The reference code's own 1-D loop for Jensen–Shannon (run outside febm): its end at lr 1e-3 and 1e-2"

REFERENCE = {"repository": "ermongroup/f-EBM", "file": "1d-example/gaussian_febm.py",
             "reported_jensen_shannon": [1.3167, 1.7604]}
CHANGES = ("only the f-EBM training loop is run (the KL, CD and direct-minimization parts are skipped); "
           "np.random.seed and torch.manual_seed set per run; torch.set_num_threads(1); matplotlib Agg, "
           "rc('text', usetex=True) removed; divergence, learning rate and seed from the command line; "
           "tqdm and the every-1000-steps print removed; the final (mu, sigma) written as JSON")


def record(out_path, commit, runs) -> None:
    rows = [json.load(open(p)) for p in runs]
    write(out_path, {"reference": {**REFERENCE, "commit": commit}, "changes": CHANGES, "steps": 30000,
                     "batch": 1000, "rows": rows})


def _by_lr(d: dict) -> dict:
    out: dict = {}
    for r in d["rows"]:
        out.setdefault(r["lr"], []).append((r["mu"], r["sigma"]))
    return {lr: np.array(v) for lr, v in sorted(out.items())}


@reads("reference-js.json")
def readings(d: dict) -> dict:
    """Per learning rate: the runs' (μ, σ) range and the largest distance to the reported point."""
    reported = np.array(d["reference"]["reported_jensen_shannon"])
    out = {}
    for lr, ends in _by_lr(d).items():
        key = {1e-3: "written_lr", 1e-2: "ten_times"}[lr]  # the file's 1e-3, and ten times it
        out[key] = {"lr": lr, "runs": len(ends), "mu_min": ends[:, 0].min(), "mu_max": ends[:, 0].max(),
                    "sigma_min": ends[:, 1].min(), "sigma_max": ends[:, 1].max(),
                    "off_reported": float(np.abs(ends - reported).max())}
    # the words trained-game.md puts around these numbers
    assert out["ten_times"]["off_reported"] < 0.01 < 0.05 < out["written_lr"]["off_reported"]
    return out


def text(path) -> str:
    d = load(path)
    r = readings(d)
    rep = d["reference"]["reported_jensen_shannon"]
    parts = [f"at lr {v['lr']:g} its {v['runs']} runs end at μ {v['mu_min']:.3f}–{v['mu_max']:.3f}, "
             f"σ {v['sigma_min']:.3f}–{v['sigma_max']:.3f} (at most {v['off_reported']:.3f} from the reported "
             f"({rep[0]}, {rep[1]}))" for v in r.values()]
    return "The reference's own loop after 30,000 steps: " + "; ".join(parts) + "."


def commands(verbs) -> None:
    verb(verbs, "record", record, "the runs' JSON into one result file", "out_path", "commit",
         ("runs", {"nargs": "+"}), writes="out_path")
    verb(verbs, "text", text, "the sentence trained-game.md prints", "path")
