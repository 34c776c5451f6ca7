"""Experiment 6, the placement toy: one batch-norm step on a four-row table, number by number,
then a tiny network trained on it.

    python examples/placement_toy.py                 # under a second; no data to download
    python examples/placement_toy.py --smoke         # fewer training steps (what CI runs)

The table (``tinygrad_bn.data.placement_table()``) holds each student's cgpa and iq, and whether
they were placed. Its two features live on scales ~10× apart. A ``BatchNorm1d(2)`` in training
mode normalises each feature over the batch of four:

    μ_B = mean(x),  σ²_B = mean((x − μ_B)²) (biased: divided by n = 4),  σ_B = √(σ²_B + eps)
    x̂ = (x − μ_B)/σ_B,  y = γ·x̂ + β

The script prints every quantity, taking the output from our BatchNorm1d and checking it against
the same formulas written out in NumPy. γ and β are set to (2, 0.5) and (1, −1) rather than the
initial (1, 1) and (0, 0), so the affine step shows. Then ``BatchNorm1d → Linear(2, 8) → ReLU →
Linear(8, 2)`` learns the table (a hidden layer is needed: placed and not-placed students are not
separable by a line), printing the loss as it falls and the final predictions in eval mode,
where the running statistics stand in for the batch's.
"""

from __future__ import annotations

import argparse
import unicodedata

import numpy as np

import tinygrad_bn as tb
from tinygrad_bn import nn, optim

FEATURES = ("cgpa", "iq")
GAMMA, BETA = (2.0, 0.5), (1.0, -1.0)


def show(name: str, values: np.ndarray, note: str = "") -> None:
    """One quantity: a per-feature vector on one line, or a matrix with one line per row."""
    values = np.atleast_2d(values)
    for i, row in enumerate(values):
        label = name if i == 0 else ""
        width = sum(not unicodedata.combining(character) for character in label)  # x̂ is 2 code points, 1 column
        print(
            label
            + " " * (6 - width)
            + "".join(f"{value:12.6f}" for value in row)
            + (f"   {note}" if note and i == 0 else "")
        )


def batch_norm_step(features: tb.Tensor) -> None:
    """One training-mode BatchNorm1d forward, printed and cross-checked by hand."""
    x = features.numpy().astype(np.float64)
    layer = nn.BatchNorm1d(2)
    with tb.no_grad():
        layer.weight.copy_(tb.tensor(GAMMA))
        layer.bias.copy_(tb.tensor(BETA))
    output = layer.train()(features).detach().numpy()

    mean = x.mean(axis=0)
    variance = ((x - mean) ** 2).mean(axis=0)  # biased: divided by n
    std = np.sqrt(variance + layer.eps)
    normalised = (x - mean) / std
    by_hand = np.asarray(GAMMA) * normalised + np.asarray(BETA)

    print(f"\none batch-norm step (training mode, eps = {layer.eps:g}, n = {len(x)} rows)")
    print(" " * 6 + "".join(f"{name:>12s}" for name in FEATURES))
    show("x", x)
    show("μ_B", mean, "batch mean")
    show("σ²_B", variance, "biased variance: mean of squared deviations, ÷ n")
    show("σ_B", std, f"√(σ²_B + eps), eps = {layer.eps:g}")
    show("x̂", normalised, "(x − μ_B)/σ_B: each column now has mean 0, variance ≈ 1")
    show("γ", layer.weight.detach().numpy(), "weight")
    show("β", layer.bias.detach().numpy(), "bias")
    show("y", output, "γ·x̂ + β, from tinygrad_bn's BatchNorm1d")
    difference = np.abs(output - by_hand).max()
    print(f"largest |BatchNorm1d − NumPy by hand| = {difference:.2e}")
    if difference > 1e-4:
        raise SystemExit("BatchNorm1d disagrees with the formulas")

    # The running statistics move a tenth (momentum) of the way, with the *unbiased* variance.
    print(f"\nrunning statistics after this step (momentum {layer.momentum}):")
    show("r_mean", layer.running_mean.numpy(), "0.9·0 + 0.1·μ_B")
    show("r_var", layer.running_var.numpy(), f"0.9·1 + 0.1·σ²_B·n/(n − 1) = {0.9 + 0.1 * variance[0] * 4 / 3:.6f}, …")


def train(features: tb.Tensor, labels: tb.Tensor, steps: int, seed: int) -> None:
    """Fit BatchNorm1d → Linear → ReLU → Linear to the four rows (the whole table is one batch)."""
    tb.manual_seed(seed)
    model = nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    loss_function = nn.CrossEntropyLoss()
    print(f"\ntraining BatchNorm1d(2) → Linear(2, 8) → ReLU → Linear(8, 2) for {steps} full-batch Adam steps:")
    for step in range(steps + 1):
        loss = loss_function(model(features), labels)
        if step % max(1, steps // 10) == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with tb.no_grad():
        probabilities = model.eval()(features).softmax(1).numpy()
    print("\nfinal predictions (eval mode: running statistics)")
    print(f"{'cgpa':>6s}{'iq':>7s}{'placed':>8s}{'P(placed)':>11s}{'predicted':>11s}")
    for row, label, p in zip(features.numpy(), labels.numpy(), probabilities[:, 1]):
        print(f"{row[0]:6.1f}{row[1]:7.0f}{label:8d}{p:11.3f}{int(p > 0.5):11d}")
    correct = int(((probabilities[:, 1] > 0.5) == labels.numpy().astype(bool)).sum())
    print(f"{correct}/4 rows right")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="fewer training steps (what CI runs)")
    args = parser.parse_args()
    if args.smoke:
        args.steps = 20

    features, labels = tb.data.placement_table()
    print("the placement table")
    print(f"{'cgpa':>6s}{'iq':>7s}{'placed':>8s}")
    for row, label in zip(features.numpy(), labels.numpy()):
        print(f"{row[0]:6.1f}{row[1]:7.0f}{label:8d}")
    batch_norm_step(features)
    train(features, labels, args.steps, args.seed)


if __name__ == "__main__":
    main()
