"""Reverse-mode differentiation over the recorded graph: ``Tensor.backward`` and ``grad``.

The graph is walked with an explicit stack (no recursion), so chains of any length work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tinygrad_bn.function import enable_grad, no_grad

if TYPE_CHECKING:
    from tinygrad_bn.tensor import Tensor


def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that requires grad and is reachable from ``roots``, inputs before outputs."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in roots]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._grad_fn is not None:
            stack.extend((t, False) for t in tensor._grad_fn.inputs if t.requires_grad and id(t) not in visited)
    return order


def _seed_gradients(outputs: Sequence[Tensor], grad_outputs: Sequence[Tensor | None]) -> list[Tensor]:
    seeds = []
    for index, (output, seed) in enumerate(zip(outputs, grad_outputs)):
        if not output.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
        if seed is None:
            if output.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, got an output of shape "
                    f"{tuple(output.shape)}; pass a gradient of that shape"
                )
            seed = output.new_ones(output.shape)
        elif tuple(seed.shape) != tuple(output.shape):
            raise RuntimeError(
                f"backward: gradient of shape {tuple(seed.shape)} does not match the output's shape "
                f"{tuple(output.shape)}"
            )
        seeds.append(seed.to(output.dtype))
    return seeds


def _propagate(
    outputs: Sequence[Tensor],
    seeds: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
) -> dict[int, Tensor]:
    """Push gradients from ``outputs`` back through the graph.

    With ``targets`` None (``backward``), leaves and ``retain_grad`` tensors accumulate ``.grad``.
    Otherwise (``grad``) nothing is written and the gradients of ``targets`` are returned.
    """
    order = _topological_order(outputs)
    target_ids = None if targets is None else {id(t) for t in targets}
    if target_ids is not None:  # only walk the part of the graph that leads to a target
        leads_to_target: dict[int, bool] = {}
        for tensor in order:
            inputs = tensor._grad_fn.inputs if tensor._grad_fn is not None else ()
            leads_to_target[id(tensor)] = id(tensor) in target_ids or any(
                leads_to_target.get(id(t), False) for t in inputs
            )
    grads: dict[int, Tensor] = {}
    for output, seed in zip(outputs, seeds):
        grads[id(output)] = grads[id(output)] + seed if id(output) in grads else seed
    captured: dict[int, Tensor] = {}
    with enable_grad() if create_graph else no_grad():
        for tensor in reversed(order):
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            if target_ids is None:
                if tensor._grad_fn is None or tensor._retains_grad:
                    tensor._accumulate_grad(grad)
            elif id(tensor) in target_ids:
                captured[id(tensor)] = grad
            ctx = tensor._grad_fn
            if ctx is None or (target_ids is not None and not leads_to_target[id(tensor)]):
                continue
            input_grads = ctx.backward(grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for t, needs, input_grad in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
                if needs and input_grad is not None:
                    input_grad = input_grad.sum_to_shape(t.shape)
                    grads[id(t)] = grads[id(t)] + input_grad if id(t) in grads else input_grad
            if not retain_graph:
                ctx.release()
    return captured


def backward(
    tensor: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensor)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``."""
    seeds = _seed_gradients([tensor], [gradient])
    _propagate([tensor], seeds, create_graph if retain_graph is None else retain_graph, create_graph, None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to ``inputs``.

    Leaves' ``.grad`` are left untouched. With ``create_graph=True`` the returned gradients are
    themselves differentiable, which is how second derivatives are taken.
    """
    from tinygrad_bn.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad: input {index} (shape {tuple(tensor.shape)}) does not require grad")
    seeds = _seed_gradients(outputs, list(grad_outputs))
    captured = _propagate(outputs, seeds, create_graph if retain_graph is None else retain_graph, create_graph, inputs)
    result = tuple(captured.get(id(t)) for t in inputs)
    for index, value in enumerate(result):
        if value is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {index} (shape {tuple(inputs[index].shape)}) was not used to compute the outputs; "
                "pass allow_unused=True if this is intended"
            )
    return result
