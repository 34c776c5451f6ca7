"""The random generator a data routine draws from: a fresh one for ``seed=``, the caller's
``generator=``, or (neither given) the global one that ``tb.manual_seed`` seeds."""

from __future__ import annotations

from tinygrad_bn.random import Generator


def generator_for(op: str, seed: int | None, generator: Generator | None) -> Generator | None:
    """``Generator().manual_seed(seed)`` for a seed, ``generator`` as given, or None for the global one."""
    if seed is not None and generator is not None:
        raise ValueError(f"{op}: pass seed or generator, not both")
    if seed is not None:
        return Generator().manual_seed(seed)
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{op}: argument 'generator' must be tb.Generator, not {type(generator).__name__}")
    return generator
