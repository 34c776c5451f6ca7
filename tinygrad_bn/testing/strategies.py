"""Hypothesis strategies for shapes and tensors, for property-based tests of ops and gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_bn import dtype as dtypes
from tinygrad_bn.dtype import DType
from tinygrad_bn.tensor import Tensor, from_numpy


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5) -> st.SearchStrategy:
    """Shapes as tuples of ints (size-1 dims included; ``min_side=0`` allows empty tensors)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    shape: tuple[int, ...],
    min_dims: int = 0,
    max_dims: int | None = None,
    min_side: int = 1,
    max_side: int = 5,
) -> st.SearchStrategy:
    """Shapes that broadcast against ``shape``."""
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def mutually_broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4, max_side: int = 5
) -> st.SearchStrategy:
    """``num_shapes`` shapes that broadcast together (a tuple of shapes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda result: result.input_shapes)


def _elements(dtype: DType, elements: st.SearchStrategy | None) -> st.SearchStrategy:
    if elements is not None:
        return elements
    if dtype.is_floating_point:
        return st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=8 * dtype.itemsize)
    if dtype is dtypes.bool_:
        return st.booleans()
    return st.integers(-10, 10)


def _as_shape_strategy(shape) -> st.SearchStrategy:
    if shape is None:
        return shapes()
    return shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))


@st.composite
def tensors(
    draw,
    shape=None,
    dtype: DType = dtypes.float64,
    elements: st.SearchStrategy | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Contiguous tensors; ``shape`` is a tuple, a strategy of tuples, or None for any small shape."""
    values = draw(hnp.arrays(dtype.numpy, draw(_as_shape_strategy(shape)), elements=_elements(dtype, elements)))
    return from_numpy(values).requires_grad_(requires_grad) if requires_grad else from_numpy(values)


@st.composite
def non_contiguous_tensors(
    draw,
    shape=None,
    dtype: DType = dtypes.float64,
    elements: st.SearchStrategy | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Tensors of the drawn shape whose memory is a strided view: a permuted and/or step-sliced
    window into a larger array, so ops see real non-unit strides (and leaves stay leaves)."""
    target = draw(_as_shape_strategy(shape))
    order = draw(st.permutations(range(len(target))))
    steps = [draw(st.integers(1, 3)) for _ in target]
    storage_shape = tuple(target[axis] * steps[axis] for axis in order)
    storage = draw(hnp.arrays(dtype.numpy, storage_shape, elements=_elements(dtype, elements)))
    window = storage[(*(slice(None, None, steps[axis]) for axis in order), ...)]
    view = np.transpose(window, np.argsort(order)) if target else window
    assert view.shape == tuple(target)
    out = from_numpy(view)
    return out.requires_grad_(requires_grad) if requires_grad else out
