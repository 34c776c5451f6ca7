"""Shape and layout ops. Most return views of their input's memory where the layout allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinygrad_bn.function import Function, no_grad

if TYPE_CHECKING:
    from tinygrad_bn.tensor import Tensor


class Reshape(Function):
    is_view = True

    def forward(self, x, shape=(), allow_copy=True):
        out = self.backend.reshape(x, shape, allow_copy)
        if out is None:
            raise RuntimeError(
                f"view: shape {self.input_shapes[0]} cannot be viewed as {shape} without a copy "
                "because of the tensor's strides; use .reshape(...) instead"
            )
        return out

    def backward(self, grad):
        return grad.reshape(self.input_shapes[0])


class Permute(Function):
    is_view = True

    def forward(self, x, axes=()):
        self.axes = axes
        return self.backend.permute(x, axes)

    def backward(self, grad):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return grad.permute(*inverse)


class Expand(Function):
    is_view = True

    def forward(self, x, shape=()):
        return self.backend.expand(x, shape)

    def backward(self, grad):
        return grad.sum_to_size(self.input_shapes[0])


class Contiguous(Function):
    is_view = True  # a no-op on tensors that already are contiguous

    def forward(self, x):
        return self.backend.contiguous(x)

    def backward(self, grad):
        return grad


class ToDevice(Function):
    """A copy of x on another device (through the host); its gradient goes back the same way."""

    def forward(self, x, device=None):
        from tinygrad_bn.backend import get_backend

        self.source, self.output_device = self.inputs[0].device, device
        return get_backend(device).from_numpy(self.backend.to_numpy(x))

    def backward(self, grad):
        return grad.to(self.source)


class Clone(Function):
    def forward(self, x):
        return self.backend.cast(x, x.dtype)

    def backward(self, grad):
        return grad


class GetItem(Function):
    """``x[key]`` for a normalised key (ints, slices, None, Ellipsis, int64 index tensors)."""

    is_view = True

    def forward(self, x, *index_buffers, key=()):
        self.key, self.index_tensors = key, self.inputs[1:]
        return self.backend.getitem(x, fill_key(key, index_buffers))

    def backward(self, grad):
        index_tensors = self.index_tensors
        grad_x = IndexAdd.apply(grad, *index_tensors, shape=self.input_shapes[0], key=self.key)
        return (grad_x, *[None] * len(index_tensors))


class IndexAdd(Function):
    """``zeros(shape)`` with ``source`` added at ``[key]``: the adjoint of GetItem."""

    def forward(self, source, *index_buffers, shape=(), key=()):
        self.key, self.index_tensors = key, self.inputs[1:]
        return self.backend.index_add(shape, fill_key(key, index_buffers), source)

    def backward(self, grad):
        index_tensors = self.index_tensors
        return (GetItem.apply(grad, *index_tensors, key=self.key), *[None] * len(index_tensors))


class SetItem(Function):
    """``x`` with ``x[key]`` replaced by ``value`` (broadcast), as a new tensor."""

    def forward(self, x, value, *index_buffers, key=()):
        self.key, self.index_tensors = key, self.inputs[2:]
        out = self.backend.cast(x, x.dtype)
        self.backend.assign(out, fill_key(key, index_buffers), value)
        return out

    def backward(self, grad):
        index_tensors = self.index_tensors
        grad_x = grad_value = None
        if self.needs_input_grad[0]:
            grad_x = SetItem.apply(grad, grad.new_zeros(()), *index_tensors, key=self.key)
        if self.needs_input_grad[1]:
            grad_value = GetItem.apply(grad, *index_tensors, key=self.key)
        return (grad_x, grad_value, *[None] * len(index_tensors))


class ViewScatter(Function):
    """``base`` with the view ``views(base)`` replaced by ``value``: how an in-place write through
    a view reaches its base's graph. ``views`` is the chain of (view op, params) from base to view.

    d/dbase = grad with the view's region zeroed; d/dvalue = views(grad).
    """

    def forward(self, base, value, views=()):
        from tinygrad_bn.tensor import Tensor

        self.views = views
        out = self.backend.cast(base, base.dtype)
        with no_grad():
            region = replay_views(Tensor._wrap(out, self.inputs[0].device), views)
        if not self.backend.shares_memory(region._buffer, out):
            raise RuntimeError(
                f"in-place write through a view: the view of a tensor of shape {self.input_shapes[0]} cannot be "
                "re-derived from a dense copy of it; clone() the view before modifying it"
            )
        self.backend.assign(region._buffer, None, value)
        return out

    def backward(self, grad):
        grad_base = grad_value = None
        if self.needs_input_grad[0]:
            grad_base = ViewScatter.apply(grad, grad.new_zeros(self.input_shapes[1]), views=self.views)
        if self.needs_input_grad[1]:
            grad_value = replay_views(grad, self.views)
        return grad_base, grad_value


def replay_views(tensor: Tensor, views: tuple) -> Tensor:
    """Apply a chain of (view op, params) to ``tensor`` (copying where its layout needs it)."""
    for function, params in views:
        tensor = function.apply(tensor, **({**params, "allow_copy": True} if function is Reshape else params))
    return tensor


class Pad(Function):
    def forward(self, x, widths=(), value=0.0):
        self.widths = widths
        return self.backend.pad(x, widths, value)

    def backward(self, grad):
        key = tuple(slice(before, size - after) for (before, after), size in zip(self.widths, grad.shape))
        return grad[key]


class Concatenate(Function):
    def forward(self, *buffers, axis=0):
        self.axis = axis
        return self.backend.concatenate(list(buffers), axis)

    def backward(self, grad):
        sizes = [shape[self.axis] for shape in self.input_shapes]
        return tuple(grad.split(sizes, dim=self.axis))


def fill_key(key: tuple, index_buffers: tuple) -> tuple:
    """The key with each ``INDEX_SLOT`` placeholder replaced by the next index buffer."""
    buffers = iter(index_buffers)
    return tuple(next(buffers) if isinstance(part, IndexSlot) else part for part in key)


class IndexSlot:
    """Placeholder in a normalised key for the next index tensor (passed as an op input)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "IndexSlot()"


INDEX_SLOT = IndexSlot()
