"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_bn.data.collate import default_collate
from tinygrad_bn.random import Generator
from tinygrad_bn.tensor import Tensor, from_numpy, randperm


class Dataset:
    """A map-style dataset: ``dataset[i]`` is item ``i`` for ``i`` in ``range(len(dataset))``.

    Subclasses define ``__getitem__`` and ``__len__``. ``get_batch(indices)`` is what a
    ``DataLoader`` with the default collate asks for; it collates the items one by one, and
    datasets that hold their data in arrays override it to gather a whole batch at once.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def get_batch(self, indices: Sequence[int]) -> Any:
        """``default_collate([self[i] for i in indices])``, however a subclass computes it."""
        return default_collate([self[i] for i in indices])


def fetch_batch(dataset: Any, indices: Sequence[int]) -> Any:
    """The default-collated items ``indices`` of any map-style dataset (ours or duck-typed)."""
    if isinstance(dataset, Dataset):
        return dataset.get_batch(indices)
    return default_collate([dataset[i] for i in indices])


class TensorDataset(Dataset):
    """Rows of equally long tensors: item ``i`` is ``tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {position} must be a Tensor, not {type(t).__name__}")
            if t.ndim == 0 or len(t) != len(tensors[0]):
                rows = "a 0-d tensor" if t.ndim == 0 else f"{len(t)} rows"
                raise ValueError(f"TensorDataset: tensor {position} has {rows}, tensor 0 has {len(tensors[0])}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def get_batch(self, indices: Sequence[int]) -> list[Tensor]:
        rows = from_numpy(np.asarray(indices, dtype=np.int64))
        return [t[rows] for t in self.tensors]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: Sequence[int]) -> Any:
        return fetch_batch(self.dataset, [self.indices[i] for i in indices])


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (PyTorch's rules).

    Lengths are item counts summing to ``len(dataset)``, or fractions summing to 1: each split gets
    ``floor(len * fraction)`` items and the remainder is dealt one by one from the first split on.
    """
    lengths = [int(n) if isinstance(n, numbers.Integral) else n for n in lengths]  # NumPy ints too
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= fraction <= 1 for fraction in lengths):
            raise ValueError(f"random_split: fractions must be in [0, 1], got {lengths}")
        counts = [math.floor(total * fraction) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(n, int) or n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints or fractions summing to 1, got {lengths}")
    if sum(lengths) != total:
        raise ValueError(f"random_split: lengths {lengths} do not add up to the dataset's length {total}")
    order = randperm(total, generator=generator).tolist()
    offsets = np.cumsum([0, *lengths]).tolist()
    return [Subset(dataset, order[start:stop]) for start, stop in itertools.pairwise(offsets)]
