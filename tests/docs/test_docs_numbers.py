"""Numbers still typed in the prose of docs/ are tied to their result file or to the code that computes
them: a change to either without the other fails here. Pages are read as the site shows them
(placeholders filled, see febm/docs_render.py); the tables and numbers that are placeholders are
checked once, generically, by tests/docs/test_docs_placeholders.py. A sentence rewritten with
placeholders needs no test here: retire its assertion."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _page(name: str) -> str:
    """A docs page as the site shows it: its placeholders filled from the result files."""
    from febm.docs_render import render

    return render((ROOT / "docs" / name).read_text())


def test_mean_square_result_file_has_no_nan():
    assert "NaN" not in (ROOT / "docs/results/mean-square-edge.json").read_text()


def _confusion(page: str, heading: str) -> np.ndarray:
    """The 3 × 3 predicted-against-measured table after ``heading`` on a docs page."""
    text = (ROOT / "docs" / page).read_text()
    rows = re.findall(r"^\| predicted (?:trains|fragile|fails) \|(.*)\|$", text[text.index(heading):], re.M)[:3]
    return np.array([[int(c) for c in r.split("|")] for r in rows])


def _kappa(c: np.ndarray) -> tuple[float, float, float]:
    n = c.sum()
    agree = np.trace(c) / n
    chance = float(c.sum(1) @ c.sum(0)) / n**2
    return agree, (agree - chance) / (1 - chance), c.sum(0).max() / n


def test_corrected_atlas_and_its_measured_runs_cover_the_same_f():
    result = json.loads((ROOT / "docs/results/atlas-paper-1d.json").read_text())
    measured = json.loads((ROOT / "docs/results/paper1d-reference-measured.json").read_text())
    assert set(measured["rows"]) == {r["name"] for r in result["rows"]}
    kl = next(r for r in result["rows"] if r["name"] == "kl")
    assert result["batch"] == 1000 and abs(kl["eta_ms"] - 0.021) < 0.0005  # the value the theory page quotes


def test_the_operator_correction_file_and_the_atlas_agree_on_kl():
    """The changelog's corrected KL edge (a placeholder) is the atlas's: both edges from one Jacobian and noise."""
    kl = json.loads((ROOT / "docs/results/mean-square-old-operator.json").read_text())["rows"]["kl"]
    atlas = json.loads((ROOT / "docs/results/atlas-paper-1d.json").read_text())["rows"]
    assert math.isclose(kl["eta_ms"], next(r for r in atlas if r["name"] == "kl")["eta_ms"], rel_tol=1e-6)


def test_paper_1d_atlas_bullets_read_the_result_files():
    atlas = {r["name"]: r for r in json.loads((ROOT / "docs/results/atlas-paper-1d.json").read_text())["rows"]}
    measured = json.loads((ROOT / "docs/results/paper1d-reference-measured.json").read_text())["rows"]
    text = " ".join(_page("atlas.md").split())
    for n in ("pearson_chi2", "alpha=2", "symmetric_chi2"):  # "a tail index of 1 on the way"
        assert round(atlas[n]["tail_index_path"], 6) == 1 and measured[n]["non_finite"]
    for n in ("kl", "jeffreys"):  # "sit exactly at κ = 2", a run of each died
        assert round(atlas[n]["tail_index_path"], 6) == 2 and measured[n]["non_finite"]
    slow = ("jensen_shannon", "gan", "squared_hellinger", "alpha=-0.5", "le_cam")
    errors = [measured[n]["measured_error"] for n in slow]
    flows = [atlas[n]["predicted_error"] for n in slow]
    assert f"Le Cam ended {min(errors):.2f}–{max(errors):.2f} from the minimizer" in text
    assert f"The exact flow from the start is {min(flows):.2g}–{max(flows):.2g} off" in text
    assert max(flows) < min(errors)  # "slower than the flow says"
    assert atlas["alpha=0.9"]["prediction"] == measured["alpha=0.9"]["measured"] == "trains"
    assert f"α = 0.9 trained (error {measured['alpha=0.9']['measured_error']:g})**, as predicted" in text
    wrong = [n for n, r in atlas.items() if r["prediction"] == "trains" and measured[n]["measured"] != "trains"]
    assert wrong == ["reverse_kl", "alpha=-0.5", "alpha=0.5"]
    e = {n: measured[n]["measured_error"] for n in wrong}
    assert [measured[n]["measured"] for n in wrong] == ["fragile", "fails", "fragile"]
    assert (f"reverse KL ({e['reverse_kl']:g}) and α = 0.5 ({e['alpha=0.5']:g}) were fragile, "
            f"α = −0.5 ({e['alpha=-0.5']:g}) failed") in text
    assert all(atlas[n]["tail_margin_sd"] > 3 and atlas[n]["tail_index_path"] > 2 for n in wrong)


def test_paper_1d_table_is_rendered_from_its_result_file():
    result = json.loads((ROOT / "docs/results/paper-1d.json").read_text())
    assert all(r["trajectory"] for r in result["rows"])  # the figures' data travel with the numbers


def test_paper_1d_cd_sentence_reads_the_result_file():
    from febm.dynamics.training.paper1d import CD_REFERENCE

    rows = json.loads((ROOT / "docs/results/paper-1d.json").read_text())["rows"]
    kl = next(r for r in rows if r["divergence"] == "kl")
    text = " ".join(_page("paper-1d.md").split())
    cd, exact = kl["cd"], kl["exact"]
    assert (f"reaches ({cd['mu']:.3f}, {cd['sigma']:.3f}) for KL, the mean of 4 seeds on master seed 0" in text)
    assert (f"The exact minimizer is ({exact['mu']:.3f}, {exact['sigma']:.3f}), and the reference's CD reached "
            f"({CD_REFERENCE[0]:.3f}, {CD_REFERENCE[1]:.3f})") in text


def test_trained_game_result_file_covers_the_catalog_and_the_hold_out():
    from studies import trained_calibration

    path = ROOT / "docs/results/calibration-paper-1d.json"
    result = json.loads(path.read_text())
    assert sorted(result["hold_out"]) == trained_calibration.HOLD_OUT
    assert {r["name"] for r in result["rows"]} == set(trained_calibration.CURVED)


def test_trained_game_claims_hold_in_their_result_files():
    """The prose of docs/trained-game.md: every measured row within 1% with the prediction above the
    measured bracket; the χ²-type three overflowed; the first run lost half of its eight flows."""
    result = json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())
    measured = [r for r in result["rows"] if r["status"] == "measured"]
    assert all(abs(r["predicted"]["eta_max"] / r["measured"]["eta_max"] - 1) <= 0.01 for r in measured)
    assert all(r["predicted"]["eta_max"] > r["bracket"][1] for r in measured)
    lost = {r["name"] for r in result["rows"] if r["status"] != "measured"}
    assert lost == {"pearson_chi2", "symmetric_chi2", "alpha=2"}
    assert set(result["hold_out"]) <= {r["name"] for r in measured}
    first = json.loads((ROOT / "docs/results/calibration-paper-1d-first-run.json").read_text())["rows"]
    assert len(first) == 8 and sum(r["residual"] is None for r in first) == 4
    text = _page("trained-game.md")
    assert "covered eight f and half of their flows" in text and "every measured f is\n  within 1%" in text


def test_trained_game_time_per_f_is_from_its_run():
    result = json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())
    minutes = max(r["elapsed_s"] for r in result["rows"]) / 60
    assert f"at most {math.ceil(minutes)} minutes per f on one busy core" in _page("trained-game.md")


def test_trained_game_result_file_measured_every_quantity():
    path = ROOT / "docs/results/calibration-paper-1d.json"
    result = json.loads(path.read_text())
    assert result["not_measured"] == []
    assert all(r["arrival"]["measured"]["steps"] and r["relaxation"]["rates"] for r in result["rows"])
    assert all(r["modes"] or r["status"] != "measured" for r in result["rows"])


def test_clamped_game_claims_hold_in_the_result_file():
    path = ROOT / "docs/results/clamped-game.json"
    d = json.loads(path.read_text())
    rows = {r["name"]: r for r in d["calibrate"]["rows"]}
    # the prose's claims: both clamped games rest near the minimizer and their η_max and rate hold to 1% ...
    for r in rows.values():
        assert r["equilibrium"]["distance_to_minimizer"] < 0.002
        for q in ("eta_max", "rate"):
            assert abs(r["predicted"][q] / r["measured"][q] - 1) < 0.01
    # ... while every Pearson χ² run from the reference's start sits far away, above the clamp, barely moving
    for arm in d["stall"].values():
        assert min(arm["error"]) > 0.25 and max(arm["moved"]) < 0.01 and max(arm["grad_omega"]) == 0
        assert all(v == 1.0 for side in arm["beyond_clamp"].values() for v in side)
    assert d["calibrate"]["settings"]["link_clip"] is not None


def test_reference_arm_bullets_and_claims_come_from_the_result_file():
    from febm.dynamics.training.arrival import Arrival

    path, calibration = ROOT / "docs/results/reference-arm.json", ROOT / "docs/results/calibration-paper-1d.json"
    text = _page("trained-game.md")
    d = json.loads(path.read_text())
    assert d["settings"]["lr"] == 1e-3 and d["settings"]["steps"] == 30000
    rows = {r["name"]: r for r in d["rows"]}
    faster = {r["name"]: r["arrival"] for r in json.loads(calibration.read_text())["rows"]}
    kl = {k: Arrival(**rows["kl"][k]).median for k in ("predicted", "measured")}
    kl10 = {k: Arrival(**faster["kl"][k]).median for k in ("predicted", "measured")}
    assert max(rows["kl"]["measured"]["final_error"]) <= 0.01  # "every run ends within 0.01"
    assert all(abs(kl[k] / kl10[k] / 10 - 1) < 0.05 for k in kl)  # "a tenth of the steps"
    assert abs(kl["predicted"] / kl["measured"] - kl10["predicted"] / kl10["measured"]) < 0.05  # "the same factor"
    pearson = {k: Arrival(**rows["pearson_chi2"][k]) for k in ("predicted", "measured")}
    assert pearson["predicted"].arrived == 4 and pearson["measured"].arrived > 4  # "all 4 flows and most runs"
    assert pearson["measured"].median / pearson["predicted"].median > 2  # "far more than a factor 2"
    rkl = {k: Arrival(**rows["reverse_kl"][k]).median for k in ("predicted", "measured")}
    rkl10 = {k: Arrival(**faster["reverse_kl"][k]).median for k in ("predicted", "measured")}
    assert all(0.5 < rkl[k] / rkl10[k] / 10 < 1.5 for k in rkl)  # "scales with the step as KL does"
    assert all(0.5 < t["predicted"] / t["measured"] < 2 for t in (rkl, rkl10))  # "within a factor 2"
    js, js10 = rows["jensen_shannon"], Arrival(**faster["jensen_shannon"]["predicted"]).median
    assert Arrival(**js["predicted"]).arrived == Arrival(**js["measured"]).arrived == 0 and 10 * js10 > 30000
    errors = js["measured"]["final_error"]
    assert f"Its runs end {min(errors):.2f}–{max(errors):.2f} from the" in " ".join(text.split())
    assert max(abs(a - b) for a, b in zip(js["reference"], js["exact"])) < 0.01 < min(errors)
    minutes = [r["elapsed_s"] / 60 for r in d["rows"]]
    assert f"{min(minutes):.0f}–{max(minutes):.0f} min per f" in " ".join(text.split())


def test_link_clip_table_and_claims_come_from_the_result_file():
    path = ROOT / "docs/results/link-clip.json"
    text = _page("bench.md")
    data = json.loads(path.read_text())
    rows = {(r["dataset"], r["method"]): r for r in data["rows"]}
    ps = [r["welch_p"] for r in data["rows"] if r["method"] != "cd"]
    smallest = min((r["welch_p"], r["dataset"], r["method"]) for r in data["rows"] if r["method"] != "cd")
    assert len(ps) == 20 and smallest[1:] == ("rings", "neyman_chi2")
    assert f"of the 20 p-values is {smallest[0]:.3f} (rings, Neyman χ²)" in text
    assert min(ps) >= 0.0025 and "None passes a Bonferroni correction for 20 comparisons" in text
    for dataset in ("8gaussians", "25gaussians", "moons", "rings"):  # CD does not read the links
        assert rows[dataset, "cd"]["exact"]["js"] == rows[dataset, "cd"]["5"]["js"]
    clipped = {k: r["5"]["js_mean"] for k, r in rows.items() if k[1] != "cd"}
    best = min(clipped, key=clipped.get)
    assert best == ("rings", "reverse_kl") and f"{clipped[best]:.3f}" in text
    assert all(r["5"]["js_mean"] > rows[k[0], "cd"]["5"]["js_mean"] for k, r in rows.items() if k[1] != "cd")
    for arm in ("exact", "5"):
        assert f"{data['elapsed_s'][arm]:.0f} s" in text


def test_sampler_arms_table_and_claims_come_from_the_result_files():
    paths = [ROOT / f"docs/results/sampler-{arm}.json" for arm in ("langevin", "grid")]
    text = _page("bench.md")
    arms = [json.loads(p.read_text()) for p in paths]
    js = [{(c["dataset"], c["method"]): c["summary"]["js"]["mean"] for c in a["cells"]} for a in arms]
    verdicts = [{(c["dataset"], c["method"]): c["verdict"] for c in a["cells"] if c["method"] != "cd"} for a in arms]
    for d, name in (("8gaussians", "8 Gaussians"), ("25gaussians", "25 Gaussians"), ("moons", "moons")):
        assert f"from {js[0][d, 'cd']:.3f} to {js[1][d, 'cd']:.3f} on {name}" in text
    assert f"rings ({js[0]['rings', 'cd']:.3f} to {js[1]['rings', 'cd']:.3f})" in text
    assert min(js[1][d, "cd"] for d in ("8gaussians", "25gaussians", "moons", "rings")) > 0.05
    for d, before, after in (("moons", "0.514", "0.285"), ("rings", "0.372", "0.251")):
        assert f"{js[0][d, 'reverse_kl']:.3f}" == before and f"{js[1][d, 'reverse_kl']:.3f}" == after
    assert verdicts[1]["rings", "reverse_kl"] == "ties"
    assert all("beats" not in v for arm in verdicts for v in arm.values())
    assert all(arm[d, "jensen_shannon"] == "ties" for arm in verdicts for d in ("moons", "rings"))
    for a in arms:
        assert f"{a['elapsed_s']:.0f} s" in text


def test_bench_run_size_and_time_are_from_the_result_file():
    data = json.loads((ROOT / "docs/figures/bench-toy2d.json").read_text())
    runs = sum(len(c["seeds"]) for c in data["cells"])
    assert f"{runs} runs, {data['elapsed_s'] / 60:.0f} min" in _page("bench.md")


def test_bench_long_run_numbers_are_from_the_result_file():
    data = json.loads((ROOT / "docs/figures/bench-toy2d-long.json").read_text())
    text = _page("bench.md")
    cells = {(c["dataset"], c["method"]): c for c in data["cells"]}
    assert (f"(CD {cells['8gaussians', 'cd']['steps']:,} steps, f-EBM {cells['8gaussians', 'kl']['steps']:,})"
            in text and f"({data['elapsed_s'] / 60:.0f} min)" in text)
    curve = {round(p["evaluations"] / 1e6): p["js"]["mean"] for p in cells["8gaussians", "cd"]["curve"]}
    assert f"({curve[18]:.3f}, {curve[24]:.3f}, {curve[30]:.3f} at 18, 24 and 30 M)" in text


def test_bench_verdict_bullets_are_rendered_from_the_result_file():
    """The bullets under the 6 M tables (counts, ties, ranges, cost per step, runs lost) and the
    trailing-by-a-quarter claim, from docs/figures/bench-toy2d.json."""
    from studies import bench_tables

    path = ROOT / "docs/figures/bench-toy2d.json"
    text = _page("bench.md")
    assert bench_tables.verdict(path) in text
    cells = {(c["dataset"], c["method"]): c for c in json.loads(path.read_text())["cells"]}
    best = sorted(cells["8gaussians", m]["summary"]["js"]["mean"] for m in bench_tables.BOUNDED)[:2]
    assert [m for m in bench_tables.BOUNDED if cells["8gaussians", m]["summary"]["js"]["mean"] in best] == [
        "squared_hellinger", "alpha=0.5"] and f"JS {best[0]:.2f}–{best[1]:.2f}" in text
    curve = [(p["evaluations"] / 1e6, p["js"]["mean"]) for p in cells["8gaussians", "cd"]["curve"]]
    crossing = next(e0 + (e1 - e0) * (j0 - best[1]) / (j0 - j1)
                    for (e0, j0), (e1, j1) in zip(curve, curve[1:]) if j0 >= best[1] > j1)
    assert round(crossing * 2) / 2 == 4.5 and "CD had at about 4.5 M" in text


def test_bench_tuning_and_verdict_prose_reads_the_result_files():
    text = " ".join(_page("bench.md").split())
    tuned = json.loads((ROOT / "docs/figures/bench-toy2d-tuned.json").read_text())
    short = json.loads((ROOT / "docs/figures/bench-toy2d.json").read_text())["cells"]
    long = json.loads((ROOT / "docs/figures/bench-toy2d-long.json").read_text())["cells"]
    t = {(c["dataset"], c["method"]): c for c in tuned["cells"]}
    u = {(c["dataset"], c["method"]): c["summary"]["js"]["mean"] for c in short}
    assert {c["lr"] for c in t.values()} == {0.004} and "Every method chose lr 4·10⁻³" in text
    assert {c["critic_lr_ratio"] for c in t.values()} == {2.0, 5.0} and "split between 2 and 5" in text
    js = {m: t["8gaussians", m]["summary"]["js"]["mean"] for m in ("cd", "jensen_shannon")}
    assert (f"CD {u['8gaussians', 'cd']:.3f} → {js['cd']:.3f}, Jensen–Shannon {u['8gaussians', 'jensen_shannon']:.3f} "
            f"→ {js['jensen_shannon']:.3f}") in text
    p = [t["8gaussians", m]["p_value"] for m in ("jensen_shannon", "squared_hellinger")]
    assert f"(p {p[0]:.2f} and {p[1]:.2f})" in text
    assert all(c["verdict"] == "loses" for (d, m), c in t.items() if d == "moons" and m != "cd")
    assert f"two processes of one thread, {tuned['elapsed_s'] / 2 / 60:.0f} min each" in text
    kl_moons = next(c for c in long if c["dataset"] == "moons" and c["method"] == "kl")
    assert kl_moons["verdict"] == "loses" and f"loses narrowly on moons (p = {kl_moons['p_value']:.3f})" in text
    verdicts = [c["verdict"] for c in short if c["method"] != "cd"]
    assert f"{verdicts.count('loses')} of {len(verdicts)} comparisons lose and {verdicts.count('ties')} tie" in text


def test_capacity_table_is_rendered_from_its_result_file():
    from studies import capacity_bias

    path = ROOT / "docs/results/capacity-bias.json"
    rows = json.loads(path.read_text())["rows"]
    d = {f: [row[str(k)]["distance"] for k in capacity_bias.BUMPS] for f, row in rows.items()}
    assert all(v[0] > v[-1] for v in d.values())  # "shrinks as K grows"
    assert any(b > a for v in d.values() for a, b in zip(v, v[1:]))  # "though not monotonically"


def test_mean_square_prose_reads_its_table():
    """theory.md's bullets under the mean-square table: how far each f holds, KL's miss at 0.95,
    the runs lost, the small batches and paper-1d."""
    from studies import mean_square_edge

    rows = json.loads((ROOT / "docs/results/mean-square-edge.json").read_text())["rows"]
    assert all(r["holds"] == mean_square_edge.holds(r) for r in rows)  # the file's flag is the table's rule
    text = " ".join(_page("theory.md").split())
    cell = {(r["model"], r["name"], r["batch"], r["fraction_of_eta_ms"]): r for r in rows}
    g = {(n, fr): cell["gaussian-1d", n, 256, fr] for n in ("kl", "jensen_shannon", "squared_hellinger", "reverse_kl")
         for fr in (0.1, 0.3, 0.5, 0.8, 0.95)}

    def last_holding(name):
        return max(fr for (n, fr), r in g.items() if n == name and all(
            g[name, f]["holds"] for f in (0.1, 0.3, 0.5, 0.8, 0.95) if f <= fr))

    assert last_holding("kl") == 0.8 and last_holding("jensen_shannon") == 0.95
    assert last_holding("squared_hellinger") == last_holding("reverse_kl") == 0.5
    worst = max(abs(r["measured_trace"] / r["predicted_trace"] - 1) for (n, fr), r in g.items()
                if n in ("kl", "jensen_shannon") and fr <= last_holding(n))
    assert round(100 * worst) == 7 and "(within 7%)" in text
    kl95 = g["kl", 0.95]
    assert round(100 * (1 - kl95["measured_trace"] / kl95["predicted_trace"])) == 37 and "is 37% below" in text
    assert g["squared_hellinger", 0.8]["diverged_runs"] == 30 and g["reverse_kl", 0.8]["diverged_runs"] == 20
    assert g["squared_hellinger", 0.95]["diverged_runs"] == g["reverse_kl", 0.95]["diverged_runs"] == 32
    paper = {r["fraction_of_eta_ms"]: r for r in rows if r["model"] == "paper-1d"}
    assert [fr for fr, r in sorted(paper.items()) if r["holds"]] == [0.1]
    assert round(paper[0.3]["measured_trace"] / paper[0.3]["predicted_trace"]) == 2 and "twice the predicted" in text


def test_corrected_atlas_prose_reads_its_result_files():
    atlas = {r["name"]: r for r in json.loads((ROOT / "docs/results/atlas-paper-1d.json").read_text())["rows"]}
    measured = json.loads((ROOT / "docs/results/paper1d-reference-measured.json").read_text())["rows"]
    classes = ("trains", "fragile", "fails")
    c = np.zeros((3, 3), int)
    for name, row in atlas.items():
        c[classes.index(row["prediction"]), classes.index(measured[name]["measured"])] += 1
    agree, kappa, majority = _kappa(c)
    text = " ".join(_page("atlas.md").split())
    kl, ney, a1 = atlas["kl"], atlas["neyman_chi2"], atlas["alpha=-1"]
    share = kl["eta_ms"] / kl["eta_max_simultaneous"]
    assert f"KL's is {kl['eta_ms']:.3f} at batch 1000 ({share:.0%} of η_max)" in text
    for r in (ney, a1):
        assert f"{r['eta_ms'] / r['eta_max_simultaneous']:.0e}" == "3e-06"
        assert f"{r['tail_index_equilibrium']:.2f}" == "2.03"
    assert "are 3·10⁻⁶ of η_max (their tail index at the equilibrium is 2.03" in text


def test_basins_readings_hold_in_the_result_file():
    from studies import basins

    path = ROOT / "docs/results/basins.json"
    (g_model, g_rho, g_p, n), (p_model, p_rho, p_p, _) = basins.correlation(path)
    assert (g_model, p_model) == ("gaussian-1d", "paper-1d") and n == 16
    assert f"{g_rho:.2f}" == f"{p_rho:.2f}" == "0.86" and f"{g_p:.0e}" == f"{p_p:.0e}" == "2e-05"
    _, data = basins.radii(json.loads(path.read_text()))
    assert {round(data[n][1][0]["radius"], 2) for n in ("neyman_chi2", "symmetric_chi2")} == {0.67}
    assert all(v[1][0]["radius"] >= 3 for v in data.values() if v[0] >= -1.5)  # "at least 3 for f'''(1) ≥ −1.5"
    kl, rkl = data["kl"][1][0]["radius"], data["reverse_kl"][1][0]["radius"]
    assert kl > 2 * rkl  # "KL and reverse KL (both f''(1) = 1) differ by more than 2×"


def test_runs_that_die_are_read_from_their_result_file():
    path = ROOT / "docs/results/runs-that-die.json"
    rows = json.loads(path.read_text())["rows"]
    # the prose: reverse KL above its edge (predicted), squared Hellinger below it (not predicted)
    assert rows["reverse_kl"]["eta"] > rows["reverse_kl"]["eta_ms"] and rows["reverse_kl"]["died"] > 0
    assert rows["squared_hellinger"]["eta"] < rows["squared_hellinger"]["eta_ms"]
    assert rows["squared_hellinger"]["died"] == json.loads(path.read_text())["settings"]["runs"]


def test_basins_reversal_is_read_from_its_result_file():
    d = json.loads((ROOT / "docs/results/basins-reversal.json").read_text())
    kl, rkl = d["random"]["kl"][0], d["random"]["reverse_kl"][0]
    assert (d["model"], d["seed"]) == ("gaussian-1d", 1) and rkl >= d["r_max"] > kl
    atlas_md = " ".join(_page("atlas.md").split())
    assert (f"along the first random direction drawn with seed 1 on gaussian-1d the order reverses, KL {kl:.2f} "
            "and reverse KL ≥ 3") in atlas_md


def test_trained_game_rate_and_time_readings_hold_in_the_result_file():
    rows = {r["name"]: r for r in json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())["rows"]}
    text = " ".join(_page("trained-game.md").split())
    fitted = {n: r for n, r in rows.items() if r["measured"]["rate_from_start"] is not None}
    assert len(fitted) == 13 and all(abs(r["predicted"]["rate_from_start"] / r["measured"]["rate_from_start"] - 1) > 0.1
                                     for r in fitted.values())
    assert sum(r["measured"]["rate_from_start"] < 0 for r in fitted.values()) == 3
    reached = {n: sum(a is not None for a in r["relaxation"]["arrived"]) for n, r in rows.items()}
    assert {n for n, k in reached.items() if k == 2} == {"kl", "alpha=0.9", "triangular"}
    assert {n for n, k in reached.items() if k == 1} == {"jeffreys", "le_cam", "reverse_kl"}
    ratio = {n: r["predicted"]["rate_from_start"] / r["measured"]["rate_from_start"] for n, r in fitted.items()}
    ratios = [ratio[n] for n in reached if reached[n]]
    assert f"{min(ratios):.1f}–{max(ratios):.0f}×" == "1.9–23×"
    kl = rows["kl"]
    kl_pm = kl["predicted"]["rate_from_start"], kl["measured"]["rate_from_start"]
    assert f"KL {kl_pm[1]:.2e} per step against {kl_pm[0]:.2e}" in text
    a = rows["alpha=0.9"]["relaxation"]["rates"]
    assert f"{max(a) / min(a):.1f}" == "2.5"
    stalled = [n for n in fitted if not reached[n]]
    assert all(ratio[n] < 0 or 10 <= round(ratio[n]) <= 32 for n in stalled)
    timed = [r for r in rows.values() if r["measured"]["time_to_0.05"] and r["predicted"]["time_to_0.05"]]
    assert len(timed) == 11 and all(0.5 <= r["predicted"]["time_to_0.05"] / r["measured"]["time_to_0.05"] <= 2
                                    for r in timed)
    a9 = rows["alpha=0.9"]["arrival"]["measured"]["non_finite"]
    assert sum(x is not None for x in a9) == 4 and min(x for x in a9 if x) == 40 and max(x for x in a9 if x) == 700
    j = rows["jeffreys"]["arrival"]
    assert sum(x is not None for x in j["measured"]["non_finite"]) == 7
    assert sum(x is not None for x in j["predicted"]["non_finite"]) == 3
    assert "4 of its 8 minibatch runs stop being finite (at steps 40–700)" in text


def test_trained_game_theta_mode_readings_hold_in_the_result_file():
    """docs/trained-game.md's reading of the θ-mode rate, the ladder and the resting point."""
    rows = [r for r in json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())["rows"] if r["modes"]]
    text = " ".join(_page("trained-game.md").split())
    off = [abs(r["predicted"]["rate"] / r["measured"]["rate"] - 1) for r in rows]
    assert len(rows) == 13 and max(off) < 0.007
    ladder = [m for r in rows for m in r["modes"]["ladder"] if m["measured"] is not None]
    good = [m for m in ladder if abs(m["predicted"] / m["measured"] - 1) <= 0.1]
    assert f"{len(good)} of {len(ladder)} ladder modes are within 10%" in text
    eq = [r["equilibrium"] for r in rows]
    assert max(e["residual_theta"] for e in eq) < 3e-5 and {e["kernel_rank"] for e in eq} <= set(range(34, 37))
    residual = [r["residual"] for r in rows]
    assert f"|F| stays at {min(residual):.1e} to {max(residual):.1e}" in text
    rising = sorted(r["modes"]["slowest"]["eigenvalue"][0] for r in rows if r["modes"]["slowest"]["eigenvalue"][0] > 0)
    assert len(rising) == 5 and f"λ = {rising[0]:.1e} to {rising[-1]:.1e}" in text
    kl = next(r for r in rows if r["name"] == "kl")
    lam = kl["modes"]["theta_mode"]["eigenvalue"][0]
    assert f"{-math.log(1 + 0.01 * lam):.2e}" == f"{kl['predicted']['rate_from_start']:.2e}" == "2.99e-03"


def test_trained_game_mean_square_and_toy_readings_hold_in_the_result_files():
    """docs/trained-game.md's reading of η_ms, the spread, the tails and the 2-D toy."""
    rows = json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())["rows"]
    rows = [r for r in rows if r["mean_square"] and "growth_at_half_eta_max" in r["mean_square"]]
    text = " ".join(_page("trained-game.md").split())
    assert all(v > 0 for r in rows for v in r["mean_square"]["growth_at_half_eta_max"].values())
    assert f"they ran for the {len(rows)} f whose flow stays finite" in text
    finite = [r for r in rows if r["predicted"]["eta_ms"] is not None]
    within = [r for r in finite if 1 / 1.5 <= r["predicted"]["eta_ms"] / r["measured"]["eta_ms"] <= 1.5]
    assert f"{len(within)} of {len(finite)} within a factor 1.5, hold-out included" in text
    late = [r["measured"]["eta_ms"] / r["predicted"]["eta_max"] for r in finite]
    assert f"only at {min(late):.1f}–{max(late):.1f}× η_max" in text and min(late) > 1.4
    assert f"the runs say {min(late):.1f}–{max(late):.1f} times more" in text
    assert sorted(r["name"] for r in within) == ["alpha=0.5", "squared_hellinger"]
    assert {f"{r['measured']['eta_ms'] / r['predicted']['eta_max']:.2f}" for r in within} == {"1.48"}
    assert f"misses for {len(finite) - len(within)} of {len(finite)} f" in text
    ratios = [r["predicted"]["eta_ms"] / r["predicted"]["eta_max"] for r in finite]
    assert f"predicted η_ms is {min(ratios):.3f}–{max(ratios):.3f}× η_max" in text
    spread = {r["name"]: r["predicted"]["spread"] / r["measured"]["spread"] for r in finite}
    good = sum(1 / 1.5 <= x <= 1.5 for x in spread.values())
    assert f"The spread is predicted within a factor 1.5 for {good} of {len(spread)} f" in text
    misses = [n for n, x in spread.items() if not 1 / 1.5 <= x <= 1.5]
    assert misses == ["squared_hellinger", "neyman_chi2", "alpha=0.5"] and all(spread[n] > 1 for n in misses)
    assert "(" + ", ".join(f"{spread[n]:.2f}" for n in misses) + ")" in text
    unbounded = {r["name"]: r["measured"]["eta_ms"] / r["predicted"]["eta_max"] for r in rows
                 if r["predicted"]["eta_ms"] is None and r["name"] != "kl"}
    assert (f"lose half of their runs at {unbounded['jeffreys']:.2f}× and {unbounded['alpha=0.9']:.2f}× η_max"
            in text)
    tails = json.loads((ROOT / "docs/results/tails-paper-1d-mlp.json").read_text())
    assert not tails["kl"]["all_finite"] and round(tails["kl"]["min_tail_index"], 3) == 1
    assert {f for f, t in tails.items() if not t["all_finite"]} == {
        "kl", "jeffreys", "alpha=0.9", "squared_hellinger", "alpha=0.5"}
    toy = json.loads((ROOT / "docs/results/calibration-toy2d-8gaussians.json").read_text())["rows"]
    dead = [r for r in toy if r["status"] != "measured"]
    assert f"{len(dead)} of {len(toy)} flows stop being finite" in text
    assert not any(abs(r["predicted"]["eta_max"] / r["measured"]["eta_max"] - 1) <= 0.01
                   for r in toy if r["status"] == "measured")
    assert all(r["modes"]["theta_mode"]["eigenvalue"][0] > 0 for r in toy if r["status"] == "measured")


def test_trained_game_batch_grid_is_rendered_from_its_result_files():
    from studies import trained_calibration

    grid = ROOT / "docs/results/calibration-paper-1d-batch.json"
    result = ROOT / "docs/results/calibration-paper-1d.json"
    text = _page("trained-game.md")
    rows = {(n, b): (None if p is None else p / e, m / e)
            for n, b, p, m, e in trained_calibration.batch_rows(grid, result)}
    assert sorted({b for _, b in rows}) == [30, 100, 1000] and "reverse_kl" in trained_calibration.HOLD_OUT
    flat = " ".join(text.split())
    js = [rows["jensen_shannon", b] for b in (30, 100, 1000)]
    assert (f"predicted edge is {min(p for p, _ in js):.3f}–{max(p for p, _ in js):.3f} × η_max and the measured one "
            f"{min(m for _, m in js):.3f}–{max(m for _, m in js):.3f} ×") in flat
    (p30, m30), (p1k, m1k) = rows["alpha=-1", 30], rows["alpha=-1", 1000]
    assert (f"measured edge falls {m1k / m30:.1f}× from B = 1000 to 30 ({m1k:.3f} to {m30:.3f} × η_max), the "
            f"predicted one {p1k / p30:.1f}× ({p1k:.3f} to {p30:.3f})") in flat
    assert rows["alpha=-1", 100][1] < 1 and f"{p30 / m30:.2f}× at B = 30" in flat
    rkl = [rows["reverse_kl", b][0] / rows["reverse_kl", b][1] for b in (30, 100, 1000)]
    assert f"{rkl[0]:.2f} at B = 30" in flat and f"({rkl[1]:.2f} and {rkl[2]:.2f})" in flat
    new = [p / m for (n, b), (p, m) in rows.items() if b != 1000 and p is not None]
    assert f"{sum(1 / 1.5 <= x <= 1.5 for x in new)} of {len(new)} new points is within a factor 1.5" in flat
    gan = [rows["gan", b] for b in (30, 100, 1000)]
    assert (f"predicted {min(p for p, _ in gan):.3f}–{max(p for p, _ in gan):.3f}, measured "
            f"{min(m for _, m in gan):.3f}–{max(m for _, m in gan):.3f} × η_max") in flat
    assert all(rows["kl", b][0] is None for b in (30, 100, 1000)) and "gan" in trained_calibration.HOLD_OUT
    (_, kl30), (_, kl1k) = rows["kl", 30], rows["kl", 1000]
    assert f"falls from {kl1k:.3f} to {kl30:.3f} × η_max between B = 1000 and 30, {kl1k / kl30:.1f}×" in flat


def test_train_tutorial_toy_table_and_readings_come_from_the_result_file():
    from studies import compare

    training = json.loads((ROOT / "docs/results/toy2d-training.json").read_text())
    page = _page("tutorials/train.md")
    assert compare.scores_table(training) in page
    minutes = [r[0]["elapsed_s"] / 60 for r in training.values()]  # seed 0, the table's runs
    text = " ".join(page.split())
    assert f"{min(minutes):.0f}–{max(minutes):.0f} minutes per dataset" in text
    js = {d: {m: s["js"] for m, s in runs[0]["scores"].items()} for d, runs in training.items()}
    bounded = ("jensen_shannon", "gan", "squared_hellinger", "alpha=0.5")
    behind = [js["8gaussians"][m] - js["8gaussians"]["cd"] for m in bounded]
    assert f"end {min(behind):.2f}–{max(behind):.1f} behind CD on 8 Gaussians" in text
    assert max(abs(js[d][m] - js[d]["cd"]) for d in ("moons", "rings") for m in bounded) < 0.085
    assert "within about 0.08 of it on moons and rings" in text


def test_paper_1d_master_seed_table_and_readings_come_from_the_result_file():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pms", ROOT / "benchmarks/paper1d_master_seeds.py")
    pms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pms)
    result = json.loads((ROOT / "docs/results/paper-1d-master-seeds.json").read_text())
    page = _page("paper-1d.md")
    assert pms.table(result) in page and sorted(map(int, result["seeds"])) == list(range(16))
    summary = pms.summary(result)
    missing = {n for n, s in summary.items() if s["met"] < 16}
    assert missing == {"neyman_chi2", "alpha=-1", "alpha=-0.5"}  # "the misses are all in the zero-forcing f"
    means = [np.mean([s["errors"][n] for s in result["seeds"].values()]) for n in sorted(missing)]
    text = " ".join(page.split())
    assert f"their mean errors are {min(means):.4f}–{max(means):.4f}" in text
    assert f"α = −1 misses it on {16 - summary['alpha=-1']['met']} of 16" in text
    sds = [r["febm"][k] for r in json.loads((ROOT / "docs/results/paper-1d.json").read_text())["rows"]
           if r["divergence"] in missing for k in ("mu_sd", "sigma_sd")]
    assert f"is {min(sds):.4f}–{max(sds):.4f} in μ and σ" in text
    assert f"scatter by {min(sds) / 2:.4f}–{max(sds) / 2:.4f}" in text
    assert f"against {min(sds):.4f}–{max(sds):.4f} at batch 500" in text  # the small-batch comparison
    largest = re.search(r"Largest error (\d\.\d+) \(alpha=-1\)", text).group(1)
    assert f"which is why α = −1 ends just above the target here and at {largest} in the table" in text
    worst = max(s["worst"] for s in summary.values())
    every = sum(all(e <= s["tolerance"] for e in s["errors"].values()) for s in result["seeds"].values())
    train = " ".join(_page("tutorials/train.md").split())
    assert (f"lies within {worst:.4f} of the exact minimizer on master seeds 0–15, and all nine within 0.002 "
            f"on {every} of them") in train


def test_paper_1d_longer_run_table_and_readings_come_from_the_result_files():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pms", ROOT / "benchmarks/paper1d_master_seeds.py")
    pms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pms)
    short = json.loads((ROOT / "docs/results/paper-1d-master-seeds.json").read_text())
    long = json.loads((ROOT / "docs/results/paper-1d-master-seeds-7200.json").read_text())
    page = _page("paper-1d.md")
    assert pms.table(long) in page and long["steps"] == 7200 and sorted(map(int, long["seeds"])) == list(range(16))
    text = " ".join(page.split())
    mean = {n: [np.mean([r["seeds"][m]["errors"][n] for m in long["seeds"]]) for r in (short, long)]
            for n in long["divergences"]}
    for n, label in (("alpha=-1", "α = −1"), ("alpha=-0.5", "α = −0.5"), ("neyman_chi2", "Neyman χ²")):
        assert f"{mean[n][0]:.4f} to {mean[n][1]:.4f} ({label})" in text
    met = {n: s["met"] for n, s in pms.summary(long).items()}
    assert met["alpha=-1"] == met["alpha=-0.5"] == 16 and met["neyman_chi2"] < 16  # the bullet's title


def test_calibrate_time_at_its_defaults_is_from_its_run():
    from febm.dynamics.commands.cli import CALIBRATED_DEFAULT

    d = json.loads((ROOT / "docs/results/calibrate-kl-defaults.json").read_text())
    text = " ".join(_page("trained-game.md").split())
    measured = [q for q, v in d["rows"][0]["measured"].items() if v is not None]
    assert sorted(measured) == sorted(CALIBRATED_DEFAULT) and d["critic"] == "mlp:64,64"
    quantities = "η_max, the rate, the time to 0.05 and the rate from the start"
    assert f"at its defaults ({quantities}) took {d['elapsed_s']:.0f} s" in text


def test_toy_comparison_comes_from_the_result_files():
    atlases = json.loads((ROOT / "docs/results/toy2d-atlas.json").read_text())
    training = json.loads((ROOT / "docs/results/toy2d-training.json").read_text())
    assert set(atlases) == set(training) == {"8gaussians", "25gaussians", "moons", "rings"}


def test_paper_1d_stratification_sentence_reads_both_runs():
    from studies import stratification

    text = " ".join(_page("paper-1d.md").split())
    iid, strat = ROOT / "docs/results/paper-1d-iid.json", ROOT / "docs/results/paper-1d.json"
    assert json.loads(iid.read_text())["sampling"] == "iid"
    assert stratification.text(iid, strat) in text
    assert stratification.small_text(ROOT / "docs/results/paper-1d-batch-128.json") in text


def test_paper_1d_warmup_sentence_reads_its_result_file():
    from studies import warmup

    path = ROOT / "docs/results/paper-1d-warmup.json"
    text = " ".join(_page("paper-1d.md").split())
    assert warmup.text(path) in text
    arms = json.loads(path.read_text())["arms"]
    se = max(arms["1000"]["febm"]["mu_sd"], arms["1000"]["febm"]["sigma_sd"]) / math.sqrt(warmup.SEEDS)
    assert f"With a standard error near {se:.4f} for a 16-run mean" in text


def test_paper_1d_slow_skip_sentence_reads_its_result_file():
    from studies import slow_skip

    path = ROOT / "docs/results/paper-1d-slow-skip.json"
    text = " ".join(_page("paper-1d.md").split())
    arms = json.loads(path.read_text())["arms"]
    no_failures = all(not slow_skip.failures(r) for arm in arms.values() for r in arm.values())
    assert no_failures == ("the slow skip no longer measurably matters" in text)


def test_paper_1d_exact_critic_claims_hold_in_its_result_file():
    path = ROOT / "docs/results/paper-1d-exact-critic.json"
    error = json.loads(path.read_text())["error"]
    assert error["adam/iid"]["neyman_chi2"] > error["sgd/iid"]["neyman_chi2"]  # "Adam is worse ... with i.i.d."
    assert max(arm["neyman_chi2"] for arm in error.values()) < 0.05  # "does not stall"


def test_paper_1d_speed_paragraphs_read_the_benchmark_result_files():
    from studies import trainer_speed

    floor, throughput = ROOT / "docs/results/trainer-floor.json", ROOT / "docs/results/trainer-throughput.json"
    text = " ".join(_page("paper-1d.md").split())
    for sentence in (trainer_speed.floor_text(floor), trainer_speed.warmup_text(floor),
                     trainer_speed.throughput_text(throughput)):
        assert sentence in text
    elapsed = json.loads((ROOT / "docs/results/paper-1d.json").read_text())["elapsed_s"]
    assert f"`docs/results/paper-1d.json` took {elapsed:.0f} s" in text


def test_operating_point_pilot_tables_and_readings_come_from_the_result_files():
    from studies import operating_point as op

    text = _page("bench.md")
    folder = ROOT / "docs/results/operating-point"
    jobs = {(n, j["config_name"], j["dataset"]): j for n in ("round1", "round2")
            for j in map(json.loads, map(Path.read_text, (folder / n).glob("*.json")))}

    def js(key, method="cd"):
        return next(c for c in jobs[key]["cells"] if c["method"] == method)["summary"]["js"]

    def nll_gap(key):
        cd = next(c for c in jobs[key]["cells"] if c["method"] == "cd")
        return cd["summary"]["nll"]["mean"] - jobs[key]["data_nll"]

    grid25 = ("round1", "wide-silu-grid", "25gaussians")
    reading = f"6,624 steps: JS {js(grid25)['mean']:.3f} ± {js(grid25)['half_width']:.3f}, NLL {nll_gap(grid25):.2f}"
    assert reading in text
    others = [("round2", "wide-silu-grid", d) for d in ("8gaussians", "moons", "rings")]
    assert ", ".join(f"{js(k)['mean']:.3f}" for k in others[:2]) + f" and\n  {js(others[2])['mean']:.3f}" in text
    steps = sorted(jobs[k]["cd_steps"] for k in others)
    assert f"({steps[0]:,}–{steps[-1]:,} steps" in text and jobs[grid25]["cd_steps"] == 6624
    assert all(js(k)["mean"] <= op.JS_TARGET and nll_gap(k) <= op.NLL_MARGIN for k in [grid25, *others])
    changes = [op.last_fifth_change(op.curve_of(next(c for c in jobs[k]["cells"] if c["method"] == "cd")))
               for k in others]
    assert f"(−{-max(changes):.0%} to\n  −{-min(changes):.0%}" in text
    langevin = [k for k in jobs if k[1] != "wide-silu-grid"]
    assert not any(js(k)["mean"] <= op.JS_TARGET and nll_gap(k) <= op.NLL_MARGIN for k in langevin)
    assert f"rings stay at\n  {min(js(k)['mean'] for k in langevin if k[2] == 'rings'):.3f} or above" in text
    silu = {d: ("round1", "wide-silu", d) for d in ("25gaussians", "rings")}
    assert f"{js(silu['25gaussians'])['mean']:.3f} on 25 Gaussians and {js(silu['rings'])['mean']:.3f} on rings" in text
    assert f"{nll_gap(silu['25gaussians']):.2f} and {nll_gap(silu['rings']):.2f} nats" in text
    ratios = [js(k, "kl")["mean"] / js(k)["mean"] for k in [grid25, *others]]
    assert f"{math.floor(min(ratios))}–{math.ceil(max(ratios))} times CD's" in text
    devices = json.loads((folder / "devices.json").read_text())
    mean = {d: {m: np.mean(v) for m, v in devices[d]["js"].items()} for d in devices}
    assert (f"mean JS {mean['cpu']['cd']:.3f} and {mean['cuda']['cd']:.3f} for CD, {mean['cpu']['kl']:.3f}\n"
            f"  and {mean['cuda']['kl']:.3f} for KL") in text
    cell = {k: {c["method"]: c for c in j["cells"]} for k, j in jobs.items()}
    assert all(cell[k]["jensen_shannon"]["verdict"] == "ties" for k in [grid25, *others])
    f_js = [f"{js(k, 'jensen_shannon')['mean']:.3f}" for k in others]
    assert f"8 Gaussians {f_js[0]}, moons {f_js[1]}, rings {f_js[2]}" in text.replace("\n  ", " ")
    assert f"25 Gaussians {js(grid25, 'jensen_shannon')['mean']:.3f})" in text
    assert cell["round2", "wide-silu-grid", "25gaussians"]["kl"]["failed"] == 3
    beats = [k for k in jobs if k[0] == "round1" and cell[k]["jensen_shannon"]["verdict"] == "beats"]
    survive = [k for k in beats if f"{js(k, 'jensen_shannon')['mean']:.3f} (beats)" in op.table(str(folder / "round1"))]
    assert [k[1:] for k in sorted(survive)] == [("wide-silu", "25gaussians"), ("wide-silu-lr5", "rings")]
    for k in survive:
        pair = (f"{js(k, 'jensen_shannon')['mean']:.3f} against", f"{js(k)['mean']:.3f})")
        assert f"{pair[0]} CD's {pair[1]}" in text or f"{pair[0]} {pair[1]}" in text
    gaps = sorted(nll_gap(k) for k in survive)
    assert f"{gaps[0]:.2f}–{gaps[1]:.2f} nats above" in text


def test_bench_protocol_and_prose_numbers_read_their_result_files():
    """bench.md's cost per step, the data's own NLL, the zero-forcing f's mode coverage (also in
    theory.md), the residual critic's bullet and the 30 M run's readings."""
    from studies import bench_tables
    from studies.operating_point import data_nll

    text = " ".join(_page("bench.md").split())
    theory = " ".join(_page("theory.md").split())
    short, long = ROOT / "docs/figures/bench-toy2d.json", ROOT / "docs/figures/bench-toy2d-long.json"
    protocol = json.loads(short.read_text())["protocol"]
    config, cost = protocol["config"], protocol["step_cost"]
    assert cost["cd"]["energy"] == (config["langevin_steps"] + 1) * config["chains"] + 2 * config["batch"]
    assert f"sampler costs {config['langevin_steps'] + 1} × {config['chains']} energy evaluations" in text
    assert (f"CD ({cost['cd']['energy']:,} per step) takes more steps than f-EBM "
            f"({sum(cost['f-EBM'].values()):,} per step)") in text
    nll = [f"{data_nll(d):.2f}" for d in ("8gaussians", "25gaussians", "moons", "rings")]
    assert "data's own NLL is {} (8 Gaussians), {} (25 Gaussians), {} (moons) and {} (rings) nats".format(*nll) in text
    assert "data's own NLL is {}, {}, {} and {})".format(*nll) in text
    modes = bench_tables.zero_forcing_modes(short)
    assert f"seen here as {modes} mode coverage" in text and f"toy, with {modes} of the modes" in theory
    assert bench_tables.residual_effect(short, ROOT / "docs/figures/bench-toy2d-residual.json") in text
    for line in bench_tables.long_run(long).splitlines():
        assert line in text, line
    cd = {(c["dataset"]): c for c in json.loads(long.read_text())["cells"] if c["method"] == "cd"}
    for d in ("rings", "25gaussians"):  # "both still falling at 30 M"
        curve = [p["js"]["mean"] for p in cd[d]["curve"]]
        assert curve[-1] < curve[len(curve) * 4 // 5]


def test_atlas_time_is_from_its_run():
    d = json.loads((ROOT / "docs/results/atlas-time.json").read_text())
    assert "--lr 1e-3 --steps 20000" in d["command"] and d["cores"] == 2  # the page's placeholders read this file


def test_compiled_sampler_bullet_is_rendered_from_its_result_file():
    import importlib.util

    spec = importlib.util.spec_from_file_location("compile_langevin", ROOT / "benchmarks/compile_langevin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = json.loads((ROOT / "docs/results/compile-langevin.json").read_text())
    assert module.text(result) in " ".join(_page("bench.md").split())


def test_bench_pilot_arm_and_clip_readings_read_their_result_files():
    """The readings under bench.md's link-clip, sampler-arm and pilot tables that quote single cells."""
    text = " ".join(_page("bench.md").split())
    rows = json.loads((ROOT / "docs/results/link-clip.json").read_text())["rows"]
    clip = {(r["dataset"], r["method"]): r for r in rows}
    ney, a05, rkl = clip["rings", "neyman_chi2"], clip["rings", "alpha=-0.5"], clip["rings", "reverse_kl"]
    assert (f"rings Neyman χ² from {ney['exact']['js_mean']:.3f} to {ney['5']['js_mean']:.3f} and α = −0.5 from "
            f"{a05['exact']['js_mean']:.3f} to {a05['5']['js_mean']:.3f}") in text
    gap = rkl["5"]["js_mean"] - clip["rings", "cd"]["5"]["js_mean"]
    assert (f"(rings, reverse KL, {rkl['5']['js_mean']:.3f}) is still {gap:.2f} above CD's "
            f"{clip['rings', 'cd']['5']['js_mean']:.3f}") in text
    arms = [{(c["dataset"], c["method"]): c["summary"]["js"]["mean"] for c in json.loads(
        (ROOT / f"docs/results/sampler-{arm}.json").read_text())["cells"]} for arm in ("langevin", "grid")]
    assert (f"On moons it drops from {arms[0]['moons', 'reverse_kl']:.3f} to {arms[1]['moons', 'reverse_kl']:.3f}; on "
            f"rings from {arms[0]['rings', 'reverse_kl']:.3f} to {arms[1]['rings', 'reverse_kl']:.3f}") in text
    folder = ROOT / "docs/results/operating-point"
    jobs = {(n, j["config_name"], j["dataset"]): j for n in ("round1", "round2")
            for j in map(json.loads, map(Path.read_text, (folder / n).glob("*.json")))}

    def cd_js(key):
        return next(c for c in jobs[key]["cells"] if c["method"] == "cd")["summary"]["js"]["mean"]

    moons = sorted((cd_js(k), k[1]) for k in jobs if k[1] != "wide-silu-grid" and k[2] == "moons")
    eight = min((cd_js(k), k[1]) for k in jobs if k[1] != "wide-silu-grid" and k[2] == "8gaussians")
    assert [m[1] for m in moons[:2]] == ["deep-silu", "wide-tanh"] and eight[1] == "wide-tanh"
    assert (f"moons at {moons[0][0]:.3f} (deep SiLU) and {moons[1][0]:.3f} (wide tanh), and 8 Gaussians at "
            f"{eight[0]:.3f} (wide tanh)") in text
    exact = [j["seconds_per_step"] for k, j in jobs.items() if k[0] == "round2" and k[1] == "wide-silu-grid"]
    assert f"took {min(exact):.3f}–{max(exact):.3f} s a step (exact arm)" in text
    long = json.loads((ROOT / "docs/figures/bench-toy2d-long.json").read_text())
    runs = sum(len(c["seeds"]) for c in long["cells"])
    assert f"{long['elapsed_s'] / 60:.0f} minutes for the {runs} runs on two CPU cores" in text


def test_trained_game_prose_readings_read_the_result_files():
    """The readings in docs/trained-game.md's prose that quote single rows of the calibration: the
    θ-mode's shares, the slow ladder modes, the kernel's rank, the rates from the start, the arrival
    of α = 0.9 and Jeffreys, the mean-square growth and edges, and the 2-D toy's bullets."""
    from febm.toy_models import mlp
    from studies import trained_calibration

    text = " ".join(_page("trained-game.md").split())
    all_rows = json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())["rows"]
    rows = {r["name"]: r for r in all_rows}
    modes = [r for r in all_rows if r["modes"]]
    mixed = {r["name"]: r["modes"]["theta_mode"] for r in modes if r["modes"]["theta_mode"]["theta_share"] < 0.99}
    assert list(mixed) == ["squared_hellinger", "alpha=0.5"]
    off = {n: abs(t["predicted"] / t["measured"] - 1) for n, t in mixed.items()}
    assert (f"Squared Hellinger ({off['squared_hellinger']:.1%}) and α = 0.5 ({off['alpha=0.5']:.2%}) are the two "
            f"whose θ-mode is not purely θ (θ share {mixed['squared_hellinger']['theta_share']:.2f} and "
            f"{mixed['alpha=0.5']['theta_share']:.2f})") in text
    slowest = [min((m for m in r["modes"]["ladder"] if m["measured"]), key=lambda m: m["predicted"]) for r in modes]
    folds = [m["predicted"] * m["steps"] for m in slowest if m["measured"] / m["predicted"] > 1.1]
    assert f"only {min(folds):.1f}–{max(folds):.1f} e-folds in 3,000 steps" in text
    ranks = [r["equilibrium"]["kernel_rank"] for r in modes]
    assert f"rank {min(ranks)}–{max(ranks)} of {mlp.param_count((1, 64, 64, 1)):,} parameters" in text
    lam = rows["kl"]["modes"]["theta_mode"]["eigenvalue"][0]
    assert f"−log(1 − 0.01 · {-lam:.4f}) = {-math.log(1 + 0.01 * lam):.2e}" in text
    ratio = {n: r["predicted"]["rate_from_start"] / r["measured"]["rate_from_start"] for n, r in rows.items()
             if r["measured"].get("rate_from_start") and r["measured"]["rate_from_start"] > 0}
    reached = [n for n, r in rows.items() if r["relaxation"] and any(a is not None for a in r["relaxation"]["arrived"])]
    near = [ratio[n] for n in reached]
    assert f"the fitted rate is {min(near):.1f}–{max(near):.0f}× below" in text
    a09 = rows["alpha=0.9"]["relaxation"]["rates"]
    assert f"α = 0.9's two flows differ by {max(a09) / min(a09):.1f}×" in text
    stalled = [ratio[n] for n in ratio if n not in reached]
    assert f"the fitted slope is {min(stalled):.0f}–{max(stalled):.0f}× below the prediction or negative" in text
    kl_time = rows["kl"]["predicted"]["time_to_0.05"] / rows["kl"]["measured"]["time_to_0.05"]
    assert f"slowest relative to the prediction, {kl_time:.2f})" in text
    flows, runs = (rows["alpha=0.9"]["arrival"][k] for k in ("predicted", "measured"))
    died = [s for s in runs["non_finite"] if s is not None]
    assert all(s is None for s in flows["non_finite"]) and rows["alpha=0.9"]["predicted"]["time_to_0.05"] == 1160
    assert (f"four flows all arrive near 1,160 steps, but {len(died)} of its {len(runs['non_finite'])} minibatch runs "
            f"stop being finite (at steps {min(died)}–{max(died)})") in text
    jeff = rows["jeffreys"]["arrival"]
    lost = [sum(s is not None for s in jeff[k]["non_finite"]) for k in ("measured", "predicted")]
    assert f"Jeffreys loses {lost[0]} of 8 runs and {lost[1]} of 4 flows" in text
    finite = [r for r in all_rows if r["mean_square"] and r["predicted"].get("eta_ms") is not None]
    growth = {r["name"]: r["mean_square"]["growth_at_half_eta_max"] for r in finite}
    every = [g[max(g, key=int)] for g in growth.values()]
    assert f"{min(every):.1e} to {max(every):.1e} a step at half η_max (all modes)" in text
    assert max(abs(g["32"] / g[max(g, key=int)] - 1) for g in growth.values()) < 1e-3
    assert "the values with 32 modes and with all of them agree to within 0.1%" in text
    pair = [rows[n] for n in ("neyman_chi2", "alpha=-1")]
    assert ("(η_ms/η_max " + " and ".join(f"{r['predicted']['eta_ms'] / r['predicted']['eta_max']:.3f}" for r in pair)
            + ", spreads equal); their measured edges, "
            + " and ".join(f"{r['measured']['eta_ms'] / r['predicted']['eta_max']:.2f}" for r in pair)) in text
    kl = rows["kl"]
    assert f"half at {kl['measured']['eta_ms'] / kl['predicted']['eta_max']:.1f}× η_max" in text
    assert f"the spread at η_max/2 is {max(kl['mean_square']['spread']['sd']):.1e}" in text
    readings = trained_calibration.toy_readings(ROOT / "docs/results/calibration-toy2d-8gaussians.json")
    assert " ".join(readings.split()) in text
    toy = json.loads((ROOT / "docs/results/calibration-toy2d-8gaussians.json").read_text())["rows"]
    ranks = [r["modes"]["kernel_rank"] for r in toy if r["status"] == "measured"]
    assert f"rank {min(ranks)}–{max(ranks)} of {mlp.param_count((2, 32, 32, 1)):,}" in text


def test_trained_game_tail_indices_and_repeated_readings_agree():
    """The KL paragraph's tail indices, and the readings trained-game.md and bench.md state twice:
    each occurrence, not only the first, matches the result file."""
    tails = json.loads((ROOT / "docs/results/tails-paper-1d-mlp.json").read_text())
    text = " ".join(_page("trained-game.md").split())
    pair = [tails[n]["min_tail_index"] for n in ("jeffreys", "alpha=0.9")]
    two = [tails[n]["min_tail_index"] for n in ("squared_hellinger", "alpha=0.5")]
    assert (f"Jeffreys and α = 0.9 have index {min(pair):.0f}–{max(pair):.2f}, squared Hellinger and α = 0.5 index "
            f"{round(two[0])};") in text and round(two[0]) == round(two[1])
    rows = json.loads((ROOT / "docs/results/calibration-paper-1d.json").read_text())["rows"]
    finite = [r for r in rows if r["mean_square"] and r["predicted"].get("eta_ms") is not None]
    within = {f"{r['measured']['eta_ms'] / r['predicted']['eta_max']:.2f}" for r in finite
              if 1 / 1.5 <= r["predicted"]["eta_ms"] / r["measured"]["eta_ms"] <= 1.5}
    assert within == {"1.48"} and text.count("1.48×") == 1
    from studies import trained_calibration

    rows_b = {(n, b): m / e for n, b, p, m, e in trained_calibration.batch_rows(
        ROOT / "docs/results/calibration-paper-1d-batch.json", ROOT / "docs/results/calibration-paper-1d.json")}
    fall = f"{rows_b['alpha=-1', 1000] / rows_b['alpha=-1', 30]:.1f}×"
    assert text.count(fall) == 2 and f"against α = −1's {fall}" in text
    bench = " ".join(_page("bench.md").split())
    cells = json.loads((ROOT / "docs/figures/bench-toy2d-long.json").read_text())["cells"]
    kl_moons = next(c for c in cells if (c["dataset"], c["method"]) == ("moons", "kl"))
    assert bench.count(f"loses narrowly on moons (p = {kl_moons['p_value']:.3f})") == 2
