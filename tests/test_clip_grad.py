"""Gradient clipping against ``torch.nn.utils``: the total norm returned and the clipped gradients
for several norm types and dtypes, clipping by value, skipped parameters, a single Tensor, the
in-place contract, and the non-finite error."""

import math

import numpy as np
import pytest
from helpers import torch

import tinygrad_bn as tb
from tinygrad_bn.nn.clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from tinygrad_bn.testing import assert_close

SHAPES = [(3, 4), (5,), (2, 2, 3), ()]
DTYPES = {"float32": (tb.float32, np.float32), "float64": (tb.float64, np.float64)}


def parameter_pairs(gradients, dtype="float32"):
    """Our parameters and PyTorch's with the given gradients (None: no gradient)."""
    tb_dtype, np_dtype = DTYPES[dtype]
    ours, theirs = [], []
    for gradient in gradients:
        shape = () if gradient is None else gradient.shape
        ours.append(tb.zeros(shape, dtype=tb_dtype, requires_grad=True))
        theirs.append(torch.zeros(shape, dtype=getattr(torch, dtype), requires_grad=True))
        if gradient is not None:
            ours[-1].grad = tb.tensor(gradient.astype(np_dtype))
            theirs[-1].grad = torch.tensor(gradient.astype(np_dtype))
    return ours, theirs


def random_gradients(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in SHAPES]


def assert_same_grads(ours, theirs, rtol=None, atol=None):
    for ours_param, theirs_param in zip(ours, theirs):
        if theirs_param.grad is None:
            assert ours_param.grad is None
        else:
            assert_close(ours_param.grad, theirs_param.grad, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clips", "no_clip"])
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 0.5, 3.0, "inf"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    ours, theirs = parameter_pairs(random_gradients(), dtype)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.shape == () and total.dtype == DTYPES[dtype][0]
    assert_close(total, expected)
    assert_same_grads(ours, theirs)


@pytest.mark.parametrize("norm_type", [0, -math.inf])
def test_clip_grad_norm_degenerate_norm_types_match_torch(norm_type):
    """Order 0 counts the non-zero per-tensor norms; order −inf takes the smallest."""
    ours, theirs = parameter_pairs(random_gradients(1, scale=0.1))
    assert_close(clip_grad_norm_(ours, 0.05, norm_type), torch.nn.utils.clip_grad_norm_(theirs, 0.05, norm_type))
    assert_same_grads(ours, theirs)


def test_clip_grad_norm_is_the_norm_of_all_gradients_concatenated():
    gradients = random_gradients(2)
    ours, _ = parameter_pairs(gradients, "float64")
    total = clip_grad_norm_(ours, 1.0)
    assert float(total) == pytest.approx(np.linalg.norm(np.concatenate([g.ravel() for g in gradients])), rel=1e-12)


def test_clip_grad_norm_scales_by_max_norm_over_total_plus_eps():
    ours, _ = parameter_pairs([np.array([3.0, 4.0])], "float64")
    clip_grad_norm_(ours, 1.0)
    np.testing.assert_allclose(ours[0].grad.numpy(), np.array([3.0, 4.0]) / (5.0 + 1e-6), rtol=1e-15)


def test_clip_grad_norm_skips_parameters_without_grad():
    gradients = [None, *random_gradients(3)[:2], None]
    ours, theirs = parameter_pairs(gradients)
    assert_close(clip_grad_norm_(ours, 0.3), torch.nn.utils.clip_grad_norm_(theirs, 0.3))
    assert_same_grads(ours, theirs)


def test_clip_grad_norm_accepts_a_single_tensor_and_a_generator():
    ours, theirs = parameter_pairs(random_gradients(4)[:1])
    assert_close(clip_grad_norm_(ours[0], 0.2), torch.nn.utils.clip_grad_norm_(theirs[0], 0.2))
    assert_same_grads(ours, theirs)
    ours, theirs = parameter_pairs(random_gradients(5))
    assert_close(clip_grad_norm_((p for p in ours), 0.2), torch.nn.utils.clip_grad_norm_((p for p in theirs), 0.2))
    assert_same_grads(ours, theirs)


def test_clip_grad_norm_of_nothing_is_zero():
    total = clip_grad_norm_([], 1.0)
    assert total.shape == () and float(total) == float(torch.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_writes_in_place_without_recording():
    ours, _ = parameter_pairs(random_gradients(6))
    grads = [p.grad for p in ours]
    total = clip_grad_norm_(ours, 0.1)
    assert all(p.grad is grad for p, grad in zip(ours, grads))
    assert not total.requires_grad and not any(g.requires_grad for g in grads)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_non_finite_error_matches_torch(bad):
    gradients = random_gradients(7)
    gradients[1][2] = bad
    ours, theirs = parameter_pairs(gradients)
    with pytest.raises(RuntimeError) as expected:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as raised:
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert str(raised.value) == str(expected.value)
    assert_same_grads(ours, theirs)  # nothing was scaled


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_scales_by_a_non_finite_norm_when_allowed(bad):
    gradients = random_gradients(8)
    gradients[0][1, 1] = bad
    ours, theirs = parameter_pairs(gradients)
    total = clip_grad_norm_(ours, 1.0)
    assert_close(total, torch.nn.utils.clip_grad_norm_(theirs, 1.0), equal_nan=True)
    for ours_param, theirs_param in zip(ours, theirs):
        assert_close(ours_param.grad, theirs_param.grad, equal_nan=True)


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = parameter_pairs(random_gradients(9))
    total = get_total_norm([p.grad for p in ours], 3.0)
    expected = torch.nn.utils.get_total_norm([p.grad for p in theirs], 3.0)
    assert_close(total, expected)
    clip_grads_with_norm_(ours, 0.4, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.4, expected)
    assert_same_grads(ours, theirs)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("clip_value", [0.5, 2, 10.0])
def test_clip_grad_value_matches_torch(clip_value, dtype):
    ours, theirs = parameter_pairs([None, *random_gradients(10, scale=2.0)], dtype)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_same_grads(ours, theirs, rtol=0, atol=0)


def test_clip_grad_value_accepts_a_single_tensor_in_place():
    ours, theirs = parameter_pairs(random_gradients(11)[:1])
    grad = ours[0].grad
    clip_grad_value_(ours[0], 0.25)
    torch.nn.utils.clip_grad_value_(theirs[0], 0.25)
    assert ours[0].grad is grad
    assert_same_grads(ours, theirs, rtol=0, atol=0)


def test_clip_grad_norm_of_mixed_dtypes_is_computed_in_the_wider_one():
    gradients = random_gradients(12)
    ours32, theirs32 = parameter_pairs(gradients[:2], "float32")
    ours64, theirs64 = parameter_pairs(gradients[2:], "float64")
    total = clip_grad_norm_(ours32 + ours64, 0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs32 + theirs64, 0.5)
    assert total.dtype == tb.float64 and expected.dtype == torch.float64
    assert_close(total, expected)
    assert_same_grads(ours32 + ours64, theirs32 + theirs64)
    assert ours32[0].grad.dtype == tb.float32
