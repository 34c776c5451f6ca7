"""nn.init: PyTorch's gains and fans, each initialiser's formula checked on a million draws, in-place
semantics, seeding, and one test per error."""

import math

import numpy as np
import pytest
from helpers import torch

import tinygrad_bn as tb
from tinygrad_bn.nn import init
from tinygrad_bn.testing import assert_close

FLOATS = [tb.float32, tb.float64]

# --- calculate_gain and fans --------------------------------------------------------------------

# Every name torch.nn.init.calculate_gain knows (the oracle's list, written out as a spec).
NONLINEARITIES = [
    *("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"),
    *(f"conv{d}d" for d in (1, 2, 3)),
    *(f"conv_transpose{d}d" for d in (1, 2, 3)),
]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity), rel=1e-15)


def test_calculate_gain_values_are_the_documented_formulas():
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("selu") == 3 / 4


@pytest.mark.parametrize("slope", [0, 0.2, 1, -0.5, 3, np.float64(0.1)])
def test_leaky_relu_gain_takes_param_as_negative_slope(slope):
    expected = torch.nn.init.calculate_gain("leaky_relu", slope)
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("shape", [(3, 5), (7, 2), (1, 1), (16, 3, 5, 5), (4, 8, 3), (2, 3, 1, 4, 2)])
def test_fan_in_and_fan_out_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(tb.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_multiply_the_channel_sizes_by_the_receptive_field():
    assert init._calculate_fan_in_and_fan_out(tb.empty(16, 3, 5, 5)) == (3 * 25, 16 * 25)


# --- statistics over a million draws ------------------------------------------------------------

SHAPE = (500, 2000)  # an (out, in) weight: fan_in = 2000, fan_out = 500
FAN_IN, FAN_OUT = 2000, 500

UNIFORM_CASES = {  # initialiser -> the half-open range [low, high) it must fill
    "uniform_(a=-2, b=3)": (lambda t: init.uniform_(t, -2.0, 3.0), -2.0, 3.0),
    "uniform_()": (init.uniform_, 0.0, 1.0),
    "xavier_uniform_(gain=2)": (lambda t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "kaiming_uniform_()": (init.kaiming_uniform_, math.sqrt(2) * math.sqrt(3 / FAN_IN)),
    "kaiming_uniform_(a=√5)": (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(FAN_IN)),
    "kaiming_uniform_(fan_out, relu)": (
        lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
        math.sqrt(2) * math.sqrt(3 / FAN_OUT),
    ),
    "lecun_uniform_": (init.lecun_uniform_, math.sqrt(3 / FAN_IN)),
}
NORMAL_CASES = {  # initialiser -> (mean, std)
    "normal_(mean=1.5, std=0.5)": (lambda t: init.normal_(t, 1.5, 0.5), 1.5, 0.5),
    "normal_()": (init.normal_, 0.0, 1.0),
    "xavier_normal_(gain=2)": (lambda t: init.xavier_normal_(t, gain=2.0), 0.0, 2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "kaiming_normal_()": (init.kaiming_normal_, 0.0, math.sqrt(2) / math.sqrt(FAN_IN)),
    "kaiming_normal_(fan_out, tanh)": (
        lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"),
        0.0,
        (5 / 3) / math.sqrt(FAN_OUT),
    ),
    "kaiming_normal_(a=0.2)": (
        lambda t: init.kaiming_normal_(t, a=0.2),
        0.0,
        math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(FAN_IN),
    ),
    "lecun_normal_": (init.lecun_normal_, 0.0, 1 / math.sqrt(FAN_IN)),
}


def _draw(fill, dtype):
    tb.manual_seed(0)
    tensor = tb.empty(*SHAPE, dtype=dtype)
    assert fill(tensor) is tensor
    assert tensor.dtype == dtype
    return tensor.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", UNIFORM_CASES, ids=str)
def test_uniform_initialisers_fill_their_range_with_its_mean_and_std(case, dtype):
    fill, *bounds = UNIFORM_CASES[case]
    low, high = bounds if len(bounds) == 2 else (-bounds[0], bounds[0])
    values = _draw(fill, dtype)
    slack = np.finfo(dtype.numpy).eps * max(abs(low), abs(high))  # the bounds rounded to the dtype
    assert values.min() >= low - slack and values.max() <= high + slack
    assert values.min() < low + 1e-3 * (high - low) and values.max() > high - 1e-3 * (high - low)
    std = (high - low) / math.sqrt(12)
    assert abs(values.mean() - (low + high) / 2) < 5 * std / math.sqrt(values.size)
    assert values.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", NORMAL_CASES, ids=str)
def test_normal_initialisers_draw_their_mean_and_std(case, dtype):
    fill, mean, std = NORMAL_CASES[case]
    values = _draw(fill, dtype)
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    assert values.std() == pytest.approx(std, rel=0.01)
    assert np.mean(np.abs(values - mean) < std) == pytest.approx(0.6827, abs=0.005)  # normal, not uniform


# --- orthogonal_ --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("gain", [1.0, 2.0])
@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40), (6, 3, 2, 4), (20, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain, dtype):
    w = init.orthogonal_(tb.empty(*shape, dtype=dtype), gain=gain).numpy().astype(np.float64)
    matrix = w.reshape(shape[0], -1)  # trailing dimensions flattened, as in torch
    rows, cols = matrix.shape
    gram = matrix @ matrix.T if rows <= cols else matrix.T @ matrix
    tolerance = 1e-5 if dtype == tb.float32 else 1e-12
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=tolerance * gain**2)


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (4, 2, 3)])
def test_orthogonal_is_torchs_sign_corrected_qr_of_our_normal_draw(shape):
    rows, cols = shape[0], math.prod(shape[1:])
    tb.manual_seed(3)
    draw = torch.from_numpy(tb.randn(rows, cols, dtype=tb.float64).numpy())
    q, r = torch.linalg.qr(draw.T if rows < cols else draw)
    q = q * torch.diag(r).sign()
    expected = 1.5 * (q.T if rows < cols else q).reshape(shape)
    tb.manual_seed(3)
    assert_close(init.orthogonal_(tb.empty(*shape, dtype=tb.float64), gain=1.5), expected, rtol=1e-10, atol=1e-12)


def test_orthogonal_of_an_empty_tensor_is_a_no_op():
    assert init.orthogonal_(tb.empty(0, 3)).shape == (0, 3)


# --- trunc_normal_ ------------------------------------------------------------------------------


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x):
    return (1 + math.erf(x / math.sqrt(2))) / 2


def truncated_normal_moments(mean, std, a, b):
    """Mean and std of N(mean, std²) conditioned on [a, b] (the textbook formulas)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = _cdf(beta) - _cdf(alpha)
    shift = (_phi(alpha) - _phi(beta)) / mass
    variance = 1 + (alpha * _phi(alpha) - beta * _phi(beta)) / mass - shift**2
    return mean + std * shift, std * math.sqrt(variance)


TRUNC_CASES = [  # (mean, std, a, b); the last two hold < 30% of the mass: the uniform-rejection sampler
    (0.0, 1.0, -2.0, 2.0),
    (0.5, 2.0, -1.0, 3.0),
    (0.0, 1.0, 1.0, 3.0),
    (3.0, 0.5, -1.0, 2.0),
]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize(("mean", "std", "a", "b"), TRUNC_CASES)
def test_trunc_normal_draws_the_truncated_normal_distribution(mean, std, a, b, dtype):
    values = _draw(lambda t: init.trunc_normal_(t, mean, std, a, b), dtype)
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_std = truncated_normal_moments(mean, std, a, b)
    assert abs(values.mean() - expected_mean) < 5 * expected_std / math.sqrt(values.size)
    assert values.std() == pytest.approx(expected_std, rel=0.01)
    mass = _cdf((b - mean) / std) - _cdf((a - mean) / std)
    for x in np.linspace(a, b, 11)[1:-1]:  # the CDF, not just two moments (KS 1% level: 0.0016)
        expected_cdf = (_cdf((x - mean) / std) - _cdf((a - mean) / std)) / mass
        assert np.mean(values <= x) == pytest.approx(expected_cdf, abs=0.002)


def test_trunc_normal_defaults_are_torchs():
    expected = torch.nn.init.trunc_normal_(torch.empty(1000, 1000)).numpy()
    values = init.trunc_normal_(tb.empty(1000, 1000)).numpy()
    assert values.min() >= -2 and values.max() <= 2 and expected.min() >= -2 and expected.max() <= 2
    assert values.std() == pytest.approx(expected.std(), rel=0.01)


def test_trunc_normal_warns_like_torch_when_the_mean_is_far_from_the_interval():
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\]"):
        torch.nn.init.trunc_normal_(torch.empty(3, 4), mean=5.0)
    with pytest.warns(UserWarning, match="trunc_normal_: mean is more than 2 std from \\[a, b\\]"):
        values = init.trunc_normal_(tb.empty(3, 4), mean=5.0).numpy()
    assert values.min() >= -2 and values.max() <= 2


def test_trunc_normal_rejects_a_reversed_range_with_torchs_runtime_error():
    with pytest.raises(RuntimeError, match="range"):
        torch.nn.init.trunc_normal_(torch.empty(3, 4), a=2.0, b=-2.0)
    with pytest.raises(RuntimeError, match=r"trunc_normal_: expected a <= b, got a=2.0, b=-2.0"):
        init.trunc_normal_(tb.empty(3, 4), a=2.0, b=-2.0)


@pytest.mark.parametrize("std", [0.0, -1.0])
def test_trunc_normal_needs_a_positive_std(std):
    with pytest.raises(ValueError, match=f"trunc_normal_: expected std > 0, got std={std}"):
        init.trunc_normal_(tb.empty(3, 4), std=std)  # torch divides by zero for 0 and uses |std| for -1


# --- dirac_ -------------------------------------------------------------------------------------

DIRAC_CASES = [  # (shape, groups): 3-, 4- and 5-D, more or fewer outputs than inputs, even kernels
    ((4, 3, 5), 1),
    ((3, 4, 2), 1),
    ((6, 4, 3, 3), 1),
    ((6, 2, 3, 4), 2),
    ((6, 4, 3, 3), 3),
    ((4, 6, 3, 3, 3), 2),
    ((8, 2, 2, 3, 4), 4),
    ((0, 3, 3), 1),
]


@pytest.mark.parametrize("dtype", [*FLOATS, tb.int64], ids=str)
@pytest.mark.parametrize(("shape", "groups"), DIRAC_CASES)
def test_dirac_equals_torchs_dirac(shape, groups, dtype):
    tensor = tb.full(shape, 7, dtype=dtype)
    expected = torch.nn.init.dirac_(torch.full(shape, 7, dtype=getattr(torch, str(dtype).split(".")[-1])), groups)
    assert init.dirac_(tensor, groups) is tensor
    np.testing.assert_array_equal(tensor.numpy(), expected.numpy())


def test_dirac_writes_a_leaf_parameter_in_place_without_recording_a_graph():
    weight = tb.zeros(4, 4, 3, requires_grad=True)
    assert init.dirac_(weight) is weight
    assert weight.requires_grad and weight.is_leaf and weight.grad_fn is None


def test_dirac_needs_3_to_5_dimensions():
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        torch.nn.init.dirac_(torch.empty(2, 2))
    with pytest.raises(ValueError, match=r"dirac_: only tensors with 3, 4, or 5 dimensions .* shape \(2, 2\)"):
        init.dirac_(tb.empty(2, 2))


def test_dirac_needs_groups_to_divide_the_output_channels():
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        torch.nn.init.dirac_(torch.empty(3, 2, 3), groups=2)
    with pytest.raises(ValueError, match="dirac_: dim 0 must be divisible by groups, got dim 0 = 3 and groups=2"):
        init.dirac_(tb.empty(3, 2, 3), groups=2)


@pytest.mark.parametrize(("groups", "error"), [(0, ValueError), (-2, ValueError), (2.0, TypeError)])
def test_dirac_needs_a_positive_int_of_groups(groups, error):
    with pytest.raises(error, match="dirac_: groups must be"):  # torch: ZeroDivisionError, a no-op, TypeError
        init.dirac_(tb.empty(4, 2, 3), groups=groups)


# --- sparse_ ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "columns", "sparsity"),
    [(10, 6, 0.1), (10, 6, 0.3), (7, 5, 0.5), (5, 3, 0.0), (5, 3, 1.0), (1, 4, 0.01), (100, 50, 0.9)],
)
def test_sparse_zeroes_as_many_entries_per_column_as_torch(rows, columns, sparsity):
    ours = init.sparse_(tb.empty(rows, columns), sparsity).numpy()
    theirs = torch.nn.init.sparse_(torch.empty(rows, columns), sparsity).numpy()
    zeros_per_column = (ours == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros_per_column, (theirs == 0).sum(axis=0))
    np.testing.assert_array_equal(zeros_per_column, [math.ceil(sparsity * rows)] * columns)  # 0.3 * 10 -> 4


def test_sparse_draws_the_rest_from_a_normal_with_std_and_zeroes_different_rows_per_column():
    values = init.sparse_(tb.empty(1000, 1000, dtype=tb.float64), 0.25, std=0.5).numpy()
    kept = values[values != 0]
    assert kept.size == 750 * 1000
    assert abs(kept.mean()) < 5 * 0.5 / math.sqrt(kept.size)
    assert kept.std() == pytest.approx(0.5, rel=0.01)
    zero_rows_per_column = (values == 0).mean(axis=1)  # each row is zeroed in about a quarter of the columns
    assert zero_rows_per_column.min() > 0.1 and zero_rows_per_column.max() < 0.4


def test_sparse_needs_exactly_two_dimensions():
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        torch.nn.init.sparse_(torch.empty(2, 2, 2), 0.1)
    with pytest.raises(ValueError, match=r"sparse_: only tensors with 2 dimensions .* shape \(2, 2, 2\)"):
        init.sparse_(tb.empty(2, 2, 2), 0.1)


@pytest.mark.parametrize("sparsity", [-0.5, 1.5])
def test_sparse_needs_a_sparsity_between_0_and_1(sparsity):
    with pytest.raises(ValueError, match=f"sparse_: sparsity .* in \\[0, 1\\], got {sparsity}"):
        init.sparse_(tb.empty(4, 3), sparsity)  # torch zeroes ceil(sparsity·rows) rows as a slice bound


def test_sparse_rejects_a_negative_std_with_torchs_runtime_error():
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0.0"):
        torch.nn.init.sparse_(torch.empty(4, 3), 0.5, std=-1)
    with pytest.raises(RuntimeError, match="sparse_: expected std >= 0, got std=-1"):
        init.sparse_(tb.empty(4, 3), 0.5, std=-1)


# --- empty and 0-d tensors ----------------------------------------------------------------------

SHAPELESS_CASES = {  # initialiser -> the shapes it fills without complaint in torch and here
    "uniform_": ((), (0, 4)),
    "normal_": ((), (0, 4)),
    "trunc_normal_": ((), (0, 4)),
    "orthogonal_": ((0, 4),),
    "sparse_": ((0, 4), (4, 0)),
}


@pytest.mark.parametrize("name", SHAPELESS_CASES)
def test_initialisers_fill_0_d_and_empty_tensors_like_torch(name):
    for shape in SHAPELESS_CASES[name]:
        theirs = getattr(torch.nn.init, name)(torch.empty(shape), *([0.5] if name == "sparse_" else []))
        ours = RANDOM_INITIALISERS[name](tb.empty(shape))
        assert ours.shape == tuple(theirs.shape) == shape
        assert np.isfinite(ours.numpy()).all()


# --- exact initialisers -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [*FLOATS, tb.int64])
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye_writes_the_rectangular_identity(shape, dtype):
    tensor = tb.full(shape, 7, dtype=dtype)
    assert init.eye_(tensor) is tensor
    np.testing.assert_array_equal(tensor.numpy(), np.eye(*shape, dtype=dtype.numpy))


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_constant_zeros_and_ones_fill_exactly(dtype):
    tensor = tb.empty(2, 3, 4, dtype=dtype)
    np.testing.assert_array_equal(init.constant_(tensor, 0.3).numpy(), np.full((2, 3, 4), 0.3, dtype=dtype.numpy))
    np.testing.assert_array_equal(init.zeros_(tensor).numpy(), np.zeros((2, 3, 4)))
    np.testing.assert_array_equal(init.ones_(tensor).numpy(), np.ones((2, 3, 4)))


def test_constant_truncates_into_an_integer_tensor_like_torch():
    expected = torch.nn.init.constant_(torch.empty(3, dtype=torch.int64), 2.7)
    assert init.constant_(tb.empty(3, dtype=tb.int64), 2.7).tolist() == expected.tolist() == [2, 2, 2]


# --- in-place semantics and seeding -------------------------------------------------------------

RANDOM_INITIALISERS = {  # name -> fill(tensor, generator=None), every one torch accepts a generator in
    "uniform_": init.uniform_,
    "normal_": init.normal_,
    "trunc_normal_": init.trunc_normal_,
    "xavier_uniform_": init.xavier_uniform_,
    "xavier_normal_": init.xavier_normal_,
    "kaiming_uniform_": init.kaiming_uniform_,
    "kaiming_normal_": init.kaiming_normal_,
    "lecun_uniform_": init.lecun_uniform_,
    "lecun_normal_": init.lecun_normal_,
    "orthogonal_": init.orthogonal_,
    "sparse_": lambda tensor, generator=None: init.sparse_(tensor, 0.5, generator=generator),
}
ALL_INITIALISERS = [*RANDOM_INITIALISERS.values(), init.zeros_, init.ones_, init.eye_, lambda t: init.constant_(t, 0.5)]


@pytest.mark.parametrize("fill", ALL_INITIALISERS)
def test_initialisers_write_a_leaf_parameter_in_place_without_recording_a_graph(fill):
    weight = tb.zeros(4, 6, requires_grad=True)
    assert fill(weight) is weight
    assert weight.requires_grad and weight.is_leaf and weight.grad_fn is None


@pytest.mark.parametrize("name", RANDOM_INITIALISERS)
def test_manual_seed_makes_draws_reproducible(name):
    def draw(seed):
        tb.manual_seed(seed)
        return RANDOM_INITIALISERS[name](tb.empty(6, 4)).numpy()

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))


@pytest.mark.parametrize("name", RANDOM_INITIALISERS)
def test_a_generator_reproduces_draws_whatever_the_global_seed(name):
    fill = RANDOM_INITIALISERS[name]

    def draw(global_seed, seed):
        tb.manual_seed(global_seed)
        return fill(tb.empty(6, 4), generator=tb.Generator().manual_seed(seed)).numpy()

    np.testing.assert_array_equal(draw(1, 7), draw(2, 7))
    assert not np.array_equal(draw(1, 7), draw(1, 8))


@pytest.mark.parametrize("name", RANDOM_INITIALISERS)
def test_drawing_from_a_generator_leaves_the_global_generator_alone(name):
    tb.manual_seed(3)
    expected = tb.rand(5).tolist()
    tb.manual_seed(3)
    RANDOM_INITIALISERS[name](tb.empty(6, 4), generator=tb.Generator())
    assert tb.rand(5).tolist() == expected


@pytest.mark.parametrize("name", RANDOM_INITIALISERS)
def test_float64_draws_carry_full_float64_precision(name):
    values = RANDOM_INITIALISERS[name](tb.empty(6, 4, dtype=tb.float64)).numpy()
    assert not np.array_equal(values, values.astype(np.float32).astype(np.float64))


def test_uniform_and_normal_scale_tb_rand_and_tb_randn_in_the_tensors_dtype():
    tb.manual_seed(5)
    uniform = init.uniform_(tb.empty(3, 4), -2.0, 3.0)
    normal = init.normal_(tb.empty(3, 4), 1.5, 0.5)
    tb.manual_seed(5)
    np.testing.assert_array_equal(uniform.numpy(), (tb.rand(3, 4) * 5.0 + -2.0).numpy())
    np.testing.assert_array_equal(normal.numpy(), (tb.randn(3, 4) * 0.5 + 1.5).numpy())


# --- errors -------------------------------------------------------------------------------------


def test_calculate_gain_rejects_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'softplus'"):
        init.calculate_gain("softplus")


@pytest.mark.parametrize("param", [True, "0.2"])
def test_leaky_relu_gain_rejects_a_non_number_slope(param):
    with pytest.raises(ValueError, match=r"calculate_gain: negative_slope .* not a valid number"):
        init.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize(
    ("name", "fill"),
    [
        ("_calculate_fan_in_and_fan_out", init._calculate_fan_in_and_fan_out),
        ("xavier_uniform_", init.xavier_uniform_),
        ("kaiming_normal_", init.kaiming_normal_),
        ("lecun_uniform_", init.lecun_uniform_),
    ],
)
def test_fans_need_at_least_two_dimensions(name, fill):
    with pytest.raises(ValueError, match=f"{name}: fan in and fan out can not be computed .* fewer than 2 dimensions"):
        fill(tb.empty(5))


def test_kaiming_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match=r"kaiming_uniform_: mode 'fan_avg' not supported.*\['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(tb.empty(3, 5), mode="fan_avg")


def test_kaiming_mode_is_case_insensitive_like_torch():
    torch.nn.init.kaiming_normal_(torch.empty(3, 5), mode="FAN_OUT")
    init.kaiming_normal_(tb.empty(3, 5), mode="FAN_OUT")


def test_kaiming_rejects_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="kaiming_normal_: unsupported nonlinearity 'swish'"):
        init.kaiming_normal_(tb.empty(3, 5), nonlinearity="swish")


@pytest.mark.parametrize("fill", [init.kaiming_uniform_, init.kaiming_normal_, init.lecun_normal_])
def test_kaiming_warns_that_a_zero_element_tensor_is_a_no_op(fill):
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        torch.nn.init.kaiming_uniform_(torch.empty(0, 3))
    with pytest.warns(UserWarning, match=f"{fill.__name__}: initializing zero-element tensors is a no-op"):
        assert fill(tb.empty(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("shape", [(0, 5), (0, 0)])
def test_xavier_of_a_zero_element_tensor_is_a_silent_no_op(shape):
    assert init.xavier_uniform_(tb.empty(*shape)).shape == shape  # torch divides by zero for (0, 0)


def test_orthogonal_needs_at_least_two_dimensions():
    with pytest.raises(ValueError, match=r"orthogonal_: only tensors with 2 or more dimensions .* shape \(4,\)"):
        init.orthogonal_(tb.empty(4))


def test_eye_needs_exactly_two_dimensions():
    with pytest.raises(ValueError, match=r"eye_: only tensors with 2 dimensions are supported, got shape \(2, 2, 2\)"):
        init.eye_(tb.empty(2, 2, 2))


def test_uniform_rejects_a_reversed_range_with_torchs_runtime_error():
    with pytest.raises(RuntimeError, match="expects to return a \\[from, to\\) range"):
        torch.nn.init.uniform_(torch.empty(3), 2, 1)
    with pytest.raises(RuntimeError, match=r"uniform_: expected a <= b .* got a=2, b=1"):
        init.uniform_(tb.empty(3), 2, 1)


@pytest.mark.parametrize(("a", "b"), [(0, math.inf), (-math.inf, 0), (math.nan, 1)])
def test_uniform_rejects_a_non_finite_bound_with_torchs_runtime_error(a, b):
    with pytest.raises(RuntimeError, match="out of bounds"):
        torch.nn.init.uniform_(torch.empty(3), a, b)
    with pytest.raises(RuntimeError, match="uniform_: expected finite bounds"):
        init.uniform_(tb.empty(3), a, b)


def test_normal_rejects_a_negative_std_with_torchs_runtime_error():
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0.0"):
        torch.nn.init.normal_(torch.empty(3), 0.0, -1)
    with pytest.raises(RuntimeError, match="normal_: expected std >= 0, got std=-1"):
        init.normal_(tb.empty(3), 0.0, -1)


@pytest.mark.parametrize("name", RANDOM_INITIALISERS)
def test_random_initialisers_need_a_floating_point_tensor(name):
    fill, torch_fill = RANDOM_INITIALISERS[name], getattr(torch.nn.init, name, torch.nn.init.normal_)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):  # torch has no lecun_*
        torch_fill(torch.zeros(3, 4, dtype=torch.int64), *([0.5] if name == "sparse_" else []))
    with pytest.raises(NotImplementedError, match=f"{name}: random initialisation needs a floating point tensor"):
        fill(tb.zeros(3, 4, dtype=tb.int64))


@pytest.mark.parametrize("name", RANDOM_INITIALISERS)
def test_random_initialisers_reject_a_generator_that_is_not_a_tb_generator(name):
    with pytest.raises(TypeError, match=r"argument 'generator' must be torch.Generator, not int"):
        torch.nn.init.normal_(torch.empty(3, 4), generator=0)
    with pytest.raises(TypeError, match=r"argument 'generator' must be tb.Generator, not int"):
        RANDOM_INITIALISERS[name](tb.empty(3, 4), generator=0)


def test_random_initialisers_need_a_tensor():
    with pytest.raises(TypeError, match="normal_: expected a Tensor, got ndarray"):
        init.normal_(np.zeros((3, 4)))
