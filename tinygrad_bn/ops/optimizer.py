"""The fused optimizer step: one kernel call updates every parameter of a group (and its state).

Not a ``Function``: an optimizer step is not differentiated. It writes parameters and state in
place, outside the graph, and bumps their version counters as any in-place write does, so a
tensor saved for a backward that an update then changed is caught there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tinygrad_bn.tensor import Tensor


def optimizer_step(
    kind: str,
    params: list[Tensor],
    grads: list[Tensor],
    states: tuple[list[Tensor] | None, list[Tensor] | None, list[Tensor] | None],
    steps: list[int] | None = None,
    fresh: list[bool] | None = None,
    **settings: float | bool,
) -> None:
    """Run one ``kind`` step (``sgd``, ``adam``, ``rmsprop``, ``adagrad``) over ``params``.

    ``states`` are up to three lists of state tensors, one entry per parameter, in the order
    ``ct_optimizer_step`` documents. Every tensor must share the first parameter's device and dtype,
    and each gradient and state the shape of its parameter; state tensors must be dense (a strided
    parameter is updated through a dense copy).
    """
    if not params:
        return
    first = params[0]
    for index, param in enumerate(params):
        tensors = [("gradient", grads[index])] + [("state", s[index]) for s in states if s is not None]
        for what, tensor in tensors:
            if tensor.shape != param.shape or tensor.dtype is not first.dtype or tensor.device != first.device:
                raise ValueError(
                    f"{kind}: {what} of shape {tuple(tensor.shape)} ({tensor.dtype}, {tensor.device}) does not match "
                    f"parameter {index} of shape {tuple(param.shape)} ({param.dtype}, {param.device}); one call takes "
                    f"one dtype and device ({first.dtype}, {first.device})"
                )
    if not first.dtype.is_floating_point:
        raise TypeError(f"{kind}: parameters must be floating point, got {first.dtype}")
    state_tensors = [t for s in states if s is not None for t in s]
    for tensor in [*params, *state_tensors]:
        tensor._check_writable(kind)
    for tensor in state_tensors:
        if not tensor.is_contiguous():
            raise ValueError(f"{kind}: a state tensor of shape {tuple(tensor.shape)} is not contiguous")
    # A strided parameter (a transposed view made a leaf) is updated through a dense copy.
    dense = [p if p.is_contiguous() else p.contiguous() for p in params]
    first.backend.optimizer_step(
        kind,
        [t._buffer for t in dense],
        [g._buffer for g in grads],
        tuple(None if s is None else [t._buffer for t in s] for s in states),
        steps,
        fresh,
        settings,
    )
    for param, updated in zip(params, dense):
        if updated is not param:
            param.backend.assign(param._buffer, None, updated._buffer)
    for tensor in [*params, *state_tensors]:
        tensor._version.value += 1
