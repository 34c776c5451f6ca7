"""The main examples (quickstart, mnist_mlp) run as their users run them (see example_runs)."""

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
from example_runs import REPO, is_png, mnist_root, run_example

import tinygrad_bn as tb

ACCURACY_LINE = re.compile(r"^test accuracy: (\d{1,3}\.\d\d)%$")


def final_accuracy(result: subprocess.CompletedProcess) -> float:
    """The percentage on the last line, which must read ``test accuracy: NN.NN%``."""
    assert result.returncode == 0, result.stdout + result.stderr
    match = ACCURACY_LINE.match(result.stdout.splitlines()[-1])
    assert match is not None, result.stdout
    return float(match.group(1))


def load_example(script: str):
    """The example's module, imported without running its main()."""
    spec = importlib.util.spec_from_file_location(Path(script).stem, REPO / "examples" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", name="mnist_root")
def mnist_root_fixture() -> Path:
    return mnist_root()


def test_quickstart_smoke_writes_the_png_and_the_accuracy(tmp_path):
    out = tmp_path / "boundary.png"
    accuracy = final_accuracy(run_example("quickstart.py", "--smoke", "--out", str(out)))
    assert 0 <= accuracy <= 100
    assert is_png(out)


def test_quickstart_separates_the_spirals(tmp_path):
    """The README's first command: held-out accuracy of at least 97% within seconds."""
    out = tmp_path / "quickstart.png"
    assert final_accuracy(run_example("quickstart.py", "--out", str(out))) >= 97.0
    assert is_png(out)


def test_mnist_smoke_trains_and_saves_a_checkpoint_that_loads(tmp_path, mnist_root):
    checkpoint_path = tmp_path / "mnist.tbn"
    result = run_example("mnist_mlp.py", "--smoke", "--data-dir", str(mnist_root), "--save", str(checkpoint_path))
    assert final_accuracy(result) > 30.0  # a few batches already beat chance (10%) by far
    assert re.search(r"^epoch 1/1: train loss [\d.]+, test accuracy [\d.]+%", result.stdout, re.M), result.stdout

    checkpoint = tb.load(checkpoint_path)
    assert checkpoint["epochs"] == 1 and checkpoint["dataset"] == "mnist"
    assert "1.bias" not in checkpoint["model"]  # Linear(bias=False) before batch norm
    model = load_example("mnist_mlp.py").bn_mlp([28 * 28, 512, 512, 10])
    model.load_state_dict(checkpoint["model"])  # strict: every key and shape matches
    optimizer = tb.optim.Adam(model.parameters())
    optimizer.load_state_dict(checkpoint["optimizer"])
    assert len(optimizer.state) == len(list(model.parameters()))


def test_mnist_smoke_trains_on_an_opencl_device(mnist_root):
    if not tb.cl.is_available():  # (a skip fails the session in CI, which installs PoCL)
        pytest.skip(f"OpenCL is not available: {tb.cl.unavailable_reason()}")
    result = run_example("mnist_mlp.py", "--smoke", "--device", "cl", "--data-dir", str(mnist_root))
    assert result.returncode == 0, result.stderr
    assert final_accuracy(result) > 30.0


def test_mnist_refuses_a_device_that_is_not_there():
    result = run_example("mnist_mlp.py", "--device", "cl:99")
    assert result.returncode == 2
    assert "--device cl:99" in result.stderr and "OpenCL" in result.stderr
