"""f-EBM games on toy models: flows, Jacobians, spectra, simulation, training, figures, CLI.

Heavy submodules (torch) are imported on first use so that ``febm`` starts quickly.
"""
