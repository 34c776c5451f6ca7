"""The global random generator behind ``rand``, ``randn``, ``randint`` and initialisers."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed every random draw tinygrad_bn makes (same seed, same numbers)."""
    global _generator
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The current generator (replaced by each ``manual_seed``)."""
    return _generator
