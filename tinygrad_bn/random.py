"""Random number generators: the global one behind ``rand``, ``randn``, ``randint``, ``randperm`` and
the initialisers, and ``Generator`` objects a draw can be given instead (PyTorch's ``generator=``).

    g = tb.Generator().manual_seed(0)
    tb.randn(3, generator=g)          # same numbers for the same seed, whatever tb.manual_seed did
"""

from __future__ import annotations

import numpy as np

# torch.Generator()'s seed until manual_seed is called, so that a fresh Generator is reproducible.
DEFAULT_SEED = 67280421310721
_SEED_RANGE = (-(2**63), 2**64)  # PyTorch's: a negative seed wraps around modulo 2**64


class Generator:
    """A random number generator with its own state; pass it as ``generator=`` to a random draw.

    Each ``manual_seed(seed)`` restarts it from ``seed`` (and returns it, so
    ``Generator().manual_seed(0)`` reads as in PyTorch). Backed by a NumPy PCG64 generator, so its
    numbers differ from PyTorch's for the same seed.
    """

    def __init__(self) -> None:
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed``: an int in [-2**63, 2**64) (negative seeds wrap modulo 2**64)."""
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: expected an int, got {type(seed).__name__}")
        low, high = _SEED_RANGE
        if not low <= seed < high:
            raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64
        self._numpy = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed of the last ``manual_seed`` (``DEFAULT_SEED`` if never seeded)."""
        return self._seed

    def __repr__(self) -> str:
        return f"Generator(initial_seed={self._seed})"


# Like PyTorch's default generator, the global one starts from DEFAULT_SEED, so a program that never
# calls tb.manual_seed still draws the same numbers on every run.
default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every random draw tinygrad_bn makes without a ``generator=`` (same seed, same numbers);
    returns the global generator."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The seed the global generator last started from."""
    return default_generator.initial_seed()


def numpy_generator(source: Generator | None = None, op: str = "random") -> np.random.Generator:
    """The NumPy generator a draw takes its numbers from: ``source``'s, or the global one's."""
    source = default_generator if source is None else source
    if not isinstance(source, Generator):
        raise TypeError(f"{op}: argument 'generator' must be tb.Generator, not {type(source).__name__}")
    return source._numpy
