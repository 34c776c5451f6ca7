"""Fused activations, forward + backward, through the public API against PyTorch CPU, same run.

    python benchmarks/activation.py [--threads 2] [--shapes 256x512 4096x1024]

Each row times ``y = f(x); y.backward(g)`` on a float32 input that requires grad: ours (one
fused C pass each way), PyTorch's, and the same math composed from NumPy array ops (what our CPU
path did before the fused kernels), with the ratio torch/ours (above 1: ours is faster).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from timing import interleaved_medians, repeats_for, use_threads

import tinygrad_bn as tb
from tinygrad_bn.nn import functional


def numpy_sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def numpy_forward_backward(name: str, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation y and its input gradient as NumPy array expressions (a reference, not a kernel)."""
    if name == "relu":
        return np.maximum(x, 0), np.where(x <= 0, 0, g)
    if name == "sigmoid":
        y = numpy_sigmoid(x)
        return y, g * y * (1 - y)
    if name == "tanh":
        y = np.tanh(x)
        return y, g * (1 - y * y)
    if name == "silu":
        s = numpy_sigmoid(x)
        return x * s, g * s * (1 + x * (1 - s))
    if name == "elu":
        negative = np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, negative), g * np.where(x > 0, 1, negative + 1)
    k, c = math.sqrt(2 / math.pi), 0.044715  # gelu, tanh form
    t = np.tanh(k * (x + c * x**3))
    return 0.5 * x * (1 + t), g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x))


ACTIVATIONS = {
    "relu": lambda t: t.relu(),
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "silu": functional.silu,
    "elu": functional.elu,
    "gelu": functional.gelu,
    "gelu_tanh": lambda t: functional.gelu(t, approximate="tanh"),
}


def forward_backward(function, x, g):
    """A call that runs ``function(x).backward(g)`` from a cleared gradient (ours or PyTorch's)."""

    def run():
        x.grad = None
        function(x).backward(g)

    return run


def time_shape(shape: tuple[int, ...], torch) -> None:
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape, dtype=np.float32) * 3
    g_np = rng.standard_normal(shape, dtype=np.float32)
    x_tb, g_tb = tb.tensor(x_np, requires_grad=True), tb.tensor(g_np)
    x_t, g_t = torch.tensor(x_np, requires_grad=True), torch.from_numpy(g_np)
    torch_functions = {
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "silu": torch.nn.functional.silu,
        "elu": torch.nn.functional.elu,
        "gelu": torch.nn.functional.gelu,
        "gelu_tanh": lambda t: torch.nn.functional.gelu(t, approximate="tanh"),
    }
    shape_text = "x".join(map(str, shape))
    for name, ours in ACTIVATIONS.items():
        candidates = {
            "ours": forward_backward(ours, x_tb, g_tb),
            "torch": forward_backward(torch_functions[name], x_t, g_t),
        }
        if name != "gelu":  # NumPy has no erf
            candidates["numpy"] = lambda n=name: numpy_forward_backward(n, x_np, g_np)
        repeats = repeats_for(x_np.size * 2e-9)
        times = {key: seconds * 1e6 for key, seconds in interleaved_medians(candidates, repeats).items()}
        print(
            f"{name:10} {shape_text:>10} {times['ours']:9.0f} {times['torch']:9.0f} "
            f"{times.get('numpy', float('nan')):9.0f} {times['torch'] / times['ours']:10.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", nargs="+", default=["256x512", "4096x1024"])
    args = parser.parse_args()
    torch = use_threads(args.threads)
    if torch is None:
        raise SystemExit("activation.py compares against PyTorch: pip install torch==2.13.0")
    print(f"{'activation':10} {'shape':>10} {'ours µs':>9} {'torch µs':>9} {'numpy µs':>9} {'torch/ours':>10}")
    for shape_text in args.shapes:
        time_shape(tuple(int(v) for v in shape_text.split("x")), torch)


if __name__ == "__main__":
    main()
