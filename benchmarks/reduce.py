"""Reductions through the public API against NumPy and PyTorch CPU, same run, in GB/s read.

    python benchmarks/reduce.py [--threads 2] [--mib 256]

For a float32 matrix of --mib MiB, sum and max along the contiguous axis (rows) and along the
outer axis (columns), plus NumPy's copy bandwidth as the memory-traffic yardstick.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import interleaved_medians, use_threads

import tinygrad_bn as tb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch = use_threads(args.threads)
    side = int((args.mib * 2**20 / 4) ** 0.5)
    x_np = np.random.default_rng(0).standard_normal((side, side), dtype=np.float32)
    x_tb = tb.from_numpy(x_np)
    x_t = torch.from_numpy(x_np) if torch is not None else None
    destination = np.empty_like(x_np)
    copy_seconds = interleaved_medians({"copy": lambda: np.copyto(destination, x_np)}, args.repeats)["copy"]
    copy_rate = 2 * x_np.nbytes / copy_seconds / 1e9  # a copy reads and writes every byte
    print(f"({side}, {side}) float32 = {x_np.nbytes / 2**20:.0f} MiB")
    print(f"numpy copy bandwidth (read + write): {copy_rate:.1f} GB/s")
    print(f"{'op':12} {'ours':>8} {'numpy':>8} {'torch':>8} {'/numpy':>7} {'/copy':>7}  (GB/s read)")
    for op in ("sum", "max"):
        for axis in (1, 0):
            candidates = {
                "ours": lambda o=op, a=axis: getattr(x_tb, "amax" if o == "max" else o)(a),
                "numpy": lambda o=op, a=axis: getattr(np, o)(x_np, axis=a),
            }
            if x_t is not None:
                candidates["torch"] = lambda o=op, a=axis: x_t.amax(a) if o == "max" else x_t.sum(a)
            times = interleaved_medians(candidates, args.repeats)
            rates = {name: x_np.nbytes / seconds / 1e9 for name, seconds in times.items()}
            print(
                f"{op}(axis={axis}) {rates['ours']:8.1f} {rates['numpy']:8.1f} {rates.get('torch', float('nan')):8.1f} "
                f"{rates['ours'] / rates['numpy']:7.2f} {rates['ours'] / copy_rate:7.2f}"
            )


if __name__ == "__main__":
    main()
