"""Optimizers against torch.optim: the same parameters and gradients, step by step."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import torch

import tinygrad_bn as tb
from tinygrad_bn import optim
from tinygrad_bn.testing import assert_close

RNG = np.random.default_rng(0)
SHAPES = [(5, 3), (3,), (1,), (2, 2, 2)]
INITIAL = [RNG.standard_normal(shape) for shape in SHAPES]
GRADIENTS = [[RNG.standard_normal(shape) for shape in SHAPES] for _ in range(100)]

# name: (optimizer class name, keyword arguments) — every option of every optimizer at least once
CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_dampening_decay": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    "sgd_nesterov_maximize": (
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1, "maximize": True},
    ),
    "adam": ("Adam", {"lr": 0.01}),
    "adam_amsgrad_decay": ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1}),
    "adamw": ("AdamW", {"lr": 0.01}),
    "adamw_amsgrad_maximize": ("AdamW", {"lr": 0.01, "eps": 1e-6, "amsgrad": True, "maximize": True}),
    "rmsprop": ("RMSprop", {"lr": 0.01}),
    "rmsprop_momentum_centered": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "centered": True}),
    "rmsprop_decay_maximize": ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-3, "maximize": True}),
    "adagrad": ("Adagrad", {"lr": 0.1}),
    "adagrad_all": ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
}


def make_pair(name, dtype=np.float64, values=INITIAL):
    class_name, options = CONFIGS[name]
    ours = [tb.tensor(v.astype(dtype), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.astype(dtype), requires_grad=True) for v in values]
    return (
        ours,
        theirs,
        getattr(optim, class_name)(ours, **options),
        getattr(torch.optim, class_name)(theirs, **options),
    )


def run_steps(ours, theirs, our_optimizer, their_optimizer, gradients, dtype=np.float64):
    for step_gradients in gradients:
        for p, q, g in zip(ours, theirs, step_gradients):
            p.grad = tb.tensor(g.astype(dtype))
            q.grad = torch.tensor(g.astype(dtype))
        our_optimizer.step()
        their_optimizer.step()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_100_float64_steps_match_torch(name):
    ours, theirs, our_optimizer, their_optimizer = make_pair(name)
    run_steps(ours, theirs, our_optimizer, their_optimizer, GRADIENTS)
    for p, q in zip(ours, theirs):
        assert_close(p, q.detach(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_20_float32_steps_match_torch(name):
    ours, theirs, our_optimizer, their_optimizer = make_pair(name, np.float32)
    run_steps(ours, theirs, our_optimizer, their_optimizer, GRADIENTS[:20], np.float32)
    for p, q in zip(ours, theirs):
        assert_close(p, q.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd_momentum", "adam_amsgrad_decay", "rmsprop_momentum_centered", "adagrad_all"])
def test_the_state_matches_torchs(name):
    ours, theirs, our_optimizer, their_optimizer = make_pair(name)
    run_steps(ours, theirs, our_optimizer, their_optimizer, GRADIENTS[:5])
    for p, q in zip(ours, theirs):
        our_state, their_state = our_optimizer.state[p], their_optimizer.state[q]
        assert set(our_state) == set(their_state)
        for key, value in their_state.items():
            expected = value.item() if key == "step" else value
            assert_close(tb.tensor(our_state[key]) if key == "step" else our_state[key], expected, rtol=0, atol=1e-14)


def test_a_large_parameter_updates_identically_for_any_thread_count():
    values = [RNG.standard_normal(300_007).astype(np.float32)]
    gradient = RNG.standard_normal(300_007).astype(np.float32)
    results = []
    for threads in (1, 2):
        tb.set_num_threads(threads)
        try:
            (param,) = [tb.tensor(v, requires_grad=True) for v in values]
            optimizer = optim.Adam([param], lr=0.01, amsgrad=True)
            for _ in range(3):
                param.grad = tb.tensor(gradient)
                optimizer.step()
            results.append(param.detach().numpy().copy())
        finally:
            tb.set_num_threads(2)
    assert np.array_equal(results[0], results[1])


def test_parameter_groups_keep_their_own_hyperparameters():
    ours = [tb.tensor(v, requires_grad=True) for v in INITIAL]
    theirs = [torch.tensor(v, requires_grad=True) for v in INITIAL]
    our_optimizer = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5, "momentum": 0.5}], lr=0.1)
    their_optimizer = torch.optim.SGD(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5, "momentum": 0.5}], lr=0.1
    )
    run_steps(ours, theirs, our_optimizer, their_optimizer, GRADIENTS[:10])
    for p, q in zip(ours, theirs):
        assert_close(p, q.detach(), rtol=0, atol=1e-12)
    assert [g["lr"] for g in our_optimizer.param_groups] == [0.1, 0.5]
    assert our_optimizer.param_groups[0]["momentum"] == 0.0


def test_parameters_without_a_gradient_are_skipped_and_get_their_momentum_when_they_first_have_one():
    ours, theirs, our_optimizer, their_optimizer = make_pair("sgd_momentum")
    for step, step_gradients in enumerate(GRADIENTS[:6]):
        for index, (p, q, g) in enumerate(zip(ours, theirs, step_gradients)):
            present = not (index == 1 and step < 3)  # parameter 1 has no gradient for three steps
            p.grad = tb.tensor(g) if present else None
            q.grad = torch.tensor(g) if present else None
        our_optimizer.step()
        their_optimizer.step()
    for p, q in zip(ours, theirs):
        assert_close(p, q.detach(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    param = tb.ones(3, requires_grad=True)
    param.grad = tb.ones(3)
    optim.SGD([param], lr=0.1).zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert param.grad is None
    else:
        assert param.grad.tolist() == [0.0, 0.0, 0.0]


def test_closure_is_called_and_its_loss_returned():
    param = tb.ones(2, requires_grad=True)
    optimizer = optim.SGD([param], lr=0.5)

    def closure():
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 2.0
    assert param.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", ["sgd_momentum", "adam_amsgrad_decay", "rmsprop_momentum_centered", "adagrad_all"])
def test_state_dict_round_trip_through_save_continues_the_same_run(name, tmp_path):
    ours, _, optimizer, _ = make_pair(name)
    uninterrupted = [tb.tensor(v, requires_grad=True) for v in INITIAL]
    reference = getattr(optim, CONFIGS[name][0])(uninterrupted, **CONFIGS[name][1])

    def step(params, opt, gradients):
        for p, g in zip(params, gradients):
            p.grad = tb.tensor(g)
        opt.step()

    for gradients in GRADIENTS[:5]:
        step(ours, optimizer, gradients)
        step(uninterrupted, reference, gradients)
    tb.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    resumed = getattr(optim, CONFIGS[name][0])(ours, lr=123.0)
    resumed.load_state_dict(tb.load(tmp_path / "optimizer.npz"))
    assert resumed.param_groups[0]["lr"] == CONFIGS[name][1]["lr"]
    for gradients in GRADIENTS[5:10]:
        step(ours, resumed, gradients)
        step(uninterrupted, reference, gradients)
    for p, q in zip(ours, uninterrupted):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())


def test_state_dict_layout_is_torchs():
    ours, theirs, our_optimizer, their_optimizer = make_pair("adam")
    run_steps(ours, theirs, our_optimizer, their_optimizer, GRADIENTS[:1])
    our_state, their_state = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert set(our_state["state"]) == set(their_state["state"])
    ours_groups = [
        {k: v for k, v in g.items() if k in their_state["param_groups"][0]} for g in our_state["param_groups"]
    ]
    assert [g["params"] for g in ours_groups] == [g["params"] for g in their_state["param_groups"]]
    assert ours_groups[0]["betas"] == their_state["param_groups"][0]["betas"]


ERRORS = [
    (lambda p: optim.SGD(p, lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda p: optim.SGD(p + p, lr=0.1), "optimizer contains a parameter group with duplicate parameters"),
    (lambda p: optim.SGD([{"params": p}, {"params": p}], lr=0.1), "some parameters appear in more than one"),
    (lambda p: optim.SGD([p[0] * 2], lr=0.1), "can't optimize a non-leaf Tensor"),
]


@pytest.mark.parametrize(("make", "message"), ERRORS, ids=[message for _, message in ERRORS])
def test_errors_match_torchs(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make([tb.ones(2, requires_grad=True)])


def test_a_single_tensor_as_params_is_rejected_like_torch():
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got Tensor"):
        optim.SGD(tb.ones(2, requires_grad=True), lr=0.1)


def test_a_gradient_of_the_wrong_shape_names_both_shapes():
    param = tb.ones(2, 3, requires_grad=True)
    param.grad = tb.ones(3, 2)
    with pytest.raises(ValueError, match=r"SGD: the gradient of shape \(3, 2\).*parameter of shape \(2, 3\)"):
        optim.SGD([param], lr=0.1).step()


def test_a_step_bumps_the_parameters_version_so_stale_saved_tensors_are_caught():
    param = tb.ones(3, requires_grad=True)
    out = (param * param).sum()  # Mul saved param
    param.grad = tb.ones(3)
    optim.SGD([param], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.backward()


def test_a_group_of_mixed_dtypes_steps_like_torch():
    ours = [tb.tensor([1.0, 2.0], requires_grad=True), tb.tensor([1.0, 2.0], dtype=tb.float64, requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], dtype=torch.float64)]
    theirs[1].requires_grad_(True)
    our_optimizer, their_optimizer = optim.Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    for p, q in zip(ours, theirs):
        p.grad, q.grad = tb.ones_like(p), torch.ones_like(q)
    our_optimizer.step()
    their_optimizer.step()
    for p, q in zip(ours, theirs):
        assert_close(p, q.detach())


def test_a_refused_step_changes_no_state():
    param = tb.ones(2, requires_grad=True)
    optimizer = optim.Adam([param], lr=0.1)
    param.grad = tb.ones(3)
    with pytest.raises(ValueError, match=r"Adam: the gradient of shape \(3,\).*parameter of shape \(2,\)"):
        optimizer.step()
    assert optimizer.state == {}


def test_a_transposed_view_as_parameter_is_updated_like_torch():
    values = RNG.standard_normal((3, 4))
    ours = tb.nn.Parameter(tb.tensor(values).t())
    theirs = torch.nn.Parameter(torch.tensor(values).t())
    our_optimizer = optim.SGD([ours], lr=0.1, momentum=0.9)
    their_optimizer = torch.optim.SGD([theirs], lr=0.1, momentum=0.9)
    for _ in range(3):
        gradient = RNG.standard_normal((4, 3))
        ours.grad, theirs.grad = tb.tensor(gradient), torch.tensor(gradient)
        our_optimizer.step()
        their_optimizer.step()
    assert_close(ours, theirs.detach(), rtol=0, atol=1e-12)


def test_parameters_sharing_memory_get_every_update():
    memory = tb.zeros(2, 1 << 16)
    first, second = memory[0], memory[0]
    first.requires_grad_(True)
    second.requires_grad_(True)
    optimizer = optim.SGD([first, second], lr=1.0)
    for _ in range(5):
        first.grad, second.grad = tb.ones(1 << 16), tb.ones(1 << 16)
        optimizer.step()
    assert np.unique(memory.numpy()[0]).tolist() == [-10.0]


def test_zero_grad_in_place_detaches_a_gradient_with_a_graph():
    param = tb.ones(2, requires_grad=True)
    (param * param).sum().backward(create_graph=True)
    assert param.grad.requires_grad
    optim.SGD([param], lr=0.1).zero_grad(set_to_none=False)
    assert not param.grad.requires_grad and param.grad.tolist() == [0.0, 0.0]
