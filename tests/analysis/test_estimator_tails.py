"""Finiteness of the estimator's moments from the links' tails (analysis/estimator_tails.py)."""

import math
from pathlib import Path

import pytest
import torch

from febm.dynamics.analysis.estimator_tails import finiteness, window

from problems import cached_setup, game


# --- the estimator's variance ---------------------------------------------------------------------
def _sigma(s):
    return torch.tensor([0.0, math.log(s)], dtype=torch.float64)


@pytest.mark.parametrize("name, expected", [
    ("pearson_chi2", [(math.sqrt(1.5), 4.0)]),
    ("neyman_chi2", [(0.5, math.sqrt(8 / 3))]),
    ("alpha=-1", [(0.5, math.sqrt(8 / 3))]),
    ("kl", [(1.0, 4.0)]),  # KL's e^u link: the paper's start σ = 1 is on its edge
    ("jensen_shannon", [(0.5, 4.0)]),
])
def test_finite_variance_windows_come_out_of_the_tail_analysis(name, expected):
    """Along the paper's start line (μ = 0, σ varies) with the ideal critic log p/q: Pearson χ² needs
    σ > √1.5, Neyman χ² and α = −1 need σ < √(8/3) (docs/paper-1d.md found these by hand)."""
    got = window(game(name, "paper-1d"), _sigma, 0.5, 4.0)
    assert len(got) == len(expected)
    for (lo, hi), (a, b) in zip(got, expected):
        assert abs(lo - a) < 1e-6 and abs(hi - b) < 1e-6


def test_paper_1d_page_quotes_the_windows():
    """docs/paper-1d.md's item 1 quotes the two window edges the tail analysis gives above."""
    text = " ".join((Path(__file__).resolve().parents[2] / "docs/paper-1d.md").read_text().split())
    pearson = window(game("pearson_chi2", "paper-1d"), _sigma, 0.5, 4.0)[0][0]
    neyman = window(game("neyman_chi2", "paper-1d"), _sigma, 0.5, 4.0)[0][1]
    assert f"σ > {pearson:.2f} for Pearson χ², and σ < {neyman:.2f} for Neyman χ² and α = −1" in text


def test_finiteness_along_directions_in_2d():
    """On the 8 Gaussians, data tails are narrow (sd 0.1), so a link that grows as u → −∞ makes the
    data-side moment infinite when q is broad: reverse KL's g' = e^{−u} does, JS's does not."""
    s = cached_setup("toy2d-8gaussians")
    theta = s.theta_init
    assert not finiteness(game("reverse_kl", "toy2d-8gaussians"), theta).finite["data: g'(r)² |∇θE|²"]
    assert finiteness(game("jensen_shannon", "toy2d-8gaussians"), theta).all_finite
