"""What the classic-experiment scripts share: their command line, MNIST as flat NumPy arrays, a
training loop, evaluation, a printed table and the PNG writer.

Not an example itself: ``activation_zoo.py``, ``curse_of_batchnorm.py`` and
``greedy_pretraining.py`` import it (Python puts the script's folder on ``sys.path``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tinygrad_bn as tb
from tinygrad_bn import nn

PIXELS = 28 * 28


def experiment_parser(doc: str) -> argparse.ArgumentParser:
    """The options every experiment takes: --out, --seed, --smoke and --data-dir."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNGs (default: ./out)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a few steps on tiny data (what CI runs)")
    parser.add_argument(
        "--data-dir", default=None, help="folder holding mnist/ (default: $TINYGRAD_BN_DATA, then the cache)"
    )
    return parser


@dataclass
class Split:
    """Flattened images (n, 784) float32 in [0, 1] and their labels (n,) int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def first(self, count: int) -> Split:
        return Split(self.images[:count], self.labels[:count])


def load_mnist(data_dir: str | None, train_size: int, test_size: int, seed: int, smoke: bool) -> tuple[Split, Split]:
    """A random ``train_size`` subset of MNIST's training split and the first ``test_size`` test images.

    With ``smoke``, both come from the (smaller, faster to read) test split, without overlap.
    """
    test = _flat(tb.data.MNIST(root=data_dir, train=False))
    if smoke:
        return test.first(train_size), Split(test.images[-test_size:], test.labels[-test_size:])
    train = _flat(tb.data.MNIST(root=data_dir, train=True))
    chosen = np.random.default_rng(seed).permutation(len(train))[:train_size]
    return Split(train.images[chosen], train.labels[chosen]), test.first(test_size)


def _flat(dataset: tb.data.MNIST) -> Split:
    images = dataset.data.reshape(len(dataset), PIXELS).astype(np.float32) / np.float32(255)
    return Split(images, dataset.targets.numpy())


def batches(
    split: Split, batch_size: int, rng: np.random.Generator, drop_last: bool = True
) -> Iterator[tuple[tb.Tensor, tb.Tensor]]:
    """One shuffled epoch of (images, labels) tensors; ``drop_last`` leaves out a short final batch
    (batch norm must never see a batch of one)."""
    order = rng.permutation(len(split))
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        rows = order[start : start + batch_size]
        yield tb.from_numpy(split.images[rows]), tb.from_numpy(split.labels[rows])


def train_epoch(
    model: nn.Module,
    optimizer: tb.optim.Optimizer,
    split: Split,
    batch_size: int,
    rng: np.random.Generator,
    loss_function: Callable[[tb.Tensor, tb.Tensor], tb.Tensor] | None = None,
    max_steps: int | None = None,
) -> float:
    """Train on one shuffled epoch (at most ``max_steps`` batches); the mean training loss."""
    loss_function = loss_function or nn.CrossEntropyLoss()
    model.train()
    losses = []
    for step, (images, labels) in enumerate(batches(split, batch_size, rng)):
        if max_steps is not None and step >= max_steps:
            break
        loss = loss_function(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else float("nan")


@tb.no_grad()
def accuracy(model: nn.Module, split: Split, batch_size: int = 1000) -> float:
    """Top-1 accuracy in eval mode, in percent."""
    model.eval()
    correct = 0
    for start in range(0, len(split), batch_size):
        logits = model(tb.from_numpy(split.images[start : start + batch_size]))
        correct += int((logits.argmax(1).numpy() == split.labels[start : start + batch_size]).sum())
    return 100.0 * correct / len(split)


class Stopwatch:
    """Seconds spent inside ``with`` blocks, summed."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._start


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: columns as wide as their widest cell, numbers right-aligned."""
    cells = [[str(cell) for cell in headers]] + [[_cell(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(row, widths, numeric)).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def pyplot():
    """matplotlib.pyplot on the Agg backend (PNG files, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, out: Path, name: str) -> Path:
    """Write ``figure`` to ``out/name`` (creating ``out``), close it and say where it went."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot().close(figure)
    print(f"wrote {path}")
    return path
