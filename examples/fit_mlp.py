"""Fit a 2-layer MLP to a generated toy problem (two interleaved spirals) and print the loss falling.

    python examples/fit_mlp.py --steps 300

Everything is built from tensors and autograd alone (layers and optimizers arrive with the nn
and optim packages): logits = relu(x·W1 + b1)·W2 + b2, softmax cross-entropy, plain SGD.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import tinygrad_bn as tb


def two_spirals(points_per_class: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points on two interleaved spirals in the plane, labelled 0 and 1."""
    turn = np.sqrt(rng.random(points_per_class)) * 3 * math.pi
    arm = np.stack([turn * np.cos(turn), turn * np.sin(turn)], axis=1) / (3 * math.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * points_per_class, 2))
    y = np.concatenate([np.zeros(points_per_class), np.ones(points_per_class)]).astype(np.int64)
    return x.astype(np.float32), y


def cross_entropy(logits: tb.Tensor, labels: tb.Tensor) -> tb.Tensor:
    """mean over the batch of −log softmax(logits)[label]."""
    return -(logits.log_softmax(1) * tb.one_hot(labels, logits.shape[1])).sum(1).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tb.manual_seed(args.seed)
    x_np, y_np = two_spirals(256, 0.02, np.random.default_rng(args.seed))
    x, y = tb.tensor(x_np), tb.tensor(y_np)
    w1 = (tb.randn(2, args.hidden) * math.sqrt(2 / 2)).requires_grad_()
    b1 = tb.zeros(args.hidden, requires_grad=True)
    w2 = (tb.randn(args.hidden, 2) * math.sqrt(1 / args.hidden)).requires_grad_()
    b2 = tb.zeros(2, requires_grad=True)
    parameters = [w1, b1, w2, b2]

    for step in range(args.steps + 1):
        logits = (x @ w1 + b1).relu() @ w2 + b2
        loss = cross_entropy(logits, y)
        for p in parameters:
            p.grad = None
        loss.backward()
        with tb.no_grad():
            for p in parameters:
                p -= args.lr * p.grad
        if step % max(1, args.steps // 10) == 0:
            accuracy = (logits.argmax(1) == y).float().mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
