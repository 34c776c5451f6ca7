"""Model utilities (PyTorch's ``torch.nn.utils``): gradient clipping, and folding an eval-mode
batch norm into the layer before it, for inference."""

from __future__ import annotations

from tinygrad_bn.function import no_grad
from tinygrad_bn.nn.clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from tinygrad_bn.nn.linear import Linear
from tinygrad_bn.nn.normalization import _BatchNorm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "fuse_linear_bn", "get_total_norm"]


@no_grad()
def fuse_linear_bn(linear: Linear, bn: _BatchNorm) -> Linear:
    """A new Linear equal to ``bn(linear(x))`` with both in eval mode:

        W' = W·s (row-wise), b' = (b − running_mean)·s + β, with s = γ/√(running_var + eps)

    (γ = 1 and β = 0 without affine; b = 0 for ``Linear(bias=False)``; the result always has a
    bias). The inputs are left unchanged; the result is in eval mode.
    """
    if not isinstance(linear, Linear) or not isinstance(bn, _BatchNorm):
        raise TypeError(
            f"fuse_linear_bn: expected a Linear and a batch norm layer, got {type(linear).__name__} and "
            f"{type(bn).__name__}"
        )
    if linear.training or bn.training:
        raise ValueError("fuse_linear_bn: only eval-mode layers can be fused (call .eval() on both first)")
    if bn.running_mean is None:
        raise ValueError("fuse_linear_bn: the batch norm must track running statistics (track_running_stats=True)")
    if bn.num_features != linear.out_features:
        raise ValueError(
            f"fuse_linear_bn: the Linear has {linear.out_features} output features but the batch norm "
            f"normalises {bn.num_features}"
        )
    weight = linear.weight
    scale = (bn.running_var + bn.eps).rsqrt().to(weight.dtype)
    shift = -bn.running_mean.to(weight.dtype) * scale
    if bn.affine:
        scale = scale * bn.weight
        shift = shift * bn.weight + bn.bias
    fused = Linear(linear.in_features, linear.out_features, bias=True, device=weight.device, dtype=weight.dtype)
    fused.weight.copy_(weight * scale.unsqueeze(1))
    fused.bias.copy_(shift if linear.bias is None else linear.bias * scale + shift)
    return fused.eval()
