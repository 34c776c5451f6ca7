"""Normalization layers, training forward + backward, against PyTorch CPU and NumPy, same run.

    python benchmarks/norm.py [--threads 2] [--shapes 32x64 256x1024 4096x1024]

Times one training step of a layer alone: ``y = layer(x); y.backward(g)`` for BatchNorm1d (batch
statistics, running-statistics update) and LayerNorm over the last dim, float32, with the
gradients of x, weight and bias reset to None before each call (as ``zero_grad()`` leaves them),
for ours, PyTorch and a NumPy implementation of the same math. Prints medians and the ratio of
each to ours (> 1: ours is faster), and ours in GB/s of the smallest traffic the step allows:
reading x and writing y, reading x and dy and writing dx (5 arrays of x's size).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from timing import interleaved_medians, repeats_for, use_threads

import tinygrad_bn as tb
from tinygrad_bn import nn

EPS = 1e-5
MOMENTUM = 0.1


def numpy_step(x: np.ndarray, dy: np.ndarray, weight: np.ndarray, bias: np.ndarray, axis: int, state: dict) -> tuple:
    """Forward and backward of a normalization over ``axis`` (0: batch norm, -1: layer norm), the
    three-term backward; batch norm also updates state's running statistics."""
    mean = x.mean(axis, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis, keepdims=True)
    rstd = 1.0 / np.sqrt(var + EPS)
    normalized = centered * rstd
    y = normalized * weight + bias
    count = x.shape[axis]
    if axis == 0:
        state["running_mean"] = (1 - MOMENTUM) * state["running_mean"] + MOMENTUM * mean[0]
        state["running_var"] = (1 - MOMENTUM) * state["running_var"] + MOMENTUM * var[0] * count / (count - 1)
    g = dy * weight
    mean_g = g.mean(axis, keepdims=True)
    mean_g_normalized = (g * normalized).mean(axis, keepdims=True)
    dx = rstd * (g - mean_g - normalized * mean_g_normalized)
    return y, dx, (dy * normalized).sum(0), dy.sum(0)


def candidates(layer_name: str, shape: tuple[int, int], torch) -> dict:
    features = shape[1]
    rng = np.random.default_rng(0)
    x_np = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    dy_np = rng.standard_normal(shape).astype(np.float32)
    ours_layer = nn.BatchNorm1d(features) if layer_name == "BatchNorm1d" else nn.LayerNorm(features)
    x, dy = tb.from_numpy(x_np).requires_grad_(), tb.from_numpy(dy_np)

    def ours() -> None:
        x.grad = ours_layer.weight.grad = ours_layer.bias.grad = None
        ours_layer(x).backward(dy)

    weight, bias = np.ones(features, np.float32), np.zeros(features, np.float32)
    state = {"running_mean": np.zeros(features, np.float32), "running_var": np.ones(features, np.float32)}
    axis = 0 if layer_name == "BatchNorm1d" else -1
    runs = {"ours": ours, "numpy": lambda: numpy_step(x_np, dy_np, weight, bias, axis, state)}
    if torch is not None:
        theirs_layer = getattr(torch.nn, layer_name)(features)
        x_t, dy_t = torch.from_numpy(x_np).requires_grad_(), torch.from_numpy(dy_np)

        def theirs() -> None:
            x_t.grad = theirs_layer.weight.grad = theirs_layer.bias.grad = None
            theirs_layer(x_t).backward(dy_t)

        runs["torch"] = theirs
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", nargs="+", default=["32x64", "256x1024", "4096x1024"])
    args = parser.parse_args()
    torch = use_threads(args.threads)
    columns = ("ours", "torch", "numpy", "torch/ours", "numpy/ours")
    print(f"{'layer':12} {'shape':>10} " + " ".join(f"{name:>10}" for name in columns) + f" {'GB/s':>6}")
    for layer_name in ("BatchNorm1d", "LayerNorm"):
        for text in args.shapes:
            shape = tuple(int(size) for size in text.split("x"))
            runs = candidates(layer_name, shape, torch)
            start = time.perf_counter()
            runs["ours"]()
            # (up to 1000 calls: a turn of a few calls after the pause times a cold start, ~2x the
            # back-to-back cost a training loop sees, for every candidate alike)
            repeats = repeats_for(time.perf_counter() - start, budget=1.0, most=1000)
            times = interleaved_medians(runs, repeats)
            floor_bytes = 5 * 4 * shape[0] * shape[1]
            torch_time = times.get("torch", float("nan"))
            print(
                f"{layer_name:12} {text:>10} {times['ours'] * 1e6:8.0f}us {torch_time * 1e6:8.0f}us "
                f"{times['numpy'] * 1e6:8.0f}us {torch_time / times['ours']:10.2f} "
                f"{times['numpy'] / times['ours']:10.2f} {floor_bytes / times['ours'] / 1e9:6.1f}"
            )


if __name__ == "__main__":
    main()
