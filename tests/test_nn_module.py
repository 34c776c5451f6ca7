"""The Module system, containers and Linear, against torch.nn."""

from collections import OrderedDict

import numpy as np
import pytest
from helpers import check_against_torch, torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_bn as tb
from tinygrad_bn import nn
from tinygrad_bn.testing import assert_close
from tinygrad_bn.testing.strategies import tensors


def build(lib):
    """The same small network in either library."""
    return lib.nn.Sequential(
        OrderedDict(
            [
                ("features", lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(6, 4))),
                ("skip", lib.nn.Identity()),
                ("heads", lib.nn.ModuleList([lib.nn.Linear(4, 3), lib.nn.Linear(4, 2, bias=False)])),
            ]
        )
    )


def copy_into_torch(ours: nn.Module, theirs: "torch.nn.Module") -> None:
    with torch.no_grad():
        for (_, mine), (_, param) in zip(ours.named_parameters(), theirs.named_parameters()):
            param.copy_(torch.from_numpy(np.array(mine.detach().numpy())))


def test_names_and_order_of_parameters_match_torch():
    ours, theirs = build(tb), build(torch)
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_modules()] == [name for name, _ in theirs.named_modules()]
    assert [name for name, _ in ours.named_children()] == [name for name, _ in theirs.named_children()]


def test_repr_matches_torch():
    assert repr(build(tb)) == repr(build(torch))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))


@given(
    x=tensors(shape=st.sampled_from([(5, 3), (1, 3), (2, 4, 3), (3,)]), dtype=tb.float64, requires_grad=True),
    bias=st.booleans(),
)
def test_linear_matches_torch_forward_and_backward(x, bias):
    layer = nn.Linear(3, 2, bias=bias).double()
    reference = torch.nn.Linear(3, 2, bias=bias).double()
    copy_into_torch(layer, reference)
    check_against_torch(layer, reference, x)
    reference.zero_grad()
    torch_x = torch.from_numpy(np.array(x.detach().numpy()))
    layer.zero_grad()
    layer(x.detach()).sum().backward()
    reference(torch_x).sum().backward()
    for mine, param in zip(layer.parameters(), reference.parameters()):
        assert_close(mine.grad, param.grad)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    tb.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / 20
    for param in (layer.weight, layer.bias):
        values = param.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.max() > 0.9 * bound and values.min() < -0.9 * bound
    assert abs(layer.weight.detach().numpy().std() - bound / np.sqrt(3)) < 0.01 * bound
    assert layer.weight.requires_grad and layer.weight.is_leaf and layer.weight.dtype is tb.float32


def test_linear_rejects_a_mismatched_input():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not match a weight of shape \(4, 3\)"):
        nn.Linear(3, 4)(tb.ones(2, 5))


def test_train_and_eval_set_every_module_and_only_that_tree():
    net, other = build(tb), nn.Linear(2, 2)
    assert all(module.training for module in net.modules())
    assert net.eval() is net
    assert not any(module.training for module in net.modules()) and other.training
    net.heads.train()
    assert net.heads[0].training and not net.features.training


def test_zero_grad_clears_or_zeroes_gradients():
    layer = nn.Linear(3, 2)
    layer(tb.ones(1, 3)).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad.tolist() == [[0.0] * 3] * 2
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_state_dict_round_trips_and_shares_memory_until_loaded():
    source, target = build(tb), build(tb)
    state = source.state_dict()
    assert not any(t.requires_grad for t in state.values())
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (_, mine), (_, theirs) in zip(source.named_parameters(), target.named_parameters()):
        assert_close(mine.detach(), theirs.detach())
    x = tb.randn(2, 6)
    assert_close(source.features(x), target.features(x))


def test_load_state_dict_lists_every_problem_like_torch():
    net = nn.Sequential(nn.Linear(2, 3))
    state = net.state_dict()
    state["0.weight"] = tb.zeros(4, 2)
    del state["0.bias"]
    state["1.weight"] = tb.zeros(1)
    with pytest.raises(RuntimeError) as ours:
        net.load_state_dict(state)
    theirs_net = torch.nn.Sequential(torch.nn.Linear(2, 3))
    theirs_state = {"0.weight": torch.zeros(4, 2), "1.weight": torch.zeros(1)}
    with pytest.raises(RuntimeError) as theirs:
        theirs_net.load_state_dict(theirs_state)
    expected = str(theirs.value).replace("torch.Size([4, 2])", "(4, 2)").replace("torch.Size([3, 2])", "(3, 2)")
    assert str(ours.value) == expected


def test_load_state_dict_non_strict_reports_keys_but_still_checks_shapes():
    net = nn.Linear(2, 3)
    result = net.load_state_dict({"weight": tb.ones(3, 2), "extra": tb.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert net.weight.detach().tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        net.load_state_dict({"weight": tb.ones(2, 2)}, strict=False)


def test_buffers_are_saved_unless_non_persistent():
    module = nn.Module()
    module.register_buffer("running", tb.zeros(2))
    module.register_buffer("scratch", tb.zeros(2), persistent=False)
    assert list(module.state_dict()) == ["running"]
    assert [name for name, _ in module.named_buffers()] == ["running", "scratch"]
    module.running = tb.ones(2)
    assert module.state_dict()["running"].tolist() == [1.0, 1.0]


def test_forward_hooks_run_after_forward_and_can_be_removed():
    layer = nn.Identity()
    seen = []
    handle = layer.register_forward_hook(lambda module, inputs, output: seen.append((module, inputs, output)))
    replacing = layer.register_forward_hook(lambda module, inputs, output: output * 2)
    x = tb.ones(2)
    assert layer(x).tolist() == [2.0, 2.0]
    assert seen[0][0] is layer and seen[0][1][0] is x
    handle.remove()
    replacing.remove()
    assert layer(x).tolist() == [1.0, 1.0] and len(seen) == 1


def test_to_double_converts_in_place_and_keeps_the_parameter_objects():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    layer(tb.ones(1, 3)).sum().backward()
    assert layer.double() is layer
    assert layer.weight is weight and weight.dtype is tb.float64 and weight.grad.dtype is tb.float64
    assert weight.requires_grad
    assert layer(tb.ones(1, 3, dtype=tb.float64)).dtype is tb.float64
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        layer.to(tb.int64)


def test_parameter_shares_memory_and_prints_like_torch():
    data = tb.zeros(2)
    param = nn.Parameter(data)
    assert param.requires_grad and param.is_leaf
    with tb.no_grad():
        param.add_(1)
    assert data.tolist() == [1.0, 1.0]
    assert repr(param).startswith("Parameter containing:\ntensor([1., 1.], requires_grad=True)")
    assert not nn.Parameter(tb.ones(1), requires_grad=False).requires_grad


def test_module_list_and_sequential_behave_like_lists():
    layers = nn.ModuleList([nn.Identity()])
    layers.append(nn.Linear(1, 1))
    layers += [nn.Linear(1, 2)]
    layers.insert(0, nn.Flatten())
    assert [type(m).__name__ for m in layers] == ["Flatten", "Identity", "Linear", "Linear"]
    assert len(list(layers.parameters())) == 4 and isinstance(layers[1:], nn.ModuleList)
    seq = nn.Sequential(nn.Linear(2, 2), nn.Identity())
    assert isinstance(seq[0], nn.Linear) and len(seq[:1]) == 1 and len(seq) == 2
    with pytest.raises(IndexError, match="Sequential: index 2 is out of range for 2 modules"):
        seq[2]


def test_attribute_registration_errors_are_clear():
    module = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'bias' \(Parameter or None expected\)"):
        module.bias = tb.zeros(2)
    with pytest.raises(KeyError, match=r'buffer name can.+t contain ".", got: a.b'):
        module.register_buffer("a.b", tb.zeros(1))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        module.missing  # noqa: B018
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(tb.ones(1))
    module.bias = None
    assert module.bias is None and [name for name, _ in module.named_parameters()] == ["weight"]


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_passes_gradcheck_and_gradgradcheck(shape, bias):
    from tinygrad_bn.nn.functional import linear
    from tinygrad_bn.testing import gradcheck, gradgradcheck

    tb.manual_seed(1)
    x = tb.randn(*shape, dtype=tb.float64, requires_grad=True)
    w = tb.randn(2, 3, dtype=tb.float64, requires_grad=True)
    inputs = [x, w, tb.randn(2, dtype=tb.float64, requires_grad=True)] if bias else [x, w]
    assert gradcheck(linear, inputs)
    assert gradgradcheck(linear, inputs)


def test_linear_weight_gradient_is_a_fresh_dense_matrix():
    layer = nn.Linear(3, 2)
    layer(tb.ones(4, 3)).sum().backward()
    assert layer.weight.grad._base is None and layer.weight.grad.numpy().flags.c_contiguous


def test_replacing_a_layer_or_parameter_keeps_its_place_like_torch():
    def rebuilt(lib):
        net = lib.nn.Sequential(OrderedDict(fc=lib.nn.Linear(1, 1, bias=False), act=lib.nn.ReLU()))
        net.fc = lib.nn.Linear(1, 1, bias=False)
        net.fc.weight = lib.nn.Parameter(lib.zeros(1, 1))
        layers = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.Sigmoid()])
        layers[0], layers[-2] = lib.nn.Identity(), lib.nn.Identity()
        return [n for n, _ in net.named_modules()], list(net.state_dict()), [type(m).__name__ for m in layers]

    assert rebuilt(tb) == rebuilt(torch)


def test_one_name_cannot_be_two_kinds_of_state():
    layer = nn.Linear(2, 3)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        layer.register_buffer("weight", tb.zeros(3, 2))
    with pytest.raises(TypeError, match="cannot assign 'ReLU' as parameter 'weight'"):
        layer.weight = nn.ReLU()
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_a_module_shared_under_two_names_is_saved_under_both_like_torch():
    assert list(nn.Sequential(*[nn.Linear(2, 3)] * 2).state_dict()) == list(
        torch.nn.Sequential(*[torch.nn.Linear(2, 3)] * 2).state_dict()
    )


def test_plain_attributes_may_be_set_before_module_init():
    class Early(nn.Module):
        def __init__(self):
            self.scale = 3
            super().__init__()

    assert Early().scale == 3

    class TooEarly(nn.Module):
        def __init__(self):
            self.layer = nn.Identity()

    with pytest.raises(AttributeError, match=r"cannot assign Identity 'layer' before Module\.__init__"):
        TooEarly()


def test_containers_support_list_operations_like_torch():
    def edited(lib):
        seq = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.Sigmoid())
        seq[-1] = lib.nn.Identity()
        del seq[0]
        seq.append(lib.nn.ReLU())
        seq.insert(1, lib.nn.Tanh())
        popped = seq.pop(0)
        layers = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.ReLU(), lib.nn.Tanh()])
        del layers[1:2]
        layers.extend([lib.nn.Tanh(), lib.nn.Tanh()])
        return repr(seq), type(popped).__name__, repr(layers), repr(lib.nn.ModuleList([lib.nn.ReLU()] * 3))

    assert edited(tb) == edited(torch)
    with pytest.raises(TypeError, match="Sequential indices must be integers or slices, not str"):
        nn.Sequential(nn.ReLU())["0"]


def test_forward_pre_hooks_can_replace_the_inputs():
    layer = nn.Identity()
    handle = layer.register_forward_pre_hook(lambda module, inputs: inputs[0] * 3)
    assert layer(tb.ones(2)).tolist() == [3.0, 3.0]
    handle.remove()
    assert layer(tb.ones(2)).tolist() == [1.0, 1.0]


def test_get_submodule_follows_dotted_paths_like_torch():
    ours, theirs = build(tb), build(torch)
    for path in ["", "features", "features.1", "heads.0"]:
        assert type(ours.get_submodule(path)).__name__ == type(theirs.get_submodule(path)).__name__
    with pytest.raises(AttributeError, match="Sequential has no attribute `missing`"):
        ours.get_submodule("features.missing")


def test_get_submodule_rejects_a_path_through_a_parameter_like_torch():
    with pytest.raises(AttributeError, match=r"`weight` is not an nn\.Module"):
        build(torch).get_submodule("features.1.weight")
    with pytest.raises(AttributeError, match=r"`weight` is not an nn\.Module"):
        build(tb).get_submodule("features.1.weight")


@pytest.mark.parametrize("register", ["register_buffer", "register_parameter", "add_module"])
def test_registering_before_module_init_is_an_attribute_error_like_torch(register):
    kind = {"register_buffer": "buffer", "register_parameter": "parameter", "add_module": "module"}[register]

    def build_early(lib):
        class Early(lib.nn.Module):
            def __init__(self):
                getattr(self, register)("early", None)

        return Early()

    with pytest.raises(AttributeError):  # torch words it so for buffers and parameters, not modules
        build_early(torch)
    with pytest.raises(AttributeError, match=rf"cannot assign {kind} before Module\.__init__\(\) call"):
        build_early(tb)


# --- load_state_dict(assign=True) ---------------------------------------------------------------


def assign_outcome(lib, given_parameter: bool, given_requires_grad: bool, module_requires_grad: bool) -> tuple:
    """What ``load_state_dict(assign=True)`` leaves in a Linear, observed the same way in either library."""
    layer = lib.nn.Linear(3, 2)
    layer.weight.requires_grad_(module_requires_grad)
    layer.weight.grad = lib.ones(2, 3)
    weight = lib.ones(2, 3, dtype=lib.float64)
    if given_parameter:
        weight = lib.nn.Parameter(weight, requires_grad=given_requires_grad)
    else:
        weight.requires_grad_(given_requires_grad)
    result = layer.load_state_dict({"weight": weight, "bias": lib.zeros(2)}, assign=True)
    with lib.no_grad():
        weight.mul_(3)  # seen through the module's parameter only if it shares the given memory
    return (
        list(result.missing_keys),
        type(layer.weight).__name__,
        layer.weight is weight,
        layer.weight.requires_grad,
        weight.requires_grad,
        str(layer.weight.dtype).rsplit(".", 1)[-1],
        layer.weight.detach().sum().item(),
        layer.weight.grad is None,
        layer.weight.is_leaf,
        [name for name, _ in layer.named_parameters()],
    )


@pytest.mark.parametrize("module_requires_grad", [True, False])
@pytest.mark.parametrize("given_requires_grad", [True, False])
@pytest.mark.parametrize("given_parameter", [False, True])
def test_load_state_dict_assign_puts_the_given_tensors_in_place_like_torch(
    given_parameter, given_requires_grad, module_requires_grad
):
    flags = (given_parameter, given_requires_grad, module_requires_grad)
    outcome = assign_outcome(tb, *flags)
    assert outcome == assign_outcome(torch, *flags)
    # the module's parameter is a Parameter over the given memory, in the given dtype, with the
    # module's requires_grad; a given Parameter is used itself
    assert outcome[1:4] == ("Parameter", given_parameter, module_requires_grad)
    assert outcome[5:7] == ("float64", 18.0)


def test_load_state_dict_assign_makes_a_buffer_the_given_tensor_like_torch():
    for lib in (tb, torch):
        module = lib.nn.Module()
        module.register_buffer("running", lib.zeros(3))
        given = lib.ones(3, dtype=lib.float64)
        module.load_state_dict({"running": given}, assign=True)
        assert module.running is given and next(module.buffers()) is given


def test_load_state_dict_assign_checks_shapes_first_and_then_assigns_nothing():
    layer = nn.Linear(3, 2)
    weight, bias = layer.weight, layer.bias
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: .* shape \(3, 3\) from checkpoint"):
        layer.load_state_dict({"weight": tb.zeros(3, 3), "bias": tb.zeros(2)}, assign=True)
    assert layer.weight is weight and layer.bias is bias


def test_load_state_dict_assign_non_strict_assigns_only_the_given_keys():
    layer = nn.Linear(3, 2)
    bias = layer.bias
    result = layer.load_state_dict({"weight": tb.ones(2, 3)}, strict=False, assign=True)
    assert result.missing_keys == ["bias"] and layer.bias is bias
    assert layer.weight.tolist() == [[1.0] * 3] * 2


def test_load_state_dict_copies_into_the_existing_parameters_by_default():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    layer.load_state_dict({"weight": tb.ones(2, 3, dtype=tb.float64), "bias": tb.zeros(2)})
    assert layer.weight is weight and layer.weight.dtype is tb.float32
    assert layer.weight.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("state", [None, [("weight", 0)]])
def test_load_state_dict_needs_a_mapping_like_torch(state):
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class"):
        torch.nn.Linear(3, 2).load_state_dict(state)
    with pytest.raises(TypeError, match=f"Expected state_dict to be dict-like, got {type(state)}"):
        nn.Linear(3, 2).load_state_dict(state)
