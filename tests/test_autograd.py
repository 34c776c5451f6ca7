"""The autograd engine: graph building, backward, grad(), graph freeing, grad modes, in-place rules."""

import gc
import weakref

import numpy as np
import pytest
from helpers import torch

import tinygrad_bn as tb
from tinygrad_bn.testing import assert_close


def test_backward_accumulates_into_leaves_across_calls():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, [5.0, 7.0])


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = tb.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_diamond_graph_sums_both_paths():
    x = tb.tensor(3.0, dtype=tb.float64, requires_grad=True)
    a = x * 2
    (a * a + a).backward()
    assert x.grad.item() == pytest.approx(2 * 2 * 6 + 2)


def test_backward_on_non_scalar_needs_a_gradient():
    x = tb.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(tb.ones(2, 3))
    assert_close(x.grad, np.full((2, 3), 2.0))


def test_backward_gradient_of_the_wrong_shape_is_an_error():
    x = tb.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(tb.ones(3))


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tb.ones(2).sum().backward()


def test_second_backward_through_a_freed_graph_raises():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    assert_close(x.grad, 2 * first)


def test_in_place_change_to_a_saved_tensor_is_caught_at_backward():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h * h
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"Mul.*modified by an in-place operation.*version 1, expected version 0"):
        y.sum().backward()


def test_in_place_on_a_leaf_that_requires_grad_is_an_error_outside_no_grad():
    w = tb.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with tb.no_grad():
        w.sub_(tb.tensor([1.0, 2.0, 3.0]), alpha=0.5)
    assert_close(w.detach(), [0.5, 0.0, -0.5])


def test_in_place_ops_on_non_leaves_are_differentiable_like_torch():
    def run(lib, x):
        y = x * 2
        y.mul_(3)
        y += x
        y[0] = y[1] * 2
        return y.sum()

    x = tb.tensor([1.0, 2.0, 3.0], dtype=tb.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    run(tb, x).backward()
    run(torch, tx).backward()
    assert_close(x.grad, tx.grad)


def _view_taken_before_the_base_changes(lib, x, w):
    y = x * 1
    v = y[0]
    y.mul_(2)
    return v.sum()


def _in_place_product_with_a_tensor_that_requires_grad(lib, x, w):
    y = x * 1
    y.mul_(w)
    y.div_(w + 3)
    return y.sum()


def _in_place_write_through_a_view(lib, x, w):
    y = x * 1
    y[:, 1].add_(w)
    y[1].mul_(w)
    return (y * y).sum()


def _view_of_a_view_after_writes_through_another_view(lib, x, w):
    y = x * 1
    row = y[1]
    first = row[0:1]
    column = y.T[0]
    column.mul_(w)
    return (first * first).sum() + row.sum() + y.sum()


def _setitem_then_read_an_older_transposed_view(lib, x, w):
    y = x * 1
    v = y.T
    y[0] = w * 3
    return (v * v).sum()


def _base_without_grad_receives_a_value_with_grad(lib, x, w):
    y = lib.zeros(2, 2, dtype=x.dtype)
    v = y[0]
    y.add_(x)
    return (v * w).sum()


def _fill_and_copy_cut_the_gradient_to_the_old_value(lib, x, w):
    y = x * 2
    y[0].fill_(3.0)
    z = x * 3
    z[1].copy_(w)
    return (y * z).sum()


@pytest.mark.parametrize(
    "scenario",
    [
        _view_taken_before_the_base_changes,
        _in_place_product_with_a_tensor_that_requires_grad,
        _in_place_write_through_a_view,
        _view_of_a_view_after_writes_through_another_view,
        _setitem_then_read_an_older_transposed_view,
        _base_without_grad_receives_a_value_with_grad,
        _fill_and_copy_cut_the_gradient_to_the_old_value,
    ],
)
def test_in_place_writes_and_views_give_torchs_gradients(scenario):
    values, weights = [[1.0, -2.0], [3.0, 0.5]], [1.5, -0.25]
    x, w = (
        tb.tensor(values, dtype=tb.float64, requires_grad=True),
        tb.tensor(weights, dtype=tb.float64, requires_grad=True),
    )
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(weights, dtype=torch.float64, requires_grad=True)
    out, expected = scenario(tb, x, w), scenario(torch, tx, tw)
    assert_close(out, expected.detach())
    out.backward()
    expected.backward()
    assert_close(x.grad, tx.grad)
    assert_close(w.grad, tw.grad)


def test_in_place_writes_through_a_view_are_differentiable_twice():
    def second_derivative(lib, x):
        y = x * x
        y[1:].mul_(x[1:])
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        return lib.autograd.grad(g.sum(), x)[0]

    x = tb.tensor([1.0, 2.0, -3.0], dtype=tb.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0, -3.0], dtype=torch.float64, requires_grad=True)
    assert_close(second_derivative(tb, x), second_derivative(torch, tx))


def test_in_place_ops_leave_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = tb.ones(3, requires_grad=True)
        y = x * 2
        view = y[1:]
        y.mul_(x)
        view.add_(1)
        alive = weakref.ref(y)
        del y, view
        assert alive() is None, "the rebased tensor was kept alive by its own graph"
    finally:
        gc.enable()


def test_writing_into_a_broadcast_view_is_a_clear_error():
    expanded = tb.zeros(1, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match=r"add_: the tensor of shape \(4, 3\) is a broadcast"):
        expanded.add_(1)
    with pytest.raises(RuntimeError, match=r"setitem: .*broadcast"):
        expanded[0] = 1.0


def test_in_place_writes_through_views_that_cannot_be_differentiated_are_errors():
    leaf = tb.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a view of a leaf tensor that requires grad"):
        leaf[0:2].add_(1)
    y = tb.ones(3) * 1
    with tb.no_grad():
        view = y[0:2]
    with pytest.raises(RuntimeError, match="made under no_grad"):
        view.add_(leaf[0:2])
    history = leaf * 1
    with tb.no_grad():
        view = history[0:2]
    with pytest.raises(RuntimeError, match="mul_: this view was made under no_grad"):
        view.mul_(2)


def test_views_share_memory_and_version_with_their_base():
    base = tb.zeros(2, 3)
    view = base.view(3, 2)
    view[0, 1] = 5.0
    assert base[0, 1].item() == 5.0
    assert base._version.value == view._version.value == 1


def test_view_of_a_non_viewable_layout_is_an_error():
    with pytest.raises(RuntimeError, match=r"view.*reshape"):
        tb.zeros(2, 3).T.view(6)


def test_no_grad_builds_no_graph_and_works_as_decorator():
    x = tb.ones(2, requires_grad=True)
    with tb.no_grad():
        y = x * 2
        with tb.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @tb.no_grad()
    def double(t):
        return t * 2

    @tb.no_grad
    def triple(t):
        return t * 3

    assert not double(x).requires_grad
    assert not triple(x).requires_grad
    assert tb.is_grad_enabled()


def test_detach_cuts_the_graph_but_shares_memory():
    x = tb.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf


def test_grad_returns_gradients_without_touching_dot_grad():
    x = tb.tensor([1.0, 2.0], dtype=tb.float64, requires_grad=True)
    w = tb.tensor([3.0, 4.0], dtype=tb.float64, requires_grad=True)
    (gx,) = tb.autograd.grad((x * w).sum(), x)
    assert_close(gx, [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_unused_input_needs_allow_unused():
    x = tb.ones(2, requires_grad=True)
    unused = tb.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tb.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = tb.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx is not None


def test_create_graph_gives_second_derivatives_like_torch():
    x = tb.tensor([0.5, -1.0, 2.0], dtype=tb.float64, requires_grad=True)
    tx = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    for lib, t in ((tb, x), (torch, tx)):
        y = (t.tanh() * t.sigmoid() * t).sum()
        (g,) = lib.autograd.grad(y, t, create_graph=True)
        g.sum().backward()
    assert_close(x.grad, tx.grad)


def test_backward_without_create_graph_builds_no_graph():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert not x.grad.requires_grad


def test_intermediate_grad_with_retain_grad():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert_close(h.grad, [6.0, 12.0])


def test_broadcast_gradients_are_summed_to_the_input_shape():
    a = tb.ones(3, 1, requires_grad=True)
    b = tb.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    assert_close(a.grad, np.full((3, 1), 4.0))
    assert_close(b.grad, np.full(4, 3.0))


def test_leaf_gradients_are_dense_writable_and_private():
    a = tb.ones(3, requires_grad=True)
    b = tb.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert_close(b.grad, np.ones(3))


def test_graph_is_freed_after_backward():
    x = tb.ones(1000, requires_grad=True)
    y = x.exp()
    ref = weakref.ref(y)
    y.sum().backward()
    del y
    gc.collect()
    assert ref() is None


def test_requires_grad_only_for_floating_point():
    with pytest.raises(RuntimeError, match="floating point"):
        tb.tensor([1, 2], requires_grad=True)


def test_retain_grad_follows_an_in_place_op_like_torch():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    assert_close(y.grad, [1.0, 1.0])


def test_gradients_accumulate_into_the_same_grad_tensor_like_torch():
    x = tb.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    grad = x.grad
    (x * x).sum().backward()
    assert x.grad is grad
    assert_close(grad, [5.0, 7.0])


def test_integer_results_carry_no_gradient_like_torch():
    x = tb.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad and not x.bool().requires_grad and not x.argmax().requires_grad
    (x.long().float() * 2 + x).sum().backward()
    assert_close(x.grad, [1.0, 1.0])


def test_movement_ops_that_change_nothing_still_make_a_new_view():
    def retained_grad(lib):
        h = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True) * 2
        y = h.reshape(h.shape).squeeze().expand(2, 3).permute(0, 1)
        y.retain_grad()
        (y * y * h).sum().backward()
        return y.grad

    assert_close(retained_grad(tb), retained_grad(torch))
    x = tb.ones(3)
    assert x.reshape(3) is not x and x.reshape(3)._base is x


def test_data_is_untracked_but_detach_shares_the_version():
    x = tb.ones(2, requires_grad=True)
    y = x * x
    x.data.add_(1)  # not seen by autograd, as in PyTorch
    y.sum().backward()
    assert_close(x.grad, [4.0, 4.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z = x * x
        x.detach().add_(1)
        z.sum().backward()


def test_leaf_gradients_never_alias_each_other_or_the_callers_gradient():
    a, b, w = (tb.ones(2, 2, requires_grad=True) for _ in range(3))
    ((a + b) @ w).sum().backward()  # Add hands one fresh tensor to both inputs
    assert a.grad is not b.grad
    with tb.no_grad():
        a.grad.add_(1)
    assert b.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    seed = tb.ones(2, 2)
    a.grad = None
    a.clone().backward(seed)
    assert a.grad is not seed
    with tb.no_grad():
        a.grad.add_(1)
    assert seed.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_a_fresh_gradient_becomes_grad_without_a_copy():
    x, w = tb.ones(3, 2), tb.ones(2, 4, requires_grad=True)
    (x @ w).sum().backward()
    first = w.grad
    (x @ w).sum().backward()
    assert w.grad is first and first.tolist() == [[6.0] * 4] * 2
