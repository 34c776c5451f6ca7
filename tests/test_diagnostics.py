"""tinygrad_bn.diagnostics: the Recorder's numbers against NumPy by hand, its hooks, and its plot."""

import math

import numpy as np
import pytest

import tinygrad_bn as tb
from tinygrad_bn import nn, optim
from tinygrad_bn.diagnostics import Recorder, dead_fraction, plot_recorder, saturated_fraction

X = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.0, 1.0, 1.0], [-1.0, 0.5, 2.0]])
W1 = np.array([[2.0, 0.0, 1.0], [-3.0, 1.0, 0.0], [0.5, -0.5, 4.0], [0.0, 0.0, -1.0]])
B1 = np.array([0.1, 0.0, -0.2, 0.3])
W2 = np.array([[1.0, -1.0, 0.0, 2.0], [-1.0, -1.0, -1.0, -1.0], [0.5, 0.5, 0.5, 0.5]])


def tiny_model() -> nn.Sequential:
    """Linear(3, 4) -> Tanh -> Linear(4, 3, no bias) -> ReLU with the fixed weights above, in float64."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3, bias=False), nn.ReLU()).double()
    with tb.no_grad():
        model[0].weight.copy_(tb.tensor(W1))
        model[0].bias.copy_(tb.tensor(B1))
        model[2].weight.copy_(tb.tensor(W2))
    return model


def numpy_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden = np.tanh(x @ W1.T + B1)
    return hidden, np.maximum(hidden @ W2.T, 0.0)


def train_step(model: nn.Module, recorder: Recorder, optimizer: optim.Optimizer) -> None:
    loss = model(tb.tensor(X)).sum()
    optimizer.zero_grad()
    loss.backward()
    recorder.step(optimizer)


def test_activation_statistics_match_numpy():
    model = tiny_model()
    recorder = Recorder(model)
    train_step(model, recorder, optim.SGD(model.parameters(), lr=0.0))
    hidden, output = numpy_forward(X)
    assert list(recorder.layers) == ["1", "3"]
    assert recorder.history["mean"]["1"] == [pytest.approx(hidden.mean())]
    assert recorder.history["std"]["1"] == [pytest.approx(hidden.std())]
    assert recorder.history["mean"]["3"] == [pytest.approx(output.mean())]
    assert recorder.history["std"]["3"] == [pytest.approx(output.std())]
    assert recorder.history["saturated"]["1"] == [pytest.approx(np.mean(np.abs(hidden) > 0.99))]
    assert recorder.history["dead"]["3"] == [pytest.approx(np.mean(np.all(output == 0, axis=0)))]
    # the fixed weights put these statistics strictly between 0 and 1, so a wrong axis would show
    assert 0 < recorder.history["saturated"]["1"][0] < 1
    assert 0 < recorder.history["dead"]["3"][0] < 1
    assert "1" not in recorder.history["dead"] and "3" not in recorder.history["saturated"]


def test_gradient_norm_and_update_ratio_match_numpy():
    model = tiny_model()
    lr = 0.05
    recorder = Recorder(model, parameters="all")
    train_step(model, recorder, optim.SGD(model.parameters(), lr=lr))
    # loss = Σ relu(tanh(x W1ᵀ + b1) W2ᵀ): backpropagated by hand
    hidden, output = numpy_forward(X)
    grad_output = (output > 0).astype(np.float64)
    grad_w2 = grad_output.T @ hidden
    grad_pre = (grad_output @ W2) * (1 - hidden**2)
    grad_w1, grad_b1 = grad_pre.T @ X, grad_pre.sum(0)
    for name, grad, weight in [("0.weight", grad_w1, W1), ("0.bias", grad_b1, B1), ("2.weight", grad_w2, W2)]:
        assert recorder.history["grad_norm"][name] == [pytest.approx(np.linalg.norm(grad))]
        # SGD: Δθ = −lr·g, so ‖Δθ‖/‖θ‖ = lr·‖g‖/‖θ‖
        expected_ratio = lr * np.linalg.norm(grad) / np.linalg.norm(weight)
        assert recorder.history["update_ratio"][name] == [pytest.approx(expected_ratio)]


def test_default_parameters_are_the_weight_matrices():
    assert list(Recorder(tiny_model()).parameters) == ["0.weight", "2.weight"]


def test_one_entry_per_step_for_every_series():
    model = tiny_model()
    recorder = Recorder(model)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    for _ in range(3):
        train_step(model, recorder, optimizer)
    recorder.step()  # no forward, no optimizer: activation statistics and update ratios are NaN
    assert recorder.steps == 4
    arrays = recorder.as_arrays()
    assert all(len(series) == 4 for quantity in arrays.values() for series in quantity.values())
    assert math.isnan(arrays["std"]["1"][3]) and math.isnan(arrays["update_ratio"]["0.weight"][3])
    assert np.all(np.isfinite(arrays["update_ratio"]["0.weight"][:3]))


def test_eval_mode_forwards_are_not_recorded():
    model = tiny_model().eval()
    recorder = Recorder(model)
    model(tb.tensor(X))
    recorder.step()
    assert math.isnan(recorder.history["mean"]["1"][0])


def test_recording_changes_neither_outputs_nor_gradients():
    plain, watched = tiny_model(), tiny_model()
    recorder = Recorder(watched, parameters="all")
    out_plain, out_watched = plain(tb.tensor(X)), watched(tb.tensor(X))
    out_plain.sum().backward()
    out_watched.sum().backward()
    recorder.step()
    np.testing.assert_array_equal(out_watched.detach().numpy(), out_plain.detach().numpy())
    for (name, p_plain), p_watched in zip(plain.named_parameters(), watched.parameters()):
        np.testing.assert_array_equal(p_watched.grad.numpy(), p_plain.grad.numpy(), err_msg=name)


def test_close_removes_the_hooks_and_keeps_the_history():
    model = tiny_model()
    with Recorder(model) as recorder:
        assert all(len(module._forward_hooks) == 1 for module in recorder.layers.values())
        train_step(model, recorder, optim.SGD(model.parameters(), lr=0.01))
    assert all(len(module._forward_hooks) == 0 for module in model.modules())
    model(tb.tensor(X))
    assert recorder._pending == {}
    assert len(recorder.history["std"]["1"]) == 1


def test_layers_by_name_module_or_predicate():
    model = tiny_model()
    assert list(Recorder(model, layers=["0", model[3]]).layers) == ["0", "3"]
    assert list(Recorder(model, layers=lambda name, m: isinstance(m, nn.Linear)).layers) == ["0", "2"]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        Recorder(model, layers=["nope"])


def test_a_model_without_activation_modules_must_name_its_layers():
    with pytest.raises(ValueError, match="no activation modules"):
        Recorder(nn.Sequential(nn.Linear(2, 2)))


def test_saturation_threshold_sits_where_the_derivative_falls_below_two_percent():
    # σ' = σ(1 − σ) ≤ 0.25 and tanh' = 1 − tanh² ≤ 1: 2% of the peak at σ = 0.995, |tanh| = 0.99
    assert saturated_fraction(np.array([0.004, 0.006, 0.5, 0.994, 0.996]), 0.0, 1.0) == pytest.approx(2 / 5)
    assert saturated_fraction(np.array([-0.995, -0.98, 0.0, 0.98, 0.995]), -1.0, 1.0) == pytest.approx(2 / 5)


def test_dead_means_zero_for_the_whole_batch():
    outputs = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])  # only unit 0 is zero for every example
    assert dead_fraction(outputs) == pytest.approx(1 / 3)


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")  # conftest turns this skip into a failure in CI
    model = tiny_model()
    recorder = Recorder(model)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    for _ in range(3):
        train_step(model, recorder, optimizer)
    path = tmp_path / "diagnostics.png"
    figure = recorder.plot(path, title="tiny")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len([axis for axis in figure.axes if axis.get_visible()]) == 6
    figure = plot_recorder(recorder.history, quantities=["std"])
    assert len(figure.axes) == 1 and len(figure.axes[0].lines) == 2


def test_keep_outputs_holds_each_layers_latest_output():
    model = tiny_model()
    recorder = Recorder(model, keep_outputs=True)
    model(tb.tensor(X))
    hidden, output = numpy_forward(X)
    np.testing.assert_allclose(recorder.outputs["1"], hidden)
    np.testing.assert_allclose(recorder.outputs["3"], output)
    assert Recorder(model).outputs == {}
