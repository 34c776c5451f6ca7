"""Every differentiable op against central finite differences in float64 (``gradcheck``), and
second derivatives (``gradgradcheck``) for the ops later layers differentiate twice."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tb
from tinygrad_bn.testing import gradcheck, gradgradcheck
from tinygrad_bn.testing.strategies import (
    mutually_broadcastable_shapes,
    non_contiguous_tensors,
    shapes,
    tensors,
)

F64 = tb.float64
away_from_zero = st.floats(0.3, 2.0, width=64)


def leaf(shape, elements=None):
    return st.one_of(
        tensors(shape, F64, elements, requires_grad=True),
        non_contiguous_tensors(shape, F64, elements, requires_grad=True),
    )


SMALL = shapes(max_dims=3, max_side=3)

UNARY = {
    "neg": (lambda x: -x, None),
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), away_from_zero),
    "log1p": (lambda x: x.log1p(), away_from_zero),
    "sqrt": (lambda x: x.sqrt(), away_from_zero),
    "rsqrt": (lambda x: x.rsqrt(), away_from_zero),
    "sin": (lambda x: x.sin(), None),
    "cos": (lambda x: x.cos(), None),
    "tanh": (lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "expm1": (lambda x: x.expm1(), None),
    "erf": (lambda x: x.erf(), None),
    "relu": (lambda x: x.relu(), away_from_zero),  # kinks are tested against PyTorch instead
    "abs": (lambda x: x.abs(), away_from_zero),
    "clamp": (lambda x: x.clamp(0.5, 1.5), st.sampled_from([0.3, 0.7, 1.2, 1.8])),
    "pow_scalar": (lambda x: x**3, None),
    "sum": (lambda x: x.sum(-1) if x.ndim else x.sum(), None),
    "mean": (lambda x: x.mean(), None),
    "var": (lambda x: x.var(), None),
    "std": (lambda x: x.std(), away_from_zero),
    "amax": (lambda x: x.amax(), None),
    "logsumexp": (lambda x: x.logsumexp(-1) if x.ndim else x, None),
    "softmax": (lambda x: x.softmax(-1) if x.ndim else x, None),
    "log_softmax": (lambda x: x.log_softmax(-1) if x.ndim else x, None),
    "reshape": (lambda x: x.reshape(-1), None),
    "permute": (lambda x: x.T, None),
    "expand": (lambda x: x.unsqueeze(0).expand(2, *x.shape), None),
    "getitem": (lambda x: x[..., None, :1] if x.ndim else x[None], None),
    "pad": (lambda x: tb.pad(x, (1, 1)) if x.ndim else x, None),
}
SECOND_ORDER = ["exp", "expm1", "erf", "log", "tanh", "sigmoid", "sum", "mean", "var", "softmax", "log_softmax", "sqrt"]


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=10)
@given(data=st.data())
def test_unary_gradcheck(name, data):
    op, elements = UNARY[name]
    x = data.draw(leaf(SMALL, elements))
    if name in ("var", "std") and x.numel() < 2:
        return
    values = sorted(x.detach().reshape(-1).tolist())
    if name == "amax" and any(b - a < 1e-3 for a, b in itertools.pairwise(values)):
        return  # (near-)ties: finite differences straddle a kink; PyTorch comparison covers ties
    if name == "std" and x.detach().reshape(-1).tolist().count(x.detach().reshape(-1).tolist()[0]) == x.numel():
        return
    assert gradcheck(op, [x])


@pytest.mark.parametrize("name", SECOND_ORDER)
@settings(max_examples=5)
@given(data=st.data())
def test_unary_gradgradcheck(name, data):
    op, elements = UNARY[name]
    x = data.draw(leaf(shapes(min_dims=1, max_dims=2, max_side=3), elements))
    if name == "var" and x.numel() < 2:
        return
    assert gradgradcheck(op, [x])


BINARY = {
    "add": (lambda a, b: a + b, None),
    "sub": (lambda a, b: a - b, None),
    "mul": (lambda a, b: a * b, None),
    "div": (lambda a, b: a / b, away_from_zero),
    "pow": (lambda a, b: a**b, away_from_zero),
    "maximum": (lambda a, b: a.maximum(b), None),
    "minimum": (lambda a, b: a.minimum(b), None),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=10)
@given(data=st.data())
def test_binary_gradcheck(name, data):
    op, elements = BINARY[name]
    shape_a, shape_b = data.draw(mutually_broadcastable_shapes(max_dims=3, max_side=3))
    a, b = data.draw(leaf(shape_a, elements)), data.draw(leaf(shape_b, elements))
    if name in ("maximum", "minimum") and (a.detach() - b.detach()).abs().amin().item() < 1e-3:
        return  # (near-)ties: finite differences straddle the kink; ties are tested against PyTorch
    assert gradcheck(op, [a, b])


@settings(max_examples=10)
@given(data=st.data())
def test_where_gradcheck(data):
    shape_c, shape_a, shape_b = data.draw(mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    condition = data.draw(tensors(shape_c, tb.bool_))
    a, b = data.draw(leaf(shape_a)), data.draw(leaf(shape_b))
    assert gradcheck(lambda x, y: tb.where(condition, x, y), [a, b])


@pytest.mark.parametrize("name", ["add", "mul", "div", "pow"])
@settings(max_examples=5)
@given(data=st.data())
def test_binary_gradgradcheck(name, data):
    op, elements = BINARY[name]
    shape_a, shape_b = data.draw(mutually_broadcastable_shapes(max_dims=2, max_side=3))
    assert gradgradcheck(op, [data.draw(leaf(shape_a, elements)), data.draw(leaf(shape_b, elements))])


@settings(max_examples=10)
@given(data=st.data())
def test_matmul_gradcheck_and_gradgradcheck(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,)]))
    a, b = data.draw(leaf((*batch, m, k))), data.draw(leaf((k, n)))
    assert gradcheck(lambda x, y: x @ y, [a, b])
    assert gradgradcheck(lambda x, y: x @ y, [a, b])


def test_cat_stack_index_gradcheck():
    a = tb.randn(2, 3, dtype=F64, requires_grad=True)
    b = tb.randn(1, 3, dtype=F64, requires_grad=True)
    assert gradcheck(lambda x, y: tb.cat([x, y, x], 0), [a, b])
    assert gradcheck(lambda x, y: tb.stack([x[0], y[0]], 1), [a, b])
    assert gradcheck(lambda x: x[[1, 1, 0], 1:], [a])
    assert gradcheck(lambda x: x.max(1).values, [a])


def test_gradcheck_reports_a_wrong_gradient():
    from tinygrad_bn.function import Function
    from tinygrad_bn.testing import GradcheckError

    class WrongSquare(Function):
        def forward(self, x):
            return self.backend.binary("mul", x, x)

        def backward(self, grad):
            return grad * 3.0

    x = tb.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"analytic 3\.0, numeric 2\.0"):
        gradcheck(lambda t: WrongSquare.apply(t), [x])


def test_gradcheck_catches_an_output_that_lost_its_gradient():
    from tinygrad_bn.testing import GradcheckError

    x = tb.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"output\[1\].*analytic 0\.0, numeric 2\.0"):
        gradcheck(lambda t: (t * 3, (t * 2).detach()), [x])
    assert gradcheck(lambda t: (t * 3, t.detach().sign(), t.argmax()), [x])


def test_gradcheck_requires_float64_inputs():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, [tb.ones(2, requires_grad=True)])
