"""The classic experiments 3-6 (examples/activation_zoo.py, curse_of_batchnorm.py,
greedy_pretraining.py, placement_toy.py) run end to end in --smoke mode: each prints its table and
writes its PNGs, and the placement toy prints the batch statistics of its four rows.

The MNIST experiments need the real files (see example_runs.mnist_root).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from example_runs import mnist_root, printed_by


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """``smoke_run(script)``: (what it printed, its --out folder), each MNIST script run once per module."""
    root = mnist_root()
    runs: dict[str, tuple[str, Path]] = {}

    def run(script: str) -> tuple[str, Path]:
        if script not in runs:
            out = tmp_path_factory.mktemp(Path(script).stem)
            runs[script] = printed_by(script, "--smoke", "--data-dir", str(root), "--out", str(out)), out
        return runs[script]

    return run


@pytest.mark.parametrize(
    ("script", "table_header", "pictures"),
    [
        ("activation_zoo.py", r"activation\s+test acc %", ["activation_functions.png", "activation_zoo_accuracy.png"]),
        ("curse_of_batchnorm.py", r"batch\s+steps\s+BatchNorm %", ["curse_of_batchnorm.png"]),
        (
            "greedy_pretraining.py",
            r"labels\s+random init %",
            ["greedy_pretraining.png", "greedy_pretraining_filters.png"],
        ),
    ],
)
def test_mnist_experiment_prints_its_table_and_writes_its_pngs(script, table_header, pictures, smoke_run):
    printed, out = smoke_run(script)
    lines = printed.splitlines()
    header = next(i for i, line in enumerate(lines) if re.match(table_header, line))
    assert set(lines[header + 1].replace(" ", "")) == {"-"}, "a rule under the table header"
    assert lines[header + 2].strip(), "at least one table row"
    for picture in pictures:
        assert (out / picture).stat().st_size > 1000, f"{picture} missing or empty"


def test_curse_of_batchnorm_shows_the_batch_of_one_error_and_eval_on_one_example(smoke_run):
    printed, _ = smoke_run("curse_of_batchnorm.py")
    assert (
        "BatchNorm     train mode, batch of 1: ValueError: Expected more than 1 value per channel when training"
        in printed
    )
    assert "LayerNorm     train mode, batch of 1: works" in printed
    assert "eval mode,  batch of 1: logits of shape (1, 10)" in printed


def printed_vector(printed: str, name: str) -> np.ndarray:
    """The two numbers printed on the line that starts with ``name``."""
    match = re.search(rf"^{re.escape(name)}\s+(\S+)\s+(\S+)", printed, flags=re.MULTILINE)
    assert match, f"no line starting with {name!r}"
    return np.array([float(match[1]), float(match[2])])


def test_placement_toy_prints_the_batch_statistics_of_its_table():
    printed = printed_by("placement_toy.py", "--smoke")
    table = np.array([[8.9, 100.0], [6.2, 89.0], [9.1, 91.0], [7.7, 76.0]])
    mean = table.mean(axis=0)
    biased_std = np.sqrt(((table - mean) ** 2).mean(axis=0) + 1e-5)
    np.testing.assert_allclose(printed_vector(printed, "μ_B"), mean, rtol=1e-5)
    np.testing.assert_allclose(printed_vector(printed, "σ_B"), biased_std, rtol=1e-5)
    assert "largest |BatchNorm1d − NumPy by hand|" in printed
    losses = [float(loss) for loss in re.findall(r"loss (\S+)", printed)]
    assert losses[-1] < losses[0], "the loss falls"
    assert "final predictions" in printed
