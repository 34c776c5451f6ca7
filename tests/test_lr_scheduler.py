"""Every learning-rate scheduler against PyTorch's: the lr of every group (and OneCycleLR's momentum
or β₁) after each of 50 steps must equal PyTorch's exactly, since both do the same float
arithmetic; plus ReduceLROnPlateau on fixed metric sequences, state-dict round trips, resumed
schedules, the deprecated step(epoch) closed forms, the ordering warnings and each error message."""

import copy
import warnings

import numpy as np
import pytest
from helpers import torch

import tinygrad_bn as tb
from tinygrad_bn import optim
from tinygrad_bn.optim import lr_scheduler

EPOCHS = 50
ONE_GROUP = [0.1]
TWO_GROUPS = [0.1, 0.03]

OPTIMIZERS = {  # name: (ours, PyTorch's, keyword arguments)
    "sgd": (optim.SGD, torch.optim.SGD, {"momentum": 0.9}),
    "sgd_plain": (optim.SGD, torch.optim.SGD, {}),
    "adam": (optim.Adam, torch.optim.Adam, {"betas": (0.9, 0.99)}),
    "adagrad": (optim.Adagrad, torch.optim.Adagrad, {}),
}


def optimizers(group_lrs, kind="sgd", **extra):
    """Our optimizer and PyTorch's over one parameter per group, group i with lr ``group_lrs[i]``
    (and any extra group keys)."""
    ours_class, theirs_class, kwargs = OPTIMIZERS[kind]
    ours = ours_class([{"params": [tb.zeros(2, requires_grad=True)], "lr": lr, **extra} for lr in group_lrs], **kwargs)
    theirs = theirs_class(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr, **extra} for lr in group_lrs], **kwargs
    )
    return ours, theirs


def schedulers(name, kwargs, group_lrs, kind="sgd"):
    ours_opt, theirs_opt = optimizers(group_lrs, kind)
    return getattr(lr_scheduler, name)(ours_opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(
        theirs_opt, **kwargs
    )


def group_values(scheduler, key="lr"):
    return [group[key] for group in scheduler.optimizer.param_groups]


def assert_same_groups(ours, theirs, keys=("lr",)):
    for key in keys:
        assert group_values(ours, key) == group_values(theirs, key), key
    assert ours.get_last_lr() == theirs.get_last_lr()


def step_both(ours, theirs, steps, keys=("lr",)):
    """``optimizer.step(); scheduler.step()`` on both sides, comparing the groups after each step."""
    for _ in range(steps):
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()
        assert_same_groups(ours, theirs, keys)


def assert_same_state(ours, theirs):
    """Our state dict has PyTorch's keys and values (``milestones`` is a Counter on both sides)."""
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert sorted(ours_state) == sorted(theirs_state)
    for key, value in theirs_state.items():
        assert ours_state[key] == value, key


CHAINABLE = [  # (scheduler, keyword arguments)
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30]}),
    ("MultiStepLR", {"milestones": [30, 10], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("ExponentialLR", {"gamma": 0.97}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 50, "eta_min": 0.01}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-3}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
    ("LinearLR", {"start_factor": 0.5, "end_factor": 0.2, "total_iters": 20}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": EPOCHS}),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 5, "steps_per_epoch": 10}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 60, "anneal_strategy": "linear", "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": EPOCHS, "three_phase": True, "div_factor": 10.0}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": EPOCHS, "final_div_factor": 100.0, "cycle_momentum": False}),
    (
        "OneCycleLR",
        {"max_lr": 0.5, "total_steps": EPOCHS, "base_momentum": [0.8, 0.7], "max_momentum": [0.9, 0.95]},
    ),
]


def per_group_values_for(kwargs, group_lrs):
    """``kwargs`` with each per-group list (written for two groups) cut to ``len(group_lrs)`` values."""
    return {
        key: value[: len(group_lrs)] if isinstance(value, list) and key != "milestones" else value
        for key, value in kwargs.items()
    }


def kwargs_id(kwargs):
    return ",".join(f"{key}={value}" for key, value in kwargs.items()) or "defaults"


def case_id(case):
    name, kwargs = case
    return f"{name}({kwargs_id(kwargs)})"


@pytest.mark.parametrize("group_lrs", [ONE_GROUP, TWO_GROUPS], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("case", CHAINABLE, ids=case_id)
def test_schedule_matches_torch_for_50_steps(case, group_lrs):
    name, kwargs = case
    ours, theirs = schedulers(name, per_group_values_for(kwargs, group_lrs), group_lrs)
    keys = ("lr", "momentum") if name == "OneCycleLR" else ("lr",)
    assert_same_groups(ours, theirs, keys)
    assert_same_state(ours, theirs)
    step_both(ours, theirs, EPOCHS, keys)
    assert_same_state(ours, theirs)


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_cycles_adam_beta1_like_torch(three_phase):
    kwargs = {"max_lr": [0.01, 0.02], "total_steps": EPOCHS, "three_phase": three_phase, "base_momentum": 0.8}
    ours, theirs = schedulers("OneCycleLR", kwargs, TWO_GROUPS, kind="adam")
    assert group_values(ours, "betas") == [(0.95, 0.99), (0.95, 0.99)]
    step_both(ours, theirs, EPOCHS, keys=("lr", "betas"))


def test_one_cycle_leaves_sgd_without_momentum_key_alone_when_not_cycling():
    ours, theirs = schedulers("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "cycle_momentum": False}, ONE_GROUP)
    assert group_values(ours, "momentum") == group_values(theirs, "momentum") == [0.9]
    assert "max_momentum" not in ours.optimizer.param_groups[0]


def test_scheduled_lr_drives_the_optimizer_like_torch():
    """A quadratic trained with SGD + momentum under OneCycleLR ends at PyTorch's parameters."""
    target = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    ours_param, theirs_param = tb.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    ours_opt = optim.SGD([ours_param], lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD([theirs_param], lr=0.1, momentum=0.9)
    ours = lr_scheduler.OneCycleLR(ours_opt, max_lr=0.2, total_steps=30)
    theirs = torch.optim.lr_scheduler.OneCycleLR(theirs_opt, max_lr=0.2, total_steps=30)
    for _ in range(30):
        for opt, param, module in ((ours_opt, ours_param, tb), (theirs_opt, theirs_param, torch)):
            opt.zero_grad()
            ((param - module.tensor(target)) ** 2).sum().backward()
            opt.step()
        ours.step()
        theirs.step()
    np.testing.assert_allclose(ours_param.detach().numpy(), theirs_param.detach().numpy(), rtol=1e-5, atol=1e-6)


# --- ReduceLROnPlateau ----------------------------------------------------------------------------

# plateaus, small (sub-threshold) improvements, real improvements and a late drop
METRICS = [10, 9, 9, 9.0005, 9, 9, 8, 8, 8, 8, 8, 8, 7.9999, 8, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6]
PLATEAU_CASES = [
    {},
    {"patience": 2, "factor": 0.5},
    {"patience": 1, "factor": 0.5, "cooldown": 2},
    {"patience": 0, "factor": 0.3, "cooldown": 1, "min_lr": 0.004},
    {"patience": 1, "factor": 0.5, "min_lr": [0.02, 0.001]},
    {"patience": 2, "threshold": 0.1, "threshold_mode": "abs"},
    {"patience": 2, "threshold": 0.01, "threshold_mode": "rel", "factor": 0.2},
    {"patience": 1, "factor": 0.5, "eps": 0.02},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"mode": "max", "patience": 2, "threshold": 0.5, "threshold_mode": "abs", "cooldown": 1},
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=kwargs_id)
def test_reduce_on_plateau_matches_torch(kwargs):
    ours_opt, theirs_opt = optimizers(TWO_GROUPS)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    sign = -1 if kwargs.get("mode") == "max" else 1  # in max mode the same sequence, mirrored, improves upwards
    for metric in METRICS * 2:
        ours.step(sign * metric)
        theirs.step(sign * metric)
        assert_same_groups(ours, theirs)
        for attribute in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert_same_state(ours, theirs)


def test_reduce_on_plateau_takes_a_zero_dim_tensor_metric():
    ours_opt, theirs_opt = optimizers(ONE_GROUP)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, patience=0)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, patience=0)
    for metric in [3.0, 3.0, 2.0, 2.0]:
        ours.step(tb.tensor(metric))
        theirs.step(torch.tensor(metric))
        assert_same_groups(ours, theirs)


def test_reduce_on_plateau_extends_a_scalar_min_lr_to_a_new_group():
    ours_opt, theirs_opt = optimizers(ONE_GROUP)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, patience=0, min_lr=0.05)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, patience=0, min_lr=0.05)
    ours_opt.add_param_group({"params": [tb.zeros(1, requires_grad=True)], "lr": 1.0})
    theirs_opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0})
    for metric in [1.0, 1.0, 1.0]:
        ours.step(metric)
        theirs.step(metric)
        assert_same_groups(ours, theirs)
    assert ours.min_lrs == theirs.min_lrs == [0.05, 0.05]


# --- state dicts and resumed schedules ------------------------------------------------------------


@pytest.mark.parametrize("case", CHAINABLE, ids=case_id)
def test_state_dict_round_trip_continues_the_schedule(case):
    """Save optimizer and scheduler mid-way, load both into fresh ones, continue: PyTorch's values."""
    name, kwargs = case
    ours, theirs = schedulers(name, kwargs, TWO_GROUPS)
    keys = ("lr", "momentum") if name == "OneCycleLR" else ("lr",)
    step_both(ours, theirs, 20, keys)
    saved_optimizer = copy.deepcopy(ours.optimizer.state_dict())
    saved_scheduler = copy.deepcopy(ours.state_dict())
    fresh_optimizer, _ = optimizers([0.7, 0.7])
    resumed = getattr(lr_scheduler, name)(fresh_optimizer, **kwargs)
    fresh_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    assert_same_state(resumed, theirs)
    step_both(resumed, theirs, EPOCHS - 20, keys)


def test_reduce_on_plateau_state_dict_round_trip():
    kwargs = {"patience": 1, "factor": 0.5, "cooldown": 2, "mode": "max", "threshold_mode": "abs"}
    ours_opt, theirs_opt = optimizers(TWO_GROUPS)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    for metric in METRICS[:10]:
        ours.step(-metric)
        theirs.step(-metric)
    saved_optimizer, saved_scheduler = copy.deepcopy(ours_opt.state_dict()), copy.deepcopy(ours.state_dict())
    fresh_optimizer, _ = optimizers([0.7, 0.7])
    resumed = lr_scheduler.ReduceLROnPlateau(fresh_optimizer)  # defaults: the state dict brings the settings
    fresh_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    assert_same_state(resumed, theirs)
    for metric in METRICS[10:]:
        resumed.step(-metric)
        theirs.step(-metric)
        assert_same_groups(resumed, theirs)


@pytest.mark.parametrize(
    "case",
    [
        ("StepLR", {"step_size": 4}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 8}),
        ("LinearLR", {"total_iters": 20}),
    ],
    ids=case_id,
)
def test_resuming_with_last_epoch_matches_torch(case):
    """Groups that already hold ``initial_lr`` and a scheduler built with last_epoch=9."""
    name, kwargs = case
    ours_opt, theirs_opt = optimizers([0.05, 0.02], initial_lr=0.1)
    ours = getattr(lr_scheduler, name)(ours_opt, last_epoch=9, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, last_epoch=9, **kwargs)
    assert ours.base_lrs == theirs.base_lrs == [0.1, 0.1]
    assert_same_groups(ours, theirs)
    step_both(ours, theirs, 20)


# --- step(epoch): deprecated, closed form ---------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [2, 5, 5]}),
        ("ExponentialLR", {"gamma": 0.8}),
        ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
        ("LinearLR", {"start_factor": 0.2, "total_iters": 4}),
    ],
    ids=case_id,
)
def test_step_with_epoch_uses_the_closed_form_and_warns(case):
    name, kwargs = case
    ours, theirs = schedulers(name, kwargs, TWO_GROUPS)
    for epoch in [3, 7, 1, 12, 5]:
        ours.optimizer.step()
        theirs.optimizer.step()
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
            ours.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.step(epoch)
        assert_same_groups(ours, theirs)


# --- ordering warnings ----------------------------------------------------------------------------


def test_stepping_the_scheduler_before_the_optimizer_warns():
    ours, _ = schedulers("StepLR", {"step_size": 2}, ONE_GROUP)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        ours.step()


def test_stepping_the_optimizer_first_does_not_warn():
    ours, _ = schedulers("StepLR", {"step_size": 2}, ONE_GROUP)
    ours.optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours.step()
        ours.step()


def test_replacing_optimizer_step_after_construction_warns():
    ours, _ = schedulers("StepLR", {"step_size": 2}, ONE_GROUP)
    ours.optimizer.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="Seems like `optimizer.step\\(\\)` has been overridden"):
        ours.step()


def test_get_lr_outside_step_warns():
    ours, _ = schedulers("ExponentialLR", {"gamma": 0.5}, ONE_GROUP)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        ours.get_lr()


def test_two_schedulers_wrap_the_optimizer_step_once():
    ours_opt, _ = optimizers(ONE_GROUP)
    lr_scheduler.StepLR(ours_opt, 2)
    wrapped = ours_opt.step
    lr_scheduler.ExponentialLR(ours_opt, 0.9)
    assert ours_opt.step is wrapped


# --- error messages: ours must equal PyTorch's ----------------------------------------------------


def assert_same_error(ours, theirs):
    """``ours()`` and ``theirs()`` raise the same exception type with the same message."""
    with pytest.raises(Exception) as theirs_error:
        theirs()
    with pytest.raises(type(theirs_error.value)) as ours_error:
        ours()
    assert str(ours_error.value) == str(theirs_error.value)


def both(name, make_kwargs, group_lrs=ONE_GROUP, kind="sgd", **group_extra):
    """Callables building scheduler ``name`` on fresh optimizers, ours and PyTorch's."""
    ours_opt, theirs_opt = optimizers(group_lrs, kind, **group_extra)
    return (
        lambda: getattr(lr_scheduler, name)(ours_opt, **make_kwargs),
        lambda: getattr(torch.optim.lr_scheduler, name)(theirs_opt, **make_kwargs),
    )


@pytest.mark.parametrize("name", ["StepLR", "OneCycleLR", "ReduceLROnPlateau"])
def test_error_when_not_given_an_optimizer(name):
    kwargs = {"StepLR": {"step_size": 1}, "OneCycleLR": {"max_lr": 0.1, "total_steps": 5}, "ReduceLROnPlateau": {}}
    assert_same_error(
        lambda: getattr(lr_scheduler, name)(object(), **kwargs[name]),
        lambda: getattr(torch.optim.lr_scheduler, name)(object(), **kwargs[name]),
    )


def test_error_when_resuming_without_initial_lr():
    assert_same_error(*both("StepLR", {"step_size": 2, "last_epoch": 3}))


@pytest.mark.parametrize("start_factor", [0.0, 1.5])
def test_error_linear_lr_start_factor(start_factor):
    assert_same_error(*both("LinearLR", {"start_factor": start_factor}))


@pytest.mark.parametrize("end_factor", [-0.1, 1.5])
def test_error_linear_lr_end_factor(end_factor):
    assert_same_error(*both("LinearLR", {"end_factor": end_factor}))


@pytest.mark.parametrize("total_steps", [0, -3, 2.5])
def test_error_one_cycle_total_steps(total_steps):
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, "total_steps": total_steps}))


@pytest.mark.parametrize("epochs", [0, 2.0])
def test_error_one_cycle_epochs(epochs):
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, "epochs": epochs, "steps_per_epoch": 3}))


@pytest.mark.parametrize("steps_per_epoch", [0, 1.5])
def test_error_one_cycle_steps_per_epoch(steps_per_epoch):
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": steps_per_epoch}))


@pytest.mark.parametrize("kwargs", [{}, {"epochs": 3}, {"steps_per_epoch": 3}])
def test_error_one_cycle_without_a_length(kwargs):
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, **kwargs}))


@pytest.mark.parametrize("pct_start", [-0.1, 1.5, 1])
def test_error_one_cycle_pct_start(pct_start):
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "pct_start": pct_start}))


def test_error_one_cycle_anneal_strategy():
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, "total_steps": 5, "anneal_strategy": "exp"}))


@pytest.mark.parametrize("key", ["max_lr", "base_momentum", "max_momentum"])
def test_error_one_cycle_per_group_list_length(key):
    kwargs = {"max_lr": 0.1, "total_steps": 5, key: [0.1, 0.2, 0.3]}
    assert_same_error(*both("OneCycleLR", kwargs, group_lrs=TWO_GROUPS))


def test_error_one_cycle_momentum_without_momentum():
    assert_same_error(*both("OneCycleLR", {"max_lr": 0.1, "total_steps": 5}, kind="adagrad"))


def test_error_one_cycle_stepped_past_total_steps():
    ours, theirs = schedulers("OneCycleLR", {"max_lr": 0.1, "total_steps": 5}, ONE_GROUP)
    step_both(ours, theirs, 5)  # PyTorch refuses a step only once last_epoch > total_steps
    assert_same_error(ours.step, theirs.step)


@pytest.mark.parametrize("factor", [1.0, 2.0])
def test_error_plateau_factor(factor):
    assert_same_error(*both("ReduceLROnPlateau", {"factor": factor}))


def test_error_plateau_min_lr_length():
    assert_same_error(*both("ReduceLROnPlateau", {"min_lr": [0.1, 0.2, 0.3]}, group_lrs=TWO_GROUPS))


def test_error_plateau_mode():
    assert_same_error(*both("ReduceLROnPlateau", {"mode": "lowest"}))


def test_error_plateau_threshold_mode():
    assert_same_error(*both("ReduceLROnPlateau", {"threshold_mode": "ratio"}))


def test_error_plateau_min_lrs_after_a_group_is_added():
    ours_opt, theirs_opt = optimizers(ONE_GROUP)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, patience=0, min_lr=[0.01])
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, patience=0, min_lr=[0.01])
    ours_opt.add_param_group({"params": [tb.zeros(1, requires_grad=True)]})
    theirs_opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)]})
    ours.step(1.0)
    theirs.step(1.0)
    assert_same_error(lambda: ours.step(1.0), lambda: theirs.step(1.0))


def test_module_exports_torch_names():
    for name in lr_scheduler.__all__:
        assert hasattr(torch.optim.lr_scheduler, name), name
    assert tb.optim.lr_scheduler is lr_scheduler
