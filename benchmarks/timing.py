"""Shared timing helper for the benchmark scripts: interleaved runs, warm-ups, medians."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from types import ModuleType

import tinygrad_bn as tb


def interleaved_medians(
    candidates: dict[str, Callable[[], object]], repeats: int, turns: int = 3, settle: float = 0.15
) -> dict[str, float]:
    """Median seconds per call of each candidate over ``repeats`` timed calls.

    Candidates take ``turns`` turns each (so slow machine drift hits all of them alike). A turn
    starts with a pause of ``settle`` seconds and one untimed call, then times back-to-back calls:
    OpenBLAS, PyTorch and OpenMP keep their worker threads spinning for a while after a call, and
    on two cores those threads would otherwise steal time from whichever library runs next.
    """
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    per_turn = max(1, -(-repeats // turns))
    for _ in range(turns):
        for name, run in candidates.items():
            time.sleep(settle)
            run()
            for _ in range(per_turn):
                start = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def repeats_for(seconds_per_call: float, budget: float = 0.5, most: int = 50) -> int:
    """Timed calls per candidate: as many as ``budget`` seconds allow, between 5 and ``most``."""
    return max(5, min(most, int(budget / max(seconds_per_call, 1e-6))))


def use_threads(threads: int) -> ModuleType | None:
    """Give ours and PyTorch ``threads`` threads; return PyTorch (None if absent).

    NumPy's OpenBLAS fixes its thread count at import: it uses every core unless
    OPENBLAS_NUM_THREADS is set in the environment, and the scripts print what it uses.
    """
    tb.set_num_threads(threads)
    blas_threads = os.environ.get("OPENBLAS_NUM_THREADS", f"all {os.cpu_count()} cores")
    print(f"threads: ours {threads}, OpenBLAS {blas_threads}; ctensor SIMD path {tb.simd_name()}")
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch
