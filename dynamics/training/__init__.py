"""Stochastic f-EBM training: batched trainers, samplers, the paper's 1-D experiment, the 2-D
toys, and minibatch confirmation of the linearization."""
