"""Every op against PyTorch: forward values and gradients on hypothesis-drawn inputs, including
broadcasting, size-1 dims and non-contiguous views (float64, so differences are ours alone)."""

import numpy as np
import pytest
from helpers import check_against_torch, torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_bn as tb
from tinygrad_bn.testing import assert_close
from tinygrad_bn.testing.strategies import (
    mutually_broadcastable_shapes,
    non_contiguous_tensors,
    shapes,
    tensors,
)

F64 = tb.float64
positive = st.floats(0.2, 3, width=64)


def any_layout(shape=None, elements=None):
    """A float64 leaf requiring grad, contiguous or a strided view."""
    return st.one_of(
        tensors(shape=shape, dtype=F64, elements=elements, requires_grad=True),
        non_contiguous_tensors(shape=shape, dtype=F64, elements=elements, requires_grad=True),
    )


UNARY = {
    "neg": (lambda x: -x, lambda x: -x, None),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), None),
    "exp": (lambda x: x.exp(), lambda x: x.exp(), None),
    "log": (lambda x: x.log(), lambda x: x.log(), positive),
    "log1p": (lambda x: x.log1p(), lambda x: x.log1p(), positive),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), positive),
    "rsqrt": (lambda x: x.rsqrt(), lambda x: x.rsqrt(), positive),
    "sin": (lambda x: x.sin(), lambda x: x.sin(), None),
    "cos": (lambda x: x.cos(), lambda x: x.cos(), None),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid(), None),
    "expm1": (lambda x: x.expm1(), lambda x: x.expm1(), None),
    "erf": (lambda x: x.erf(), lambda x: x.erf(), None),
    "relu": (lambda x: x.relu(), lambda x: x.relu(), None),
    "square": (lambda x: x.square(), lambda x: x.square(), None),
    "sign": (lambda x: x.sign() * x, lambda x: x.sign() * x, None),
    "clamp": (lambda x: x.clamp(-0.5, 1.0), lambda x: x.clamp(-0.5, 1.0), None),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), None),
    "pow_scalar": (lambda x: x**3, lambda x: x**3, None),
    "pow_fractional": (lambda x: x**1.5, lambda x: x**1.5, positive),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, None),
    "scalar_arith": (lambda x: (2 - x) * 3 / (x * x + 1) + 1, lambda x: (2 - x) * 3 / (x * x + 1) + 1, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_op_matches_torch(name, data):
    ours, theirs, elements = UNARY[name]
    x = data.draw(any_layout(shapes(max_dims=3), elements))
    check_against_torch(ours, theirs, x)


BINARY = {
    "add": (lambda a, b: a + b, None),
    "sub": (lambda a, b: a - b, None),
    "mul": (lambda a, b: a * b, None),
    "div": (lambda a, b: a / b, positive),
    "pow": (lambda a, b: a**b, positive),
    "maximum": (lambda a, b: a.maximum(b), None),
    "minimum": (lambda a, b: a.minimum(b), None),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_op_with_broadcasting_matches_torch(name, data):
    op, elements = BINARY[name]
    shape_a, shape_b = data.draw(mutually_broadcastable_shapes(max_dims=3, max_side=4))
    a = data.draw(any_layout(shape_a, elements))
    b = data.draw(any_layout(shape_b, elements))
    check_against_torch(op, op, a, b)


def test_maximum_ties_split_the_gradient_like_torch():
    a = tb.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    b = tb.tensor([1.0, 0.0, 3.0], dtype=F64, requires_grad=True)
    check_against_torch(lambda x, y: x.maximum(y), lambda x, y: x.maximum(y), a, b)


def test_relu_and_abs_have_zero_gradient_at_zero_like_torch():
    x = tb.tensor([-1.0, 0.0, 2.0], dtype=F64, requires_grad=True)
    check_against_torch(lambda t: t.relu() + t.abs(), lambda t: t.relu() + t.abs(), x)


def test_pow_gradient_at_zero_base_and_exponent_like_torch():
    a = tb.tensor([0.0, 0.0, 2.0], dtype=F64, requires_grad=True)
    b = tb.tensor([0.0, 2.0, 0.0], dtype=F64, requires_grad=True)
    check_against_torch(lambda x, y: x**y, lambda x, y: x**y, a, b)


@given(data=st.data())
def test_where_matches_torch(data):
    shape_c, shape_a, shape_b = data.draw(mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    condition = data.draw(tensors(shape_c, dtype=tb.bool_))
    a, b = data.draw(any_layout(shape_a)), data.draw(any_layout(shape_b))
    torch_condition = torch.from_numpy(condition.numpy().copy())
    check_against_torch(lambda x, y: tb.where(condition, x, y), lambda x, y: torch.where(torch_condition, x, y), a, b)


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
@given(data=st.data())
def test_comparisons_match_torch(op, data):
    shape_a, shape_b = data.draw(mutually_broadcastable_shapes(max_dims=3, max_side=3))
    small_ints = st.integers(-2, 2).map(float)
    a, b = data.draw(tensors(shape_a, F64, small_ints)), data.draw(tensors(shape_b, F64, small_ints))
    name = f"__{op}__"
    ours = getattr(a, name)(b)
    assert ours.dtype is tb.bool_
    np.testing.assert_array_equal(
        ours.numpy(), getattr(torch.from_numpy(a.numpy()), name)(torch.from_numpy(b.numpy())).numpy()
    )


# --- reductions --------------------------------------------------------------------------------------


@st.composite
def tensor_and_dims(draw, min_dims=1):
    x = draw(any_layout(shapes(min_dims=min_dims, max_dims=4)))
    dims = draw(st.lists(st.integers(0, x.ndim - 1), unique=True, min_size=1, max_size=x.ndim).map(tuple))
    negative = draw(st.booleans())
    return x, tuple(d - x.ndim for d in dims) if negative else dims


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda x, d, k: x.sum(d, keepdim=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda x, d, k: x.mean(d, keepdim=k)),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda x, d, k: x.amax(d, keepdim=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda x, d, k: x.amin(d, keepdim=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda x, d, k: x.var(d, keepdim=k)),
    "var_biased": (
        lambda x, d, k: x.var(d, correction=0, keepdim=k),
        lambda x, d, k: x.var(d, correction=0, keepdim=k),
    ),
    "std": (lambda x, d, k: x.std(d, keepdim=k), lambda x, d, k: x.std(d, keepdim=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(d, keepdim=k), lambda x, d, k: x.logsumexp(d, keepdim=k)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(case=tensor_and_dims(), keepdim=st.booleans())
def test_reduction_over_dims_matches_torch(name, case, keepdim):
    x, dims = case
    ours, theirs = REDUCTIONS[name]
    if name in ("var", "std") and np.prod([x.shape[d] for d in dims]) < 2:
        return  # n − 1 = 0: both give inf/nan
    if name == "std" and x.detach().var(dims).amin().item() < 1e-12:
        return  # √ at (rounding-level) zero: the gradient is rounding noise in both libraries
    check_against_torch(lambda t: ours(t, dims, keepdim), lambda t: theirs(t, dims, keepdim), x)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@given(x=any_layout(shapes(max_dims=3)))
def test_full_reduction_matches_torch(name, x):
    check_against_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


def test_full_max_splits_ties_evenly_like_torch():
    x = tb.tensor([[3.0, 1.0], [3.0, 3.0]], dtype=F64, requires_grad=True)
    check_against_torch(lambda t: t.max(), lambda t: t.max(), x)


@pytest.mark.parametrize("name", ["max", "min"])
@given(case=tensor_and_dims(), keepdim=st.booleans())
def test_max_min_along_dim_return_values_and_first_indices_like_torch(name, case, keepdim):
    x, dims = case
    dim = dims[0]
    ours = getattr(x, name)(dim, keepdim=keepdim)
    theirs = getattr(torch.from_numpy(x.detach().numpy().copy()), name)(dim, keepdim=keepdim)
    assert_close(ours.values, theirs.values)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    check_against_torch(lambda t: getattr(t, name)(dim, keepdim)[0], lambda t: getattr(t, name)(dim, keepdim)[0], x)


def test_max_along_dim_sends_gradient_to_first_tied_index_like_torch():
    x = tb.tensor([[2.0, 2.0, 1.0]], dtype=F64, requires_grad=True)
    check_against_torch(lambda t: t.max(1).values, lambda t: t.max(1).values, x)


@given(x=any_layout(shapes(min_dims=1, max_dims=3), st.integers(-2, 2).map(float)), data=st.data())
def test_argmax_matches_torch_including_ties(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    values = torch.from_numpy(x.detach().numpy().copy())
    np.testing.assert_array_equal(x.argmax(dim).numpy(), values.argmax(dim).numpy())
    np.testing.assert_array_equal(x.argmax(dim, keepdim=True).numpy(), values.argmax(dim, keepdim=True).numpy())
    assert x.argmax().item() == values.argmax().item()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(case=tensor_and_dims())
def test_softmax_family_matches_torch(name, case):
    x, dims = case
    check_against_torch(lambda t: getattr(t, name)(dims[0]), lambda t: getattr(t, name)(dims[0]), x)


def test_softmax_and_logsumexp_are_stable_at_large_magnitudes():
    x = tb.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]], requires_grad=True)
    check_against_torch(lambda t: t.softmax(1), lambda t: t.softmax(1), x)
    check_against_torch(lambda t: t.log_softmax(1), lambda t: t.log_softmax(1), x.detach().requires_grad_())
    check_against_torch(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x.detach().requires_grad_())


def test_sigmoid_is_stable_at_large_magnitudes():
    x = tb.tensor([-1000.0, -80.0, 0.0, 80.0, 1000.0], requires_grad=True)
    check_against_torch(lambda t: t.sigmoid(), lambda t: t.sigmoid(), x)


# --- matmul ---------------------------------------------------------------------------------------


@st.composite
def matmul_operands(draw):
    m, k, n = (draw(st.integers(1, 9)) for _ in range(3))
    batch_a, batch_b = draw(mutually_broadcastable_shapes(max_dims=2, max_side=3))
    kind = draw(st.sampled_from(["vector-vector", "vector-matrix", "matrix-vector", "batched"]))
    shape_a = {"vector-vector": (k,), "vector-matrix": (k,), "matrix-vector": (m, k)}.get(kind, (*batch_a, m, k))
    shape_b = {"vector-vector": (k,), "vector-matrix": (k, n), "matrix-vector": (k,)}.get(kind, (*batch_b, k, n))
    return draw(any_layout(shape_a)), draw(any_layout(shape_b))


@given(operands=matmul_operands())
def test_matmul_matches_torch(operands):
    check_against_torch(lambda a, b: a @ b, lambda a, b: a @ b, *operands)


@given(x=any_layout((5, 7)), w=any_layout((3, 7)))
def test_matmul_with_transposed_weight_matches_torch(x, w):
    check_against_torch(lambda a, b: a @ b.T, lambda a, b: a @ b.T, x, w)


def test_matmul_float32_matches_torch():
    a = tb.randn(33, 17, requires_grad=True)
    b = tb.randn(17, 29, requires_grad=True)
    check_against_torch(lambda x, y: x @ y, lambda x, y: x @ y, a, b, rtol=1e-5, atol=1e-5)


# --- movement -------------------------------------------------------------------------------------

MOVEMENT = {
    "reshape": (lambda x: x.reshape(-1), lambda x: x.reshape(-1)),
    "flatten": (lambda x: x.flatten(), lambda x: x.flatten()),
    "flatten_1": (
        lambda x: x.flatten(1) if x.ndim > 1 else x.flatten(),
        lambda x: x.flatten(1) if x.ndim > 1 else x.flatten(),
    ),
    "squeeze": (lambda x: x.squeeze(), lambda x: x.squeeze()),
    "unsqueeze": (lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1)),
    "transpose": (lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1)),
    "T": (lambda x: x.T, lambda x: x.permute(*reversed(range(x.ndim)))),
    "t": (lambda x: x[..., 0, 0].t() if x.ndim > 2 else x.t(), lambda x: x[..., 0, 0].t() if x.ndim > 2 else x.t()),
    "contiguous": (lambda x: x.contiguous() * 1, lambda x: x.contiguous() * 1),
    "clone": (lambda x: x.clone(), lambda x: x.clone()),
    "expand": (lambda x: x.unsqueeze(0).expand(3, *x.shape), lambda x: x.unsqueeze(0).expand(3, *x.shape)),
    "slice": (lambda x: x[::2], lambda x: x[::2]),
    "index_int": (lambda x: x[-1], lambda x: x[-1]),
    "index_none_ellipsis": (lambda x: x[None, ..., :1], lambda x: x[None, ..., :1]),
    "index_array_repeats": (lambda x: x[[0, 0, -1]], lambda x: x[[0, 0, -1]]),
    "split": (lambda x: tb.cat(x.split(2)[::-1]), lambda x: torch.cat(x.split(2)[::-1])),
    "chunk": (lambda x: tb.stack(x.chunk(1), 1), lambda x: torch.stack(x.chunk(1), 1)),
    "pad": (lambda x: tb.pad(x, (1, 2)), lambda x: torch.nn.functional.pad(x, (1, 2))),
}


@pytest.mark.parametrize("name", sorted(MOVEMENT))
@given(x=any_layout(shapes(min_dims=1, max_dims=4)))
def test_movement_op_matches_torch(name, x):
    ours, theirs = MOVEMENT[name]
    check_against_torch(ours, theirs, x)


@given(x=any_layout(shapes(min_dims=2, max_dims=4)), data=st.data())
def test_permute_matches_torch(x, data):
    order = data.draw(st.permutations(range(x.ndim)))
    check_against_torch(lambda t: t.permute(*order), lambda t: t.permute(*order), x)


@given(data=st.data())
def test_cat_and_stack_match_torch(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    dim = data.draw(st.integers(0, len(shape) - 1))
    pieces = []
    for _ in range(data.draw(st.integers(1, 3))):
        piece_shape = list(shape)
        piece_shape[dim] = data.draw(st.integers(1, 3))
        pieces.append(data.draw(any_layout(tuple(piece_shape))))
    check_against_torch(lambda *ts: tb.cat(ts, dim), lambda *ts: torch.cat(ts, dim), *pieces)
    same = [data.draw(any_layout(shape)) for _ in range(2)]
    check_against_torch(lambda *ts: tb.stack(ts, dim), lambda *ts: torch.stack(ts, dim), *same)


@given(x=any_layout((4, 5)), rows=st.lists(st.integers(-4, 3), min_size=1, max_size=6))
def test_integer_array_indexing_accumulates_gradients_like_torch(x, rows):
    index = tb.tensor(rows)
    check_against_torch(lambda t: t[index, 1:], lambda t: t[torch.tensor(rows), 1:], x)
    check_against_torch(
        lambda t: t[:, [0, 4]][index], lambda t: t[:, [0, 4]][torch.tensor(rows)], x.detach().requires_grad_()
    )


def test_gather_matches_torch():
    x = tb.randn(3, 4, dtype=F64, requires_grad=True)
    index = tb.tensor([[0, 3], [1, 1], [2, 0]])
    check_against_torch(lambda t: t.gather(1, index), lambda t: t.gather(1, torch.from_numpy(index.numpy())), x)


def test_one_hot_matches_torch():
    labels = tb.tensor([0, 2, 1, 2])
    expected = torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 2]), 4)
    np.testing.assert_array_equal(tb.one_hot(labels, 4).numpy(), expected.numpy())
    assert tb.one_hot(labels).shape == (4, 3)
    assert tb.one_hot(labels).dtype is tb.int64


def test_setitem_gradient_matches_torch():
    def ours(x, v):
        y = x * 1
        y[1:, 0] = v
        return y

    x = tb.randn(3, 2, dtype=F64, requires_grad=True)
    v = tb.randn(2, dtype=F64, requires_grad=True)
    check_against_torch(ours, ours, x, v)


@given(data=st.data())
def test_clamp_with_tensor_bounds_matches_torch(data):
    low_shape, high_shape = data.draw(mutually_broadcastable_shapes(2))
    x = data.draw(any_layout(np.broadcast_shapes(low_shape, high_shape)))  # torch's backward needs x the widest
    # NOTE: min < max strictly: at min == max PyTorch sends x's gradient to neither bound, we to the active one.
    low = data.draw(any_layout(low_shape, st.floats(-2, -0.6, width=64)))
    high = data.draw(any_layout(high_shape, st.floats(-0.5, 2, width=64)))
    check_against_torch(lambda *t: t[0].clamp(t[1], t[2]), lambda *t: t[0].clamp(t[1], t[2]), x, low, high)


SEMANTICS = {
    "0-d float64 does not widen float32": lambda lib: lib.tensor([1.5, 2]) + lib.tensor(2.0, dtype=lib.float64),
    "0-d float64 widens int64": lambda lib: lib.tensor([1, 2]) + lib.tensor(2.5, dtype=lib.float64),
    "0-d int64 widens bool": lambda lib: lib.tensor([True, False]) + lib.tensor(2),
    "two 0-d tensors promote": lambda lib: lib.tensor(1.0) * lib.tensor(2.0, dtype=lib.float64),
    "numpy float64 in a list": lambda lib: lib.tensor([np.float64(1.5), 2.0]),
    "float bounds clamp an int tensor": lambda lib: lib.tensor([1, 2, 3]).clamp(0.5, 2.5),
    "int bounds keep an int tensor": lambda lib: lib.tensor([1, 5, 3]).clamp(2, 4),
    "sum over an empty dim tuple reduces everything": lambda lib: lib.tensor([[1.0, 2], [3, 4]]).sum(dim=()),
    "mean over an empty dim list reduces everything": lambda lib: lib.tensor([[1.0, 2], [3, 4]]).mean([]),
    "sum with a dtype": lambda lib: lib.tensor([1, 2]).sum(dtype=lib.float64),
    "bool sum is int64": lambda lib: lib.tensor([True, True, False]).sum(),
    "var with positional unbiased": lambda lib: lib.tensor([[1.0, 2, 4], [3, 4, 9]]).var(1, False),
    "var(False) is the population variance": lambda lib: lib.tensor([1.0, 2, 4]).var(False),
    "std unbiased keepdim": lambda lib: lib.tensor([[1.0, 2, 4], [3, 4, 9]]).std(0, True, True),
    "max of two tensors": lambda lib: lib.max(lib.tensor([1.0, 5, 3]), lib.tensor([4.0, 2, 3])),
    "min of two tensors": lambda lib: lib.min(lib.tensor([1.0, 5, 3]), lib.tensor([4.0, 2, 3])),
    "argmin of int64 extremes": lambda lib: lib.tensor([5, -(2**63), 2**63 - 1]).argmin(),
    "min(dim) of int64 extremes": lambda lib: lib.tensor([[5, -(2**63)], [2**63 - 1, 0]]).min(1).values,
    "argmin picks the first NaN": lambda lib: lib.tensor([1.0, float("nan"), -3, float("nan")]).argmin(),
    "bool mask indexing": lambda lib: lib.tensor([[1.0, 2, 3], [4, 5, 6]])[lib.tensor([[True, False, True]] * 2)],
    "bool mask over the first dim": lambda lib: lib.tensor([[1.0, 2], [3, 4], [5, 6]])[lib.tensor([True, False, True])],
    "bool mask after a slice": lambda lib: lib.tensor([[1.0, 2, 3], [4, 5, 6]])[:, lib.tensor([False, True, True])],
    "indexing with an empty list": lambda lib: lib.tensor([[1.0, 2], [3, 4]])[[]],
    "chunk of an empty tensor gives chunks pieces": lambda lib: lib.stack(lib.ones(0).chunk(3)),
    "chunk of two into three gives two": lambda lib: lib.stack(lib.ones(2).chunk(3)),
    "where with two float scalars": lambda lib: lib.where(lib.tensor([True, False]), 1.0, 0.0),
    "where with two int scalars": lambda lib: lib.where(lib.tensor([True, False]), 1, 0),
    "where with an int and a float scalar": lambda lib: lib.where(lib.tensor([True, False]), 1, 0.5),
    "sign of bool": lambda lib: lib.tensor([True, False]).sign(),
    "sign of NaN is 0": lambda lib: lib.tensor([float("nan"), -2.0, 0.0]).sign(),
    "in-place narrows float64 into float32": lambda lib: lib.ones(2).add_(lib.ones(2, dtype=lib.float64)),
    "arange of a NumPy int": lambda lib: lib.arange(np.int64(3)),
    "arange of a 0-d tensor": lambda lib: lib.arange(lib.tensor(3)),
    "full with a NumPy bool": lambda lib: lib.full((2,), np.bool_(True)),
    "argmax keepdim without dim": lambda lib: lib.tensor([[1.0, 5], [3, 2]]).argmax(keepdim=True),
    "tensor from a list of 0-d tensors": lambda lib: lib.tensor([lib.tensor(1.0), lib.tensor(2.0)]),
    "logsumexp over an empty dim": lambda lib: lib.zeros(0, 3).logsumexp(0),
    "softmax over an empty dim": lambda lib: lib.zeros(0, 3).softmax(0),
    "softmax of a 0-d tensor": lambda lib: lib.tensor(2.0).softmax(0),
    "log_softmax of a 0-d tensor": lambda lib: lib.tensor(2.0).log_softmax(-1),
}


@pytest.mark.parametrize("name", sorted(SEMANTICS))
def test_semantics_match_torch(name):
    ours, expected = SEMANTICS[name](tb), SEMANTICS[name](torch)
    assert str(ours.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(expected.shape)
    assert_close(ours, expected)


def _masked_write(lib, x):
    y = x * 1
    y[y > 0.5] = 0.0
    y[:, lib.tensor([True, False, True])] *= 2
    return y


def _write_with_leading_ones(lib, x):
    y = x * 1
    y[0] = (x[1] * 3).reshape(1, 1, 3)
    return y


@pytest.mark.parametrize("write", [_masked_write, _write_with_leading_ones])
@given(x=any_layout((2, 3)))
def test_setitem_with_masks_and_broadcast_values_matches_torch(write, x):
    check_against_torch(lambda t: write(tb, t), lambda t: write(torch, t), x)


def test_pow_of_two_bool_tensors_is_refused_and_a_bool_base_with_an_int_exponent_is_not_like_torch():
    mask = [True, False]
    with pytest.raises(NotImplementedError):
        torch.tensor(mask) ** torch.tensor(mask)
    with pytest.raises(
        NotImplementedError, match=r"pow: not implemented for two bool tensors \(shapes \(2,\) and \(2,\)\)"
    ):
        tb.tensor(mask) ** tb.tensor(mask)
    assert (tb.tensor(mask) ** 2).tolist() == (torch.tensor(mask) ** 2).tolist() == [1, 0]
    assert (tb.tensor([2, 3]) ** tb.tensor(mask)).tolist() == (torch.tensor([2, 3]) ** torch.tensor(mask)).tolist()
