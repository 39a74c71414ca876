"""f-EBM games on toy models, in three rooms: ``analysis`` (the exact game, its linearization and
its noise), ``training`` (the minibatch runs) and ``commands`` (the CLI's reports). ``commands``
imports both others; ``analysis`` and ``training`` import neither each other nor ``commands``, only
the shared modules beside them (``report``, ``device``, ``files``, ``memory``).

The public names below are imported on first use (PEP 562), so that ``febm`` starts quickly.
"""

from importlib import import_module

_PUBLIC = {
    "Game": ".analysis.game",
    "GDAField": ".analysis.fields",
    "SimultaneousMap": ".analysis.fields",
    "AlternatingMap": ".analysis.fields",
    "CDField": ".analysis.fields",
    "Linearization": ".analysis.linearization",
    "analyse": ".analysis.spectrum",
    "check": ".commands.check",
    "CheckReport": ".commands.check",
    "catalog": ".commands.catalog",
    "show": ".commands.catalog",
    "confirm": ".commands.confirm",
    "ConfirmReport": ".commands.confirm",
    "BatchedGaussianFEBM": ".training.trainer",
    "TrainConfig": ".training.trainer",
    "langevin": ".training.samplers",
    "render": ".commands.figures",
    "Verdict": ".report",
    "RunStatus": ".report",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
