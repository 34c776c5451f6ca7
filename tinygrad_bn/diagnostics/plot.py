"""``plot_recorder``: a ``Recorder``'s history as one figure, a panel per quantity, a line per layer.

matplotlib is imported only when a plot is drawn (it is an optional dependency), and the figure
is built with its object API (``matplotlib.figure.Figure``, rendered by Agg): plotting neither
needs a display nor changes pyplot's global backend or state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_bn.diagnostics.recorder import QUANTITIES, Recorder

TITLES = {
    "mean": "activation mean",
    "std": "activation std",
    "saturated": "fraction saturated (sigmoid/tanh)",
    "dead": "fraction of dead units (ReLU)",
    "grad_norm": "gradient norm ‖∂L/∂θ‖",
    "update_ratio": "update / weight ‖Δθ‖/‖θ‖",
}
LOG_SCALE = ("grad_norm", "update_ratio")


def _import_figure() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "plot_recorder needs matplotlib: pip install matplotlib (or tinygrad_bn[examples])"
        ) from error
    return Figure


def plot_recorder(
    history: Recorder | Mapping[str, Mapping[str, Sequence[float]]],
    path: str | os.PathLike | None = None,
    quantities: Sequence[str] | None = None,
    title: str | None = None,
    columns: int = 3,
) -> Any:
    """Draw a ``Recorder`` (or its ``history`` dict) and return the matplotlib ``Figure``.

    One panel per quantity (``quantities``, by default every one that holds data, in the order
    mean, std, saturated, dead, grad_norm, update_ratio), a line per layer or parameter against the
    step; gradient norms and update ratios on a log scale, with the customary 1e-3 update ratio
    drawn dashed. ``path`` given: the figure is also saved there (PNG, or any format matplotlib
    infers from the suffix).
    """
    labels = {}
    if isinstance(history, Recorder):
        labels = {name: f"{name} ({type(module).__name__})" for name, module in history.layers.items()}
        history = history.history
    if quantities is None:
        quantities = [q for q in QUANTITIES if history.get(q)]
    unknown = [q for q in quantities if q not in QUANTITIES]
    if unknown:
        raise ValueError(f"plot_recorder: unknown quantities {unknown}; expected some of {list(QUANTITIES)}")
    if not quantities:
        raise ValueError("plot_recorder: the history is empty (record a step first)")
    columns = max(1, min(columns, len(quantities)))
    rows = math.ceil(len(quantities) / columns)
    figure = _import_figure()(figsize=(4.8 * columns, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, quantity in zip(axes, quantities):
        _draw_panel(axis, quantity, history.get(quantity, {}), labels)
    for axis in axes[len(quantities) :]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def _draw_panel(axis: Any, quantity: str, series: Mapping[str, Sequence[float]], labels: Mapping[str, str]) -> None:
    for name, values in series.items():
        values = np.asarray(values, dtype=np.float64)
        axis.plot(np.arange(len(values)), values, label=labels.get(name, name), linewidth=1.2)
    if quantity in LOG_SCALE and any(np.any(np.asarray(v, dtype=np.float64) > 0) for v in series.values()):
        axis.set_yscale("log")
    if quantity == "update_ratio":
        axis.axhline(1e-3, color="black", linestyle="--", linewidth=0.8)
    axis.set_title(TITLES[quantity])
    axis.set_xlabel("step")
    if series:
        axis.legend(fontsize="x-small", title="layer" if quantity not in LOG_SCALE else "parameter")
