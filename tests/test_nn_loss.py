"""Every loss against PyTorch: values and gradients (w.r.t. input and, where differentiable, target)
on hypothesis-drawn float64 inputs for all three reductions, float32 at fixed inputs, finite
differences, stability at extreme logits, BCE's clamp, module reprs and each error message."""

import numpy as np
import pytest
from helpers import check_against_torch, torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tb
from tinygrad_bn.nn import loss
from tinygrad_bn.testing import assert_close, gradcheck, gradgradcheck
from tinygrad_bn.testing.strategies import shapes, tensors

F = torch.nn.functional
F64 = tb.float64
REDUCTIONS = ["mean", "sum", "none"]
probabilities = st.floats(0.02, 0.98, width=64)
unit_interval = st.floats(0, 1, width=64)


def leaf(shape, elements=None):
    """A float64 leaf requiring grad."""
    return tensors(shape=shape, dtype=F64, elements=elements, requires_grad=True)


# --- regression losses --------------------------------------------------------------------------

REGRESSION = {
    "mse_loss": ({}, {}),
    "l1_loss": ({}, {}),
    "huber_loss": ({"delta": 1.0}, {"delta": 1.0}),
    "huber_loss_delta_0.3": ({"delta": 0.3}, {"delta": 0.3}),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(REGRESSION))
@given(data=st.data())
def test_regression_loss_matches_torch(name, reduction, data):
    function = name.split("_delta")[0]
    kwargs = REGRESSION[name][0]
    shape = data.draw(shapes(max_dims=3))
    x, y = data.draw(leaf(shape)), data.draw(leaf(shape))
    check_against_torch(
        lambda a, b: getattr(loss, function)(a, b, reduction=reduction, **kwargs),
        lambda a, b: getattr(F, function)(a, b, reduction=reduction, **kwargs),
        x,
        y,
    )


# --- cross entropy and NLL with class indices -----------------------------------------------------


@st.composite
def class_index_problems(draw):
    """(input, target, weight or None, ignore_index): input (C,), (N, C) or (N, C, d1[, d2]); some
    targets set to ignore_index (never the first, so a mean always has a nonzero denominator)."""
    classes = draw(st.integers(1, 5))
    batch = draw(st.sampled_from(["unbatched", "batched"]))
    extra = draw(st.lists(st.integers(1, 3), max_size=2))
    shape = (classes,) if batch == "unbatched" else (draw(st.integers(1, 4)), classes, *extra)
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)))
    ignored = draw(hnp.arrays(np.bool_, target_shape))
    ignored.flat[0] = False
    target[ignored] = ignore_index
    weight = draw(st.none() | tensors(shape=(classes,), dtype=F64, elements=st.floats(0.1, 2, width=64)))
    return draw(leaf(shape)), tb.tensor(target), weight, ignore_index


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=class_index_problems(), label_smoothing=st.sampled_from([0.0, 0.25]))
def test_cross_entropy_with_class_indices_matches_torch(reduction, problem, label_smoothing):
    x, target, weight, ignore_index = problem
    options = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": label_smoothing}
    check_against_torch(
        lambda a: loss.cross_entropy(a, target, weight=weight, **options),
        lambda a: F.cross_entropy(a, torch.from_numpy(target.numpy()), weight=_torch(weight), **options),
        x,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=class_index_problems())
def test_nll_loss_matches_torch(reduction, problem):
    x, target, weight, ignore_index = problem
    options = {"ignore_index": ignore_index, "reduction": reduction}
    check_against_torch(
        lambda a: loss.nll_loss(a, target, weight=weight, **options),
        lambda a: F.nll_loss(a, torch.from_numpy(target.numpy()), weight=_torch(weight), **options),
        x,
    )


def _torch(tensor):
    return None if tensor is None else torch.from_numpy(np.array(tensor.numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data(), label_smoothing=st.sampled_from([0.0, 0.3]), weighted=st.booleans())
def test_cross_entropy_with_class_probabilities_matches_torch(reduction, data, label_smoothing, weighted):
    classes = data.draw(st.integers(1, 4))
    shape = data.draw(st.sampled_from([(classes,), (3, classes), (2, classes, 3)]))
    x, target = data.draw(leaf(shape)), data.draw(leaf(shape, unit_interval))
    weight = tb.rand(classes, dtype=F64) + 0.5 if weighted else None
    options = {"reduction": reduction, "label_smoothing": label_smoothing}
    check_against_torch(
        lambda a, b: loss.cross_entropy(a, b, weight=weight, **options),
        lambda a, b: F.cross_entropy(a, b, weight=_torch(weight), **options),
        x,
        target,
    )


# --- binary cross entropy ---------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data(), weighted=st.booleans())
def test_binary_cross_entropy_matches_torch(reduction, data, weighted):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    x, y = data.draw(leaf(shape, probabilities)), data.draw(leaf(shape, unit_interval))
    weight = tb.rand(shape[-1], dtype=F64) + 0.5 if weighted else None
    check_against_torch(
        lambda a, b: loss.binary_cross_entropy(a, b, weight=weight, reduction=reduction),
        lambda a, b: F.binary_cross_entropy(a, b, weight=_torch(weight), reduction=reduction),
        x,
        y,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data(), weighted=st.booleans(), pos_weighted=st.booleans())
def test_binary_cross_entropy_with_logits_matches_torch(reduction, data, weighted, pos_weighted):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    x, y = data.draw(leaf(shape, st.floats(-8, 8, width=64))), data.draw(leaf(shape, unit_interval))
    weight = tb.rand(shape[-1], dtype=F64) + 0.5 if weighted else None
    pos_weight = tb.rand(shape[-1], dtype=F64) * 3 if pos_weighted else None
    check_against_torch(
        lambda a, b: loss.binary_cross_entropy_with_logits(
            a, b, weight=weight, reduction=reduction, pos_weight=pos_weight
        ),
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=_torch(weight), reduction=reduction, pos_weight=_torch(pos_weight)
        ),
        x,
        y,
    )


# --- float32 at fixed inputs, and finite differences in float64 ----------------------------------------

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3, 2))
CLASS_TARGETS = np.array([[0, 2], [1, -100], [2, 2], [0, 1]])
PROBABILITY_TARGETS = RNG.random((4, 3, 2))
PROBABILITIES = RNG.uniform(0.05, 0.95, (4, 3))
BINARY_TARGETS = RNG.random((4, 3))
CLASS_WEIGHT = np.array([0.5, 1.0, 2.0])

# name: (our loss, torch's loss, input values, target values, whether the target is differentiable)
FIXED = {
    "mse_loss": (loss.mse_loss, F.mse_loss, LOGITS, PROBABILITY_TARGETS, True),
    "l1_loss": (loss.l1_loss, F.l1_loss, LOGITS, PROBABILITY_TARGETS, True),
    "huber_loss": (loss.huber_loss, F.huber_loss, 2 * LOGITS, PROBABILITY_TARGETS, True),
    "cross_entropy_indices": (
        lambda a, b: loss.cross_entropy(a, b, weight=tb.tensor(CLASS_WEIGHT, dtype=a.dtype), label_smoothing=0.1),
        lambda a, b: F.cross_entropy(a, b, weight=torch.tensor(CLASS_WEIGHT, dtype=a.dtype), label_smoothing=0.1),
        LOGITS,
        CLASS_TARGETS,
        False,
    ),
    "cross_entropy_probabilities": (loss.cross_entropy, F.cross_entropy, LOGITS, PROBABILITY_TARGETS, True),
    "nll_loss": (loss.nll_loss, F.nll_loss, LOGITS, CLASS_TARGETS, False),
    "binary_cross_entropy": (loss.binary_cross_entropy, F.binary_cross_entropy, PROBABILITIES, BINARY_TARGETS, True),
    "binary_cross_entropy_with_logits": (
        lambda a, b: loss.binary_cross_entropy_with_logits(a, b, pos_weight=tb.tensor([1.0, 2.0, 0.5], dtype=a.dtype)),
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor([1.0, 2.0, 0.5], dtype=a.dtype)),
        4 * PROBABILITIES - 2,
        BINARY_TARGETS,
        True,
    ),
}


def fixed_inputs(name, dtype):
    _, _, input_values, target_values, target_differentiable = FIXED[name]
    x = tb.tensor(input_values, dtype=dtype, requires_grad=True)
    if target_values.dtype == np.int64:
        return x, tb.tensor(target_values)
    return x, tb.tensor(target_values, dtype=dtype, requires_grad=target_differentiable)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_loss_matches_torch_in_float32(name):
    ours, theirs = FIXED[name][:2]
    check_against_torch(ours, theirs, *fixed_inputs(name, tb.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_loss_passes_gradcheck_in_float64(name):
    ours = FIXED[name][0]
    assert gradcheck(ours, list(fixed_inputs(name, F64)))


@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_fused_cross_entropy_passes_gradgradcheck(label_smoothing, weighted, ignore_index):
    weight = tb.tensor(CLASS_WEIGHT, dtype=F64) if weighted else None
    target = tb.tensor(np.where(CLASS_TARGETS == -100, ignore_index, CLASS_TARGETS))

    def ours(a):
        return loss.cross_entropy(a, target, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing)

    assert gradgradcheck(ours, [tb.tensor(LOGITS, dtype=F64, requires_grad=True)])


def test_fused_cross_entropy_second_derivative_matches_torch():
    options = {"label_smoothing": 0.2, "reduction": "mean"}
    x = tb.tensor(LOGITS, dtype=F64, requires_grad=True)
    x_t = torch.tensor(LOGITS, requires_grad=True)
    value = loss.cross_entropy(x, tb.tensor(CLASS_TARGETS), **options, weight=tb.tensor(CLASS_WEIGHT))
    value_t = F.cross_entropy(x_t, torch.tensor(CLASS_TARGETS), **options, weight=torch.tensor(CLASS_WEIGHT))
    (first,) = tb.autograd.grad(value, [x], create_graph=True)
    (first_t,) = torch.autograd.grad(value_t, [x_t], create_graph=True)
    direction = RNG.standard_normal(LOGITS.shape)
    (second,) = tb.autograd.grad((first * tb.tensor(direction)).sum(), [x])
    (second_t,) = torch.autograd.grad((first_t * torch.from_numpy(direction)).sum(), [x_t])
    assert_close(second, second_t, rtol=1e-10, atol=1e-12)


def test_fused_cross_entropy_on_a_large_batch_matches_torch_for_any_thread_count():
    logits = RNG.standard_normal((300, 1000)).astype(np.float32) * 4
    target = RNG.integers(0, 1000, 300)
    results = []
    for threads in (1, 2):
        tb.set_num_threads(threads)
        try:
            x = tb.tensor(logits, requires_grad=True)
            value = loss.cross_entropy(x, tb.tensor(target), label_smoothing=0.1)
            value.backward()
            results.append((value.item(), x.grad.numpy()))
        finally:
            tb.set_num_threads(2)
    assert results[0][0] == results[1][0] and np.array_equal(results[0][1], results[1][1])
    x = tb.tensor(logits, requires_grad=True)
    check_against_torch(
        lambda a: loss.cross_entropy(a, tb.tensor(target), label_smoothing=0.1),
        lambda a: F.cross_entropy(a, torch.from_numpy(target), label_smoothing=0.1),
        x,
        rtol=1e-5,
        atol=1e-7,
    )


# --- numerics at the edges --------------------------------------------------------------------------


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_is_finite_and_exact_at_logits_of_plus_minus_1000(label_smoothing):
    logits = tb.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=F64, requires_grad=True)
    target = tb.tensor([1, 2])
    check_against_torch(
        lambda a: loss.cross_entropy(a, target, label_smoothing=label_smoothing),
        lambda a: F.cross_entropy(a, torch.tensor([1, 2]), label_smoothing=label_smoothing),
        logits,
    )
    assert np.isfinite(logits.grad.numpy()).all()


def test_binary_cross_entropy_with_logits_is_finite_and_exact_at_plus_minus_1000():
    logits = tb.tensor([1000.0, -1000.0, 1000.0, -1000.0, 0.0], dtype=F64, requires_grad=True)
    target = tb.tensor([0.0, 1.0, 1.0, 0.0, 0.5], dtype=F64, requires_grad=True)
    check_against_torch(loss.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, logits, target)
    assert np.isfinite(logits.grad.numpy()).all()


def test_binary_cross_entropy_clamps_its_logs_at_minus_100_like_torch():
    # Probabilities of exactly 0 and 1: log gives −inf, clamped to −100, so the loss is 100;
    # the gradient is (x − y) / max(x(1 − x), 1e-12), finite as in PyTorch.
    x = tb.tensor([0.0, 1.0, 0.0, 1.0], dtype=F64, requires_grad=True)
    y = tb.tensor([1.0, 0.0, 0.0, 1.0], dtype=F64)
    check_against_torch(
        lambda a, b: loss.binary_cross_entropy(a, b, reduction="none"),
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
        x,
        y,
    )
    assert_close(loss.binary_cross_entropy(x, y, reduction="none"), [100.0, 100.0, 0.0, 0.0])


def test_nll_loss_mean_with_every_target_ignored_is_nan_like_torch():
    out = loss.nll_loss(tb.zeros(2, 3), tb.tensor([-100, -100]))
    expected = F.nll_loss(torch.zeros(2, 3), torch.tensor([-100, -100]))
    assert np.isnan(out.item()) and np.isnan(expected.item())


# --- modules --------------------------------------------------------------------------------------

WEIGHT = tb.tensor([1.0, 2.0, 3.0], dtype=F64)
MODULES = [
    (loss.MSELoss(), torch.nn.MSELoss()),
    (loss.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum")),
    (loss.HuberLoss(delta=2.0), torch.nn.HuberLoss(delta=2.0)),
    (
        loss.CrossEntropyLoss(WEIGHT, label_smoothing=0.1),
        torch.nn.CrossEntropyLoss(_torch(WEIGHT), label_smoothing=0.1),
    ),
    (loss.NLLLoss(ignore_index=1), torch.nn.NLLLoss(ignore_index=1)),
    (loss.BCELoss(), torch.nn.BCELoss()),
    (loss.BCEWithLogitsLoss(pos_weight=WEIGHT), torch.nn.BCEWithLogitsLoss(pos_weight=_torch(WEIGHT))),
]


@pytest.mark.parametrize(("ours", "theirs"), MODULES, ids=lambda m: type(m).__name__)
def test_module_repr_matches_torch(ours, theirs):
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(("ours", "theirs"), MODULES[3:5], ids=lambda m: type(m).__name__)
def test_class_index_module_matches_torch(ours, theirs):
    targets = np.where(CLASS_TARGETS == -100, ours.ignore_index, CLASS_TARGETS)
    x = tb.tensor(LOGITS, requires_grad=True)
    check_against_torch(lambda a: ours(a, tb.tensor(targets)), lambda a: theirs(a, torch.from_numpy(targets)), x)


@pytest.mark.parametrize(("ours", "theirs"), MODULES[:3] + MODULES[5:], ids=lambda m: type(m).__name__)
def test_elementwise_module_matches_torch(ours, theirs):
    x = tb.tensor(PROBABILITIES, requires_grad=True)
    y = tb.tensor(BINARY_TARGETS, requires_grad=True)
    check_against_torch(ours, theirs, x, y)


def test_weights_are_registered_as_buffers():
    module = loss.BCEWithLogitsLoss(weight=tb.ones(3), pos_weight=tb.ones(3))
    assert [name for name, _ in module.named_buffers()] == ["weight", "pos_weight"]


def test_legacy_size_average_maps_to_a_reduction_with_torchs_warning():
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        module = loss.MSELoss(size_average=False)
    assert module.reduction == "sum"


# --- errors: one per message -------------------------------------------------------------------------


def test_unknown_reduction_is_torchs_error():
    with pytest.raises(ValueError, match=r"^average is not a valid value for reduction$"):
        loss.mse_loss(tb.zeros(2), tb.zeros(2), reduction="average")


def test_cross_entropy_target_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(3,\) does not match input of shape"):
        loss.cross_entropy(tb.zeros(2, 4), tb.tensor([0, 1, 2]))


def test_class_index_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match=r"nll_loss: target 4 is out of bounds: expected a class index in \[0, 4\)"):
        loss.nll_loss(tb.zeros(2, 4), tb.tensor([0, 4]))


def test_float_class_indices_are_a_type_error():
    message = r"cross_entropy: expected int64 class indices as target, got tinygrad_bn\.float32"
    with pytest.raises(TypeError, match=message):
        loss.cross_entropy(tb.zeros(2, 4), tb.tensor([0.0, 1.0]))


def test_integer_class_probabilities_are_a_type_error():
    with pytest.raises(TypeError, match="holds class probabilities and must be floating point"):
        loss.cross_entropy(tb.zeros(2, 4), tb.zeros(2, 4, dtype=tb.int64))


def test_class_weight_of_the_wrong_size_is_an_error():
    with pytest.raises(ValueError, match=r"nll_loss: weight must have shape \(4,\), one entry per class"):
        loss.nll_loss(tb.zeros(2, 4), tb.tensor([0, 1]), weight=tb.ones(3))


def test_zero_dim_logits_are_an_error():
    with pytest.raises(ValueError, match=r"cross_entropy: input must have shape \(C,\), \(N, C\)"):
        loss.cross_entropy(tb.tensor(1.0), tb.tensor(0))


def test_label_smoothing_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0\.0 and 1\.0, got 1\.5"):
        loss.cross_entropy(tb.zeros(2, 4), tb.tensor([0, 1]), label_smoothing=1.5)


def test_binary_cross_entropy_input_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        loss.binary_cross_entropy(tb.tensor([0.5, 1.5]), tb.tensor([0.0, 1.0]))


@pytest.mark.parametrize("function", [loss.binary_cross_entropy, loss.binary_cross_entropy_with_logits])
def test_binary_target_of_another_shape_is_an_error(function):
    with pytest.raises(ValueError, match=rf"{function.__name__}: target of shape \(3,\) must have the same shape"):
        function(tb.full((3, 1), 0.5), tb.zeros(3))


def test_pos_weight_that_does_not_broadcast_is_an_error():
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast against input of shape"):
        loss.binary_cross_entropy_with_logits(tb.zeros(4, 3), tb.zeros(4, 3), pos_weight=tb.ones(2))


def test_regression_target_that_does_not_broadcast_is_an_error():
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(2,\) does not broadcast against input"):
        loss.mse_loss(tb.zeros(3), tb.zeros(2))


def test_regression_target_of_another_shape_warns_like_torch_and_broadcasts():
    with pytest.warns(UserWarning, match=r"l1_loss: using a target size \(1,\) that is different to the input size"):
        out = loss.l1_loss(tb.tensor([1.0, 3.0]), tb.tensor([2.0]))
    assert out.item() == 1.0


def test_non_positive_huber_delta_is_an_error():
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        loss.huber_loss(tb.zeros(2), tb.zeros(2), delta=0)


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match=r"mse_loss: expected a floating point input, got tinygrad_bn\.int64"):
        loss.mse_loss(tb.tensor([1, 2]), tb.tensor([1, 2]))


def test_inputs_torch_refuses_are_refused():
    probabilities = tb.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="ignore_index is not supported for floating point"):
        loss.cross_entropy(tb.zeros(2, 3), probabilities, ignore_index=1)
    with pytest.raises(ValueError, match="all elements of target should be between 0 and 1"):
        loss.binary_cross_entropy(tb.full((3,), 0.5), tb.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 3\) does not broadcast against input of shape \(3,\)"):
        loss.binary_cross_entropy(tb.full((3,), 0.5), tb.ones(3), weight=tb.ones(2, 3))


def test_cross_entropy_is_not_differentiable_in_its_weight_like_torch():
    weight = tb.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to weight"):
        loss.cross_entropy(tb.randn(2, 3, requires_grad=True), tb.tensor([0, 1]), weight=weight)


def test_cross_entropy_refuses_an_ignore_index_past_int64():
    with pytest.raises(ValueError, match="ignore_index must fit in int64"):
        loss.cross_entropy(tb.randn(2, 3), tb.tensor([0, 1]), ignore_index=2**70)


@pytest.mark.parametrize("function", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("weight_dtype", [tb.float64, tb.int64])
def test_class_index_losses_refuse_a_weight_of_another_dtype_like_torch(function, weight_dtype):
    logits, target = tb.zeros(2, 3), tb.tensor([0, 2])
    torch_dtype = torch.float64 if weight_dtype is tb.float64 else torch.int64
    with pytest.raises(RuntimeError):
        getattr(F, function)(torch.zeros(2, 3), torch.tensor([0, 2]), weight=torch.ones(3, dtype=torch_dtype))
    with pytest.raises(RuntimeError, match=f"{function}: weight is {weight_dtype.name} but the input .* is float32"):
        getattr(loss, function)(logits, target, weight=tb.ones(3, dtype=weight_dtype))


def test_probability_target_cross_entropy_promotes_a_float64_weight_like_torch():
    probabilities = [[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]
    ours = loss.cross_entropy(tb.zeros(2, 3), tb.tensor(probabilities), weight=tb.ones(3, dtype=tb.float64))
    theirs = F.cross_entropy(torch.zeros(2, 3), torch.tensor(probabilities), weight=torch.ones(3, dtype=torch.float64))
    assert ours.dtype is tb.float64 and theirs.dtype is torch.float64
    assert abs(ours.item() - theirs.item()) < 1e-12
