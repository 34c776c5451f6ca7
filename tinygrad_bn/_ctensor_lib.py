"""The compiled ctensor library: loading it, turning status codes into exceptions, threads."""

from __future__ import annotations

import os

import numpy as np

# NOTE: how long an idle OpenMP worker spins before it sleeps. libgomp's default (300k spins) holds
# a core that, on a machine other processes share, the next region's worker needs: the MNIST MLP's
# training step took 149 ms instead of 22 ms at load 6 on 2 cores. Sleeping at once
# (OMP_WAIT_POLICY=passive) fixes that but pays a futex wake per region: a 128x128 matmul took
# 138 µs instead of 56-76 µs on a quiet machine. 100k spins keeps both: quiet, 67 µs and a 13 ms step
# (active: 11 ms); with two busy processes beside it, a 34 ms step (passive: 33 ms, active: 384 ms).
# libgomp reads these once, when the extension below loads it; the user's settings win.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "100000")

try:
    from tinygrad_bn._ctensor import ffi, lib
except ImportError as error:  # pragma: no cover - only without a build
    raise ImportError(
        "tinygrad_bn._ctensor is not built: run `pip install .` (or, in an editable checkout, "
        "`python setup.py build_ext --inplace`)"
    ) from error

NUM_THREADS_ENV = "TINYGRAD_BN_NUM_THREADS"
# C pointer types by dtype, parsed once (from_buffer with a ctype is ~0.4 µs faster than with a string)
_POINTER_TYPES = {
    np.dtype(np.float32): ffi.typeof("float *"),
    np.dtype(np.float64): ffi.typeof("double *"),
    np.dtype(np.int64): ffi.typeof("int64_t *"),
}


class CTensorError(RuntimeError):
    """A ctensor kernel returned a non-zero status."""


def check(status: int, op: str) -> None:
    """Raise CTensorError naming ``op`` when a kernel reports failure."""
    if status != lib.CT_OK:
        raise CTensorError(f"{op}: ctensor failed: {ffi.string(lib.ct_status_string(status)).decode()}")


def dense_pointers(*arrays: np.ndarray | None) -> list:
    """Typed C pointers to the first elements of dense arrays of one dtype (the first array's),
    NULL for None (the buffer protocol refuses a strided array)."""
    pointer_type, from_buffer, null = _POINTER_TYPES[arrays[0].dtype], ffi.from_buffer, ffi.NULL
    return [null if array is None else from_buffer(pointer_type, array) for array in arrays]


def pointer(array: np.ndarray):
    """A typed C pointer to ``array``'s first element (views included: strides travel separately)."""
    if array.flags.c_contiguous:  # the cheap way, through the buffer protocol (~1 µs less per pointer)
        return ffi.from_buffer(_POINTER_TYPES[array.dtype], array)
    return ffi.cast(_POINTER_TYPES[array.dtype], array.__array_interface__["data"][0])


def int64_array(values) -> object:
    """A C ``int64_t[]`` holding ``values`` (never NULL, even when empty)."""
    return ffi.new("int64_t[]", list(values) or [0])


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in ctensor kernels (results do not depend on the count)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected an int >= 1, got {n!r}")
    check(lib.ct_set_num_threads(n), "set_num_threads")


def get_num_threads() -> int:
    """The number of threads ctensor kernels use."""
    return lib.ct_get_num_threads()


def simd_name() -> str:
    """The SIMD path this CPU runs: ``"avx2+fma"`` or ``"generic"``."""
    return ffi.string(lib.ct_simd_name()).decode()


def _initial_num_threads() -> int:
    value = os.environ.get(NUM_THREADS_ENV)
    if value is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{NUM_THREADS_ENV} must be an integer >= 1, got {value!r}")
    return threads


set_num_threads(_initial_num_threads())
