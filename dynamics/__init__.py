"""f-EBM games on toy models: flows, Jacobians, spectra, simulation, training, figures, CLI.

The public names below are imported on first use (PEP 562), so that ``febm`` starts quickly.
"""

from importlib import import_module

_PUBLIC = {
    "Game": "game",
    "GDAField": "fields",
    "SimultaneousMap": "fields",
    "AlternatingMap": "fields",
    "CDField": "fields",
    "check": "check",
    "CheckReport": "check",
    "confirm": "confirm",
    "analyse": "spectrum",
    "BatchedGaussianFEBM": "train",
    "TrainConfig": "train",
    "langevin": "samplers",
    "render": "figures",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        # `check` and `confirm` are also submodule names: the function wins the package attribute
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
