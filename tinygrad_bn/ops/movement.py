"""Shape and layout ops. Most return views of their input's memory where the layout allows."""

from __future__ import annotations

from tinygrad_bn.function import Function


class Reshape(Function):
    is_view = True

    def forward(self, x, shape=(), allow_copy=True):
        out = self.backend.reshape(x, shape, allow_copy)
        if out is None:
            raise RuntimeError(
                f"view: shape {tuple(self.inputs[0].shape)} cannot be viewed as {shape} without a copy "
                "because of the tensor's strides; use .reshape(...) instead"
            )
        return out

    def backward(self, grad):
        return grad.reshape(self.inputs[0].shape)


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
        return grad.sum_to_size(self.inputs[0].shape)


class Contiguous(Function):
    is_view = True  # a no-op on tensors that already are contiguous

    def forward(self, x):
        return self.backend.contiguous(x)

    def backward(self, grad):
        return grad


class Clone(Function):
    def forward(self, x):
        return self.backend.cast(x, x.dtype)

    def backward(self, grad):
        return grad


class GetItem(Function):
    """``x[key]`` for a normalised key (ints, slices, None, Ellipsis, int64 index tensors)."""

    is_view = True

    def forward(self, x, *index_buffers, key=()):
        self.key = key
        return self.backend.getitem(x, fill_key(key, index_buffers))

    def backward(self, grad):
        index_tensors = self.inputs[1:]
        grad_x = IndexAdd.apply(grad, *index_tensors, shape=self.inputs[0].shape, key=self.key)
        return (grad_x, *[None] * len(index_tensors))


class IndexAdd(Function):
    """``zeros(shape)`` with ``source`` added at ``[key]``: the adjoint of GetItem."""

    def forward(self, source, *index_buffers, shape=(), key=()):
        self.key = key
        return self.backend.index_add(shape, fill_key(key, index_buffers), source)

    def backward(self, grad):
        index_tensors = self.inputs[1:]
        return (GetItem.apply(grad, *index_tensors, key=self.key), *[None] * len(index_tensors))


class SetItem(Function):
    """``x`` with ``x[key]`` replaced by ``value`` (broadcast), as a new tensor."""

    def forward(self, x, value, *index_buffers, key=()):
        self.key = key
        out = self.backend.cast(x, x.dtype)
        self.backend.assign(out, fill_key(key, index_buffers), value)
        return out

    def backward(self, grad):
        index_tensors = self.inputs[2:]
        grad_x = grad_value = None
        if self.needs_input_grad[0]:
            grad_x = SetItem.apply(grad, grad.new_zeros(()), *index_tensors, key=self.key)
        if self.needs_input_grad[1]:
            grad_value = GetItem.apply(grad, *index_tensors, key=self.key)
        return (grad_x, grad_value, *[None] * len(index_tensors))


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
        sizes = [t.shape[self.axis] for t in self.inputs]
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
