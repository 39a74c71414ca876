"""febm: check the theory of f-EBM training (Yu, Song, Song and Ermon, ICML 2020).

The public API, imported on first use so that ``import febm`` stays instant::

    import febm
    report = febm.check("(t-1)*log(t)", model="gaussian-1d")   # a CheckReport
    print(report.verdict, report.to_json()["predicted_rate"])

Subpackages: ``febm.divergences`` (symbolic f, f*, links; no torch), ``febm.toy_models``
(toy EBMs with exact expectations, set-ups) and ``febm.dynamics`` (the game, its analysis,
training and the commands). Imports run one way: divergences ← toy_models ← dynamics.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("febm")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_PUBLIC = {
    # divergences
    "resolve": "febm.divergences",
    "register_divergence": "febm.divergences",
    "Divergence": "febm.divergences",
    "InputError": "febm.errors",
    "UnknownName": "febm.errors",
    "Registry": "febm.registry",
    "limit_threads": "febm.threads",
    # set-ups
    "Setup": "febm.toy_models",
    "realizable": "febm.toy_models",
    "register_setup": "febm.toy_models",
    "setup": "febm.toy_models",
    "SETUPS": "febm.toy_models",
    # analysis and commands
    "Game": "febm.dynamics.analysis",
    "Linearization": "febm.dynamics.analysis",
    "check": "febm.dynamics.commands.check",
    "catalog": "febm.dynamics.commands.catalog",
    "show": "febm.dynamics.commands.catalog",
    "render": "febm.dynamics.commands.figures",
    "confirm": "febm.dynamics.commands.confirm",
    "atlas": "febm.dynamics.commands.atlas",
    "calibrate": "febm.dynamics.commands.calibrate",
    "trained_atlas": "febm.dynamics.commands.trained_atlas",
    "OperatingPoint": "febm.dynamics.training.cells",
    "TrainedAnalysis": "febm.dynamics.analysis.trained",
    "ModuleCritic": "febm.toy_models.critics",
    "train_toy2d": "febm.dynamics.training.toy2d_training",
    "bench_toy2d": ("febm.dynamics.training.bench", "run"),
    "reproduce_paper_1d": ("febm.dynamics.training.paper1d", "run"),
    "BatchedGaussianFEBM": "febm.dynamics.training.trainer",
    "TrainConfig": "febm.dynamics.training.trainer",
    # reports
    "CheckReport": "febm.dynamics.commands.check",
    "ConfirmReport": "febm.dynamics.commands.confirm",
    "Paper1DReport": "febm.dynamics.training.paper1d",
    "Toy2DReport": "febm.dynamics.training.toy2d_training",
    "BenchReport": "febm.dynamics.training.bench",
    "CatalogReport": "febm.dynamics.commands.catalog",
    "ShowReport": "febm.dynamics.commands.catalog",
    "FiguresReport": "febm.dynamics.commands.figures",
    "AtlasReport": "febm.dynamics.commands.atlas",
    "CalibrateReport": "febm.dynamics.commands.calibrate",
    "TrainedAtlasReport": "febm.dynamics.commands.trained_atlas",
    "Verdict": "febm.dynamics.report",
    "RunStatus": "febm.dynamics.report",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        module, attr = _PUBLIC[name] if isinstance(_PUBLIC[name], tuple) else (_PUBLIC[name], name)
        value = getattr(import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'febm' has no attribute {name!r}")


def __dir__():
    return __all__
