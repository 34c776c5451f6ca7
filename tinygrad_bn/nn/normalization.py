"""Normalization layers and their functional forms: batch, layer, group, instance and RMS norm
(PyTorch's names, defaults and semantics; see SEMANTICS.md), and batch renormalization (Ioffe 2017).

Every layer runs one fused kernel per direction (``tinygrad_bn.ops.norm``). Running statistics
(``running_mean``, ``running_var``: the unbiased variance; ``num_batches_tracked``) are buffers,
updated in place by the forward in training and used instead of batch statistics in eval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from tinygrad_bn import dtype as dtypes
from tinygrad_bn.function import no_grad
from tinygrad_bn.nn import init
from tinygrad_bn.nn.module import Module, Parameter
from tinygrad_bn.ops import norm
from tinygrad_bn.tensor import Tensor, ones, tensor, zeros

# --- argument checks ---------------------------------------------------------------------------------


def _verify_batch_size(size: tuple[int, ...]) -> None:
    """Batch statistics need more than one value per channel (PyTorch's check and message)."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(size)}")


def _verify_spatial_size(size: tuple[int, ...]) -> None:
    if math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(size)}")


def _check_input(op: str, input: Tensor, min_dims: int) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype.name}")
    if input.ndim < min_dims:
        raise ValueError(f"{op}: expected an input with at least {min_dims} dims, got shape {input.shape}")


def _check_constants(op: str, eps: float, momentum: float | None = 0.0) -> None:
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{op}: eps must be a finite number >= 0, got {eps!r}")
    if momentum is not None and (not isinstance(momentum, (int, float)) or not math.isfinite(momentum)):
        raise ValueError(f"{op}: momentum must be a finite number or None, got {momentum!r}")


def _check_companion(op: str, name: str, value: Tensor, input: Tensor, shape: tuple[int, ...]) -> None:
    """A weight, bias or running statistic must have ``shape``, ``input``'s dtype and device."""
    if (
        isinstance(value, Tensor)
        and value._buffer.shape == shape
        and value._dtype is input._dtype
        and value._device is input._device
    ):
        return  # the common case, in one test (this runs up to four times per layer call)
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if value.shape != shape:
        raise RuntimeError(
            f"{op}: {name} of shape {value.shape} does not match an input of shape {input.shape}: expected {shape}"
        )
    if value.dtype is not input.dtype:
        raise TypeError(
            f"{op}: {name} is {value.dtype.name} but the input is {input.dtype.name}; "
            "convert one of them (module.to(dtype))"
        )
    if value.device is not input.device and value.device != input.device:
        raise RuntimeError(f"{op}: {name} is on {value.device} but the input is on {input.device}")


def _affine(op: str, input: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...]) -> tuple:
    """(the weight and bias that are given, (has weight, has bias)), each checked against ``shape``."""
    given = []
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None:
            _check_companion(op, name, value, input, shape)
            given.append(value)
    return given, (weight is not None, bias is not None)


def _shape_tuple(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def _trailing_layout(
    op: str, input: Tensor, normalized_shape: int | Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, int, int, int]]:
    """normalized_shape as a tuple, after checking it is input's trailing shape, and the group norm
    layout that normalises over it: (rows, 1 group, its element count, 1)."""
    _check_input(op, input, 1)
    shape = _shape_tuple(normalized_shape)
    leading = input.ndim - len(shape)
    if not shape or leading < 0 or input.shape[leading:] != shape:
        expected = ", ".join(str(size) for size in shape)
        raise RuntimeError(
            f"{op}: given normalized_shape={list(shape)}, expected input with shape [*, {expected}], "
            f"but got input of size {input.shape}"
        )
    return shape, (math.prod(input.shape[:leading]), 1, math.prod(shape), 1)


# --- functional forms --------------------------------------------------------------------------------


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch norm of ``input`` (N, C, *), statistics per channel over every other dim.

    Training: this batch's mean and biased variance; given running buffers are updated in place
    (running = (1 − momentum)·running + momentum·value, with the unbiased variance). Eval: the
    running buffers are the statistics. y = (x − μ)/√(σ² + eps)·weight + bias.
    """
    return _batch_norm("batch_norm", input, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm(
    op: str,
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float | None,
    eps: float,
    num_batches_tracked: Tensor | None = None,
) -> Tensor:
    """``batch_norm``, also counting batches in ``num_batches_tracked`` (the layers' buffer, which
    makes ``momentum=None`` a cumulative average)."""
    _check_input(op, input, 2)
    _check_constants(op, eps, momentum)
    channels = (input.shape[1],)
    if training:
        _verify_batch_size(input.shape)
        if eps <= 0:  # a constant channel would divide by zero
            raise ValueError(f"{op}: eps must be positive during training, got {eps}")
        if momentum is None and running_mean is not None and num_batches_tracked is None:
            raise TypeError(
                f"{op}: momentum=None (a cumulative average) needs the layer's num_batches_tracked; "
                "pass a float momentum to update running statistics here"
            )
    elif running_mean is None or running_var is None:
        raise RuntimeError(f"{op}: running_mean and running_var must be given when not training")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError(f"{op}: running_mean and running_var must be given together")
    if running_mean is not None:
        _check_companion(op, "running_mean", running_mean, input, channels)
        _check_companion(op, "running_var", running_var, input, channels)
    affine, affine_inputs = _affine(op, input, weight, bias, channels)
    return norm.BatchNorm.apply(
        input,
        *affine,
        affine_inputs=affine_inputs,
        eps=eps,
        batch_stats=training,
        running_mean=running_mean,
        running_var=running_var,
        momentum=momentum,
        num_batches_tracked=num_batches_tracked,
    )


def _group_norm(
    op: str,
    input: Tensor,
    layout: tuple[int, int, int, int],
    weight: Tensor | None,
    bias: Tensor | None,
    weight_shape: tuple[int, ...],
    eps: float,
    centered: bool = True,
) -> Tensor:
    """Statistics per row of input viewed as ``layout`` = (n, groups, channels_per_group, spatial)."""
    _check_constants(op, eps)
    affine, affine_inputs = _affine(op, input, weight, bias, weight_shape)
    return norm.GroupNorm.apply(input, *affine, affine_inputs=affine_inputs, layout=layout, eps=eps, centered=centered)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Mean and biased variance over the trailing ``normalized_shape`` dims; weight and bias are
    per element of ``normalized_shape``. The same in training and eval."""
    shape, layout = _trailing_layout("layer_norm", input, normalized_shape)
    return _group_norm("layer_norm", input, layout, weight, bias, shape, eps)


def rms_norm(
    input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """y = x/√(mean(x²) + eps)·weight over the trailing ``normalized_shape`` dims; eps=None is the
    dtype's machine epsilon."""
    shape, layout = _trailing_layout("rms_norm", input, normalized_shape)
    if eps is None:  # the machine epsilon: 2^-23 for float32, 2^-52 for float64
        eps = 2.0**-52 if input.dtype is dtypes.float64 else 2.0**-23
    return _group_norm("rms_norm", input, layout, weight, None, shape, eps, centered=False)


def group_norm(
    input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Statistics per (sample, group of C/num_groups channels) over those channels and every spatial
    position; weight and bias per channel. The same in training and eval."""
    _check_input("group_norm", input, 2)
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(f"group_norm: num_channels ({channels}) must be divisible by num_groups ({num_groups})")
    _verify_batch_size((n * channels // num_groups, num_groups, *input.shape[2:]))
    layout = (n, num_groups, channels // num_groups, math.prod(input.shape[2:]))
    return _group_norm("group_norm", input, layout, weight, bias, (channels,), eps)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Statistics per (sample, channel) over the spatial dims of ``input`` (N, C, *).

    With ``use_input_stats`` and running buffers given, these are updated with the batch's average
    of the per-instance means and unbiased variances; without it, the running buffers are the
    statistics (as batch norm in eval).
    """
    if not use_input_stats:
        return _batch_norm("instance_norm", input, running_mean, running_var, weight, bias, False, momentum, eps)
    _check_input("instance_norm", input, 2)
    _verify_spatial_size(input.shape)
    n, channels = input.shape[:2]
    spatial = math.prod(input.shape[2:])
    if running_mean is not None or running_var is not None:
        for name, buffer in (("running_mean", running_mean), ("running_var", running_var)):
            if buffer is None:
                raise RuntimeError("instance_norm: running_mean and running_var must be given together")
            _check_companion("instance_norm", name, buffer, input, (channels,))
        _update_instance_statistics(input, running_mean, running_var, momentum)
    return _group_norm("instance_norm", input, (n, channels, 1, spatial), weight, bias, (channels,), eps)


@no_grad()
def _update_instance_statistics(input: Tensor, running_mean: Tensor, running_var: Tensor, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·(batch average of the per-instance statistics)."""
    instances = input.detach().reshape(input.shape[0], input.shape[1], -1)
    running_mean.mul_(1 - momentum).add_(instances.mean(2).mean(0) * momentum)
    running_var.mul_(1 - momentum).add_(instances.var(2).mean(0) * momentum)


# --- layers --------------------------------------------------------------------------------------------


def _factory_dtype(dtype: Any) -> dtypes.DType:
    return dtypes.to_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT


def _register_affine(module: Module, weight: bool, bias: bool, shape: tuple[int, ...], dtype: Any, device: Any) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape`` as parameters, or as None."""
    dtype = _factory_dtype(dtype)
    for name, wanted, fill in (("weight", weight, ones), ("bias", bias, zeros)):
        module.register_parameter(name, Parameter(fill(shape, dtype=dtype, device=device)) if wanted else None)


class _NormBase(Module):
    """Parameters (weight, bias: per feature, when ``affine``) and running-statistics buffers (when
    ``track_running_stats``) shared by batch norm, batch renorm and instance norm."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(num_features, int) or isinstance(num_features, bool) or num_features < 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a non-negative int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, affine, affine and bias, (num_features,), dtype, device)
        if track_running_stats:
            dtype = _factory_dtype(dtype)
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Batch norm over (N, C, *): ``_check_input_dim`` says which ranks a subclass accepts."""

    expected_dims: tuple[int, ...]

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor) or input.ndim not in self.expected_dims:
            got = f"{input.ndim}D input" if isinstance(input, Tensor) else type(input).__name__
            expected = " or ".join(f"{d}D" for d in self.expected_dims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input (got {got})")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        parameters = self._parameters  # (read directly: Module.__getattr__ is the slow path, and this one is hot)
        return self._normalize(input, parameters["weight"], parameters["bias"])

    def _normalize(self, input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
        """Batch norm with this layer's mode and buffers (PyTorch's _BatchNorm.forward)."""
        training, tracking, buffers = self.training, self.track_running_stats, self._buffers
        running_mean = buffers["running_mean"]
        use_running = not training or tracking
        return _batch_norm(
            "batch_norm",
            input,
            running_mean if use_running else None,
            buffers["running_var"] if use_running else None,
            weight,
            bias,
            training or running_mean is None,
            self.momentum,
            self.eps,
            buffers["num_batches_tracked"] if training and tracking else None,
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) input: statistics per channel over N (and L)."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) input: statistics per channel over N, H and W."""

    expected_dims = (4,)


class BatchRenorm1d(_BatchNorm):
    """Batch renormalization (Ioffe 2017) of (N, C) or (N, C, L) input.

    Training normalises with the batch statistics, corrected toward the running ones:
    x̂ = (x − μ_B)/σ_B·r + d with σ_B = √(σ²_B + eps), σ = √(running_var + eps),
    r = clip(σ_B/σ, 1/r_max, r_max) and d = clip((μ_B − running_mean)/σ, −d_max, d_max), both
    treated as constants by backward; y = weight·x̂ + bias. Eval is batch norm's eval, so train
    and test agree once the running statistics settle; a small batch still trains on statistics
    pulled toward the population's.

    Warm-up: for the first ``warmup_steps`` batches r_max = 1 and d_max = 0 (plain batch norm),
    then both relax linearly to their final values over ``relax_steps`` batches (the paper: 5000
    steps of batch norm, then r_max → 3 and d_max → 5). Running statistics update as batch norm's
    (``running_var`` holds the unbiased variance, ``momentum`` the rate α), so the buffers and
    state dict are BatchNorm1d's.
    """

    expected_dims = (2, 3)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        r_max: float = 3.0,
        d_max: float = 5.0,
        warmup_steps: int = 5000,
        relax_steps: int = 20000,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        if r_max < 1 or d_max < 0:
            raise ValueError(f"BatchRenorm1d: expected r_max >= 1 and d_max >= 0, got r_max={r_max}, d_max={d_max}")
        if momentum is None:
            raise ValueError("BatchRenorm1d: momentum must be a number (the rate of the running averages)")
        super().__init__(num_features, eps, momentum, affine, True, device, dtype, bias=bias)
        self.r_max, self.d_max = r_max, d_max
        self.warmup_steps, self.relax_steps = warmup_steps, relax_steps

    def current_limits(self) -> tuple[float, float]:
        """(r_max, d_max) for the next training batch, from the warm-up schedule."""
        step = int(self.num_batches_tracked.item())
        if step < self.warmup_steps:
            return 1.0, 0.0
        progress = 1.0 if self.relax_steps <= 0 else min(1.0, (step - self.warmup_steps) / self.relax_steps)
        return 1.0 + (self.r_max - 1.0) * progress, self.d_max * progress

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        r_max, d_max = self.current_limits() if self.training else (1.0, 0.0)
        if r_max == 1.0 and d_max == 0.0:  # r = 1 and d = 0: exactly batch norm
            return self._normalize(input, self.weight, self.bias)
        _check_input("BatchRenorm1d", input, 2)
        _verify_batch_size(input.shape)
        r, d = self._corrections(input, r_max, d_max)
        # weight·((x − μ_B)/σ_B·r + d) + bias = batch norm with weight·r and bias + weight·d.
        weight = r if self.weight is None else self.weight * r
        shift = d if self.weight is None else self.weight * d
        return self._normalize(input, weight, shift if self.bias is None else self.bias + shift)

    @no_grad()
    def _corrections(self, input: Tensor, r_max: float, d_max: float) -> tuple[Tensor, Tensor]:
        """r and d from this batch's statistics and the running ones (constants: computed without a graph)."""
        axes = (0,) if input.ndim == 2 else (0, 2)
        batch_mean = input.mean(axes)
        batch_std = (input.var(axes, correction=0) + self.eps).sqrt()
        running_std = (self.running_var + self.eps).sqrt()
        r = (batch_std / running_std).clamp(1 / r_max, r_max)
        d = ((batch_mean - self.running_mean) / running_std).clamp(-d_max, d_max)
        return r, d

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, r_max={self.r_max}, d_max={self.d_max}, "
            f"warmup_steps={self.warmup_steps}, relax_steps={self.relax_steps}"
        )


class _InstanceNorm(_NormBase):
    """Instance norm; ``batched_dims`` is the rank of a batched input (one less is one sample)."""

    batched_dims: int

    def __init__(self, num_features: int, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, **options):
        # Batch norm's arguments (device, dtype, bias), with PyTorch's instance norm defaults.
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **options)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (self.batched_dims - 1, self.batched_dims):
            got = f"{input.ndim}D input" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{name}: expected {self.batched_dims - 1}D or {self.batched_dims}D input (got {got})")
        feature_dim = input.ndim - self.batched_dims + 1
        if input.shape[feature_dim] != self.num_features:
            message = (
                f"{name}: expected input's size at dim={feature_dim} to match num_features "
                f"({self.num_features}), but got: {input.shape[feature_dim]}."
            )
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + " (num_features is not used without affine)", UserWarning, stacklevel=2)
        unbatched = input.ndim == self.batched_dims - 1
        batch = input.unsqueeze(0) if unbatched else input
        out = instance_norm(
            batch,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) input: statistics per (sample, channel) over L."""

    batched_dims = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) input: statistics per (sample, channel) over H, W."""

    batched_dims = 4


class LayerNorm(Module):
    """Normalises over the trailing ``normalized_shape`` dims; weight (ones) and bias (zeros) per
    element of it when ``elementwise_affine`` (bias only when ``bias``)."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _register_affine(self, elementwise_affine, elementwise_affine and bias, self.normalized_shape, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """y = x/√(mean(x²) + eps)·weight over the trailing ``normalized_shape`` dims; eps=None is the
    input dtype's machine epsilon."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _register_affine(self, elementwise_affine, False, self.normalized_shape, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Statistics per (sample, group of num_channels/num_groups channels); weight (ones) and bias
    (zeros) per channel when ``affine``."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _register_affine(self, affine, affine and bias, (num_channels,), dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        use_bias = self.bias is not None
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={use_bias}"
