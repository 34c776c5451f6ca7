"""``Linear``, ``Identity`` and ``Flatten``."""

from __future__ import annotations

import math
from typing import Any

from tinygrad_bn import dtype as dtypes
from tinygrad_bn.nn import init
from tinygrad_bn.nn.module import Module, Parameter
from tinygrad_bn.ops.matmul import Linear as LinearOp
from tinygrad_bn.tensor import Tensor, empty


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x·Wᵀ + b for x of shape (*, in_features), W of shape (out_features, in_features)."""
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not match a weight of shape {weight.shape}: "
            f"expected (*, {weight.shape[-1] if weight.ndim else '?'}) against (out_features, in_features)"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match a weight of shape {weight.shape}")
    dtype = input.dtype if input.dtype is weight.dtype else dtypes.promote_types(input.dtype, weight.dtype)
    rows = input.unsqueeze(0) if input.ndim == 1 else input
    operands = [t.to(dtype) for t in (rows, weight) + (() if bias is None else (bias,))]
    out = LinearOp.apply(*operands)
    return out.squeeze(0) if input.ndim == 1 else out


class Identity(Module):
    """Returns its input unchanged (extra constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Flattens dims ``start_dim``..``end_dim`` into one (the batch dim 0 is kept by default)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Linear(Module):
    """y = x·Wᵀ + b, with W of shape (out_features, in_features).

    PyTorch's default init: W and b uniform on ±1/√in_features (W through
    ``kaiming_uniform_(a=√5)``, which gives the same bound).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        for name, size in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {size!r}")
        self.in_features, self.out_features = in_features, out_features
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
