"""Experiment 4, the curse of batch norm: BatchNorm vs Batch Renorm vs GroupNorm vs LayerNorm as
the batch shrinks.

    python examples/curse_of_batchnorm.py --data-dir ../shared/data      # ~1.5 CPU-minutes
    python examples/curse_of_batchnorm.py --smoke --out /tmp/curse       # seconds (what CI runs)

The network is 784-64-64-10, each hidden block ``Linear(bias=False) → norm → ReLU``, trained with
Adam and cross-entropy at batch sizes 2, 4, 8, 16, 32 and 256. Every run sees the **same number
of training examples** (``--examples``, 8,000 by default: two epochs of a 4,000-image random
subset of MNIST), so batch 2 takes 4,000 small steps and batch 256 takes 31 large ones; the
learning rate follows the square-root rule for Adam, lr = 1e-3·√(batch/32). Test accuracy is
measured in eval mode on all 10,000 test images: batch norm (and batch renorm) then use their
running statistics, the others normalise each example by itself.

What to expect: batch norm's accuracy falls at the smallest batches, where a batch's mean and
variance are poor estimates of the population's (at batch 2 every normalised value is ±1) and
training and test see different normalisations. Batch renorm (warm-up of a tenth of the steps,
then r_max → 3, d_max → 5 over a quarter) corrects toward the running statistics and recovers
part of the loss; group and layer norm never look across the batch, so they do not care. The
default run (seed 0): at batch 2, BatchNorm 64.4%, BatchRenorm 73.8%, GroupNorm 91.6%, LayerNorm
91.3%; at batch 4, 88.7 / 90.7 / 91.0 / 91.3%; from batch 8 up all four lie within 89.7-92.3%.
The script also shows the clear error for a batch of one in training, and that eval mode handles
a single example.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import _experiments as common
import numpy as np

import tinygrad_bn as tb
from tinygrad_bn import nn, optim

CLASSES = 10
BATCH_SIZES = (2, 4, 8, 16, 32, 256)


def norms(steps: int) -> dict[str, Callable[[int], nn.Module]]:
    """Each normalisation layer, by name, as a function of the width; ``steps`` sets batch renorm's schedule."""
    return {
        "BatchNorm": nn.BatchNorm1d,
        "BatchRenorm": lambda width: nn.BatchRenorm1d(width, warmup_steps=steps // 10, relax_steps=steps // 4),
        "GroupNorm(8)": lambda width: nn.GroupNorm(8, width),
        "LayerNorm": nn.LayerNorm,
    }


def build_mlp(norm: Callable[[int], nn.Module], hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(common.PIXELS, hidden, bias=False),
        norm(hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden, bias=False),
        norm(hidden),
        nn.ReLU(),
        nn.Linear(hidden, CLASSES),
    )


def show_batch_of_one(images: np.ndarray, hidden: int) -> None:
    """Batch statistics of one example do not exist: training refuses, eval uses the running ones."""
    single = tb.from_numpy(images[:1])
    for name, norm in norms(steps=0).items():
        model = build_mlp(norm, hidden).train()
        try:
            model(single)
            print(f"{name:13s} train mode, batch of 1: works (statistics per example, not per batch)")
        except ValueError as error:
            print(f"{name:13s} train mode, batch of 1: ValueError: {error}")
    model = build_mlp(nn.BatchNorm1d, hidden).eval()
    logits = model(single)
    print(f"BatchNorm     eval mode,  batch of 1: logits of shape {logits.shape} (running statistics, no error)")


def train_run(norm: Callable[[int], nn.Module], train, test, batch_size: int, examples: int, args) -> float:
    """Train on ``examples`` examples in batches of ``batch_size``; test accuracy in percent."""
    tb.manual_seed(args.seed)
    model = build_mlp(norm, args.hidden)
    optimizer = optim.Adam(model.parameters(), lr=1e-3 * math.sqrt(batch_size / 32))
    rng = np.random.default_rng(args.seed)
    steps_left = examples // batch_size
    while steps_left > 0:
        common.train_epoch(model, optimizer, train, batch_size, rng, max_steps=steps_left)
        steps_left -= len(train) // batch_size
    return common.accuracy(model, test)


def main() -> None:
    parser = common.experiment_parser(__doc__)
    parser.add_argument("--examples", type=int, default=8000, help="training examples seen by every run")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    args = parser.parse_args()
    if args.smoke:
        args.examples, args.train_size, args.hidden, args.batch_sizes = 64, 64, 16, [2, 32]
    test_size = 500 if args.smoke else 10000
    train, test = common.load_mnist(args.data_dir, args.train_size, test_size, args.seed, args.smoke)
    print(f"MNIST: {len(train)} training images (a random subset), {len(test)} test images")
    print(f"every run sees {args.examples} training examples; Adam, lr = 1e-3·√(batch/32)\n")
    show_batch_of_one(test.images, args.hidden)
    print()

    results: dict[str, list[float]] = {}
    rows = []
    for batch_size in args.batch_sizes:
        steps = args.examples // batch_size
        row: list[object] = [batch_size, steps]
        for name, norm in norms(steps).items():
            results.setdefault(name, []).append(train_run(norm, train, test, batch_size, args.examples, args))
            row.append(results[name][-1])
        rows.append(row)
        print(f"batch {batch_size:3d}: " + "  ".join(f"{name} {acc:.2f}%" for name, acc in zip(results, row[2:])))
    print()
    common.print_table(["batch", "steps", *(f"{name} %" for name in results)], rows)
    plot(args.batch_sizes, results, args.out)


def plot(batch_sizes: list[int], results: dict[str, list[float]], out) -> None:
    plt = common.pyplot()
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for name, accuracies in results.items():
        axis.plot(batch_sizes, accuracies, marker="o", label=name)
    axis.set_xscale("log", base=2)
    axis.set_xticks(batch_sizes, [str(size) for size in batch_sizes])
    axis.set_xlabel("batch size (same number of training examples for each)")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title("The curse of batch norm: MNIST test accuracy against batch size")
    axis.legend()
    common.save_figure(figure, out, "curse_of_batchnorm.png")


if __name__ == "__main__":
    main()
