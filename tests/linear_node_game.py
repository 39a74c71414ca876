"""A shared test game: Jensen–Shannon on paper-1d's nodes with a critic linear in ω, at its resting
point (|F| ≈ 4e-10 after 4,000 full-batch steps). Built once per test process."""

from functools import cache

import torch

from febm.divergences import resolve
from febm.dynamics.analysis import step_edge
from febm.dynamics.analysis.game import Game
from febm.dynamics.analysis.nodespace import NodeGame
from febm.toy_models import LinearCritic, polynomial
from febm.toy_models.data import paper_mixture
from febm.toy_models.misspecified import OnNodes, paper_1d


@cache
def linear_node_game():
    """(game, node game, resting point z, the flow's |F| at its checkpoints)."""
    s = paper_1d()
    critic = LinearCritic(polynomial(2)).with_dim(torch.zeros(1, dtype=torch.float64))
    game = Game(resolve("jensen_shannon").validate(), s.model, critic, OnNodes(paper_mixture(), *s.model.grid))
    node_game = NodeGame(game)
    start = torch.tensor([1.0, 0.5, 0, 0, 0], dtype=torch.float64)
    z, checkpoints = step_edge.flow_to_rest(node_game.field, start, 4000, 0, record=False)
    return game, node_game, z, checkpoints["residual"]
