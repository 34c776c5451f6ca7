"""GEMM through the public API (``a @ b``) against NumPy/OpenBLAS and PyTorch CPU, same run.

    python benchmarks/gemm.py [--threads 2] [--dtype float32 float64] [--quick] [--only TEXT ...]

Prints GFLOP/s per shape and the ratio ours / reference. Shapes: square 128..2048 and the MLP
training products (256×784)@(784×512), (256×512)@(512×512), (256×512)@(512×10), each with its
backward products dW = xᵀ·dy and dX = dy·Wᵀ (taken as transposed views, never copied).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from timing import interleaved_medians, repeats_for, use_threads

import tinygrad_bn as tb


def cases(quick: bool) -> list[tuple[str, tuple[int, int], tuple[int, int], str]]:
    """(label, shape of a, shape of b, layout) with layout 'nn', 'tn' (aᵀ·b) or 'nt' (a·bᵀ)."""
    squares = [128, 256, 512] if quick else [128, 256, 512, 1024, 2048]
    out = [(f"square {n}", (n, n), (n, n), "nn") for n in squares]
    for batch, fan_in, fan_out in [(256, 784, 512), (256, 512, 512), (256, 512, 10)]:
        out.append((f"fwd {batch}x{fan_in} @ {fan_in}x{fan_out}", (batch, fan_in), (fan_in, fan_out), "nn"))
        out.append((f"dW  x^T @ dy ({fan_in}x{fan_out})", (batch, fan_in), (batch, fan_out), "tn"))
        out.append((f"dX  dy @ W^T ({batch}x{fan_in})", (batch, fan_out), (fan_in, fan_out), "nt"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    parser.add_argument("--quick", action="store_true", help="skip the two largest squares")
    parser.add_argument("--only", nargs="+", default=[], help="run the cases whose label contains one of these")
    args = parser.parse_args()
    torch = use_threads(args.threads)
    header = f"{'dtype':8} {'case':34} {'ours':>8} {'numpy':>8} {'torch':>8} {'/numpy':>7} {'/torch':>7}  (GFLOP/s)"
    print(header)
    rng = np.random.default_rng(0)
    for dtype in args.dtype:
        for label, shape_a, shape_b, layout in cases(args.quick):
            if args.only and not any(text in label for text in args.only):
                continue
            a_np = rng.standard_normal(shape_a).astype(dtype)
            b_np = rng.standard_normal(shape_b).astype(dtype)
            a_op = a_np.T if layout == "tn" else a_np
            b_op = b_np.T if layout == "nt" else b_np
            m, k = a_op.shape
            n = b_op.shape[1]
            a_tb, b_tb = tb.from_numpy(a_np), tb.from_numpy(b_np)
            a_tb = a_tb.T if layout == "tn" else a_tb
            b_tb = b_tb.T if layout == "nt" else b_tb
            candidates = {"ours": lambda a=a_tb, b=b_tb: a @ b, "numpy": lambda a=a_op, b=b_op: a @ b}
            if torch is not None:
                a_t, b_t = torch.from_numpy(a_np), torch.from_numpy(b_np)
                a_t = a_t.T if layout == "tn" else a_t
                b_t = b_t.T if layout == "nt" else b_t
                candidates["torch"] = lambda a=a_t, b=b_t: a @ b
            start = time.perf_counter()
            a_op @ b_op
            times = interleaved_medians(candidates, repeats_for(time.perf_counter() - start))
            gflops = {name: 2 * m * n * k / seconds / 1e9 for name, seconds in times.items()}
            torch_rate = gflops.get("torch", float("nan"))
            print(
                f"{dtype:8} {label:34} {gflops['ours']:8.1f} {gflops['numpy']:8.1f} {torch_rate:8.1f} "
                f"{gflops['ours'] / gflops['numpy']:7.2f} {gflops['ours'] / torch_rate:7.2f}"
            )


if __name__ == "__main__":
    main()
