"""Reverse-mode differentiation over the recorded graph: ``Tensor.backward`` and ``grad``.

The graph is walked with an explicit stack (no recursion), so chains of any length work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Union

from tinygrad_bn.function import Function, no_grad, swap_grad_mode, tensor_type

if TYPE_CHECKING:
    from tinygrad_bn.tensor import Tensor


Node = Union["Function", "Tensor"]  # an op that produced a tensor, or a leaf tensor


def _node(tensor: Tensor) -> Node:
    return tensor._grad_fn if tensor._grad_fn is not None else tensor


def _topological_order(roots: Sequence[Node]) -> list[Node]:
    """Every node reachable from ``roots``, inputs before outputs (iterative depth-first search)."""
    order: list[Node] = []
    visited: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False) for root in roots]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        if not isinstance(node, Function):  # a leaf: nothing before it
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend([(edge, False) for _, _, edge in node.next_edges if id(edge) not in visited])
    return order


def _seed_gradients(outputs: Sequence[Tensor], grad_outputs: Sequence[Tensor | None]) -> list[Tensor]:
    seeds = []
    for index, (output, seed) in enumerate(zip(outputs, grad_outputs)):
        if not output._requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
        if seed is not None and not isinstance(seed, tensor_type()):
            raise TypeError(f"backward: gradient {index} must be a Tensor, got {type(seed).__name__}")
        if seed is None:
            if output.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, got an output of shape "
                    f"{tuple(output.shape)}; pass a gradient of that shape"
                )
            seed = output.new_ones(output.shape)
        elif seed.shape != output.shape:
            raise RuntimeError(
                f"backward: gradient of shape {tuple(seed.shape)} does not match the output's shape "
                f"{tuple(output.shape)}"
            )
        seeds.append(seed if seed._dtype is output._dtype else seed.to(output.dtype))
    return seeds


def _leads_to(order: list[Node], target_nodes: set[int]) -> set[int]:
    """The ids of the nodes in ``order`` (inputs first) from which some target is reachable."""
    leading: set[int] = set()
    for node in order:
        if id(node) in target_nodes or (
            isinstance(node, Function) and any(id(edge) in leading for _, _, edge in node.next_edges)
        ):
            leading.add(id(node))
    return leading


def _propagate(
    outputs: Sequence[Tensor],
    seeds: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
) -> dict[int, Tensor]:
    """Push gradients from ``outputs`` back through the graph.

    With ``targets`` None (``backward``), leaves and ``retain_grad`` tensors accumulate ``.grad``.
    Otherwise (``grad``) nothing is written and the gradients of ``targets`` are returned, keyed
    by the id of each target's node.
    """
    roots = [_node(t) for t in outputs]
    order = _topological_order(roots)
    target_nodes = None if targets is None else {id(_node(t)) for t in targets}
    leading = None if target_nodes is None else _leads_to(order, target_nodes)
    grads: dict[int, Tensor] = {}
    # Node ids whose pending gradient is a tensor nothing else refers to: a leaf may keep it as
    # its .grad without a copy. Seeds (the caller's), views and a tensor handed to two inputs are not.
    exclusive: set[int] = set()
    for root, seed in zip(roots, seeds):
        grads[id(root)] = grads[id(root)] + seed if id(root) in grads else seed
    captured: dict[int, Tensor] = {}
    recording = swap_grad_mode(create_graph)
    try:
        for node in reversed(order):
            key = id(node)
            grad = grads.pop(key, None)
            if grad is None:
                continue
            if leading is not None:
                if key in target_nodes:
                    captured[key] = grad
                if key not in leading:
                    continue
            owned = key in exclusive
            if not isinstance(node, Function):  # a leaf
                if leading is None:
                    node._accumulate_grad(grad, owned)
                continue
            if leading is None and node.retained_output is not None:
                retained = node.retained_output()
                if retained is not None:
                    retained._accumulate_grad(grad)
            _send_input_grads(node, grad, owned, grads, exclusive)
            if not retain_graph:
                node.release()
    finally:
        swap_grad_mode(recording)
    return captured


def _send_input_grads(node: Function, grad: Tensor, owned: bool, grads: dict, exclusive: set[int]) -> None:
    """Run ``node``'s backward and add each input's gradient (summed down to the input's shape,
    where it was broadcast) to that input's pending one."""
    input_grads = node.backward(grad)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    edges = node.next_edges
    # (ids of the gradients sent, to spot one tensor sent to two inputs; one edge can't do that)
    sent = [id(input_grads[index]) for index, _, _ in edges] if len(edges) > 1 else None
    for index, shape, edge in edges:
        input_grad = input_grads[index]
        if input_grad is None:
            continue
        key = id(edge)
        summed = input_grad if input_grad._buffer.shape == shape else input_grad.sum_to_size(shape)
        pending = grads.get(key)
        if pending is not None:
            grads[key] = pending + summed
            exclusive.add(key)
            continue
        grads[key] = summed
        fresh = summed is not input_grad or sent is None or sent.count(id(input_grad)) == 1
        if fresh and summed._base is None and (summed is not grad or owned):
            exclusive.add(key)


def _tensor_list(name: str, value: Tensor | Sequence[Tensor]) -> list[Tensor]:
    from tinygrad_bn.tensor import Tensor

    tensors = [value] if isinstance(value, Tensor) else list(value) if isinstance(value, (list, tuple)) else None
    if tensors is None or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"grad: {name} must be a Tensor or a sequence of Tensors, got {type(value).__name__}")
    return tensors


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

    outputs, inputs = _tensor_list("outputs", outputs), _tensor_list("inputs", inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad: input {index} (shape {tuple(tensor.shape)}) does not require grad")
    seeds = _seed_gradients(outputs, list(grad_outputs))
    captured = _propagate(outputs, seeds, create_graph if retain_graph is None else retain_graph, create_graph, inputs)
    result = tuple(captured.get(id(_node(t))) for t in inputs)
    for index, value in enumerate(result):
        if value is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {index} (shape {tuple(inputs[index].shape)}) was not used to compute the outputs; "
                "pass allow_unused=True if this is intended"
            )
    return result


def clear_grads(tensors: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Clear each tensor's ``.grad``: to None, or to zeros in place (a gradient built with
    create_graph=True is detached first, so the zeros carry no graph), as PyTorch's zero_grad does."""
    for tensor in tensors:
        if tensor.grad is None:
            continue
        if set_to_none:
            tensor.grad = None
            continue
        if tensor.grad.grad_fn is not None:
            tensor.grad = tensor.grad.detach()
        with no_grad():
            tensor.grad.zero_()
