"""Experiment 3, the activation zoo: one MLP on MNIST, trained once per activation function.

    python examples/activation_zoo.py --data-dir ../shared/data          # ~1 CPU-minute
    python examples/activation_zoo.py --smoke --out /tmp/zoo             # seconds (what CI runs)

The network is 784-128-128-128-10 (three hidden layers, no normalisation), trained with SGD
(momentum 0.9) and cross-entropy on a random subset of the MNIST training images (``--train-size``,
20,000 by default; the subset keeps the run short) and tested on all 10,000 test images. Every
variant starts from the same seed and PyTorch's default Linear init, except two, by design:

- SELU uses LeCun-normal weights and zero biases, with AlphaDropout (p=0.05) after each hidden
  layer: the self-normalising recipe (Klambauer et al. 2017).
- Maxout replaces each Linear+activation by ``Maxout(in, out, pieces=2)``: twice the hidden weights.

PReLU's slopes and Swish's β are learnt; the table shows where they ended up. Two PNGs:
``activation_functions.png`` (each function and its derivative, the derivative taken by our
autograd, not written by hand; Maxout, a learnt layer rather than a fixed function, is left out)
and ``activation_zoo_accuracy.png`` (test accuracy per epoch).

What to expect (the default run, seed 0): sigmoid barely learns in three epochs (σ′ ≤ 1/4, so
the gradient shrinks through each of the three saturating layers: ~18% test accuracy, loss still
2.3), while every other activation reaches 93.8-96.2%, Maxout (with twice the weights) and PReLU at
the top. The learnt Swish β rose above 1 (toward ReLU) in every layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import _experiments as common
import numpy as np

import tinygrad_bn as tb
from tinygrad_bn import nn, optim

CLASSES = 10


@dataclass
class Variant:
    """One row of the zoo: how to make a hidden block (Linear + activation, or a Maxout)."""

    name: str
    activation: Callable[[], nn.Module] | None  # None: the block is a Maxout
    selu_recipe: bool = False


VARIANTS = [
    Variant("sigmoid", nn.Sigmoid),
    Variant("tanh", nn.Tanh),
    Variant("ReLU", nn.ReLU),
    Variant("ReLU6", nn.ReLU6),
    Variant("LeakyReLU(0.01)", nn.LeakyReLU),
    Variant("PReLU (learnt a)", lambda: nn.PReLU()),
    Variant("ELU", nn.ELU),
    Variant("SELU+LeCun+AlphaDrop", nn.SELU, selu_recipe=True),
    Variant("GELU (erf)", nn.GELU),
    Variant("GELU (tanh)", lambda: nn.GELU(approximate="tanh")),
    Variant("SiLU", nn.SiLU),
    Variant("Swish (learnt β)", lambda: nn.Swish(learnable=True)),
    Variant("Maxout (k=2)", None),
]


def build_mlp(variant: Variant, hidden: int, layers: int) -> nn.Sequential:
    blocks: list[nn.Module] = []
    width = common.PIXELS
    for _ in range(layers):
        if variant.activation is None:
            blocks.append(nn.Maxout(width, hidden, pieces=2))
        else:
            linear = nn.Linear(width, hidden)
            if variant.selu_recipe:
                nn.init.lecun_normal_(linear.weight)
                nn.init.zeros_(linear.bias)
            blocks += [linear, variant.activation()]
            if variant.selu_recipe:
                blocks.append(nn.AlphaDropout(0.05))
        width = hidden
    return nn.Sequential(*blocks, nn.Linear(width, CLASSES))


def learnt_parameters(model: nn.Module) -> str:
    """PReLU slopes and Swish β after training, one per hidden layer: 'a=0.19/0.22/0.24'."""
    slopes = [module.weight.item() for module in model.modules() if isinstance(module, nn.PReLU)]
    betas = [module.beta.item() for module in model.modules() if isinstance(module, nn.Swish) and module.learnable]
    found = [
        f"{name}=" + "/".join(f"{v:.2f}" for v in values) for name, values in (("a", slopes), ("β", betas)) if values
    ]
    return " ".join(found) or "-"


def function_and_derivative(activation: nn.Module, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) on ``points``: f' is the gradient of Σf(x) by backward()."""
    x = tb.tensor(points, requires_grad=True)
    y = activation(x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


def plot_functions(out) -> None:
    plt = common.pyplot()
    points = np.linspace(-7.5, 7.5, 601, dtype=np.float32)
    shown = [variant for variant in VARIANTS if variant.activation is not None]
    columns = 4
    rows = -(-len(shown) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), sharex=True)
    for axis, variant in zip(axes.flat, shown):
        value, slope = function_and_derivative(variant.activation(), points)
        axis.plot(points, value, color="tab:blue", label="f(x)")
        axis.plot(points, slope, color="tab:red", linestyle="--", label="f′(x) (autograd)")
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.axvline(0, color="grey", linewidth=0.5)
        axis.set_title(variant.name, fontsize=9)
        axis.set_ylim(-2, 7)
    for axis in list(axes.flat)[len(shown) :]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    figure.suptitle("Activations and their derivatives (PReLU a and Swish β at their initial values; Maxout is learnt)")
    common.save_figure(figure, out, "activation_functions.png")


def main() -> None:
    parser = common.experiment_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.train_size, args.hidden, args.batch_size = 1, 256, 32, 64
    test_size = 500 if args.smoke else 10000
    train, test = common.load_mnist(args.data_dir, args.train_size, test_size, args.seed, args.smoke)
    print(f"MNIST: {len(train)} training images (a random subset), {len(test)} test images; {args.epochs} epochs")

    plot_functions(args.out)
    rows, curves = [], {}
    for variant in VARIANTS:
        tb.manual_seed(args.seed)
        model = build_mlp(variant, args.hidden, args.layers)
        optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
        rng = np.random.default_rng(args.seed)
        clock, curves[variant.name] = common.Stopwatch(), []
        for _ in range(args.epochs):
            with clock:
                loss = common.train_epoch(model, optimizer, train, args.batch_size, rng)
            curves[variant.name].append(common.accuracy(model, test))
        seconds = clock.seconds / args.epochs
        rows.append([variant.name, curves[variant.name][-1], loss, seconds, learnt_parameters(model)])
        print(f"{variant.name:22s} test accuracy {rows[-1][1]:6.2f}%  ({seconds:.2f} s/epoch)", flush=True)

    print()
    common.print_table(["activation", "test acc %", "last train loss", "s/epoch", "learnt"], rows)
    plot_accuracy(curves, args.out)


def plot_accuracy(curves: dict[str, list[float]], out) -> None:
    plt = common.pyplot()
    figure, axis = plt.subplots(figsize=(8, 5))
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, len(curves)))
    for colour, (name, accuracies) in zip(colours, curves.items()):
        axis.plot(range(1, len(accuracies) + 1), accuracies, marker="o", color=colour, label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title("The same MLP on MNIST with each activation")
    axis.legend(fontsize=7, ncol=2)
    common.save_figure(figure, out, "activation_zoo_accuracy.png")


if __name__ == "__main__":
    main()
