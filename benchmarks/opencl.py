"""The OpenCL backend against our CPU backend, same run: matmul GFLOP/s and a BN-MLP training step.

    python benchmarks/opencl.py [--device cl] [--threads 2] [--quick]

Every cl figure waits for the device (``tb.cl.synchronize``) before the clock stops. On PoCL (an
OpenCL driver running kernels on the CPU's own cores) this measures our kernels and the per-launch
overhead against ctensor, not a GPU; on a GPU the cl column should win by a wide margin.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from timing import interleaved_medians, repeats_for, use_threads

import tinygrad_bn as tb
from tinygrad_bn import nn


def matmul_cases(quick: bool) -> list[tuple[str, tuple[int, int], tuple[int, int], bool]]:
    """(label, shape of a, shape of b, whether a is used transposed: x^T @ dy)."""
    squares = [128, 256, 512] if quick else [128, 256, 512, 1024]
    out = [(f"square {n}", (n, n), (n, n), False) for n in squares]
    out.append(("fwd 256x784 @ 784x512", (256, 784), (784, 512), False))
    out.append(("dW  x^T @ dy (784x512)", (256, 784), (256, 512), True))
    return out


def timed(run, device: str):
    """``run`` followed by a wait for the device, when it is an OpenCL one."""
    if device == "cpu":
        return run

    def run_and_wait():
        run()
        tb.cl.synchronize(device)

    return run_and_wait


def bench_matmul(device: str, quick: bool) -> None:
    print(f"{'case':28} {'cpu':>9} {device:>9} {'cl/cpu':>7}  (GFLOP/s, float32)")
    rng = np.random.default_rng(0)
    for label, a_shape, b_shape, transposed in matmul_cases(quick):
        a_values, b_values = rng.standard_normal(a_shape, np.float32), rng.standard_normal(b_shape, np.float32)
        runs = {}
        for where in ("cpu", device):
            a, b = tb.tensor(a_values, device=where), tb.tensor(b_values, device=where)
            runs[where] = timed((lambda a=a, b=b: a.T @ b) if transposed else (lambda a=a, b=b: a @ b), where)
        runs[device]()  # builds the kernels
        m, k = (a_shape[1], a_shape[0]) if transposed else a_shape
        flops = 2 * m * k * b_shape[1]
        seconds = interleaved_medians(runs, repeats_for(flops / 20e9))
        cpu, cl = (flops / seconds[w] / 1e9 for w in ("cpu", device))
        print(f"{label:28} {cpu:9.1f} {cl:9.1f} {cl / cpu:7.2f}")


def bench_training_step(device: str, batch: int, sizes: list[int]) -> None:
    print(f"\nBN-MLP training step: {' -> '.join(map(str, sizes))}, batch {batch}, float32, Adam")
    print(f"{'':28} {'cpu':>9} {device:>9} {'cpu/cl':>7}  (ms per step: zero_grad, forward, loss, backward, step)")
    rng = np.random.default_rng(0)
    x_values = rng.standard_normal((batch, sizes[0]), np.float32)
    y_values = rng.integers(0, sizes[-1], batch)
    runs = {}
    for where in ("cpu", device):
        tb.manual_seed(0)
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(sizes[:-1]):  # as examples/mnist_mlp.py's bn_mlp
            layers += [nn.Linear(fan_in, fan_out, bias=False), nn.BatchNorm1d(fan_out), nn.ReLU()]
        model = nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1])).to(where)
        optimizer = tb.optim.Adam(model.parameters(), lr=1e-3)
        x, y = tb.tensor(x_values, device=where), tb.tensor(y_values, device=where)

        def step(model=model, optimizer=optimizer, x=x, y=y):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

        runs[where] = timed(step, where)
    runs[device]()
    seconds = interleaved_medians(runs, 20)
    cpu, cl = seconds["cpu"] * 1e3, seconds[device] * 1e3
    print(f"{'step':28} {cpu:9.2f} {cl:9.2f} {cpu / cl:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cl")
    parser.add_argument("--threads", type=int, default=2, help="ctensor's threads (the CPU column)")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a check that the script runs)")
    args = parser.parse_args()
    use_threads(args.threads)
    info = tb.cl.devices()[tb.Device(args.device).index]
    print(f"{args.device}: {info.name} ({info.platform}, {info.version}, {info.compute_units} compute units)\n")
    bench_matmul(args.device, args.quick)
    if args.quick:
        bench_training_step(args.device, 32, [64, 32, 10])
    else:
        bench_training_step(args.device, 256, [784, 512, 512, 10])


if __name__ == "__main__":
    main()
