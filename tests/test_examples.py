"""The examples run as their users run them: each script in a subprocess, checked by what it prints
and writes. MNIST's files come from $TINYGRAD_BN_DATA, else ../shared/data beside the checkout (where
CI keeps them); without either the MNIST tests skip, which CI turns into a failure."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_bn as tb

ROOT = Path(__file__).resolve().parents[1]
ACCURACY_LINE = re.compile(r"^test accuracy: (\d{1,3}\.\d\d)%$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_example(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def final_accuracy(result: subprocess.CompletedProcess) -> float:
    """The percentage on the last line, which must read ``test accuracy: NN.NN%``."""
    assert result.returncode == 0, result.stdout + result.stderr
    match = ACCURACY_LINE.match(result.stdout.splitlines()[-1])
    assert match is not None, result.stdout
    return float(match.group(1))


def load_example(script: str):
    """The example's module, imported without running its main()."""
    spec = importlib.util.spec_from_file_location(Path(script).stem, ROOT / "examples" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[: len(PNG_SIGNATURE)] == PNG_SIGNATURE


@pytest.fixture(scope="module")
def mnist_root() -> Path:
    candidates = [Path(os.environ["TINYGRAD_BN_DATA"])] if os.environ.get("TINYGRAD_BN_DATA") else []
    candidates.append(ROOT.parent / "shared" / "data")
    for root in candidates:
        if (root / "mnist").is_dir():
            return root
    pytest.skip(f"no MNIST files: looked for mnist/ in {', '.join(map(str, candidates))}")


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


def test_mnist_refuses_a_device_without_a_backend():
    result = run_example("mnist_mlp.py", "--device", "cl")
    assert result.returncode == 2
    assert "--device cl" in result.stderr and "no backend" in result.stderr
