"""Shared timing helper for the benchmark scripts: interleaved runs, warm-ups, medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_medians(candidates: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each candidate, timing them in turn so that machine noise
    (other load, frequency changes) hits all of them alike."""
    for run in candidates.values():
        for _ in range(warmup):
            run()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def repeats_for(seconds_per_call: float, budget: float = 1.0) -> int:
    return max(5, min(50, int(budget / max(seconds_per_call, 1e-6))))
