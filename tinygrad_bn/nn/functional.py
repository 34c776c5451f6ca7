"""The functional form of the layers in ``tinygrad_bn.nn`` (PyTorch's ``torch.nn.functional``)."""

from __future__ import annotations

from tinygrad_bn.tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x·Wᵀ + b for x of shape (*, in_features), W of shape (out_features, in_features)."""
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not match a weight of shape {weight.shape}: "
            f"expected (*, {weight.shape[-1] if weight.ndim else '?'}) against (out_features, in_features)"
        )
    out = input @ weight.T
    return out if bias is None else out + bias
