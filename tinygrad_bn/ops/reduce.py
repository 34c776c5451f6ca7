"""Reductions over a set of axes (sorted, non-negative; ``keepdim`` as in PyTorch)."""

from __future__ import annotations

from tinygrad_bn.function import Function


def _keepdim_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if d in axes else size for d, size in enumerate(shape))


class Sum(Function):
    def forward(self, x, axes=(), keepdim=False):
        self.axes, self.keepdim = axes, keepdim
        return self.backend.reduce("sum", x, axes, keepdim)

    def backward(self, grad):  # every input element contributes once
        shape = self.input_shapes[0]
        return grad.reshape(_keepdim_shape(shape, self.axes)).expand(shape)


class Extremum(Function):
    """amax / amin: ``op`` is "max" or "min"."""

    op: str

    def forward(self, x, axes=(), keepdim=False):
        self.axes, self.keepdim = axes, keepdim
        self.save_for_backward(self.inputs[0])
        self.save_output()
        return self.backend.reduce(self.op, x, axes, keepdim)

    def backward(self, grad):
        # NOTE: tied extrema share the gradient evenly, as PyTorch's amax/amin and full max() do.
        (x,) = self.saved_tensors
        shape = _keepdim_shape(x.shape, self.axes)
        is_extremum = x == self.output.reshape(shape)
        count = is_extremum.sum(self.axes, keepdim=True)
        return grad.reshape(shape) * is_extremum / count


class Max(Extremum):
    op = "max"


class Min(Extremum):
    op = "min"
