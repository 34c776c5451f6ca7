"""The public testing toolkit: strategies draw what they promise, assert_close reports clearly,
and the example in docs/testing.md runs as written."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import tinygrad_bn as tb
from tinygrad_bn.testing import assert_close
from tinygrad_bn.testing.strategies import (
    broadcastable_shapes,
    mutually_broadcastable_shapes,
    non_contiguous_tensors,
    shapes,
    tensors,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


@given(shape=shapes(min_dims=1, max_dims=3), data=__import__("hypothesis").strategies.data())
def test_non_contiguous_tensors_have_the_shape_and_are_leaves(shape, data):
    t = data.draw(non_contiguous_tensors(shape, requires_grad=True))
    assert t.shape == shape and t.is_leaf and t.requires_grad and t.dtype is tb.float64


def test_non_contiguous_tensors_really_are_strided():
    from hypothesis import find

    t = find(non_contiguous_tensors((3, 4)), lambda t: not t.numpy().flags.c_contiguous)
    assert not t.numpy().flags.c_contiguous


@given(shapes_=mutually_broadcastable_shapes(num_shapes=3))
def test_mutually_broadcastable_shapes_broadcast(shapes_):
    np.broadcast_shapes(*shapes_)


@given(shape=broadcastable_shapes((3, 1, 4)))
def test_broadcastable_shapes_broadcast(shape):
    np.broadcast_shapes(shape, (3, 1, 4))


@given(t=tensors((2, 3), dtype=tb.float32))
def test_tensors_respect_dtype_and_shape(t):
    assert t.dtype is tb.float32 and t.shape == (2, 3)


def test_assert_close_names_the_worst_element():
    with pytest.raises(
        AssertionError, match=r"1 of 3 elements differ; worst at index \(2,\): actual 3\.5, expected 3\.0"
    ):
        assert_close(tb.tensor([1.0, 2.0, 3.5]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_close(tb.ones(2), np.ones(3))
    assert_close(tb.tensor([1.0, float("nan")]), [1.0, float("nan")])


def test_docs_testing_example_runs_as_written():
    code = re.search(r"## An example to copy\n\n```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    namespace["test_smooth_l1_gradients"]()
