"""Experiment 5, greedy layer-wise pretraining (Bengio et al. 2007): autoencoders pretrain each
hidden layer in turn on unlabelled images, then the stack is fine-tuned on a few labels.

    python examples/greedy_pretraining.py --data-dir ../shared/data      # ~1 CPU-minute
    python examples/greedy_pretraining.py --smoke --out /tmp/greedy      # seconds (what CI runs)

The network is 784-256-128-10 with sigmoid hidden units. Pretraining (unsupervised: labels are
never read) trains an autoencoder ``Linear → sigmoid → Linear → sigmoid`` with mean squared
reconstruction error on ``--unlabelled`` random MNIST training images (20,000 by default) for the
first hidden layer, then another on the first layer's codes for the second. Fine-tuning trains
the whole stack plus a fresh output layer with cross-entropy on only ``--labels`` labelled images
(100, 1,000 and 5,000 by default, drawn from the same images), for the same number of Adam steps
as the baseline: the identical network from random initialisation. Test accuracy is on all
10,000 test images.

What to expect (the default run, seed 0, Adam for both): the pretrained network starts far
ahead (after 100 fine-tuning steps on 1,000 labels, 85% against 69%: the unlabelled images taught
its first layers what digits are made of) and stays ahead to the end, by a modest margin once
Adam has caught the baseline up: 77.6 vs 76.7% (100 labels), 90.1 vs 89.1% (1,000), 93.8 vs
93.1% (5,000). PNGs: ``greedy_pretraining.png`` (reconstruction losses, and test accuracy during
fine-tuning) and ``greedy_pretraining_filters.png`` (first-layer weights learnt without labels).
"""

from __future__ import annotations

import itertools
import math

import _experiments as common
import numpy as np

import tinygrad_bn as tb
from tinygrad_bn import nn, optim

CLASSES = 10


def encoders(widths: list[int]) -> list[nn.Sequential]:
    """One ``Linear → Sigmoid`` block per hidden layer, PyTorch's default init."""
    return [nn.Sequential(nn.Linear(a, b), nn.Sigmoid()) for a, b in itertools.pairwise(widths)]


def pretrain(blocks: list[nn.Sequential], images: np.ndarray, args) -> list[list[float]]:
    """Train each block as the encoder of an autoencoder on the previous block's codes; the
    reconstruction loss per epoch, per layer."""
    rng = np.random.default_rng(args.seed)
    codes, losses = images, []
    for depth, encoder in enumerate(blocks, start=1):
        linear = encoder[0]
        decoder = nn.Sequential(nn.Linear(linear.out_features, linear.in_features), nn.Sigmoid())
        autoencoder = nn.Sequential(encoder, decoder)
        optimizer = optim.Adam(autoencoder.parameters(), lr=1e-3)
        targets = common.Split(codes, codes)  # an autoencoder's target is its input
        losses.append([])
        for epoch in range(args.pretrain_epochs):
            losses[-1].append(common.train_epoch(autoencoder, optimizer, targets, args.batch_size, rng, nn.MSELoss()))
            print(f"pretrain layer {depth} epoch {epoch + 1}: reconstruction MSE {losses[-1][-1]:.4f}", flush=True)
        with tb.no_grad():
            codes = encoder.eval()(tb.from_numpy(codes)).numpy()
    return losses


def fine_tune(model: nn.Module, labelled: common.Split, test: common.Split, args) -> list[float]:
    """Adam on the labelled images for ``--steps`` steps; test accuracy every ``--eval-every`` steps."""
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(args.seed)
    batch_size = min(args.batch_size, len(labelled))
    per_epoch = len(labelled) // batch_size
    curve, done = [], 0
    while done < args.steps:
        chunk = min(args.eval_every, args.steps - done)
        while chunk > 0:  # an evaluation interval may span several (short) epochs
            common.train_epoch(model, optimizer, labelled, batch_size, rng, max_steps=min(chunk, per_epoch))
            done, chunk = done + min(chunk, per_epoch), chunk - min(chunk, per_epoch)
        curve.append(common.accuracy(model, test))
    return curve


def classifier(blocks: list[nn.Sequential], last_width: int) -> nn.Sequential:
    return nn.Sequential(*blocks, nn.Linear(last_width, CLASSES))


def main() -> None:
    parser = common.experiment_parser(__doc__)
    parser.add_argument("--unlabelled", type=int, default=20000, help="images for pretraining")
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 128])
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1500, help="fine-tuning steps (and the baseline's)")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if args.smoke:
        args.unlabelled, args.labels, args.hidden = 256, [64], [32, 16]
        args.pretrain_epochs, args.steps, args.eval_every = 1, 8, 4
    test_size = 500 if args.smoke else 10000
    images, test = common.load_mnist(args.data_dir, args.unlabelled, test_size, args.seed, args.smoke)
    print(f"MNIST: {len(images)} unlabelled training images, {len(test)} test images")
    widths = [common.PIXELS, *args.hidden]

    tb.manual_seed(args.seed)
    pretrained = encoders(widths)
    reconstruction = pretrain(pretrained, images.images, args)
    pretrained_state = classifier(pretrained, widths[-1]).state_dict()

    rows, curves = [], {}
    for count in args.labels:
        labelled = images.first(count)  # a random subset already: load_mnist shuffled the images
        for name in ("random init", "pretrained"):
            tb.manual_seed(args.seed)
            model = classifier(encoders(widths), widths[-1])
            if name == "pretrained":
                model.load_state_dict(pretrained_state)
                nn.init.zeros_(model[-1].weight)  # a fresh output layer: pretraining never saw labels
                nn.init.zeros_(model[-1].bias)
            curves[(count, name)] = fine_tune(model, labelled, test, args)
            print(f"{count:5d} labels, {name:11s}: test accuracy {curves[(count, name)][-1]:.2f}%", flush=True)
        random_init, pretrained_acc = curves[(count, "random init")][-1], curves[(count, "pretrained")][-1]
        rows.append([count, random_init, pretrained_acc, pretrained_acc - random_init])
    print()
    common.print_table(["labels", "random init %", "pretrained %", "gain (points)"], rows)
    plot_curves(reconstruction, curves, args)
    plot_filters(pretrained[0][0].weight.detach().numpy(), args.out)


def plot_curves(reconstruction: list[list[float]], curves: dict, args) -> None:
    plt = common.pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for depth, losses in enumerate(reconstruction, start=1):
        left.plot(range(1, len(losses) + 1), losses, marker="o", label=f"layer {depth} autoencoder")
    left.set_xlabel("pretraining epoch")
    left.set_ylabel("reconstruction MSE")
    left.set_title("Unsupervised pretraining, one layer at a time")
    left.legend()
    colours = dict(zip(args.labels, plt.get_cmap("tab10").colors))
    for (count, name), accuracies in curves.items():
        steps = [min(args.eval_every * (i + 1), args.steps) for i in range(len(accuracies))]
        style = "-" if name == "pretrained" else "--"
        right.plot(steps, accuracies, style, color=colours[count], label=f"{count} labels, {name}")
    right.set_xlabel("fine-tuning step")
    right.set_ylabel("test accuracy (%)")
    right.set_title("Fine-tuning: pretrained (solid) vs random init (dashed)")
    right.legend(fontsize=8)
    common.save_figure(figure, args.out, "greedy_pretraining.png")


def plot_filters(weight: np.ndarray, out, count: int = 32) -> None:
    """The first ``count`` first-layer weight vectors as 28×28 images."""
    plt = common.pyplot()
    side = math.isqrt(weight.shape[1])
    count = min(count, weight.shape[0])
    figure, axes = plt.subplots(4, -(-count // 4), figsize=(count / 4 * 1.2, 5))
    for axis, row in zip(axes.flat, weight[:count]):
        axis.imshow(row.reshape(side, side), cmap="gray")
    for axis in axes.flat:
        axis.axis("off")
    figure.suptitle("First-layer weights after unsupervised pretraining")
    common.save_figure(figure, out, "greedy_pretraining_filters.png")


if __name__ == "__main__":
    main()
