"""``Recorder``: per-layer activation statistics, gradient norms and update-to-weight ratios, one
entry per optimizer step.

recorder = Recorder(model)            # hooks every activation layer (Sigmoid, Tanh, ReLU, ...)
for x, y in loader:
    loss = loss_function(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    recorder.step(optimizer)          # instead of optimizer.step(): records, then steps
recorder.close()                      # removes the hooks; recorder.history stays
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_bn.nn import activation as act
from tinygrad_bn.nn.module import Module, RemovableHandle
from tinygrad_bn.tensor import Tensor

# Which statistic says "this layer has stopped learning", by the activation's kind.
SATURATING = (act.Sigmoid, act.Tanh)
RECTIFYING = (act.ReLU, act.ReLU6)
# The layers hooked when none are named: every element-wise activation module (not Softmax).
ACTIVATION_LAYERS = (
    *SATURATING,
    *RECTIFYING,
    act.Hardtanh,
    act.LeakyReLU,
    act.PReLU,
    act.ELU,
    act.SELU,
    act.GELU,
    act.SiLU,
    act.Swish,
    act.Softplus,
    act.Maxout,
)
ACTIVATION_QUANTITIES = ("mean", "std", "saturated", "dead")
PARAMETER_QUANTITIES = ("grad_norm", "update_ratio")
QUANTITIES = ACTIVATION_QUANTITIES + PARAMETER_QUANTITIES


def _values(tensor: Tensor) -> np.ndarray:
    """A tensor's values as a float64 NumPy array (a copy: never a view the caller could change)."""
    return np.array(tensor.detach().cpu().numpy(), dtype=np.float64)


def saturated_fraction(output: np.ndarray, low: float, high: float, threshold: float = 0.99) -> float:
    """The fraction of elements of ``output`` (the values of an activation with range (low, high))
    that lie in the outer ``1 - threshold`` of the range at either end.

    Rescaled to (-1, 1), an element y is saturated when |y| > threshold. With the default 0.99 that is
    |tanh(x)| > 0.99 and σ(x) < 0.005 or σ(x) > 0.995: exactly where the local derivative
    (1 − tanh², or σ·(1 − σ)) has fallen below 2% of its peak, so almost no gradient passes.
    """
    scaled = (2.0 * np.asarray(output, dtype=np.float64) - (low + high)) / (high - low)
    return float(np.mean(np.abs(scaled) > threshold))


def dead_fraction(output: np.ndarray) -> float:
    """The fraction of units (features: every axis but the batch axis 0) whose output is exactly 0
    for every example of the batch: a ReLU unit whose input is negative for the whole batch passes
    no gradient to its weights this step. (A unit that is zero on one batch may recover on another;
    one that is zero on every batch is the "dead ReLU".)"""
    output = np.asarray(output)
    if output.ndim < 2:
        return float(np.all(output == 0))
    return float(np.mean(np.all(output == 0, axis=0)))


def _activation_quantities(module: Module) -> tuple[str, ...]:
    """What is recorded of this layer's output: mean and std, and by its kind saturated or dead."""
    if isinstance(module, SATURATING):
        return ("mean", "std", "saturated")
    if isinstance(module, RECTIFYING):
        return ("mean", "std", "dead")
    return ("mean", "std")


def _range(module: Module) -> tuple[float, float]:
    return (0.0, 1.0) if isinstance(module, act.Sigmoid) else (-1.0, 1.0)


class Recorder:
    """Records, per layer and per training step, how a network's activations, gradients and
    updates behave: the numbers behind the classic advice on initialisation, activations and
    batch norm (Karpathy's "activation and gradient statistics" plots).

    ``layers`` are the modules whose outputs are watched, given as names (as in
    ``model.named_modules()``), modules, or a predicate ``f(name, module) -> bool``; by default every
    element-wise activation module (``Sigmoid``, ``Tanh``, ``ReLU``, ``GELU``, ...). A model that
    calls activations as functions has none: name the layers to watch. ``parameters`` are the
    parameters whose gradients and updates are watched, by name; by default the weight matrices
    (every parameter with 2 or more dims, where the rules of thumb below apply); ``"all"`` takes
    every parameter.

    Each call of ``step(optimizer)`` appends one value per layer or parameter to ``history``:

    - ``mean``, ``std``: of the layer's output, over all its elements, in the last forward pass in
      training mode since the previous step (forwards in eval mode are ignored).
    - ``saturated`` (``Sigmoid``, ``Tanh`` only): the fraction of output elements within 1% of
      the asymptotes, |y| > 0.99 for tanh and y < 0.005 or y > 0.995 for σ (where the derivative is
      below 2% of its peak); see ``saturated_fraction`` and the ``saturation_threshold`` argument.
    - ``dead`` (``ReLU``, ``ReLU6`` only): the fraction of units whose output is exactly 0 for the
      whole batch; see ``dead_fraction``.
    - ``grad_norm``: ‖∂L/∂θ‖₂ of each parameter at the step (NaN when its ``.grad`` is None).
    - ``update_ratio``: ‖θ_after − θ_before‖₂ / ‖θ_before‖₂ across ``optimizer.step()`` (NaN when
      no optimizer was given, or θ_before is 0). Around 1e-3 is the usual healthy value: far below,
      the layer barely learns; far above, the steps are too large.

    ``history`` is plain data: ``history[quantity][name]`` is a list of floats, one per step
    (``np.asarray`` it), and ``steps`` counts the calls. Hooks run under the caller's graph mode
    but only read values (detached copies): recording changes neither outputs nor gradients.
    With ``keep_outputs=True``, ``outputs[name]`` also holds the values of each layer's latest
    recorded output (a float64 NumPy array, e.g. for histograms).
    ``close()`` (or leaving a ``with Recorder(model) as recorder:`` block) removes the hooks;
    ``history`` stays. ``plot(path)`` draws it (see ``plot_recorder``).
    """

    def __init__(
        self,
        model: Module,
        layers: Iterable[str | Module] | Callable[[str, Module], bool] | None = None,
        parameters: Iterable[str] | str | None = None,
        saturation_threshold: float = 0.99,
        keep_outputs: bool = False,
    ) -> None:
        if not 0.0 < saturation_threshold < 1.0:
            raise ValueError(f"Recorder: saturation_threshold must be in (0, 1), got {saturation_threshold}")
        self.model = model
        self.saturation_threshold = saturation_threshold
        self.keep_outputs = keep_outputs
        self.outputs: dict[str, np.ndarray] = {}
        self.layers: dict[str, Module] = self._select_layers(model, layers)
        self.parameters: dict[str, Tensor] = self._select_parameters(model, parameters)
        self.history: dict[str, dict[str, list[float]]] = {quantity: {} for quantity in QUANTITIES}
        self.steps = 0
        self._pending: dict[str, dict[str, float]] = {}
        self._handles: list[RemovableHandle] = [
            module.register_forward_hook(self._hook(name)) for name, module in self.layers.items()
        ]

    # --- choosing what to watch ---------------------------------------------------------------
    @staticmethod
    def _select_layers(model: Module, layers: Any) -> dict[str, Module]:
        named = dict(model.named_modules())
        if layers is None:
            chosen = {name: module for name, module in named.items() if isinstance(module, ACTIVATION_LAYERS)}
            if not chosen:
                raise ValueError(
                    f"Recorder: {type(model).__name__} has no activation modules to watch; "
                    "name the layers with layers=[...] (names from model.named_modules())"
                )
            return chosen
        if callable(layers):
            return {name: module for name, module in named.items() if layers(name, module)}
        names_of = {id(module): name for name, module in named.items()}
        chosen = {}
        for layer in layers:
            if isinstance(layer, Module):
                if id(layer) not in names_of:
                    raise ValueError(f"Recorder: the {type(layer).__name__} given in layers is not part of the model")
                chosen[names_of[id(layer)]] = layer
            elif layer in named:
                chosen[layer] = named[layer]
            else:
                raise ValueError(f"Recorder: no layer named {layer!r}; the model has {sorted(named)}")
        return chosen

    @staticmethod
    def _select_parameters(model: Module, parameters: Iterable[str] | str | None) -> dict[str, Tensor]:
        named = dict(model.named_parameters())
        if parameters is None:
            return {name: param for name, param in named.items() if param.ndim >= 2}
        if parameters == "all":
            return named
        if isinstance(parameters, str):
            parameters = [parameters]
        missing = [name for name in parameters if name not in named]
        if missing:
            raise ValueError(f"Recorder: no parameters named {missing}; the model has {sorted(named)}")
        return {name: named[name] for name in parameters}

    # --- recording ------------------------------------------------------------------------------
    def _hook(self, name: str) -> Callable[[Module, tuple, Any], None]:
        def record(module: Module, inputs: tuple, output: Any) -> None:
            if module.training and isinstance(output, Tensor):
                values = _values(output)
                self._pending[name] = self.activation_statistics(module, values)
                if self.keep_outputs:
                    self.outputs[name] = values

        return record

    def activation_statistics(self, module: Module, output: np.ndarray) -> dict[str, float]:
        """mean, std and, by the module's kind, the saturated or dead fraction of one output."""
        stats = {"mean": float(output.mean()), "std": float(output.std())}
        quantities = _activation_quantities(module)
        if "saturated" in quantities:
            low, high = _range(module)
            stats["saturated"] = saturated_fraction(output, low, high, self.saturation_threshold)
        if "dead" in quantities:
            stats["dead"] = dead_fraction(output)
        return stats

    def step(self, optimizer: Any = None) -> Any:
        """Record this step: the latest training forward's activation statistics and the gradient
        norms; then, given an optimizer, call ``optimizer.step()`` and record each watched
        parameter's update-to-weight ratio. Returns what ``optimizer.step()`` returned."""
        for name, module in self.layers.items():
            stats = self._pending.pop(name, {})
            for quantity in _activation_quantities(module):
                self.history[quantity].setdefault(name, []).append(stats.get(quantity, math.nan))
        for name, param in self.parameters.items():
            norm = math.nan if param.grad is None else float(np.linalg.norm(_values(param.grad)))
            self.history["grad_norm"].setdefault(name, []).append(norm)
        result = None
        if optimizer is None:
            ratios = dict.fromkeys(self.parameters, math.nan)
        else:
            before = {name: _values(param) for name, param in self.parameters.items()}
            result = optimizer.step()
            ratios = {name: _update_ratio(before[name], _values(param)) for name, param in self.parameters.items()}
        for name, ratio in ratios.items():
            self.history["update_ratio"].setdefault(name, []).append(ratio)
        self.steps += 1
        return result

    # --- lifetime and output ------------------------------------------------------------------------
    def close(self) -> None:
        """Remove every hook this recorder added (``history`` stays)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def as_arrays(self) -> dict[str, dict[str, np.ndarray]]:
        """``history`` with every series as a float64 NumPy array of length ``steps``."""
        return {q: {name: np.asarray(v, dtype=np.float64) for name, v in s.items()} for q, s in self.history.items()}

    def plot(self, path: Any = None, **kwargs: Any) -> Any:
        """Draw ``history`` (see ``tinygrad_bn.diagnostics.plot_recorder``); returns the figure."""
        from tinygrad_bn.diagnostics.plot import plot_recorder

        return plot_recorder(self, path, **kwargs)

    def __repr__(self) -> str:
        return f"Recorder(layers={list(self.layers)}, parameters={list(self.parameters)}, steps={self.steps})"


def _update_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """‖after − before‖ / ‖before‖, NaN when ‖before‖ is 0 (a zero-initialised bias)."""
    scale = np.linalg.norm(before)
    return float(np.linalg.norm(after - before) / scale) if scale > 0 else math.nan
