"""``DataLoader``: batches of a map-style dataset, in order or shuffled reproducibly."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tinygrad_bn.data.collate import default_collate
from tinygrad_bn.data.dataset import fetch_batch
from tinygrad_bn.data.seeding import generator_for
from tinygrad_bn.random import Generator, numpy_generator


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` items, collated into Tensors.

    PyTorch's defaults and semantics (single process): ``batch_size=1``, ``shuffle=False``,
    ``drop_last=False`` (the last batch may be short; ``drop_last=True`` leaves it out), and
    ``collate_fn`` defaults to ``default_collate``. Each ``iter(loader)`` is an epoch; with
    ``shuffle=True`` every epoch draws a new order from the loader's generator:

    - ``seed=s``: a private ``tb.Generator`` seeded once with ``s``, so two loaders made with the
      same seed give the same sequence of epochs, whatever else draws random numbers;
    - ``generator=g``: draws from ``g`` (PyTorch's argument);
    - neither: draws from the global generator, so ``tb.manual_seed`` makes the run reproducible.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        *,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        drop_last: bool = False,
        generator: Generator | None = None,
        seed: int | None = None,
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__, got {type(dataset).__name__}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, but got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.drop_last = bool(drop_last)
        self.generator = generator_for("DataLoader", seed, generator)

    def __len__(self) -> int:
        count = len(self.dataset) / self.batch_size
        return math.floor(count) if self.drop_last else math.ceil(count)

    def __iter__(self) -> Iterator[Any]:
        total = len(self.dataset)
        order = numpy_generator(self.generator, "DataLoader").permutation(total) if self.shuffle else range(total)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._fetch([int(i) for i in order[start : start + self.batch_size]])

    def _fetch(self, indices: Sequence[int]) -> Any:
        if self.collate_fn is default_collate:
            return fetch_batch(self.dataset, indices)
        return self.collate_fn([self.dataset[i] for i in indices])
