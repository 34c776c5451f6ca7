"""Activations: values and gradients against PyTorch (hypothesis-drawn float64, fixed float32),
finite-difference gradients, PyTorch's kink gradients, stability at |x| = 1000, reprs and errors,
and NumPy references for the layers PyTorch lacks (Maxout, Swish with a learnable β)."""

import math
import warnings

import numpy as np
import pytest
from helpers import check_against_torch, torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_bn as tb
from tinygrad_bn.nn import activation as act
from tinygrad_bn.testing import assert_close, gradcheck, gradgradcheck
from tinygrad_bn.testing.strategies import non_contiguous_tensors, shapes, tensors

TF = torch.nn.functional
F64 = tb.float64
TORCH_DTYPE = {tb.float32: torch.float32, tb.float64: torch.float64}

# name: (ours, PyTorch's, kinks: points where the derivative jumps). Non-default settings where
# the function has settings, so they are exercised too.
FUNCTIONS = {
    "relu": (act.relu, TF.relu, (0.0,)),
    "relu6": (act.relu6, TF.relu6, (0.0, 6.0)),
    "leaky_relu": (act.leaky_relu, TF.leaky_relu, (0.0,)),
    "leaky_relu_0.2": (lambda x: act.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), (0.0,)),
    "elu": (act.elu, TF.elu, (0.0,)),
    "elu_1.5": (lambda x: act.elu(x, 1.5), lambda x: TF.elu(x, 1.5), (0.0,)),
    "selu": (act.selu, TF.selu, (0.0,)),
    "gelu": (act.gelu, TF.gelu, ()),
    "gelu_tanh": (lambda x: act.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh"), ()),
    "silu": (act.silu, TF.silu, ()),
    "swish_1.7": (lambda x: act.swish(x, 1.7), lambda x: x * torch.sigmoid(1.7 * x), ()),
    "softplus": (act.softplus, TF.softplus, ()),
    "softplus_2_3": (lambda x: act.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), (1.5,)),
    "hardtanh": (act.hardtanh, TF.hardtanh, (-1.0, 1.0)),
    "hardtanh_-0.5_2": (lambda x: act.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0), (-0.5, 2.0)),
    "sigmoid": (act.sigmoid, torch.sigmoid, ()),
    "tanh": (act.tanh, torch.tanh, ()),
    "softmax": (lambda x: act.softmax(x, -1), lambda x: TF.softmax(x, -1), ()),
    "log_softmax": (lambda x: act.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1), ()),
    "prelu": (
        lambda x: act.prelu(x, tb.tensor([0.3], dtype=x.dtype)),
        lambda x: TF.prelu(x, torch.tensor([0.3], dtype=x.dtype)),
        (0.0,),
    ),
}

# name: (ours, PyTorch's); inputs are (N, 3, *) so PReLU(3) and Softmax(dim=1) apply.
MODULES = {
    "Sigmoid": (act.Sigmoid(), torch.nn.Sigmoid()),
    "Tanh": (act.Tanh(), torch.nn.Tanh()),
    "ReLU": (act.ReLU(), torch.nn.ReLU()),
    "ReLU6": (act.ReLU6(), torch.nn.ReLU6()),
    "LeakyReLU": (act.LeakyReLU(), torch.nn.LeakyReLU()),
    "LeakyReLU_0.2": (act.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    "PReLU": (act.PReLU(), torch.nn.PReLU()),
    "PReLU_3": (act.PReLU(3, 0.1), torch.nn.PReLU(3, 0.1)),
    "ELU": (act.ELU(), torch.nn.ELU()),
    "ELU_2": (act.ELU(2.0), torch.nn.ELU(2.0)),
    "SELU": (act.SELU(), torch.nn.SELU()),
    "GELU": (act.GELU(), torch.nn.GELU()),
    "GELU_tanh": (act.GELU("tanh"), torch.nn.GELU("tanh")),
    "SiLU": (act.SiLU(), torch.nn.SiLU()),
    "Softplus": (act.Softplus(), torch.nn.Softplus()),
    "Softplus_2_3": (act.Softplus(2.0, 3.0), torch.nn.Softplus(2.0, 3.0)),
    "Hardtanh": (act.Hardtanh(), torch.nn.Hardtanh()),
    "Hardtanh_-0.5_2": (act.Hardtanh(-0.5, 2.0), torch.nn.Hardtanh(-0.5, 2.0)),
    "Softmax": (act.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    "LogSoftmax": (act.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
}

wide = st.floats(-8, 8, allow_nan=False, allow_infinity=False, width=64)  # reaches ReLU6's saturation


def any_layout(shape, elements=wide):
    """A float64 leaf requiring grad, contiguous or a strided view."""
    return st.one_of(
        tensors(shape=shape, dtype=F64, elements=elements, requires_grad=True),
        non_contiguous_tensors(shape=shape, dtype=F64, elements=elements, requires_grad=True),
    )


# --- values and gradients against PyTorch ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@given(data=st.data())
def test_function_matches_torch(name, data):
    ours, theirs, _ = FUNCTIONS[name]
    x = data.draw(any_layout(shapes(max_dims=3)))
    check_against_torch(ours, theirs, x)


@pytest.mark.parametrize("name", sorted(MODULES))
@given(data=st.data())
def test_module_matches_torch(name, data):
    ours, theirs = MODULES[name]
    ours.double(), theirs.double()
    channel_first = shapes(min_dims=2, max_dims=3).map(lambda shape: (shape[0], 3, *shape[2:]))
    x = data.draw(any_layout(channel_first))
    check_against_torch(ours, theirs, x)


FIXED_INPUT = [[-7.5, -2.5, -1.0, -0.3, 0.0], [0.4, 1.0, 2.2, 6.0, 7.5]]  # kinks included


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_matches_torch_in_float32(name):
    ours, theirs, _ = FUNCTIONS[name]
    x = tb.tensor(FIXED_INPUT, dtype=tb.float32, requires_grad=True)
    check_against_torch(ours, theirs, x)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_matches_torch_in_float32(name):
    ours, theirs = MODULES[name]
    ours.float(), theirs.float()
    x = tb.tensor(np.reshape(FIXED_INPUT * 3, (2, 3, 5)), dtype=tb.float32, requires_grad=True)
    check_against_torch(ours, theirs, x)


# --- finite differences --------------------------------------------------------------------------------

AWAY_FROM_KINKS = [[-2.7, -1.3, -0.6, -0.2, 0.3], [0.7, 1.4, 2.6, 5.5, 6.5]]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_passes_gradcheck(name):
    ours, _, kinks = FUNCTIONS[name]
    assert all(abs(value - kink) > 0.05 for value in np.ravel(AWAY_FROM_KINKS) for kink in kinks)
    x = tb.tensor(AWAY_FROM_KINKS, dtype=F64, requires_grad=True)
    assert gradcheck(ours, [x])


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_passes_gradgradcheck(name):
    ours, _, _ = FUNCTIONS[name]
    x = tb.tensor(AWAY_FROM_KINKS, dtype=F64, requires_grad=True)
    assert gradgradcheck(ours, [x])


def test_prelu_passes_gradcheck_in_input_and_weight():
    x = tb.tensor(np.reshape(AWAY_FROM_KINKS * 2, (2, 2, 5)), dtype=F64, requires_grad=True)
    weight = tb.tensor([0.2, -0.4], dtype=F64, requires_grad=True)
    assert gradcheck(act.prelu, [x, weight])


def test_swish_passes_gradcheck_in_input_and_beta():
    x = tb.tensor(AWAY_FROM_KINKS, dtype=F64, requires_grad=True)
    beta = tb.tensor([1.3], dtype=F64, requires_grad=True)
    assert gradcheck(act.swish, [x, beta])


def test_maxout_passes_gradcheck_in_input():
    tb.manual_seed(0)
    layer = act.Maxout(4, 3, 2).double()
    x = tb.tensor(np.random.default_rng(0).standard_normal((2, 4)), dtype=F64, requires_grad=True)
    assert gradcheck(layer, [x])


def test_erf_matches_math_erf_to_float64_precision():
    values = np.concatenate([np.linspace(-7, 7, 2001), [0.0, 1e-300, -1e-20, 1.999999, 2.0, 30.0, -1000.0]])
    x = tb.tensor(values, dtype=F64)
    assert_close(x.erf(), [math.erf(v) for v in values], rtol=2e-15, atol=1e-15)


# --- kinks ------------------------------------------------------------------------------------------------

SELU_KINK_SLOPE = act.SELU_SCALE * act.SELU_ALPHA
KINK_GRADIENTS = {  # (SEMANTICS.md's table)
    "relu": ([0.0], [0.0]),
    "relu6": ([0.0, 6.0], [0.0, 0.0]),
    "leaky_relu": ([0.0], [0.01]),
    "leaky_relu_0.2": ([0.0], [0.2]),
    "elu": ([0.0], [1.0]),
    "elu_1.5": ([0.0], [1.5]),
    "selu": ([0.0], [SELU_KINK_SLOPE]),
    "prelu": ([0.0], [0.3]),
    "hardtanh": ([-1.0, 1.0], [0.0, 0.0]),
    "hardtanh_-0.5_2": ([-0.5, 2.0], [0.0, 0.0]),
    "softplus_2_3": ([1.5], [1 / (1 + math.exp(-3.0))]),  # at β·x = threshold: still the smooth branch
}


@pytest.mark.parametrize("name", sorted(KINK_GRADIENTS))
def test_kink_gradient_is_pytorchs(name):
    ours, theirs, _ = FUNCTIONS[name]
    points, expected = KINK_GRADIENTS[name]
    x = tb.tensor(points, dtype=F64, requires_grad=True)
    ours(x).sum().backward()
    assert_close(x.grad, expected, rtol=1e-15, atol=0)
    torch_x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    theirs(torch_x).sum().backward()
    assert_close(x.grad, torch_x.grad, rtol=1e-15, atol=0)


def test_prelu_kink_gradient_is_the_slope_of_its_channel():
    x = tb.zeros(2, 3, dtype=F64, requires_grad=True)
    act.prelu(x, tb.tensor([0.1, 0.2, 0.3], dtype=F64)).sum().backward()
    assert_close(x.grad, [[0.1, 0.2, 0.3]] * 2)


# --- stability at |x| = 1000 ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [tb.float32, tb.float64], ids=str)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_finite_and_pytorchs_at_plus_minus_1000(name, dtype):
    ours, theirs, _ = FUNCTIONS[name]
    x = tb.tensor([[-1000.0, 1000.0, 0.5]], dtype=dtype, requires_grad=True)
    out = ours(x)
    out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    check_against_torch(ours, theirs, x.detach().requires_grad_())


@pytest.mark.parametrize("dtype", [tb.float32, tb.float64], ids=str)
def test_swish_with_learnable_beta_is_finite_at_plus_minus_1000(dtype):
    layer = act.Swish(2.0, learnable=True).to(dtype)
    x = tb.tensor([-1000.0, 1000.0], dtype=dtype, requires_grad=True)
    layer(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and np.isfinite(layer.beta.grad.numpy()).all()


# --- the fused kernels -----------------------------------------------------------------------------------

FUSED = ["relu", "sigmoid", "tanh", "silu", "elu", "selu", "gelu", "gelu_tanh"]


@pytest.mark.parametrize("name", FUSED)
def test_fused_kernel_matches_torch_on_many_work_units_and_any_thread_count(name):
    # 3 x 17 x 1009 elements: several of the kernel's work units, split over two threads, and an odd tail.
    ours, theirs, _ = FUNCTIONS[name]
    values = np.random.default_rng(3).standard_normal((3, 17, 1009)) * 6
    results = []
    for threads in (1, 2):
        tb.set_num_threads(threads)
        try:
            x = tb.tensor(values, dtype=tb.float32, requires_grad=True)
            out = ours(x)
            out.backward(tb.ones_like(out))
            results.append((out.detach().numpy(), x.grad.numpy()))
        finally:
            tb.set_num_threads(2)
    assert all(np.array_equal(a, b) for a, b in zip(*results))
    # atol: PyTorch computes GELU-tanh as x/2·(1 + tanh u), which cancels in float32 for x < 0 (ours: x·σ(2u))
    check_against_torch(ours, theirs, tb.tensor(values, dtype=tb.float32, requires_grad=True), rtol=2e-6, atol=1e-5)


@pytest.mark.parametrize("name", FUSED)
def test_fused_kernel_second_derivative_is_finite_at_plus_minus_1000_and_matches_torch(name):
    ours, theirs, _ = FUNCTIONS[name]
    x = tb.tensor([-1000.0, -3.0, 0.7, 1000.0], dtype=tb.float64, requires_grad=True)
    (first,) = tb.autograd.grad(ours(x).sum(), [x], create_graph=True)
    (second,) = tb.autograd.grad(first.sum(), [x])
    x_t = torch.tensor([-1000.0, -3.0, 0.7, 1000.0], dtype=torch.float64, requires_grad=True)
    (first_t,) = torch.autograd.grad(theirs(x_t).sum(), [x_t], create_graph=True)
    (second_t,) = torch.autograd.grad(first_t.sum(), [x_t])
    assert np.isfinite(second.numpy()).all()
    assert_close(second, second_t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", FUSED)
def test_fused_kernel_keeps_a_0d_input_0d_and_takes_a_strided_view(name):
    ours, theirs, _ = FUNCTIONS[name]
    assert ours(tb.tensor(0.5)).shape == ()
    base = np.random.default_rng(4).standard_normal((5, 6))
    check_against_torch(lambda t: ours(t.t()[::2]), lambda t: theirs(t.t()[::2]), tb.tensor(base, requires_grad=True))


# --- Swish (NumPy and finite-difference references) ------------------------------------------------------


def numpy_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_swish_with_beta_one_is_exactly_silu():
    values = np.linspace(-6, 6, 25)
    x_swish, x_silu = (tb.tensor(values, dtype=F64, requires_grad=True) for _ in range(2))
    swish_out, silu_out = act.Swish()(x_swish), act.SiLU()(x_silu)
    swish_out.sum().backward()
    silu_out.sum().backward()
    np.testing.assert_array_equal(swish_out.detach().numpy(), silu_out.detach().numpy())
    np.testing.assert_array_equal(x_swish.grad.numpy(), x_silu.grad.numpy())


def test_swish_has_a_parameter_only_when_learnable():
    assert list(act.Swish(1.5).parameters()) == []
    learnable = act.Swish(1.5, learnable=True)
    assert [name for name, _ in learnable.named_parameters()] == ["beta"]
    assert learnable.beta.shape == (1,) and learnable.beta.item() == 1.5


def test_learnable_swish_beta_gradient_matches_numpy_and_finite_differences():
    values = np.linspace(-3, 3, 7)
    upstream = np.random.default_rng(1).standard_normal(7)
    layer = act.Swish(0.8, learnable=True).double()
    x = tb.tensor(values, dtype=F64, requires_grad=True)
    out = layer(x)
    out.backward(tb.tensor(upstream))

    beta = 0.8
    s = numpy_sigmoid(beta * values)
    assert_close(out, values * s)
    assert_close(layer.beta.grad, [np.sum(upstream * values**2 * s * (1 - s))])  # ∂/∂β x·σ(βx) = x²σ(1−σ)
    assert_close(x.grad, upstream * (s + beta * values * s * (1 - s)))

    def loss(b):
        return np.sum(upstream * values * numpy_sigmoid(b * values))

    eps = 1e-6
    assert_close(layer.beta.grad, [(loss(beta + eps) - loss(beta - eps)) / (2 * eps)], rtol=1e-7, atol=1e-8)


# --- Maxout (NumPy reference) -----------------------------------------------------------------------------


def numpy_maxout(x, weight, bias, out_features, pieces):
    """max over k of x @ W_kᵀ + b_k, W's rows grouped as (out_features, pieces); also the arg-max piece."""
    w = weight.reshape(out_features, pieces, -1)
    affine = np.einsum("...i,oki->...ok", x, w) + bias.reshape(out_features, pieces)
    return affine.max(axis=-1), affine.argmax(axis=-1)


def test_maxout_matches_numpy_values_and_gradients():
    tb.manual_seed(0)
    layer = act.Maxout(4, 3, 5).double()
    rng = np.random.default_rng(2)
    values, upstream = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 6, 3))
    x = tb.tensor(values, dtype=F64, requires_grad=True)
    out = layer(x)
    out.backward(tb.tensor(upstream))

    weight, bias = layer.linear.weight.detach().numpy(), layer.linear.bias.detach().numpy()
    expected, winner = numpy_maxout(values, weight, bias, 3, 5)
    assert_close(out, expected)
    # Only the arg-max piece k* of each output o gets a gradient: row o·pieces + k*.
    rows = np.arange(3) * 5 + winner  # (2, 6, 3)
    grad_x = np.einsum("...o,...oi->...i", upstream, weight[rows])
    grad_weight, grad_bias = np.zeros_like(weight), np.zeros_like(bias)
    np.add.at(grad_weight, rows, upstream[..., None] * values[..., None, :])
    np.add.at(grad_bias, rows, upstream)
    assert_close(x.grad, grad_x)
    assert_close(layer.linear.weight.grad, grad_weight)
    assert_close(layer.linear.bias.grad, grad_bias)


def test_maxout_sends_a_tied_gradient_to_the_first_piece():
    layer = act.Maxout(2, 1, 3).double()
    with tb.no_grad():
        layer.linear.weight.fill_(1.0)
        layer.linear.bias.fill_(0.0)
    layer(tb.tensor([[1.0, 2.0]], dtype=F64)).sum().backward()
    assert_close(layer.linear.bias.grad, [1.0, 0.0, 0.0])


def test_maxout_is_initialised_like_linear():
    layer = act.Maxout(16, 4, 3)
    assert layer.linear.weight.shape == (12, 16) and layer.linear.bias.shape == (12,)
    bound = 1 / math.sqrt(16)
    for param in layer.parameters():
        values = param.detach().numpy()
        assert np.abs(values).max() <= bound and values.std() > bound / 4
    assert layer(tb.randn(5, 16)).shape == (5, 4)


# --- PReLU ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4,), (4, 3), (4, 3, 5)])
def test_prelu_is_per_channel_on_dim_1(shape):
    num_parameters = 1 if len(shape) == 1 else 3
    ours, theirs = act.PReLU(num_parameters).double(), torch.nn.PReLU(num_parameters).double()
    slopes = np.linspace(-0.5, 0.5, num_parameters)
    with tb.no_grad():
        ours.weight.copy_(tb.tensor(slopes, dtype=F64))
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(slopes))
    values = np.random.default_rng(3).standard_normal(shape)
    x = tb.tensor(values, dtype=F64, requires_grad=True)
    check_against_torch(ours, theirs, x)
    assert_close(ours.weight.grad, theirs.weight.grad)


def test_prelu_weight_starts_at_init():
    layer = act.PReLU(3, init=0.1)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert_close(layer.weight, np.full(3, 0.1, dtype=np.float32))


# --- softmax's dim ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (5,), (2, 5), (2, 3, 4), (2, 3, 4, 2)])
@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
def test_implicit_softmax_dim_warns_and_follows_pytorch(function, shape):
    values = np.random.default_rng(4).standard_normal(shape)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(act, function)(tb.tensor(values, dtype=F64))
        expected = getattr(TF, function)(torch.from_numpy(values))
    assert "Implicit dimension choice" in str(caught[0].message)
    assert_close(out, expected)


def test_softmax_dtype_casts_first():
    x = tb.tensor([[1.0, 2.0, 3.0]], dtype=tb.float32)
    out = act.softmax(x, 1, dtype=F64)
    assert out.dtype == F64
    assert_close(out, TF.softmax(torch.tensor([[1.0, 2.0, 3.0]]), 1, dtype=torch.float64))


# --- reprs and errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODULES))
def test_repr_is_pytorchs(name):
    ours, theirs = MODULES[name]
    assert repr(ours) == repr(theirs)


def test_reprs_of_swish_and_maxout():
    assert repr(act.Swish()) == "Swish(beta=1.0, learnable=False)"
    assert repr(act.Swish(2.0, learnable=True)) == "Swish(beta=2.0, learnable=True)"
    assert repr(act.Maxout(4, 3, 2)) == (
        "Maxout(\n  in_features=4, out_features=3, pieces=2\n"
        "  (linear): Linear(in_features=4, out_features=6, bias=True)\n)"
    )


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        act.GELU("fast")
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        act.gelu(tb.zeros(2), approximate="erf")


def test_prelu_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match=r"weight has 3 elements but the input of shape \(2, 4\) has 4 channel"):
        act.PReLU(3)(tb.zeros(2, 4))
    with pytest.raises(ValueError, match=r"input of shape \(4,\) has 1 channel"):
        act.prelu(tb.zeros(4), tb.zeros(4))


def test_prelu_rejects_a_weight_of_more_than_one_dim():
    with pytest.raises(ValueError, match=r"prelu: expected weight to be a scalar or 1-D tensor, got shape \(1, 3\)"):
        act.prelu(tb.zeros(2, 3), tb.zeros(1, 3))


@pytest.mark.parametrize("num_parameters", [0, -1, 1.5, True])
def test_prelu_rejects_a_bad_num_parameters(num_parameters):
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive int"):
        act.PReLU(num_parameters)


@pytest.mark.parametrize("pieces", [0, -2, 1.5, True])
def test_maxout_rejects_bad_pieces(pieces):
    with pytest.raises(ValueError, match="Maxout: pieces must be a positive int"):
        act.Maxout(4, 3, pieces)


def test_hardtanh_rejects_crossed_bounds():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(-1.0\) must be greater than min_val \(1.0\)"):
        act.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(1.0\) cannot be greater than max_val \(-1.0\)"):
        act.hardtanh(tb.zeros(2), 1.0, -1.0)


@pytest.mark.parametrize("make", [act.ReLU, act.ReLU6, act.LeakyReLU, act.ELU, act.SELU, act.SiLU, act.Hardtanh])
def test_modules_reject_inplace(make):
    with pytest.raises(NotImplementedError, match=f"{make.__name__}: inplace=True is not supported"):
        make(inplace=True)


@pytest.mark.parametrize("function", [act.relu, act.relu6, act.leaky_relu, act.elu, act.selu, act.silu, act.hardtanh])
def test_functions_reject_inplace(function):
    with pytest.raises(NotImplementedError, match=f"{function.__name__}: inplace=True is not supported"):
        function(tb.zeros(2), inplace=True)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "elu", "selu", "softplus"])
def test_a_nan_input_passes_the_gradient_like_torch(name):
    values = [float("nan"), -2.0, 0.0, 3.0, 7.0]
    x, tx = tb.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    getattr(act, name)(x).sum().backward()
    getattr(TF, name)(tx).sum().backward()
    assert_close(x.grad, tx.grad)


@pytest.mark.parametrize("dtype", [tb.float32, tb.float64], ids=str)
def test_swish_gradient_is_finite_where_beta_x_overflows(dtype):
    huge = float(np.finfo(dtype.numpy).max) / 1.5
    x = tb.tensor([-huge, huge], dtype=dtype, requires_grad=True)
    act.swish(x, 2.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", ["elu", "selu", "gelu", "silu", "leaky_relu", "softplus"])
@pytest.mark.parametrize("dtype", [tb.int64, tb.bool_])
def test_float_only_activations_refuse_integer_and_bool_input_like_torch(name, dtype):
    values = [1, 0, 1]
    with pytest.raises(NotImplementedError):
        getattr(TF, name)(torch.tensor(values, dtype=torch.int64 if dtype is tb.int64 else torch.bool))
    with pytest.raises(NotImplementedError, match=rf"{name}: not implemented for {dtype.name} input \(shape \(3,\)\)"):
        getattr(act, name)(tb.tensor(values, dtype=dtype))


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "hardtanh_-0.5_2"])
def test_clamping_activations_keep_an_integer_input_integer_like_torch(name):
    ours, theirs, _ = FUNCTIONS[name]
    values = [-7, -1, 0, 1, 2, 3, 9]
    result, expected = ours(tb.tensor(values)), theirs(torch.tensor(values))
    assert result.dtype is tb.int64 and expected.dtype is torch.int64
    assert result.tolist() == expected.tolist()


def test_relu_stops_an_infinite_gradient_where_the_input_is_not_positive_like_torch():
    values, upstream = [-2.0, 0.0, 3.0], [math.inf, math.inf, math.inf]
    x, x_t = tb.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    act.relu(x).backward(tb.tensor(upstream))
    torch.relu(x_t).backward(torch.tensor(upstream))
    assert x.grad.tolist() == x_t.grad.tolist() == [0.0, 0.0, math.inf]
    (first,) = tb.autograd.grad(act.relu(x), [x], tb.tensor(upstream), create_graph=True)
    (second,) = tb.autograd.grad(first, [x], tb.tensor(upstream))
    assert second.tolist() == [0.0, 0.0, 0.0]  # f'' = 0 exactly, not inf * 0
