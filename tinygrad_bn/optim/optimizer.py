"""``Optimizer``: parameter groups, per-parameter state and its state dict, as in ``torch.optim``.

A subclass names its hyperparameters (``defaults``), validates them, and implements ``step`` by
handing each group to one fused kernel call (``tinygrad_bn.ops.optimizer.optimizer_step``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from tinygrad_bn.autograd import clear_grads
from tinygrad_bn.function import enable_grad
from tinygrad_bn.tensor import Tensor, full_like

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: ``param_groups`` (dicts of ``params`` plus hyperparameters, the defaults filling
    in what a group leaves out) and ``state`` (per-parameter dicts of tensors and step counts)."""

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + type(params).__name__
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group: its ``params`` (a Tensor or an iterable of them) and any hyperparameters."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(param).__name__)
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {"params": params}
        for name, default in self.defaults.items():
            if name not in param_group and default is required:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group[name] = param_group.get(name, default)
        group.update({k: v for k, v in param_group.items() if k != "params"})
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: to None (the default), or to zeros in place."""
        clear_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for param in params:  # before any state changes, so a refused step changes nothing
                check_gradient(type(self).__name__, param)
            buckets: dict[tuple, list[Tensor]] = {}
            for param in params:  # one kernel call per dtype and device, as PyTorch groups them
                buckets.setdefault((param.dtype, str(param.device)), []).append(param)
            for bucket in buckets.values():
                self._update(group, bucket)
        return loss

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        raise NotImplementedError

    def _state_tensor(self, param: Tensor, name: str, fill: float = 0.0) -> Tensor:
        """``state[param][name]``, created as ``fill`` everywhere on first use."""
        state = self.state.setdefault(param, {})
        if name not in state:
            state[name] = full_like(param, fill)
        return state[name]

    def _next_steps(self, params: list[Tensor]) -> list[int]:
        """Each parameter's step count after this step (stored as ``state[param]['step']``)."""
        steps = []
        for param in params:
            state = self.state.setdefault(param, {})
            state["step"] = state.get("step", 0) + 1
            steps.append(state["step"])
        return steps

    # --- state dict ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``state`` keyed by parameter index (counted across groups, in order) and
        ``param_groups`` with each group's hyperparameters and its ``params`` as those indices."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(param)]: dict(values)
            for group in self.param_groups
            for param in group["params"]
            if (values := self.state.get(param))
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (tensors are copied, cast to
        each parameter's dtype and device); the groups must hold the same numbers of parameters."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for ours, theirs in zip(self.param_groups, groups):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
                )
        by_index = {
            index: param
            for ours, theirs in zip(self.param_groups, groups)
            for index, param in zip(theirs["params"], ours["params"])
        }
        state = {}  # built whole before it replaces ours, so a bad entry leaves the optimizer as it was
        for key, values in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no group holds")
            param = by_index[int(key)]
            state[param] = {name: _state_copy(value, param) for name, value in values.items()}
        self.state = state
        for ours, theirs in zip(self.param_groups, groups):
            ours.update({k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


def _state_copy(value: Any, param: Tensor) -> Any:
    """A loaded state entry: a tensor becomes a dense copy with the parameter's dtype and device."""
    if not isinstance(value, Tensor):
        return value
    return value.detach().to(param.dtype).to(param.device).clone().contiguous()


def check_gradient(optimizer: str, param: Tensor) -> None:
    """A parameter's gradient must match it in shape, dtype and device."""
    grad = param.grad
    if grad.shape != param.shape or grad.dtype is not param.dtype or grad.device != param.device:
        raise ValueError(
            f"{optimizer}: the gradient of shape {tuple(grad.shape)} ({grad.dtype}, {grad.device}) does not match its "
            f"parameter of shape {tuple(param.shape)} ({param.dtype}, {param.device})"
        )


def check_non_negative(value: float, what: str) -> None:
    """PyTorch's hyperparameter checks: ``Invalid <what>: <value>`` for a negative value."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")
