"""Training diagnostics: watch what every layer's activations, gradients and updates do, step by step.

    from tinygrad_bn.diagnostics import Recorder
    with Recorder(model) as recorder:          # forward hooks on every activation layer
        for x, y in loader:
            loss = loss_function(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            recorder.step(optimizer)           # records, then calls optimizer.step()
    recorder.history["std"]["3"]               # activation std of layer "3", one float per step
    recorder.plot("diagnostics.png")           # a panel per quantity, a line per layer

Recorded per step: activation mean and std, the fraction saturated (sigmoid, tanh) or of dead
units (ReLU), each weight's gradient norm and update-to-weight ratio ‖Δθ‖/‖θ‖. Plotting needs
matplotlib (imported only when a plot is drawn).
"""

from tinygrad_bn.diagnostics.plot import plot_recorder
from tinygrad_bn.diagnostics.recorder import (
    ACTIVATION_LAYERS,
    QUANTITIES,
    Recorder,
    dead_fraction,
    saturated_fraction,
)

__all__ = ["ACTIVATION_LAYERS", "QUANTITIES", "Recorder", "dead_fraction", "plot_recorder", "saturated_fraction"]
