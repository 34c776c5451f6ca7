"""Gradient clipping, as in ``torch.nn.utils``: by the total norm of all gradients, or by value.

``clip_grad_norm_`` = ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_``:

    total = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p   (the p-norm of all gradients as if concatenated)
    g ← g · min(max_norm / (total + 1e-6), 1)

All work on gradients in place through the public Tensor API, under ``no_grad``.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import tinygrad_bn as tb
from tinygrad_bn.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters: Iterable[Tensor]) -> list[Tensor]:
    """The gradients of the parameters that have one."""
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(values: Tensor, norm_type: float) -> Tensor:
    """‖values‖_p over all elements, as a 0-d tensor (``torch.linalg.vector_norm``)."""
    if norm_type == math.inf:
        return values.abs().max()
    if norm_type == -math.inf:
        return values.abs().min()
    if norm_type == 0:  # the number of non-zero elements
        return (values != 0).sum().to(values.dtype)
    if norm_type == 1:
        return values.abs().sum()
    if norm_type == 2:
        return values.square().sum().sqrt()
    return (values.abs() ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(
    tensors: TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` viewed as one vector: the norm of their norms.

    ``norm_type`` may be ``inf``. With ``error_if_nonfinite`` a nan or infinite total raises.
    NOTE: ``foreach`` is accepted for PyTorch's signature; there is one implementation, so it
    changes nothing.
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tb.tensor(0.0)
    with tb.no_grad():
        norms = [_vector_norm(t, norm_type) for t in tensors]
        first_device = tensors[0].device
        dtype = tb.float64 if any(n.dtype == tb.float64 for n in norms) else norms[0].dtype  # stack promotes
        total_norm = _vector_norm(tb.stack([n.to(first_device).to(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not math.isfinite(float(total_norm)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    return total_norm


def clip_grads_with_norm_(
    parameters: TensorOrTensors, max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    """Scale every gradient in place by min(max_norm / (total_norm + 1e-6), 1).

    The factor is applied even when it is 1 (no data-dependent branch, as in PyTorch).
    """
    grads = _grads(_as_list(parameters))
    max_norm = float(max_norm)
    if not grads:
        return
    with tb.no_grad():
        clip_coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(clip_coef.to(grad.device).to(grad.dtype))


def clip_grad_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Clip the gradients of ``parameters`` (a Tensor or an iterable of them) in place so that
    their total ``norm_type``-norm is at most ``max_norm``; returns the total norm before clipping
    as a 0-d tensor. Parameters without a gradient are skipped."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)  # a generator is read once, for both passes
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    total_norm = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient of ``parameters`` in place to [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    with tb.no_grad():
        for grad in _grads(_as_list(parameters)):
            grad.clamp_(min=-clip_value, max=clip_value)
