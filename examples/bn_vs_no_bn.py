"""Classic experiment 1: batch norm vs no batch norm in a deep sigmoid network.

    python examples/bn_vs_no_bn.py --data-dir /path/to/data --out out/

A 7-layer MLP on MNIST (784 → 6 × [Linear(100) → Sigmoid] → Linear(10)), every weight drawn as
0.1·randn and every bias 0, is trained twice from the same initial weights on the same batches with
plain SGD (lr 0.5, batch 60): once as it is, once with a BatchNorm1d between each hidden Linear and
its Sigmoid. That is the only difference.

Plain SGD is chosen because it shows the classic result cleanly (Ioffe & Szegedy 2015, figure 1):
without batch norm each sigmoid squashes the signal towards 0.5 and its derivative (at most 1/4)
shrinks the gradient at every layer, so the loss sits at log 10 ≈ 2.30 for hundreds of steps; with
batch norm every layer's input is standardised and the network learns at once. (Adam rescales each
gradient and so hides much of the difference.)

To keep the run to a minute or two it trains 1,000 steps (one pass over all 60,000 training images,
in a seeded random order) and measures test accuracy every 50 steps on the first 1,000 test images.

Writes, under --out: ``bn_vs_no_bn.png`` (training loss and test accuracy, without BN in blue,
with BN in red), ``bn_vs_no_bn_activation_std.png`` (each hidden layer's activation std over the
steps, from ``tinygrad_bn.diagnostics.Recorder``) and ``bn_vs_no_bn_diagnostics_{plain,bn}.png``
(every recorded quantity); prints a table and the steps each run needed to reach 50%, 80% and 90%
test accuracy. ``--smoke`` runs a few steps on a few hundred images (what CI runs).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from _experiments import Split, accuracy, batches, experiment_parser, load_mnist, print_table, pyplot, save_figure

import tinygrad_bn as tb
from tinygrad_bn import nn, optim
from tinygrad_bn.diagnostics import Recorder, plot_recorder

HIDDEN_LAYERS, WIDTH, WEIGHT_STD = 6, 100, 0.1
TARGETS = (50.0, 80.0, 90.0)  # test accuracies (%) whose first step is reported
RUNS = {"plain": ("without BN", "tab:blue"), "bn": ("with BN", "tab:red")}


def sigmoid_mlp(batch_norm: bool, seed: int) -> nn.Sequential:
    """784 → 6 × [Linear → (BatchNorm1d) → Sigmoid] → Linear(10); W ~ 0.1·N(0, 1), b = 0.

    The same seed gives the same weights with or without batch norm (BatchNorm1d draws nothing)."""
    tb.manual_seed(seed)
    layers: list[nn.Module] = []
    width = 28 * 28
    for _ in range(HIDDEN_LAYERS):
        layers += [nn.Linear(width, WIDTH), *([nn.BatchNorm1d(WIDTH)] if batch_norm else []), nn.Sigmoid()]
        width = WIDTH
    layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, WEIGHT_STD)
            nn.init.zeros_(module.bias)
    return model


def endless_batches(split: Split, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[tb.Tensor, tb.Tensor]]:
    """Shuffled epochs of ``split``, one after another."""
    while True:
        yield from batches(split, batch_size, rng)


def sgd_parser(doc: str, steps: int, batch_size: int, lr: float) -> argparse.ArgumentParser:
    """The experiment options plus what ``sgd_with_recorder`` reads: --steps, --batch-size, --lr."""
    parser = experiment_parser(doc)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--lr", type=float, default=lr)
    return parser


def sgd_with_recorder(
    model: nn.Module, train_split: Split, args, after_step: Callable[[int], None] | None = None
) -> tuple[list[float], Recorder]:
    """Plain SGD (``args.lr``) on cross-entropy for ``args.steps`` batches of ``args.batch_size``,
    drawn in the order ``args.seed`` gives (the same batches for every model), with a diagnostics
    ``Recorder`` on every activation layer; ``after_step(step)`` runs after each step. Returns the
    per-step losses and the recorder (experiment 2 trains with it too)."""
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    loss_function = nn.CrossEntropyLoss()
    batch_stream = endless_batches(train_split, args.batch_size, np.random.default_rng(args.seed))
    losses = []
    with Recorder(model) as recorder:
        for step in range(1, args.steps + 1):
            images, labels = next(batch_stream)
            model.train()
            loss = loss_function(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            recorder.step(optimizer)
            losses.append(loss.item())
            if after_step is not None:
                after_step(step)
    return losses, recorder


def train(model: nn.Module, train_split: Split, test_split: Split, args) -> tuple[dict, Recorder]:
    """The per-step loss, the test accuracy every ``args.eval_every`` steps, and the recorder that
    watched every sigmoid."""
    curves: dict = {"eval_steps": [0], "accuracy": [accuracy(model, test_split)]}

    def evaluate(step: int) -> None:
        if step % args.eval_every == 0 or step == args.steps:
            curves["eval_steps"].append(step)
            curves["accuracy"].append(accuracy(model, test_split))

    curves["loss"], recorder = sgd_with_recorder(model, train_split, args, after_step=evaluate)
    return curves, recorder


def first_step_reaching(curves: dict, target: float) -> int | None:
    """The first evaluated step whose test accuracy is at least ``target`` (None: never)."""
    reached = [step for step, acc in zip(curves["eval_steps"], curves["accuracy"]) if acc >= target]
    return reached[0] if reached else None


def smoothed(values: list[float], window: int) -> np.ndarray:
    """Trailing moving average (the first points average what there is so far)."""
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_curves(results: dict, out: Path) -> None:
    plt = pyplot()
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for key, (label, color) in RUNS.items():
        curves = results[key]
        steps = np.arange(1, len(curves["loss"]) + 1)
        loss_axis.plot(steps, curves["loss"], color=color, alpha=0.2, linewidth=0.8)
        loss_axis.plot(steps, smoothed(curves["loss"], 20), color=color, label=label)
        accuracy_axis.plot(curves["eval_steps"], curves["accuracy"], color=color, marker=".", label=label)
    loss_axis.set(title="training loss (faint: per batch; solid: mean of 20)", xlabel="step", ylabel="cross-entropy")
    accuracy_axis.set(title="test accuracy", xlabel="step", ylabel="accuracy (%)", ylim=(0, 100))
    for axis in (loss_axis, accuracy_axis):
        axis.legend()
        axis.grid(alpha=0.3)
    figure.suptitle("7-layer sigmoid MLP, W ~ 0.1·N(0,1), SGD: without vs with batch norm")
    save_figure(figure, out, "bn_vs_no_bn.png")


def plot_activation_std(recorders: dict, out: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for axis, (key, (label, _)) in zip(axes, RUNS.items()):
        for number, series in enumerate(recorders[key].history["std"].values(), start=1):
            axis.plot(series, label=f"sigmoid {number}", color=plt.cm.viridis(number / (HIDDEN_LAYERS + 1)))
        axis.set(title=f"{label}: std of each sigmoid's output", xlabel="step", yscale="log")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("activation std")
    axes[1].legend(fontsize="small")
    save_figure(figure, out, "bn_vs_no_bn_activation_std.png")


def print_gradient_ratio(recorders: dict) -> None:
    """How much of the gradient reaches the first layer: ‖∂L/∂W₁‖ / ‖∂L/∂W₇‖ at the first step."""
    for key, (label, _) in RUNS.items():
        norms = [series[0] for series in recorders[key].history["grad_norm"].values()]
        print(f"{label}: gradient norm of the first weight matrix / the last at step 1 = {norms[0] / norms[-1]:.2e}")


def print_summary(results: dict, recorders: dict, smoke: bool) -> None:
    plain, bn = results["plain"], results["bn"]
    rows = []
    for index, step in enumerate(plain["eval_steps"]):
        window = slice(max(0, step - 50), step)  # mean loss of the 50 batches before this evaluation
        losses = [np.mean(curves["loss"][window]) if step else float("nan") for curves in (plain, bn)]
        rows.append([step, losses[0], plain["accuracy"][index], losses[1], bn["accuracy"][index]])
    print_table(["step", "loss (no BN)", "acc % (no BN)", "loss (BN)", "acc % (BN)"], rows)
    print()
    last = plain["eval_steps"][-1]
    reach = {key: [first_step_reaching(results[key], target) for target in TARGETS] for key in RUNS}
    print_table(
        ["steps to reach", *[f"{target:.0f}% test acc" for target in TARGETS]],
        [[RUNS[key][0], *[f"> {last}" if s is None else s for s in reach[key]]] for key in RUNS],
    )
    print()
    print_gradient_ratio(recorders)
    bn_80, plain_80 = reach["bn"][1], reach["plain"][1]
    if smoke:
        print("smoke run: too few steps to judge the result")
    elif bn_80 is not None and (plain_80 is None or plain_80 >= 5 * bn_80):
        never = f"not within {last} steps" if plain_80 is None else f"only after {plain_80} steps"
        print(f"result: with batch norm 80% test accuracy after {bn_80} steps; without it {never}.")
        print("Batch norm makes this network converge far faster.")
    else:
        print(f"result: NOT the classic result (80% test accuracy: with BN at {bn_80}, without at {plain_80})")


def main() -> None:
    parser = sgd_parser(__doc__, steps=1000, batch_size=60, lr=0.5)
    parser.add_argument("--eval-every", type=int, default=50)
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.eval_every = 6, 3
    train_size, test_size = args.steps * args.batch_size, 200 if args.smoke else 1000
    train_split, test_split = load_mnist(args.data_dir, train_size, test_size, args.seed, args.smoke)

    results, recorders = {}, {}
    for key, (label, _) in RUNS.items():
        print(f"training {label} ...", flush=True)
        results[key], recorders[key] = train(sigmoid_mlp(key == "bn", args.seed), train_split, test_split, args)
        title = f"7-layer sigmoid MLP {label}: diagnostics per step"
        args.out.mkdir(parents=True, exist_ok=True)
        plot_recorder(recorders[key], args.out / f"bn_vs_no_bn_diagnostics_{key}.png", title=title)
        print(f"wrote {args.out / f'bn_vs_no_bn_diagnostics_{key}.png'}")
    plot_curves(results, args.out)
    plot_activation_std(recorders, args.out)
    print_summary(results, recorders, args.smoke)


if __name__ == "__main__":
    main()
