"""Classic experiment 2: how the initial weight scale shapes activations, and so training.

    python examples/init_and_activations.py --data-dir /path/to/data --out out/

Part 1, activation statistics (no data needed): 1000 unit-Gaussian inputs of 500 features pass
through 5 layers of 500 units, ``h ← f(h W)`` with no bias, for each activation f (tanh, sigmoid,
ReLU) and each initialisation of W: 0.01·randn, 1.0·randn, Xavier (randn/√fan_in) and He
(randn·√(2/fan_in)). A ``tinygrad_bn.diagnostics.Recorder`` watches each layer: one PNG per
activation (``init_histograms_<activation>.png``: a row per initialisation, a column per layer)
and a table of each layer's std and its fraction saturated (tanh, sigmoid: |y| within 1% of the
asymptotes) or of dead units (ReLU: zero for the whole batch).

What to see: with 0.01·randn the activations shrink towards 0 layer by layer (tanh, ReLU: the
std falls ~5× per layer; sigmoid collapses onto 0.5); with 1.0·randn tanh and sigmoid saturate at
their asymptotes (and ReLU's scale explodes); Xavier keeps tanh's spread roughly steady; He does
the same for ReLU, which Xavier lets shrink by √2 per layer.

Part 2, training (MNIST): a 3-hidden-layer tanh network 784-256-256-256-10 (biases 0), trained
with cross-entropy by plain mini-batch gradient descent (SGD, lr 0.1, batch 256) for 300 steps on a
random 20,000-image subset of the training split, from each initialisation, plus a ReLU network
with He init. ``init_training.png`` has the loss curves and the saturated fraction; the table gives
the loss after k steps and the final accuracy on the first 2,000 test images. What to see: small
init, the loss stays flat at log 10 ≈ 2.30 for the first steps (the signal and its gradient
vanish); large init, the tanh units saturate and the loss starts huge and barely moves; Xavier
trains; He trains the ReLU network. The script checks these four claims and prints each verdict.

``--smoke`` uses 100 inputs in part 1 and 4 steps on a few hundred test images in part 2 (CI).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
from _experiments import Split, accuracy, load_mnist, print_table, pyplot, save_figure
from bn_vs_no_bn import sgd_parser, sgd_with_recorder

import tinygrad_bn as tb
from tinygrad_bn import nn
from tinygrad_bn.diagnostics import Recorder

# name -> weight std for a layer with fan_in inputs
INITS = {
    "0.01·randn": lambda fan_in: 0.01,
    "1.0·randn": lambda fan_in: 1.0,
    "Xavier": lambda fan_in: 1.0 / math.sqrt(fan_in),
    "He": lambda fan_in: math.sqrt(2.0 / fan_in),
}
ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
DEPTH, WIDTH = 5, 500
HIDDEN = (256, 256, 256)
# (activation, init) pairs trained on MNIST
TRAINING_RUNS = [("tanh", init) for init in INITS] + [("relu", "He")]
LOSS_STEPS = (1, 10, 25, 50, 100, 200, 300)  # the table's "loss after k steps" columns
CHANCE_LOSS = math.log(10)


def mlp(widths: tuple[int, ...], activation: str, init: str, final_layer: bool) -> nn.Sequential:
    """Linear layers of the given widths, each followed by the activation (the last too unless
    ``final_layer``, which is then a plain Linear); weights ~ std·N(0, 1) with std from ``INITS``,
    biases 0."""
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.normal_(linear.weight, 0.0, INITS[init](fan_in))
        nn.init.zeros_(linear.bias)
        last = index == len(widths) - 2
        layers += [linear] if last and final_layer else [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def fraction_name(activation: str) -> str:
    return "dead" if activation == "relu" else "saturated"


# --- part 1: activation statistics ------------------------------------------------------------


def activation_statistics(inputs: tb.Tensor, activation: str, init: str, seed: int) -> Recorder:
    """One forward pass through 5 layers of 500 units; the recorder holds each layer's output."""
    tb.manual_seed(seed)
    model = mlp((WIDTH,) * (DEPTH + 1), activation, init, final_layer=False)
    with Recorder(model, keep_outputs=True) as recorder, tb.no_grad():
        model(inputs)
        recorder.step()
    return recorder


def plot_histograms(activation: str, recorders: dict[str, Recorder], out: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(len(INITS), DEPTH, figsize=(3.0 * DEPTH, 2.3 * len(INITS)), squeeze=False)
    for row, (init, recorder) in enumerate(recorders.items()):
        for column, values in enumerate(recorder.outputs.values()):
            axis = axes[row, column]
            values = values.ravel()
            shown = values[values != 0] if activation == "relu" else values
            axis.hist(shown, bins=50, color="tab:blue", histtype="stepfilled")  # one polygon: fast to draw
            center = f"zero {np.mean(values == 0):.0%}" if activation == "relu" else f"mean {values.mean():.2g}"
            axis.set_title(f"layer {column + 1}: {center}, std {values.std():.3g}", fontsize="small")
            axis.tick_params(labelsize="x-small")
            axis.set_yticks([])
        axes[row, 0].set_ylabel(init)
    suffix = " (non-zero values)" if activation == "relu" else ""
    figure.suptitle(f"{activation}: activations of 5 layers of 500 units, by initialisation{suffix}")
    save_figure(figure, out, f"init_histograms_{activation}.png")


def part_one(args) -> None:
    samples = 100 if args.smoke else 1000
    inputs = tb.from_numpy(np.random.default_rng(args.seed).standard_normal((samples, WIDTH)).astype(np.float32))
    rows = []
    for activation in ACTIVATIONS:
        recorders = {init: activation_statistics(inputs, activation, init, args.seed) for init in INITS}
        plot_histograms(activation, recorders, args.out)
        for init, recorder in recorders.items():
            stds = [series[0] for series in recorder.history["std"].values()]
            fractions = [series[0] for series in recorder.history[fraction_name(activation)].values()]
            first_to_last = f"{fractions[0]:.0%} → {fractions[-1]:.0%}"
            rows.append([activation, init, *[f"{std:.3g}" for std in stds], first_to_last])
    print("activation std per layer, and the fraction saturated (tanh, sigmoid) or dead (relu), layer 1 → 5")
    print_table(["activation", "init", *[f"std {layer}" for layer in range(1, DEPTH + 1)], "sat./dead"], rows)


# --- part 2: training on MNIST -------------------------------------------------------------------


def train_run(activation: str, init: str, train_split: Split, test_split: Split, args) -> dict:
    """Mini-batch gradient descent from one initialisation: per-step loss and fraction saturated or
    dead (mean over the hidden layers), and the final test accuracy."""
    tb.manual_seed(args.seed)
    model = mlp((28 * 28, *HIDDEN, 10), activation, init, final_layer=True)
    losses, recorder = sgd_with_recorder(model, train_split, args)
    fractions = np.mean([series for series in recorder.history[fraction_name(activation)].values()], axis=0)
    return {"loss": np.asarray(losses), "fraction": fractions, "accuracy": accuracy(model, test_split)}


def plot_training(runs: dict, out: Path) -> None:
    plt = pyplot()
    figure, (loss_axis, fraction_axis) = plt.subplots(1, 2, figsize=(12, 4.2))
    for (activation, init), run in runs.items():
        label = f"{activation}, {init}"
        steps = np.arange(1, len(run["loss"]) + 1)
        loss_axis.plot(steps, run["loss"], label=label, linewidth=1.0)
        fraction_axis.plot(steps, run["fraction"], label=f"{label} ({fraction_name(activation)})", linewidth=1.0)
    loss_axis.axhline(CHANCE_LOSS, color="gray", linestyle=":", linewidth=0.8)
    loss_axis.set(title="training loss (mini-batch GD, batch 256)", xlabel="step", ylabel="cross-entropy", yscale="log")
    fraction_axis.set(title="hidden units saturated (tanh) / dead (ReLU)", xlabel="step", ylim=(0, 1))
    for axis in (loss_axis, fraction_axis):
        axis.legend(fontsize="small")
        axis.grid(alpha=0.3)
    figure.suptitle("MNIST, 3 hidden layers of 256: the same network from each initialisation")
    save_figure(figure, out, "init_training.png")


def loss_after(run: dict, step: int) -> float:
    """Mean loss of the (up to) 5 batches ending at ``step``, smoothing batch-to-batch noise."""
    return float(np.mean(run["loss"][max(0, step - 5) : step]))


def print_training_table(runs: dict) -> None:
    steps = [k for k in LOSS_STEPS if k <= len(next(iter(runs.values()))["loss"])]
    rows = []
    for (activation, init), run in runs.items():
        fraction = f"{run['fraction'][0]:.0%} → {run['fraction'][-1]:.0%}"
        rows.append([f"{activation}, {init}", *[loss_after(run, k) for k in steps], fraction, run["accuracy"]])
    print("training loss after k steps (mean of the last 5 batches), saturated/dead fraction first → last step")
    print_table(["network, init", *[f"k={k}" for k in steps], "sat./dead", "test acc %"], rows)


def check_claims(runs: dict) -> None:
    """The four classic observations, each checked on the numbers above."""
    small, large = runs["tanh", "0.01·randn"], runs["tanh", "1.0·randn"]
    xavier, relu_he = runs["tanh", "Xavier"], runs["relu", "He"]
    claims = [
        (
            "small init: the loss stays flat at first",
            abs(loss_after(small, 50) - CHANCE_LOSS) < 0.05,
            f"loss after 50 steps {loss_after(small, 50):.3f} vs log 10 = {CHANCE_LOSS:.3f}",
        ),
        (
            "large init: the tanh units saturate",
            large["fraction"][0] > 0.5 and loss_after(large, 1) > 2 * CHANCE_LOSS,
            f"{large['fraction'][0]:.0%} saturated at step 1, initial loss {loss_after(large, 1):.1f}",
        ),
        (
            "Xavier trains",
            loss_after(xavier, 300) < 0.5 * loss_after(xavier, 1) and xavier["accuracy"] > 85,
            f"loss {loss_after(xavier, 1):.2f} → {loss_after(xavier, 300):.2f}, "
            f"test accuracy {xavier['accuracy']:.1f}%",
        ),
        (
            "He trains the ReLU network",
            loss_after(relu_he, 300) < 0.5 * loss_after(relu_he, 1) and relu_he["accuracy"] > 85,
            f"loss {loss_after(relu_he, 1):.2f} → {loss_after(relu_he, 300):.2f}, "
            f"test accuracy {relu_he['accuracy']:.1f}%",
        ),
    ]
    for claim, holds, evidence in claims:
        print(f"{'holds' if holds else 'DOES NOT HOLD'}: {claim} ({evidence})")


def part_two(args) -> None:
    train_size, test_size = (512, 200) if args.smoke else (20_000, 2_000)
    train_split, test_split = load_mnist(args.data_dir, train_size, test_size, args.seed, args.smoke)
    runs = {}
    for activation, init in TRAINING_RUNS:
        print(f"training {activation}, {init} ...", flush=True)
        runs[activation, init] = train_run(activation, init, train_split, test_split, args)
    plot_training(runs, args.out)
    print_training_table(runs)
    if args.smoke:
        print("smoke run: too few steps to check the claims")
    else:
        check_claims(runs)


def main() -> None:
    parser = sgd_parser(__doc__, steps=300, batch_size=256, lr=0.1)
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.batch_size = 4, 64
    part_one(args)
    print()
    part_two(args)


if __name__ == "__main__":
    main()
