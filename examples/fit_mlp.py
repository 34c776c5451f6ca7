"""Fit a 2-layer MLP to a generated toy problem (two interleaved spirals) and print the loss falling.

    python examples/fit_mlp.py --steps 300

The model is ``nn.Sequential(Linear, ReLU, Linear)`` trained on the whole set each step with
``nn.CrossEntropyLoss`` and ``optim.Adam``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import tinygrad_bn as tb
from tinygrad_bn import nn, optim


def two_spirals(points_per_class: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points on two interleaved spirals in the plane, labelled 0 and 1."""
    turn = np.sqrt(rng.random(points_per_class)) * 3 * math.pi
    arm = np.stack([turn * np.cos(turn), turn * np.sin(turn)], axis=1) / (3 * math.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * points_per_class, 2))
    y = np.concatenate([np.zeros(points_per_class), np.ones(points_per_class)]).astype(np.int64)
    return x.astype(np.float32), y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tb.manual_seed(args.seed)
    x_np, y_np = two_spirals(256, 0.02, np.random.default_rng(args.seed))
    x, y = tb.tensor(x_np), tb.tensor(y_np)
    model = nn.Sequential(nn.Linear(2, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 2))
    loss_function = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    for step in range(args.steps + 1):
        logits = model(x)
        loss = loss_function(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % max(1, args.steps // 10) == 0:
            accuracy = (logits.argmax(1) == y).float().mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
