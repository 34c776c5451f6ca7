"""Normalization layers: batch norm over several steps in every mode against PyTorch (outputs,
gradients, running buffers, num_batches_tracked), layer/group/instance/RMS norm against PyTorch,
gradcheck and gradgradcheck, the fused kernels against the composite (create_graph) path, the
errors, state dicts, batch renormalization by its reductions, fuse_linear_bn, and the small-batch
behaviour that sets batch norm apart."""

import itertools
import warnings

import numpy as np
import pytest
from helpers import check_against_torch, torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_bn as tb
from tinygrad_bn import nn
from tinygrad_bn.nn.utils import fuse_linear_bn
from tinygrad_bn.testing import assert_close, gradcheck, gradgradcheck
from tinygrad_bn.testing.strategies import non_contiguous_tensors, tensors

F, TF = nn.functional, torch.nn.functional
F32, F64 = tb.float32, tb.float64
TORCH_DTYPE = {F32: torch.float32, F64: torch.float64}
# float32: PyTorch sums in float32 where ctensor sums in double, so the two differ by ~1e-5 on sums.
TOLERANCES = {F32: {"rtol": 1e-4, "atol": 1e-4}, F64: {}}


def _values(rng, shape, dtype):
    """Values with a non-zero mean and non-unit spread, so centring and scaling both matter."""
    return (rng.standard_normal(shape) * 2.0 + 1.5).astype(dtype.numpy)


def _same_parameters(ours, theirs, rng):
    """Give both modules the same random affine parameters (not the ones/zeros they start with)."""
    with tb.no_grad(), torch.no_grad():
        for (name, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
            values = rng.uniform(0.5, 1.5, mine.shape) if name == "weight" else rng.uniform(-1, 1, mine.shape)
            mine.copy_(tb.tensor(values, dtype=mine.dtype))
            other.copy_(torch.from_numpy(values))


def _step_both(ours, theirs, x_values, rng, tolerance):
    """One forward + backward of both modules on the same input; outputs, every gradient and every
    buffer (running statistics, num_batches_tracked) must match afterwards."""
    x = tb.tensor(x_values, requires_grad=True)
    x_torch = torch.from_numpy(x_values.copy()).requires_grad_()
    y, y_torch = ours(x), theirs(x_torch)
    assert_close(y, y_torch, **tolerance)
    gradient = rng.standard_normal(y.shape).astype(x_values.dtype)
    y.backward(tb.tensor(gradient))
    y_torch.backward(torch.from_numpy(gradient))
    assert_close(x.grad, x_torch.grad, **tolerance)
    for mine, other in zip(ours.parameters(), theirs.parameters()):
        assert_close(mine.grad, other.grad, **tolerance)
        mine.grad, other.grad = None, None
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in ours_state:
        assert ours_state[key].dtype.name == str(theirs_state[key].dtype).removeprefix("torch."), key
        assert_close(ours_state[key], theirs_state[key], **tolerance)


# --- batch norm: every mode, over several steps ---------------------------------------------------------

BATCH_NORM_LAYERS = {  # name: (ours, PyTorch's, input shape)
    "1d_rank2": (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 3)),
    "1d_rank3": (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
    "2d_rank4": (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 4, 5)),
}


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("track_running_stats", [True, False], ids=["tracking", "batch_stats_only"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("layer", sorted(BATCH_NORM_LAYERS))
def test_batch_norm_matches_torch_over_steps(layer, mode, affine, track_running_stats, momentum, dtype):
    ours_class, theirs_class, shape = BATCH_NORM_LAYERS[layer]
    options = {"momentum": momentum, "affine": affine, "track_running_stats": track_running_stats}
    ours, theirs = ours_class(3, **options).to(dtype), theirs_class(3, **options).to(TORCH_DTYPE[dtype])
    rng = np.random.default_rng(0)
    _same_parameters(ours, theirs, rng)
    steps = ["train"] * 3 if mode == "train" else ["train", "train", "eval", "eval"]  # eval sees trained buffers
    for step in steps:
        ours.train(step == "train"), theirs.train(step == "train")
        _step_both(ours, theirs, _values(rng, shape, dtype), rng, TOLERANCES[dtype])


def test_batch_norm_eval_uses_the_running_statistics_for_any_batch_size():
    bn = nn.BatchNorm1d(2).double()
    with tb.no_grad():
        bn.running_mean.copy_(tb.tensor([1.0, -2.0]))
        bn.running_var.copy_(tb.tensor([4.0, 0.25]))
    bn.eval()
    x = tb.tensor([[3.0, -1.0]], dtype=F64)  # a single sample is fine in eval
    assert_close(bn(x), [[2.0 / np.sqrt(4 + 1e-5), 1.0 / np.sqrt(0.25 + 1e-5)]])
    assert int(bn.num_batches_tracked.item()) == 0


def test_batch_norm_running_variance_is_unbiased_and_momentum_weights_the_new_value():
    bn = nn.BatchNorm1d(1, momentum=0.25).double()
    bn(tb.tensor([[1.0], [2.0], [6.0]], dtype=F64))
    assert_close(bn.running_mean, [0.75 * 0 + 0.25 * 3.0])
    assert_close(bn.running_var, [0.75 * 1 + 0.25 * 7.0])  # Σ(x − 3)² / (3 − 1) = 7
    assert bn.num_batches_tracked.dtype is tb.int64 and int(bn.num_batches_tracked.item()) == 1


def test_batch_norm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None).double()
    batches = [[[0.0], [2.0]], [[4.0], [8.0]], [[-3.0], [-1.0]]]
    for batch in batches:
        bn(tb.tensor(batch, dtype=F64))
    assert_close(bn.running_mean, [np.mean([np.mean(b) for b in batches])])
    assert_close(bn.running_var, [np.mean([np.var(b, ddof=1) for b in batches])])
    assert int(bn.num_batches_tracked.item()) == 3


def test_batch_norm_without_running_stats_uses_batch_statistics_in_eval_too():
    bn = nn.BatchNorm1d(2, track_running_stats=False).double().eval()
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    x = tb.tensor([[1.0, 10.0], [3.0, 30.0]], dtype=F64)
    assert_close(bn(x), [[-1.0, -1.0], [1.0, 1.0]], atol=1e-4)


@pytest.mark.parametrize(
    "layer, shape",
    [("batch", (4096, 8)), ("batch", (300, 37)), ("layer", (3, 5000)), ("layer", (16, 1024)), ("layer", (4, 77))],
)
def test_float32_statistics_stay_accurate_when_the_first_value_is_an_outlier(layer, shape):
    # The kernels sum float32 in short blocks, each about its own mean; about the first value alone
    # (a padded first sample, an outlier feature at index 0) the float sums cancelled in the variance.
    rng = np.random.default_rng(0)
    x = (1000 + rng.uniform(-1, 1, shape)).astype(np.float32)
    x[0, :] = x[:, 0] = 0
    axis = 0 if layer == "batch" else 1
    ours = (
        F.batch_norm(tb.tensor(x), None, None, training=True)
        if layer == "batch"
        else F.layer_norm(tb.tensor(x), shape[1:])
    ).numpy()
    exact = x.astype(np.float64)
    exact = (exact - exact.mean(axis, keepdims=True)) / np.sqrt(exact.var(axis, keepdims=True) + 1e-5)
    assert np.abs(ours - exact).max() < 2e-6 * np.abs(exact).max()


def test_batch_norm_gradient_of_x_sums_to_zero_over_the_batch():
    x = tb.randn(16, 5, dtype=F64, requires_grad=True)
    F.batch_norm(x, None, None, tb.rand(5, dtype=F64) + 0.5, None, training=True).backward(tb.randn(16, 5, dtype=F64))
    assert_close(x.grad.sum(0), np.zeros(5), atol=1e-12)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_batch_norm_functional_matches_torch_with_and_without_running_buffers(dtype):
    rng = np.random.default_rng(1)
    x_values = _values(rng, (6, 4, 3), dtype)
    running = [rng.uniform(-1, 1, 4).astype(dtype.numpy), rng.uniform(0.5, 2, 4).astype(dtype.numpy)]
    for training, with_running in itertools.product([True, False], [True, False]):
        if not training and not with_running:
            continue
        ours_running = [tb.tensor(v.copy()) for v in running] if with_running else [None, None]
        theirs_running = [torch.from_numpy(v.copy()) for v in running] if with_running else [None, None]
        weight = tb.tensor(rng.uniform(0.5, 1.5, 4).astype(dtype.numpy), requires_grad=True)
        check_against_torch(
            lambda x, w, running=ours_running, training=training: F.batch_norm(x, *running, w, None, training, 0.3),
            lambda x, w, running=theirs_running, training=training: TF.batch_norm(x, *running, w, None, training, 0.3),
            tb.tensor(x_values, requires_grad=True),
            weight,
            **TOLERANCES[dtype],
        )
        for mine, other in zip(ours_running, theirs_running):
            if mine is not None:
                assert_close(mine, other, **TOLERANCES[dtype])


def test_batch_norm_updates_running_buffers_that_are_strided_views():
    storage = tb.zeros(2, 3, dtype=F64)
    running_mean, running_var = storage[0], tb.ones(3, dtype=F64)
    column_view = tb.zeros(3, 2, dtype=F64)[:, 1]  # stride 2
    x = tb.tensor([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]], dtype=F64)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=1.0)
    F.batch_norm(x, column_view, tb.ones(3, dtype=F64), training=True, momentum=1.0)
    assert_close(storage[0], [2.0, 4.0, 6.0])
    assert_close(column_view, [2.0, 4.0, 6.0])


# --- layer, group, instance and RMS norm against PyTorch ------------------------------------------------


def _any_layout(shape, dtype=F64):
    elements = st.floats(-4, 4, allow_nan=False, width=32 if dtype is F32 else 64)
    return st.one_of(
        tensors(shape=shape, dtype=dtype, elements=elements, requires_grad=True),
        non_contiguous_tensors(shape=shape, dtype=dtype, elements=elements, requires_grad=True),
    )


def _parameters(rng, shape, dtype=F64):
    weight = tb.tensor(rng.uniform(0.5, 1.5, shape), dtype=dtype, requires_grad=True)
    bias = tb.tensor(rng.uniform(-1, 1, shape), dtype=dtype, requires_grad=True)
    return weight, bias


@given(
    data=st.data(),
    leading=st.lists(st.integers(1, 4), max_size=2),
    trailing=st.lists(st.integers(1, 5), min_size=1, max_size=2),
)
def test_layer_norm_matches_torch(data, leading, trailing):
    x = data.draw(_any_layout(tuple(leading + trailing)))
    weight, bias = _parameters(np.random.default_rng(len(leading)), tuple(trailing))
    check_against_torch(
        lambda x, w, b: F.layer_norm(x, trailing, w, b),
        lambda x, w, b: TF.layer_norm(x, trailing, w, b),
        x,
        weight,
        bias,
    )


@given(
    data=st.data(),
    groups=st.integers(1, 3),
    per_group=st.integers(1, 3),
    spatial=st.lists(st.integers(1, 4), max_size=2),
)
def test_group_norm_matches_torch(data, groups, per_group, spatial):
    channels = groups * per_group
    x = data.draw(_any_layout((data.draw(st.integers(2, 3)), channels, *spatial)))
    weight, bias = _parameters(np.random.default_rng(channels), (channels,))
    check_against_torch(
        lambda x, w, b: F.group_norm(x, groups, w, b),
        lambda x, w, b: TF.group_norm(x, groups, w, b),
        x,
        weight,
        bias,
    )


@given(data=st.data(), trailing=st.lists(st.integers(1, 5), min_size=1, max_size=2))
def test_rms_norm_matches_torch(data, trailing):
    x = data.draw(_any_layout((data.draw(st.integers(1, 4)), *trailing)))
    weight, _ = _parameters(np.random.default_rng(0), tuple(trailing))
    check_against_torch(lambda x, w: F.rms_norm(x, trailing, w), lambda x, w: TF.rms_norm(x, trailing, w), x, weight)


@given(data=st.data(), length=st.integers(2, 6))
def test_instance_norm_matches_torch(data, length):
    x = data.draw(_any_layout((data.draw(st.integers(1, 3)), 3, length)))
    weight, bias = _parameters(np.random.default_rng(length), (3,))
    check_against_torch(
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
        x,
        weight,
        bias,
    )


TRAILING_LAYERS = {  # name: (ours, PyTorch's, input shape)
    "LayerNorm": (lambda: nn.LayerNorm((4, 5)), lambda: torch.nn.LayerNorm((4, 5)), (3, 4, 5)),
    "LayerNorm_no_bias": (lambda: nn.LayerNorm(5, bias=False), lambda: torch.nn.LayerNorm(5, bias=False), (3, 5)),
    "LayerNorm_plain": (
        lambda: nn.LayerNorm(5, eps=1e-3, elementwise_affine=False),
        lambda: torch.nn.LayerNorm(5, eps=1e-3, elementwise_affine=False),
        (2, 3, 5),
    ),
    "GroupNorm": (lambda: nn.GroupNorm(2, 6), lambda: torch.nn.GroupNorm(2, 6), (3, 6, 4)),
    "GroupNorm_1_group": (lambda: nn.GroupNorm(1, 4), lambda: torch.nn.GroupNorm(1, 4), (2, 4, 3, 2)),
    "GroupNorm_instance": (
        lambda: nn.GroupNorm(4, 4, affine=False),
        lambda: torch.nn.GroupNorm(4, 4, affine=False),
        (2, 4, 5),
    ),
    "RMSNorm": (lambda: nn.RMSNorm([4, 5]), lambda: torch.nn.RMSNorm([4, 5]), (3, 4, 5)),
    "RMSNorm_eps": (lambda: nn.RMSNorm(5, eps=1e-2), lambda: torch.nn.RMSNorm(5, eps=1e-2), (3, 5)),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3), lambda: torch.nn.InstanceNorm1d(3), (2, 3, 6)),
    "InstanceNorm1d_unbatched": (
        lambda: nn.InstanceNorm1d(3, affine=True),
        lambda: torch.nn.InstanceNorm1d(3, affine=True),
        (3, 6),
    ),
    "InstanceNorm2d_tracking": (
        lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3),
        lambda: torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3),
        (2, 3, 4, 5),
    ),
}


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TRAILING_LAYERS))
def test_layer_matches_torch_in_train_and_eval(name, dtype):
    make_ours, make_theirs, shape = TRAILING_LAYERS[name]
    ours, theirs = make_ours().to(dtype), make_theirs().to(TORCH_DTYPE[dtype])
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(2)
    _same_parameters(ours, theirs, rng)
    for step in ["train", "train", "eval"]:
        ours.train(step == "train"), theirs.train(step == "train")
        _step_both(ours, theirs, _values(rng, shape, dtype), rng, TOLERANCES[dtype])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3)),
        (
            lambda: nn.BatchNorm2d(4, affine=False, momentum=None),
            lambda: torch.nn.BatchNorm2d(4, affine=False, momentum=None),
        ),
        (lambda: nn.BatchNorm1d(3, bias=False), lambda: torch.nn.BatchNorm1d(3, bias=False)),
        (lambda: nn.InstanceNorm2d(3), lambda: torch.nn.InstanceNorm2d(3)),
        (lambda: nn.GroupNorm(2, 4, bias=False), lambda: torch.nn.GroupNorm(2, 4, bias=False)),
    ],
)
def test_repr_and_state_dict_keys_match_torch(ours, theirs):
    mine, other = ours(), theirs()
    assert repr(mine) == repr(other)
    assert list(mine.state_dict()) == list(other.state_dict())


# --- gradients: finite differences, second order, fused against composite ---------------------------------

FUNCTIONALS = {  # name: (function of (x, weight, bias), x shape, parameter shape)
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (5, 3), (3,)),
    "batch_norm_train_3d": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (2, 3, 3), (3,)),
    "batch_norm_eval": (
        lambda x, w, b: F.batch_norm(
            x, tb.tensor([0.5, -1.0, 2.0], dtype=F64), tb.tensor([2.0, 0.5, 1.5], dtype=F64), w, b
        ),
        (4, 3),
        (3,),
    ),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3,), w, b), (4, 3), (3,)),
    "layer_norm_2d": (lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (2, 2, 3), (2, 3)),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 2), (4,)),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 3, 3), (3,)),
    "rms_norm": (lambda x, w, b: F.rms_norm(x, (3,), w) + b, (4, 3), (3,)),
}


def _gradient_inputs(name, seed=0, dtype=F64):
    _, x_shape, parameter_shape = FUNCTIONALS[name]
    rng = np.random.default_rng(seed)
    x = tb.tensor(_values(rng, x_shape, dtype), requires_grad=True)
    return [x, *_parameters(rng, parameter_shape, dtype)]


@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_gradcheck(name):
    assert gradcheck(FUNCTIONALS[name][0], _gradient_inputs(name))


@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_gradgradcheck(name):
    assert gradgradcheck(FUNCTIONALS[name][0], _gradient_inputs(name))


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_fused_backward_matches_the_composite_path(name, dtype):
    """A plain backward runs the fused kernel; create_graph=True builds the formula from Tensor ops."""
    fn = FUNCTIONALS[name][0]
    if name == "batch_norm_eval" and dtype is F32:
        fn = lambda x, w, b: F.batch_norm(x, tb.tensor([0.5, -1.0, 2.0]), tb.tensor([2.0, 0.5, 1.5]), w, b)  # noqa: E731
    inputs = _gradient_inputs(name, seed=3, dtype=dtype)
    gradient = tb.tensor(np.random.default_rng(4).standard_normal(inputs[0].shape), dtype=dtype)
    fused = tb.autograd.grad(fn(*inputs), inputs, gradient)
    composite = tb.autograd.grad(fn(*inputs), inputs, gradient, create_graph=True)
    assert composite[0].requires_grad  # the composite path ran: dx is differentiable
    for a, b in zip(fused, composite):
        assert_close(
            a, b.detach(), **({"rtol": 1e-5, "atol": 1e-5} if dtype is F32 else {"rtol": 1e-10, "atol": 1e-12})
        )


def test_results_do_not_depend_on_the_thread_count():
    x = tb.randn(512, 300) * 3 + 1
    before = tb.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            tb.set_num_threads(threads)
            layers = [nn.BatchNorm1d(300), nn.LayerNorm(300)]
            leaf = x.detach().requires_grad_()
            outputs = [layer(leaf) for layer in layers]
            (outputs[0].sum() + (outputs[1] * outputs[1]).sum()).backward()
            results.append([t.detach().numpy().copy() for t in [*outputs, leaf.grad, layers[0].running_var]])
    finally:
        tb.set_num_threads(before)
    for one, two in zip(*results):
        assert np.array_equal(one, two)


# --- errors --------------------------------------------------------------------------------------------------

ONE_VALUE = "Expected more than 1 value per channel when training"


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nn.BatchNorm1d(3)(tb.randn(1, 3)),
            r"^Expected more than 1 value per channel when training, got input size \(1, 3\)$",
        ),
        (lambda: nn.BatchNorm2d(3)(tb.randn(1, 3, 1, 1)), ONE_VALUE),
        (lambda: nn.BatchNorm1d(3, track_running_stats=False).eval()(tb.randn(1, 3)), ONE_VALUE),
        (lambda: F.batch_norm(tb.randn(1, 3), None, None, training=True), ONE_VALUE),
        (lambda: nn.GroupNorm(2, 2)(tb.randn(1, 2)), ONE_VALUE),
        (lambda: nn.InstanceNorm1d(3)(tb.randn(2, 3, 1)), "Expected more than 1 spatial element when training"),
        (lambda: nn.GroupNorm(3, 4), r"num_channels \(4\) must be divisible by num_groups \(3\)"),
        (lambda: F.group_norm(tb.randn(2, 4), 3), r"num_channels \(4\) must be divisible by num_groups \(3\)"),
        (lambda: nn.BatchNorm1d(3)(tb.randn(2, 3, 4, 5)), r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"),
        (lambda: nn.BatchNorm2d(3)(tb.randn(2, 3, 4)), r"BatchNorm2d: expected 4D input \(got 3D input\)"),
        (
            lambda: nn.InstanceNorm1d(3, affine=True)(tb.randn(2, 4, 5)),
            r"expected input's size at dim=1 to match num_features \(3\)",
        ),
        (lambda: nn.BatchRenorm1d(3, r_max=0.5), "r_max >= 1"),
        (
            lambda: nn.LayerNorm(3, eps=-1e-5)(tb.randn(2, 3)),
            r"layer_norm: eps must be a finite number >= 0, got -1e-05",
        ),
        (lambda: nn.BatchNorm1d(3, eps=float("nan"))(tb.randn(2, 3)), "batch_norm: eps must be a finite number"),
        (lambda: nn.BatchNorm1d(3, momentum=float("inf"))(tb.randn(2, 3)), "momentum must be a finite number or None"),
    ],
)
def test_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: nn.BatchNorm1d(4)(tb.randn(2, 3)),
            RuntimeError,
            r"running_mean of shape \(4,\) does not match an input of shape \(2, 3\): expected \(3,\)",
        ),
        (
            lambda: nn.LayerNorm(4)(tb.randn(2, 3)),
            RuntimeError,
            r"expected input with shape \[\*, 4\], but got input of size \(2, 3\)",
        ),
        (lambda: nn.RMSNorm((2, 3))(tb.randn(3, 2)), RuntimeError, r"expected input with shape \[\*, 2, 3\]"),
        (
            lambda: nn.BatchNorm1d(3)(tb.randn(2, 3, dtype=F64)),
            TypeError,
            "running_mean is float32 but the input is float64",
        ),
        (lambda: nn.LayerNorm(3)(tb.tensor([[1, 2, 3]])), TypeError, "expected a floating point input, got int64"),
        (
            lambda: F.batch_norm(tb.randn(2, 3), None, None),
            RuntimeError,
            "running_mean and running_var must be given when not training",
        ),
        (
            lambda: F.batch_norm(tb.randn(2, 3), tb.zeros(3), None, training=True),
            RuntimeError,
            "must be given together",
        ),
        (lambda: fuse_linear_bn(nn.Linear(2, 3), nn.BatchNorm1d(3)), ValueError, "only eval-mode layers can be fused"),
        (lambda: fuse_linear_bn(nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval()), ValueError, "3 output features"),
    ],
)
def test_other_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_instance_norm_without_affine_warns_about_a_feature_mismatch():
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm1d(3)(tb.randn(2, 4, 5))


def test_a_running_statistic_in_read_only_memory_is_refused():
    read_only = tb.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="read-only memory"):
        F.batch_norm(tb.randn(4, 3), read_only, tb.ones(3), training=True)


# --- state dict ------------------------------------------------------------------------------------------------


def test_state_dict_round_trip_restores_a_trained_batch_norm(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3))
    for _ in range(3):
        model(tb.randn(8, 4)).sum().backward()
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "2.weight", "2.bias", "3.weight", "3.bias",
    ]  # fmt: skip
    tb.save(model.state_dict(), tmp_path / "model.tbn")
    restored = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3))
    restored.load_state_dict(tb.load(tmp_path / "model.tbn"))
    assert restored[1].num_batches_tracked.dtype is tb.int64 and int(restored[1].num_batches_tracked.item()) == 3
    x = tb.randn(5, 4)
    assert_close(restored.eval()(x), model.eval()(x), rtol=0, atol=0)


# --- batch renormalization ---------------------------------------------------------------------------------------


def _renorm_and_bn(dtype=F64, **renorm_options):
    renorm = nn.BatchRenorm1d(3, momentum=0.2, **renorm_options).to(dtype)
    bn = nn.BatchNorm1d(3, momentum=0.2).to(dtype)
    bn.load_state_dict(renorm.state_dict())
    return renorm, bn


def _compare_steps(renorm, bn, steps, shape=(6, 3)):
    rng = np.random.default_rng(5)
    for _ in range(steps):
        x_values, gradient = _values(rng, shape, F64), rng.standard_normal(shape)
        outputs = []
        for layer in (renorm, bn):
            x = tb.tensor(x_values, requires_grad=True)
            y = layer(x)
            y.backward(tb.tensor(gradient))
            outputs.append((y, x.grad, layer.weight.grad, layer.bias.grad))
            layer.zero_grad()
        for ours, reference in zip(*outputs):
            assert_close(ours, reference)
        for key, value in bn.state_dict().items():
            assert_close(renorm.state_dict()[key], value)


def test_batch_renorm_with_r_max_1_and_d_max_0_is_batch_norm_in_training():
    renorm, bn = _renorm_and_bn(r_max=1.0, d_max=0.0, warmup_steps=0)
    _compare_steps(renorm, bn, steps=4)


def test_batch_renorm_starts_as_batch_norm_during_its_warm_up():
    renorm, bn = _renorm_and_bn(warmup_steps=3)
    assert renorm.current_limits() == (1.0, 0.0)
    _compare_steps(renorm, bn, steps=3)
    assert renorm.current_limits() == (1.0, 0.0)  # step 3 is the first relaxed one, and relaxes by 0
    renorm.num_batches_tracked.fill_(3 + 10000)
    assert renorm.current_limits() == (2.0, 2.5)  # halfway through relax_steps=20000
    renorm.num_batches_tracked.fill_(3 + 20000)
    assert renorm.current_limits() == (3.0, 5.0)


def test_batch_renorm_in_eval_is_batch_norm_in_eval():
    renorm, bn = _renorm_and_bn(warmup_steps=0, r_max=1.5, d_max=0.5)
    with tb.no_grad():
        for layer in (renorm, bn):
            layer.running_mean.copy_(tb.tensor([0.3, -0.2, 1.0], dtype=F64))
            layer.running_var.copy_(tb.tensor([2.0, 0.5, 1.5], dtype=F64))
    x = tb.randn(4, 3, dtype=F64)
    assert_close(renorm.eval()(x), bn.eval()(x))


def test_batch_renorm_corrects_batch_statistics_toward_the_running_ones():
    """x̂ = (x − μ_B)/σ_B·r + d with r, d clipped and constant for backward; against a NumPy reference."""
    renorm = nn.BatchRenorm1d(2, warmup_steps=0, relax_steps=0, r_max=1.5, d_max=0.5).double()
    running_mean, running_var = np.array([0.5, -3.0]), np.array([4.0, 0.01])
    with tb.no_grad():
        renorm.running_mean.copy_(tb.tensor(running_mean))
        renorm.running_var.copy_(tb.tensor(running_var))
        renorm.weight.copy_(tb.tensor([2.0, 0.5], dtype=F64))
        renorm.bias.copy_(tb.tensor([0.1, -0.2], dtype=F64))
    x_values = np.array([[1.0, 2.0], [2.0, 3.0], [4.0, 1.0], [0.0, 2.5]])
    mean, std = x_values.mean(0), np.sqrt(x_values.var(0) + 1e-5)
    running_std = np.sqrt(running_var + 1e-5)
    r = np.clip(std / running_std, 1 / 1.5, 1.5)
    d = np.clip((mean - running_mean) / running_std, -0.5, 0.5)
    assert r[0] < 1.5 and r[1] == 1.5 and d[1] == 0.5  # channel 1 is clipped
    x = tb.tensor(x_values, requires_grad=True)
    y = renorm(x)
    assert_close(y, np.array([2.0, 0.5]) * ((x_values - mean) / std * r + d) + np.array([0.1, -0.2]))
    gradient = np.random.default_rng(6).standard_normal(x_values.shape)
    y.backward(tb.tensor(gradient))
    # r and d are constants: the gradients are batch norm's with weight γ·r and bias β + γ·d (PyTorch as the oracle).
    x_torch = torch.tensor(x_values, requires_grad=True)
    gamma = torch.tensor([2.0, 0.5], dtype=torch.float64, requires_grad=True)
    r_t, d_t = torch.from_numpy(r), torch.from_numpy(d)
    TF.batch_norm(
        x_torch, None, None, gamma * r_t, torch.tensor([0.1, -0.2], dtype=torch.float64) + gamma * d_t, True
    ).backward(torch.from_numpy(gradient))
    assert_close(x.grad, x_torch.grad)
    assert_close(renorm.weight.grad, gamma.grad)
    assert_close(renorm.bias.grad, gradient.sum(0))
    assert_close(renorm.running_mean, 0.9 * running_mean + 0.1 * mean)
    assert_close(renorm.running_var, 0.9 * running_var + 0.1 * x_values.var(0, ddof=1))


# --- small batches: train/test discrepancy ---------------------------------------------------------------------------


def _train_then_compare(layer, batch_size, steps=200, features=4):
    """Train (running statistics only) on batches of ``batch_size`` from N(3, 2²), then feed 256 test
    samples in batches of that size. Returns the mean |training-mode output − eval output| and the
    mean |eval output − (x − 3)/2| (the population's normalisation)."""
    tb.manual_seed(7)
    for _ in range(steps):
        layer.train()(tb.randn(batch_size, features) * 2 + 3)
    test = tb.randn(256, features) * 2 + 3
    with tb.no_grad():
        evaluated = layer.eval()(test)
        state = {key: value.clone() for key, value in layer.state_dict().items()}
        trained = tb.cat([layer.train()(chunk) for chunk in test.split(batch_size)])
        layer.load_state_dict(state)
        discrepancy = (trained - evaluated).abs().mean().item()
        return discrepancy, (evaluated - (test - 3) / 2).abs().mean().item()


def test_batch_norm_trained_on_tiny_batches_behaves_differently_in_eval_and_the_alternatives_do_not():
    layers = {
        "batch": lambda: nn.BatchNorm1d(4),
        "renorm": lambda: nn.BatchRenorm1d(4, warmup_steps=50, relax_steps=50),
        "group": lambda: nn.GroupNorm(2, 4),
        "layer": lambda: nn.LayerNorm(4),
    }
    sizes = (2, 8, 256)
    results = {(name, size): _train_then_compare(make(), size) for name, make in layers.items() for size in sizes}
    discrepancy = {key: value[0] for key, value in results.items()}
    # Batch norm: training on pairs normalises every pair to ±1, which eval (running statistics) does not,
    # and the gap closes as batches grow.
    assert discrepancy["batch", 2] > 0.3
    assert discrepancy["batch", 2] > discrepancy["batch", 8] > discrepancy["batch", 256]
    assert discrepancy["batch", 256] < 0.1
    # Its running statistics, averaged from tiny batches, are noisy too: eval is further from the truth.
    assert results["batch", 2][1] > 2 * results["batch", 256][1]
    # Batch renorm trains on statistics corrected toward the running ones; group/layer norm ignore the batch.
    assert discrepancy["renorm", 2] < 0.5 * discrepancy["batch", 2]
    for name, size in itertools.product(("group", "layer"), sizes):
        assert discrepancy[name, size] < 1e-6


# --- inference folding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("linear_bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_fuse_linear_bn_folds_an_eval_batch_norm_into_the_linear(linear_bias, affine):
    tb.manual_seed(8)
    linear, bn = nn.Linear(5, 3, bias=linear_bias), nn.BatchNorm1d(3, affine=affine)
    for _ in range(4):
        bn(linear(tb.randn(16, 5)) * 2 + 1)
    if affine:
        with tb.no_grad():
            bn.weight.copy_(tb.tensor([0.5, 2.0, -1.0]))
            bn.bias.copy_(tb.tensor([0.1, 0.2, 0.3]))
    linear.eval(), bn.eval()
    fused = fuse_linear_bn(linear, bn)
    assert isinstance(fused, nn.Linear) and fused.bias is not None and not fused.training
    x = tb.randn(7, 5)
    with tb.no_grad():
        assert_close(fused(x), bn(linear(x)), rtol=1e-5, atol=1e-5)
    assert (linear.bias is not None) == linear_bias  # the inputs are left as they were


def test_fused_layers_in_float64_match_the_unfused_pair():
    linear, bn = nn.Linear(4, 2).double().eval(), nn.BatchNorm1d(2).double().eval()
    with tb.no_grad():
        bn.running_mean.copy_(tb.tensor([0.3, -0.7], dtype=F64))
        bn.running_var.copy_(tb.tensor([2.5, 0.4], dtype=F64))
    x = tb.randn(6, 4, dtype=F64)
    assert_close(fuse_linear_bn(linear, bn)(x), bn(linear(x)))


def test_layers_accept_float32_inputs_with_many_features_and_rows():
    """The shapes the benchmark uses, against PyTorch, forward and backward."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for ours, theirs in (
            (nn.BatchNorm1d(1024), torch.nn.BatchNorm1d(1024)),
            (nn.LayerNorm(1024), torch.nn.LayerNorm(1024)),
        ):
            _step_both(
                ours,
                theirs,
                _values(np.random.default_rng(9), (256, 1024), F32),
                np.random.default_rng(10),
                TOLERANCES[F32],
            )


def test_functional_batch_norm_refuses_momentum_none_without_a_batch_counter():
    running_mean, running_var = tb.zeros(3), tb.ones(3)
    with pytest.raises(TypeError, match=r"momentum=None .* needs the layer's num_batches_tracked"):
        tb.nn.functional.batch_norm(tb.randn(4, 3), running_mean, running_var, training=True, momentum=None)


def test_batch_norm_refuses_eps_zero_in_training_like_torch():
    with pytest.raises(ValueError, match=r"eps must be positive during training, got 0\.0"):
        tb.nn.BatchNorm1d(3, eps=0.0)(tb.randn(4, 3))
