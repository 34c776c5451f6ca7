"""Views of device memory: an allocation seen through a shape, element strides and an element offset.

Reshape (where the strides allow), permute, expand and basic indexing only make a new ``CLBuffer``
over the same allocation, as NumPy views do on the CPU; kernels read any view through its strides.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_bn.backend.opencl.runtime import MAX_DIMS, Allocation


class CLBuffer:
    """What the Tensor layer holds for an OpenCL tensor: ``shape`` and ``dtype`` (as the contract asks),
    and where the elements are: ``allocation``, ``strides`` (in elements, possibly 0 or negative) and
    ``offset`` (in elements). ``writable`` is False for broadcast views (as NumPy's ``broadcast_to``)."""

    __slots__ = ("allocation", "dtype", "offset", "shape", "strides", "writable")

    def __init__(self, allocation: Allocation, shape: tuple[int, ...], strides: tuple[int, ...], offset: int,
                 dtype: np.dtype, writable: bool = True):  # fmt: skip
        self.allocation, self.shape, self.strides, self.offset = allocation, shape, strides, offset
        self.dtype, self.writable = dtype, writable

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def view(self, shape, strides, offset: int | None = None, writable: bool | None = None) -> CLBuffer:
        """Another view of the same allocation."""
        return CLBuffer(
            self.allocation, tuple(shape), tuple(strides), self.offset if offset is None else offset, self.dtype,
            self.writable if writable is None else writable,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"CLBuffer(shape={self.shape}, strides={self.strides}, offset={self.offset}, dtype={self.dtype})"


def dense_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def is_dense(buffer: CLBuffer) -> bool:
    """Row-major without gaps (NumPy's C-contiguity: strides of size-1 dims do not matter)."""
    if buffer.size == 0:
        return True
    expected = 1
    for size, stride in zip(reversed(buffer.shape), reversed(buffer.strides)):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def coalesce(shape: tuple[int, ...], *strides: tuple[int, ...]) -> tuple[list[int], list[list[int]]]:
    """Drop size-1 dims and merge neighbours that every operand walks as one dim (the dense output
    index is unchanged by either). More than MAX_DIMS dims left is refused."""
    merged_shape: list[int] = []
    merged: list[list[int]] = [[] for _ in strides]
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if merged_shape and all(m[-1] == s[d] * size for m, s in zip(merged, strides)):
            merged_shape[-1] *= size
            for m, s in zip(merged, strides):
                m[-1] = s[d]
        else:
            merged_shape.append(size)
            for m, s in zip(merged, strides):
                m.append(s[d])
    if len(merged_shape) > MAX_DIMS:
        raise NotImplementedError(
            f"OpenCL: a layout of shape {shape} has {len(merged_shape)} dims that cannot be merged; "
            f"kernels take at most {MAX_DIMS}"
        )
    return merged_shape, merged


def dims8(values: list[int]) -> tuple[int, ...]:
    """A long8 kernel argument: the values padded with zeros."""
    return tuple(values) + (0,) * (MAX_DIMS - len(values))


def reshape_strides(shape: tuple[int, ...], strides: tuple[int, ...], new_shape: tuple[int, ...]):
    """Strides that view (shape, strides) as new_shape without copying, or None (NumPy's rule)."""
    if math.prod(shape) == 0:
        return dense_strides(new_shape)
    old = [(size, stride) for size, stride in zip(shape, strides) if size != 1]
    old_sizes, old_strides = [s for s, _ in old], [st for _, st in old]
    new_strides = [0] * len(new_shape)
    oi, oj, ni, nj = 0, 1, 0, 1
    while ni < len(new_shape) and oi < len(old_sizes):
        new_product, old_product = new_shape[ni], old_sizes[oi]
        while new_product != old_product:
            if new_product < old_product:
                new_product *= new_shape[nj]
                nj += 1
            else:
                old_product *= old_sizes[oj]
                oj += 1
        for ok in range(oi, oj - 1):  # the old dims merged here must be contiguous with each other
            if old_strides[ok] != old_sizes[ok + 1] * old_strides[ok + 1]:
                return None
        new_strides[nj - 1] = old_strides[oj - 1]
        for nk in range(nj - 1, ni, -1):
            new_strides[nk - 1] = new_strides[nk] * new_shape[nk]
        ni, nj, oi, oj = nj, nj + 1, oj, oj + 1
    return tuple(new_strides)


def basic_view(buffer: CLBuffer, key: tuple) -> CLBuffer:
    """``buffer[key]`` for a key of ints, slices, None and Ellipsis (NumPy's basic indexing)."""
    consumed = sum(1 for part in key if part is not None and part is not Ellipsis)
    shape, strides, offset, d = [], [], buffer.offset, 0
    for part in key:
        if part is None:
            shape.append(1)
            strides.append(0)
        elif part is Ellipsis:
            rest = buffer.ndim - consumed
            shape.extend(buffer.shape[d : d + rest])
            strides.extend(buffer.strides[d : d + rest])
            d += rest
            consumed = buffer.ndim  # (a second Ellipsis expands to nothing)
        elif isinstance(part, slice):
            start, stop, step = part.indices(buffer.shape[d])
            shape.append(len(range(start, stop, step)))
            strides.append(buffer.strides[d] * step)
            offset += start * buffer.strides[d]
            d += 1
        else:
            offset += (int(part) % buffer.shape[d]) * buffer.strides[d]
            d += 1
    shape.extend(buffer.shape[d:])
    strides.extend(buffer.strides[d:])
    return buffer.view(shape, strides, offset)


def element_range(buffer: CLBuffer) -> tuple[int, int]:
    """[first, last] element positions the view can touch (empty: last < first)."""
    if buffer.size == 0:
        return 0, -1
    low = high = buffer.offset
    for size, stride in zip(buffer.shape, buffer.strides):
        reach = (size - 1) * stride
        low, high = (low + reach, high) if reach < 0 else (low, high + reach)
    return low, high
