"""Quickstart: train a batch-normalised MLP on two spirals made in code, then draw its decision boundary.

    python examples/quickstart.py                    # a few seconds; writes quickstart.png
    python examples/quickstart.py --out boundary.png --epochs 40

Nothing is downloaded: the data come from ``tinygrad_bn.data.make_spirals``. The model is
(Linear → BatchNorm1d → ReLU) × 2 → Linear, trained with Adam on mini-batches from a shuffled
``DataLoader``; accuracy is measured on held-out points drawn from the same spirals with another seed.
``--smoke`` runs a few steps on tiny data (what CI runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

import tinygrad_bn as tb
from tinygrad_bn import nn, optim
from tinygrad_bn.data import DataLoader, TensorDataset, make_spirals


def bn_mlp(in_features: int, hidden: int, out_features: int) -> nn.Sequential:
    """Two hidden layers of Linear → BatchNorm1d → ReLU; the linear layers before batch norm carry
    no bias, since batch norm subtracts the mean (its β is the bias)."""
    return nn.Sequential(
        nn.Linear(in_features, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Linear(hidden, out_features),
    )


def train(model: nn.Module, loader: DataLoader, epochs: int, lr: float) -> None:
    loss_function = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(loader))
    model.train()
    with tqdm(range(epochs), desc="training", unit="epoch") as bar:
        for _ in bar:
            epoch_loss = 0.0
            for x, y in loader:
                loss = loss_function(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                epoch_loss += loss.item() / len(loader)
            bar.set_postfix(loss=f"{epoch_loss:.4f}")


def accuracy(model: nn.Module, x: tb.Tensor, y: tb.Tensor) -> float:
    model.eval()
    with tb.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def plot_decision_boundary(model: nn.Module, x: tb.Tensor, y: tb.Tensor, path: Path, title: str) -> None:
    """Colour the plane by the predicted class and scatter the points (x, y) over it."""
    points, labels = x.numpy(), y.numpy()
    low, high = points.min(0) - 0.1, points.max(0) + 0.1
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], 300), np.linspace(low[1], high[1], 300))
    grid = tb.from_numpy(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32))
    model.eval()
    with tb.no_grad():
        predicted = model(grid).argmax(1).numpy().reshape(grid_x.shape)
    figure, axes = plt.subplots(figsize=(6, 6))
    axes.contourf(grid_x, grid_y, predicted, levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fcae91"])
    axes.scatter(points[:, 0], points[:, 1], c=labels, cmap="coolwarm", s=8, edgecolors="none")
    axes.set_title(title)
    axes.set_aspect("equal")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--samples", type=int, default=2000, help="training points (as many again are held out)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("quickstart.png"), help="where to write the PNG")
    parser.add_argument("--smoke", action="store_true", help="a few steps on tiny data (for CI)")
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.samples = 2, 128

    tb.manual_seed(args.seed)
    x_train, y_train = make_spirals(args.samples, noise=0.03, seed=args.seed)
    x_test, y_test = make_spirals(args.samples, noise=0.03, seed=args.seed + 1)
    loader = DataLoader(
        TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True, drop_last=True, seed=args.seed
    )
    model = bn_mlp(2, args.hidden, 2)

    train(model, loader, args.epochs, args.lr)
    train_accuracy, test_accuracy = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
    title = f"two spirals: held-out accuracy {100 * test_accuracy:.2f}%"
    plot_decision_boundary(model, x_test, y_test, args.out, title)
    print(f"wrote the decision boundary to {args.out}")
    print(f"train accuracy: {100 * train_accuracy:.2f}%")
    print(f"test accuracy: {100 * test_accuracy:.2f}%")


if __name__ == "__main__":
    main()
