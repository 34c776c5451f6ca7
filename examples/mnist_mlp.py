"""Train a batch-normalised MLP on MNIST (or Fashion-MNIST) and report the test accuracy after each epoch.

    python examples/mnist_mlp.py --data-dir DIR            # DIR/mnist/ holds the four IDX files (.gz or not)
    python examples/mnist_mlp.py --dataset fashion --epochs 10 --save fashion.tbn

The model is 784-512-512-10 with Linear(bias=False) → BatchNorm1d → ReLU in each hidden layer,
trained with Adam on batches of 256 under a one-cycle learning-rate schedule. Without
``--data-dir`` the files are looked for under ``$TINYGRAD_BN_DATA``, then ``~/.cache/tinygrad_bn``;
nothing is downloaded (``tinygrad_bn.data.MNIST(download=True)`` fetches them once). ``--save``
writes the model's and the optimizer's state through ``tb.save``. The last line printed is
``test accuracy: NN.NN%``. ``--smoke`` trains a few batches of a small subset (what CI runs).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from tqdm import tqdm

import tinygrad_bn as tb
from tinygrad_bn import nn, optim
from tinygrad_bn.data import MNIST, DataLoader, FashionMNIST, Subset

DATASETS = {"mnist": MNIST, "fashion": FashionMNIST}


def bn_mlp(sizes: list[int]) -> nn.Sequential:
    """Flatten, then Linear(bias=False) → BatchNorm1d → ReLU between consecutive ``sizes``, and a
    final Linear to the logits (batch norm's β makes a bias before it redundant)."""
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in itertools.pairwise(sizes[:-1]):
        layers += [nn.Linear(fan_in, fan_out, bias=False), nn.BatchNorm1d(fan_out), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def train_epoch(model, loader, optimizer, scheduler, device, description: str) -> float:
    """One pass over ``loader``, stepping the optimizer and the schedule per batch; the mean loss."""
    loss_function = nn.CrossEntropyLoss()
    model.train()
    total, batches = 0.0, 0
    with tqdm(loader, desc=description, unit="batch", leave=False) as bar:
        for images, labels in bar:
            loss = loss_function(model(images.to(device)), labels.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total, batches = total + loss.item(), batches + 1
            bar.set_postfix(loss=f"{total / batches:.4f}", refresh=False)
    return total / batches


def evaluate(model, loader, device) -> float:
    """The fraction of ``loader``'s examples that the model classifies correctly."""
    model.eval()
    correct, seen = 0, 0
    with tb.no_grad():
        for images, labels in loader:
            correct += int((model(images.to(device)).argmax(1) == labels.to(device)).sum().item())
            seen += len(labels)
    return correct / seen


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="holds mnist/ or fashion-mnist/")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3, help="the one-cycle schedule's peak learning rate")
    parser.add_argument("--device", default="cpu", help="'cpu', or an OpenCL device: 'cl' or 'cl:N'")
    parser.add_argument("--save", type=Path, default=None, help="write a checkpoint here after training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a few batches of a small subset (for CI)")
    args = parser.parse_args()
    try:
        tb.zeros(1).to(args.device)
    except (ValueError, RuntimeError) as error:
        parser.error(f"--device {args.device}: {error}")
    return args


def main() -> None:
    args = parse_args()
    tb.manual_seed(args.seed)
    dataset = DATASETS[args.dataset]
    train_set, test_set = dataset(args.data_dir, train=True), dataset(args.data_dir, train=False)
    if args.smoke:
        args.epochs = 1
        train_set, test_set = Subset(train_set, range(4 * args.batch_size)), Subset(test_set, range(1000))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = bn_mlp([28 * 28, 512, 512, 10]).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(train_loader)
    )

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        description = f"epoch {epoch}/{args.epochs}"
        loss = train_epoch(model, train_loader, optimizer, scheduler, args.device, description)
        accuracy = evaluate(model, test_loader, args.device)
        elapsed = time.perf_counter() - start
        print(f"{description}: train loss {loss:.4f}, test accuracy {100 * accuracy:.2f}% ({elapsed:.1f} s)")

    if args.save is not None:
        checkpoint = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epochs": args.epochs,
            "dataset": args.dataset,
        }
        tb.save(checkpoint, args.save)
        print(f"saved the model and optimizer state to {args.save}")
    print(f"test accuracy: {100 * accuracy:.2f}%")


if __name__ == "__main__":
    main()
