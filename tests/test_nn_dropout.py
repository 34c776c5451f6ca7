"""Dropout and alpha dropout: statistics over large draws, the exact transforms given the mask,
eval identity, seeding, gradients, validation and repr (PyTorch as the oracle where it is
deterministic)."""

import math

import numpy as np
import pytest
from helpers import torch

import tinygrad_bn as tb
from tinygrad_bn.nn.dropout import SELU_SATURATION, AlphaDropout, Dropout, alpha_dropout, dropout
from tinygrad_bn.testing import assert_close

N = 100_000


def positive_input(n=N, requires_grad=False):
    """Values in [0.5, 1.5): never zero, so a zero in the output means dropped."""
    return (tb.rand(n, dtype=tb.float64) + 0.5).requires_grad_(requires_grad)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p(p):
    tb.manual_seed(0)
    out = dropout(positive_input(), p).numpy()
    assert abs((out == 0).mean() - p) < 0.01  # 6 standard deviations at n = 1e5


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_scales_survivors_by_one_over_one_minus_p(p):
    tb.manual_seed(1)
    x = positive_input()
    out = dropout(x, p).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x.numpy()[kept] / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_preserves_the_mean(p):
    tb.manual_seed(2)
    out = dropout(tb.ones(N, dtype=tb.float64), p)
    assert abs(out.mean().item() - 1) < 6 * math.sqrt(p / (1 - p) / N)


def test_dropout_gradient_is_the_mask_over_one_minus_p():
    tb.manual_seed(3)
    x = positive_input(1000, requires_grad=True)
    out = dropout(x, 0.3)
    out.backward(tb.ones_like(out))
    assert_close(x.grad, (out.detach().numpy() != 0) / 0.7)


def test_dropout_is_reproducible_with_manual_seed():
    x = positive_input(1000)
    tb.manual_seed(7)
    first = dropout(x, 0.5).numpy()
    tb.manual_seed(7)
    second = dropout(x, 0.5).numpy()
    tb.manual_seed(8)
    other = dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_dropout_in_eval_or_with_p_zero_returns_the_input():
    x = positive_input(10)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert alpha_dropout(x, 0.5) is x  # alpha_dropout's training defaults to False, as in PyTorch


@pytest.mark.parametrize("function", [dropout, alpha_dropout])
def test_p_one_gives_zeros_and_zero_gradient(function):
    x = positive_input(10, requires_grad=True)
    out = function(x, 1.0, training=True)
    expected = getattr(torch.nn.functional, function.__name__)(torch.ones(10), 1.0, training=True)
    assert_close(out, expected.double())
    out.sum().backward()
    assert_close(x.grad, np.zeros(10))


def test_dropout_module_follows_its_training_flag():
    layer = Dropout(0.5)
    x = positive_input(1000)
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert (layer(x).numpy() == 0).any()


def test_inplace_dropout_writes_into_its_input():
    tb.manual_seed(4)
    x = positive_input(1000)
    out = dropout(x, 0.5, inplace=True)
    assert out is x
    assert (x.numpy() == 0).any()


def alpha_dropout_constants(p):
    """a and b of PyTorch's alpha dropout, from the SELU saturation α' = −λα."""
    saturation = -SELU_SATURATION
    a = ((1 - p) * (1 + p * saturation**2)) ** -0.5
    return a, -a * saturation * p, saturation


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_is_a_times_x_m_plus_alpha_prime_one_minus_m_plus_b(p):
    tb.manual_seed(5)
    x = tb.randn(1000, dtype=tb.float64, requires_grad=True)
    out = alpha_dropout(x, p, training=True)
    a, b, saturation = alpha_dropout_constants(p)
    dropped_value = a * saturation + b
    mask = ~np.isclose(out.detach().numpy(), dropped_value, rtol=0, atol=1e-12)
    expected = a * (x.detach().numpy() * mask + saturation * (1 - mask)) + b
    assert_close(out, expected, rtol=1e-12, atol=1e-12)
    out.backward(tb.ones_like(out))
    assert_close(x.grad, a * mask, rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_std_of_a_standard_normal(p):
    tb.manual_seed(6)
    out = AlphaDropout(p)(tb.randn(2 * N, dtype=tb.float64))
    assert abs(out.mean().item()) < 0.02
    assert abs(out.std().item() - 1) < 0.02


def test_alpha_dropout_module_is_the_identity_in_eval():
    layer = AlphaDropout(0.3).eval()
    x = tb.randn(10)
    assert layer(x) is x


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Dropout(), torch.nn.Dropout()),
        (Dropout(0.2, inplace=True), torch.nn.Dropout(0.2, inplace=True)),
        (AlphaDropout(0.1), torch.nn.AlphaDropout(0.1)),
    ],
)
def test_repr_matches_torch(ours, theirs):
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Dropout(1.5),
        lambda: AlphaDropout(1.5),
        lambda: dropout(tb.ones(3), 1.5),
        lambda: alpha_dropout(tb.ones(3), 1.5, training=True),
    ],
)
def test_p_outside_zero_one_is_torchs_error(make):
    with pytest.raises(ValueError, match=r"^dropout probability has to be between 0 and 1, but got 1\.5$"):
        make()
    with pytest.raises(ValueError, match=r"^dropout probability has to be between 0 and 1, but got 1\.5$"):
        torch.nn.Dropout(1.5)
