"""Small classification problems made in code: each returns ``(X, y)``, X float32 (n_samples, 2)
and y int64 (n_samples,), drawn from ``seed=`` or ``generator=`` (else the global generator)."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_bn.data.seeding import generator_for
from tinygrad_bn.random import Generator, numpy_generator
from tinygrad_bn.tensor import Tensor, from_numpy, tensor


def make_xor(
    n_samples: int = 100, *, noise: float = 0.0, seed: int | None = None, generator: Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Points uniform in the square [-1, 1]², labelled 1 where exactly one coordinate is positive
    (the XOR of the two signs), then moved by Gaussian noise of standard deviation ``noise``."""
    rng = _rng("make_xor", n_samples, noise, seed, generator)
    points = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    labels = (points[:, 0] > 0) != (points[:, 1] > 0)
    return _finish(points, labels, noise, rng, shuffle=False)


def make_moons(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float = 0.0,
    seed: int | None = None,
    generator: Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (scikit-learn's ``make_moons``): the upper one of radius 1 at
    the origin (label 0, ``n_samples // 2`` points) and the lower one shifted to (1, 0.5) (label 1)."""
    rng = _rng("make_moons", n_samples, noise, seed, generator)
    outer, inner = n_samples // 2, n_samples - n_samples // 2
    outer_angle, inner_angle = np.linspace(0, math.pi, outer), np.linspace(0, math.pi, inner)
    points = np.concatenate(
        [
            np.stack([np.cos(outer_angle), np.sin(outer_angle)], axis=1),
            np.stack([1 - np.cos(inner_angle), 0.5 - np.sin(inner_angle)], axis=1),
        ]
    )
    return _finish(points, np.repeat([0, 1], [outer, inner]), noise, rng, shuffle)


def make_circles(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float = 0.0,
    factor: float = 0.8,
    seed: int | None = None,
    generator: Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """A circle of radius 1 (label 0, ``n_samples // 2`` points) around one of radius ``factor``
    (label 1), as scikit-learn's ``make_circles``."""
    rng = _rng("make_circles", n_samples, noise, seed, generator)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor!r}")
    outer, inner = n_samples // 2, n_samples - n_samples // 2
    outer_angle = np.linspace(0, 2 * math.pi, outer, endpoint=False)
    inner_angle = np.linspace(0, 2 * math.pi, inner, endpoint=False)
    points = np.concatenate(
        [
            np.stack([np.cos(outer_angle), np.sin(outer_angle)], axis=1),
            factor * np.stack([np.cos(inner_angle), np.sin(inner_angle)], axis=1),
        ]
    )
    return _finish(points, np.repeat([0, 1], [outer, inner]), noise, rng, shuffle)


def make_spirals(
    n_samples: int = 100,
    *,
    n_classes: int = 2,
    turns: float = 1.5,
    shuffle: bool = True,
    noise: float = 0.0,
    seed: int | None = None,
    generator: Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``n_classes`` interleaved spiral arms from the origin out to radius 1, each winding ``turns``
    times; arm k (label k) is arm 0 rotated by 2πk / n_classes. A point at angle θ along an arm
    has radius θ / (2π·turns), with θ ∝ √u for uniform u so points spread evenly over the area."""
    rng = _rng("make_spirals", n_samples, noise, seed, generator)
    if not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"make_spirals: n_classes must be a positive int, got {n_classes!r}")
    labels = np.repeat(np.arange(n_classes), [len(part) for part in np.array_split(np.arange(n_samples), n_classes)])
    sweep = 2 * math.pi * turns
    angle = np.sqrt(rng.random(n_samples)) * sweep
    rotated = angle + 2 * math.pi * labels / n_classes
    points = (angle / sweep)[:, None] * np.stack([np.cos(rotated), np.sin(rotated)], axis=1)
    return _finish(points, labels, noise, rng, shuffle)


def placement_table() -> tuple[Tensor, Tensor]:
    """The four-student placement table used to teach batch norm: X holds (cgpa, iq) per row, y
    whether the student was placed. The two features live on scales ~10x apart, which is what
    normalising each feature over the batch fixes.

        cgpa   iq   placed
         8.9  100     1
         6.2   89     0
         9.1   91     0
         7.7   76     1
    """
    features = tensor([[8.9, 100.0], [6.2, 89.0], [9.1, 91.0], [7.7, 76.0]])
    return features, tensor([1, 0, 0, 1])


def _rng(op: str, n_samples: int, noise: float, seed: int | None, generator: Generator | None) -> np.random.Generator:
    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"{op}: n_samples must be a positive int, got {n_samples!r}")
    if not noise >= 0:
        raise ValueError(f"{op}: noise must be >= 0, got {noise!r}")
    return numpy_generator(generator_for(op, seed, generator), op)


def _finish(
    points: np.ndarray, labels: np.ndarray, noise: float, rng: np.random.Generator, shuffle: bool
) -> tuple[Tensor, Tensor]:
    """Add the noise, shuffle the rows if asked, and return float32 X and int64 y tensors."""
    if noise:
        points = points + rng.normal(scale=noise, size=points.shape)
    if shuffle:
        order = rng.permutation(len(points))
        points, labels = points[order], labels[order]
    return from_numpy(points.astype(np.float32)), from_numpy(np.asarray(labels, dtype=np.int64))
