"""``Function``: one differentiable op, and the switch that turns graph recording on and off.

A Function's ``forward`` computes on device buffers through its backend; its ``backward``
receives the output's gradient as a Tensor and returns the inputs' gradients built from Tensor
ops. So a backward run with graph recording on (``create_graph=True``) is itself
differentiable, and one run with it off builds no graph.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tinygrad_bn.tensor import Tensor

_state = threading.local()
F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Whether new ops record the graph (per thread, on by default)."""
    return getattr(_state, "grad_enabled", True)


@functools.cache
def tensor_type() -> type[Tensor]:
    """``tinygrad_bn.tensor.Tensor``, imported on first use (tensor.py imports this module). Cached:
    the import statement costs ~1 µs per call (the package's ``tensor`` attribute is the factory
    function, not the module, which sends it down the slow path), and ``apply`` runs for every op."""
    from tinygrad_bn.tensor import Tensor

    return Tensor


def swap_grad_mode(enabled: bool) -> bool:
    """Turn graph recording on or off for this thread; returns the previous setting."""
    previous = getattr(_state, "grad_enabled", True)
    _state.grad_enabled = enabled
    return previous


class _GradMode:
    """Context manager and decorator, usable as ``@no_grad()`` and as bare ``@no_grad``."""

    enabled: bool

    def __new__(cls, function: F | None = None):
        mode = super().__new__(cls)
        return mode(function) if callable(function) else mode

    def __init__(self, function: F | None = None) -> None:
        pass

    def __enter__(self) -> None:
        self._previous = swap_grad_mode(self.enabled)

    def __exit__(self, *exc_info: object) -> None:
        swap_grad_mode(self._previous)

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: ops inside record no graph."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: ops inside record the graph, even within ``no_grad``."""

    enabled = True


FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or to read saved tensors after they were "
    "freed). Pass retain_graph=True to the first backward() if you need to backward twice."
)


class Function:
    """Base class of every op. Subclasses define ``forward(self, *buffers, **params)`` and
    ``backward(self, grad) -> gradient per input`` side by side.

    During ``forward``, ``self.inputs`` are the input Tensors; afterwards only their shapes
    (``self.input_shapes``) stay, so the graph never holds the tensors it was built from (a tensor
    rebased by an in-place op would otherwise reach itself through its own history).
    ``self.backend`` is their device's backend, ``self.needs_input_grad[i]`` whether input i wants
    a gradient.
    """

    is_view = False  # movement ops whose output may alias the input's memory
    output_device = None  # set by forward where the output lives elsewhere than the inputs (ToDevice)

    def __init__(self, inputs: tuple[Tensor, ...]):
        # (List comprehensions, not generators: this runs for every op, and they are faster.)
        self.inputs: tuple[Tensor, ...] | None = inputs
        self.input_shapes = tuple([t._buffer.shape for t in inputs])
        self.backend = inputs[0].backend
        self.needs_input_grad = tuple([t._requires_grad for t in inputs])
        # The graph's edges, one per input that wants a gradient: (input index, its shape, its
        # producer at this moment or the input itself for a leaf). Held apart from ``inputs`` so an
        # in-place op that later gives an input a new producer does not rewire gradients recorded
        # before it.
        self.next_edges = tuple(
            [
                (index, t._buffer.shape, t._grad_fn if t._grad_fn is not None else t)
                for index, t in enumerate(inputs)
                if t._requires_grad
            ]
        )
        self.retained_output: Callable[[], Tensor | None] | None = None
        self._saved: tuple[tuple[Tensor, int], ...] | None = ()
        self._output: tuple | None = None  # (buffer, device, version counter, version at save)
        self._saves_output = False

    # --- what backward needs -----------------------------------------------------------------
    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep ``tensors`` for backward; an in-place change to any of them is caught there.

        Pass None for a tensor this backward will not need (save only what the gradients that
        are wanted use, as PyTorch does, so unrelated in-place updates stay legal).
        """
        self._saved = tuple((t, t._version.value if t is not None else 0) for t in tensors)

    def inputs_needed_by_other_grads(self) -> tuple[Tensor | None, Tensor | None]:
        """For bilinear ops (a·b, a@b): a is needed only for b's gradient and vice versa."""
        a, b = self.inputs
        return (a if self.needs_input_grad[1] else None, b if self.needs_input_grad[0] else None)

    def save_output(self) -> None:
        """Keep the output for backward. Its buffer is kept, not the Tensor (whose grad_fn is this
        op: holding it would make the graph a reference cycle)."""
        self._saves_output = True

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        if self._saved is None:
            raise RuntimeError(f"{self.name}: {FREED_GRAPH_MESSAGE}")
        for tensor, version in self._saved:
            if tensor is not None:
                self._check_version(tensor, version)
        return tuple(tensor for tensor, _ in self._saved)

    @property
    def output(self) -> Tensor:
        """The saved output, as a tensor whose grad_fn is this op (so double backward works)."""
        if self._output is None:
            raise RuntimeError(f"{self.name}: {FREED_GRAPH_MESSAGE}")
        buffer, device, counter, version = self._output
        tensor = tensor_type()._wrap(buffer, device)
        tensor._version, tensor._grad_fn, tensor._requires_grad = counter, self, True
        self._check_version(tensor, version)
        return tensor

    def _check_version(self, tensor: Tensor, version: int) -> None:
        if tensor._version.value != version:
            raise RuntimeError(
                f"{self.name}: a tensor of shape {tuple(tensor.shape)} saved for backward was modified by "
                f"an in-place operation (it is at version {tensor._version.value}, expected version "
                f"{version}); compute it out of place or clone() it first"
            )

    def bind_output(self, tensor: Tensor) -> None:
        """Make ``tensor`` this op's output (at its current version)."""
        if self._saves_output:
            self._output = (tensor._buffer, tensor.device, tensor._version, tensor._version.value)

    def release(self) -> None:
        """Drop what backward needed; a second backward through here then raises."""
        self._saved = None
        self._output = None

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    # --- running it -------------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run forward on the inputs' buffers and, when recording, link the output into the graph."""
        device = inputs[0]._device
        for tensor in inputs[1:]:
            if tensor._device is not device and tensor._device != device:
                raise RuntimeError(
                    f"{cls.__name__}: expected all tensors on the same device, got {device} and {tensor.device}"
                )
        ctx = cls(inputs)
        out = tensor_type()._wrap(ctx.forward(*[t._buffer for t in inputs], **params), ctx.output_device or device)
        ctx.inputs = None
        recording = is_grad_enabled()
        if cls.is_view and ctx.backend.shares_memory(out._buffer, inputs[0]._buffer):
            # Views made while recording remember how to be re-derived from their input, so an
            # in-place write to their base (or through them) can give them a fresh grad_fn.
            out._become_view_of(inputs[0], (inputs[0], cls, params) if recording else None)
        if recording and ctx.next_edges and out._dtype.is_floating_point:  # ints have no gradient
            out._requires_grad = True
            out._grad_fn = ctx
            ctx.bind_output(out)
        return out

    def forward(self, *buffers: Any, **params: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Tensor) -> Tensor | tuple[Tensor | None, ...] | None:
        raise NotImplementedError
