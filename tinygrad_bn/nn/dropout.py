"""Dropout and alpha dropout: functional forms and layers (PyTorch's names, defaults and formulas).

Masks are drawn with ``tb.rand``, so ``tb.manual_seed`` reproduces them. A layer drops only while
its ``training`` flag is set (``Module.train()``); in eval it returns its input unchanged.
"""

from __future__ import annotations

import math

from tinygrad_bn.nn.module import Module
from tinygrad_bn.tensor import Tensor, rand

# λ·α of SELU, so α' = −λ·α is the value SELU saturates to as x → −∞ (PyTorch's constant).
SELU_SATURATION = 1.7580993408473766


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, p: float) -> Tensor:
    """1 with probability 1 − p, else 0, per element, in ``input``'s dtype (u ~ U[0, 1), kept iff u >= p)."""
    draws = rand(input.shape, dtype=input.dtype, device=input.device)
    return (draws >= p).to(input.dtype)


def _affine(input: Tensor, scale: Tensor, shift: Tensor | None, inplace: bool) -> Tensor:
    """input·scale (+ shift), written into ``input`` when ``inplace``."""
    out = input.mul_(scale) if inplace else input * scale
    if shift is None:
        return out
    return out.add_(shift) if inplace else out + shift


def _passes_through(input: Tensor, p: float, training: bool) -> bool:
    """Whether dropout is the identity: eval mode, p = 0 or nothing to drop (PyTorch returns the input)."""
    _check_probability(p)
    return not training or p == 0 or input.numel() == 0


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """y = x·m / (1 − p) with m ~ Bernoulli(1 − p) per element (inverted dropout: E[y] = x).

    The gradient is m / (1 − p). Identity when ``training`` is False or p = 0; all zeros at p = 1.
    """
    if _passes_through(input, p, training):
        return input
    if p == 1:
        return _affine(input, input.new_zeros(()), None, inplace)
    return _affine(input, _keep_mask(input, p) / (1 - p), None, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped values become SELU's saturation α' = −λα instead of 0,
    then an affine map restores zero mean and unit variance:

        a = ((1 − p)(1 + p·α'²))^(−1/2),  b = −a·α'·p,  y = a·(x·m + α'·(1 − m)) + b

    with m ~ Bernoulli(1 − p) per element; the gradient is a·m. Identity when ``training`` is
    False (the default, as in PyTorch) or p = 0; all zeros at p = 1.
    """
    if _passes_through(input, p, training):
        return input
    if p == 1:
        return _affine(input, input.new_zeros(()), None, inplace)
    keep = _keep_mask(input, p)
    a = 1.0 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    # a·α'·(1 − m) + b = (m − 1)·λα·a + λα·a·p, in PyTorch's order of operations.
    shift = (keep - 1) * (SELU_SATURATION * a) + SELU_SATURATION * a * p
    return _affine(input, keep * a, shift, inplace)


class _DropoutNd(Module):
    """Shared constructor and repr of the dropout layers (p validated on construction)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_probability(p)
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability p and scale survivors by 1/(1 − p)
    (see ``dropout``); in eval, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """In training, alpha dropout (see ``alpha_dropout``: keeps a SELU network's zero mean and
    unit variance); in eval, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return alpha_dropout(input, self.p, self.training, self.inplace)
