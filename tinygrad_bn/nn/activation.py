"""Activation functions and layers: ``torch.nn``'s ReLU, GELU, Softmax, ... and their functional
forms (``torch.nn.functional``'s names), plus two layers PyTorch lacks: ``Swish`` (learnable β)
and ``Maxout``.

Every activation is finite in value and gradient at |x| = 1000 in float32 and float64: a branch
that ``where`` does not take still runs its backward with a zero gradient, so such a branch only
ever sees inputs clamped to where it is finite (0·inf would be NaN).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from tinygrad_bn import dtype as dtypes
from tinygrad_bn.nn.init import constant_
from tinygrad_bn.nn.linear import Linear
from tinygrad_bn.nn.module import Module, Parameter
from tinygrad_bn.ops import activation as fused
from tinygrad_bn.tensor import Tensor, empty, full

# SELU's constants (Klambauer et al. 2017), to full precision.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_APPROXIMATIONS = ("none", "tanh")


# --- functional forms ----------------------------------------------------------------------------


def _reject_inplace(op: str, inplace: bool) -> bool:
    """``inplace=True`` is not supported (yet): say so instead of silently computing out of place."""
    if inplace:
        raise NotImplementedError(f"{op}: inplace=True is not supported; use the out-of-place form (inplace=False)")
    return inplace


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(x) = max(0, x); the gradient at x = 0 is 0."""
    _reject_inplace("relu", inplace)
    return input.relu()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Hardtanh(x) = min(max(x, min_val), max_val); the gradient is 1 strictly between the bounds
    and 0 elsewhere, at the bounds too (PyTorch's choice)."""
    _reject_inplace("hardtanh", inplace)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    # NOTE: the clamped branch is detached, so it passes no gradient, not even at the bounds; a
    # NaN counts as inside (its gradient passes), as in PyTorch.
    outside = (input <= min_val) | (input >= max_val)
    bounded = input.detach().clamp(min_val, max_val)  # an integer input stays integer: bounds truncate
    return input.where(~outside, bounded if input.dtype.is_floating_point else bounded.to(input.dtype))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU6(x) = min(max(0, x), 6) = hardtanh(x, 0, 6); the gradient at 0 and at 6 is 0."""
    _reject_inplace("relu6", inplace)
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """LeakyReLU(x) = x for x > 0, negative_slope·x otherwise; the gradient at 0 is negative_slope."""
    _reject_inplace("leaky_relu", inplace)
    _require_float("leaky_relu", input)
    return input.where(input > 0, input * negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PReLU(x) = max(0, x) + a·min(0, x), with ``weight`` a holding one slope shared by every
    element or one per channel (dim 1; an input of fewer than 2 dims has one channel). The gradient
    at x = 0 is a."""
    if weight.ndim > 1:
        raise ValueError(f"prelu: expected weight to be a scalar or 1-D tensor, got shape {weight.shape}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise ValueError(
            f"prelu: weight has {weight.numel()} elements but the input of shape {input.shape} has {channels} "
            f"channel(s) (dim 1); expected 1 or {channels} elements"
        )
    slope = weight.reshape(-1, *[1] * (input.ndim - 2)) if input.ndim >= 2 else weight.reshape(())
    return input.where(input > 0, input * slope)


def _require_float(op: str, input: Tensor) -> None:
    """Activations PyTorch computes for floating inputs only refuse the others (NotImplementedError, as there)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"{op}: not implemented for {input.dtype.name} input (shape {tuple(input.shape)}); "
            "expected a floating point tensor"
        )


def _fused(name: str, op: type[fused.Activation], input: Tensor, **params: float) -> Tensor:
    """A fused activation (one kernel pass each way), for floating inputs only."""
    _require_float(name, input)
    return op.apply(input, **params)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(x) = x for x > 0, α·(eˣ − 1) otherwise; the gradient at 0 is α (a NaN takes the
    linear branch, as in PyTorch)."""
    _reject_inplace("elu", inplace)
    return _fused("elu", fused.ExponentialLinear, input, alpha=alpha, scale=1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU(x) = scale·(max(0, x) + min(0, α·(eˣ − 1))) with α = SELU_ALPHA ≈ 1.6733 and
    scale = SELU_SCALE ≈ 1.0507; the gradient at 0 is scale·α."""
    _reject_inplace("selu", inplace)
    return _fused("selu", fused.ExponentialLinear, input, alpha=SELU_ALPHA, scale=SELU_SCALE)


def _check_approximate(approximate: str) -> None:
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (``approximate='none'``), or
    0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (``approximate='tanh'``)."""
    _check_approximate(approximate)
    return _fused("gelu", fused.Gelu if approximate == "none" else fused.GeluTanh, input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU(x) = x·σ(x)."""
    _reject_inplace("silu", inplace)
    return _fused("silu", fused.Swish, input, beta=1.0)


def swish(input: Tensor, beta: float | Tensor) -> Tensor:
    """Swish(x) = x·σ(β·x); β = 1 is SiLU, β → ∞ approaches ReLU. ``beta`` may be a tensor (learnable:
    then x·σ(β·x) is composed from Tensor ops so β gets its gradient)."""
    if isinstance(beta, Tensor):
        return input * (input * beta).sigmoid()
    return _fused("swish", fused.Swish, input, beta=float(beta))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus(x) = log(1 + e^(β·x))/β, and x itself where β·x > threshold (PyTorch's linear regime)."""
    _require_float("softplus", input)
    scaled = input * beta
    linear = scaled > threshold
    # NOTE: exp only sees min(β·x, threshold), so the branch not taken stays finite (no inf·0 NaN);
    # a where rather than a clamp, so a NaN input keeps its NaN gradient, as in PyTorch.
    smooth = scaled.where(~linear, threshold).exp().log1p() / beta
    return input.where(linear, smooth)


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ), without overflow for any x."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)."""
    return input.tanh()


def _implicit_dim(op: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's deprecated choice when no dim is given: 0 for 0-, 1- and 3-dim inputs, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _along_dim(method: str, input: Tensor, dim: int, dtype: Any) -> Tensor:
    """``input.<method>(dim)`` after casting to ``dtype``."""
    return getattr(input if dtype is None else input.to(dtype), method)(dim)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(x)ᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x) along ``dim`` (input cast to ``dtype`` first)."""
    dim = _implicit_dim("softmax", input.ndim, _stacklevel) if dim is None else dim
    return _along_dim("softmax", input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log_softmax(x)ᵢ = (xᵢ − max x) − log Σⱼ e^(xⱼ − max x) along ``dim`` (input cast to ``dtype`` first)."""
    dim = _implicit_dim("log_softmax", input.ndim, _stacklevel) if dim is None else dim
    return _along_dim("log_softmax", input, dim, dtype)


# --- layers --------------------------------------------------------------------------------------


class _Activation(Module):
    """An activation layer: ``forward`` applies ``function`` with the attributes named in ``settings``
    as keyword arguments, and the repr lists the same settings (PyTorch's format)."""

    function: Callable[..., Tensor]
    settings: tuple[str, ...] = ()

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input, **{name: getattr(self, name) for name in self.settings})

    def extra_repr(self) -> str:
        return ", ".join(_setting_repr(name, getattr(self, name)) for name in self.settings)


def _setting_repr(name: str, value: Any) -> str:
    return f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"


class Sigmoid(_Activation):
    """σ(x) = 1/(1 + e⁻ˣ), elementwise."""

    function = staticmethod(sigmoid)


class Tanh(_Activation):
    """tanh(x), elementwise."""

    function = staticmethod(tanh)


class ReLU(_Activation):
    """max(0, x), elementwise (gradient 0 at 0)."""

    function = staticmethod(relu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _reject_inplace("ReLU", inplace)


class Hardtanh(_Activation):
    """min(max(x, min_val), max_val), elementwise (gradient 0 at the bounds)."""

    function = staticmethod(hardtanh)
    settings = ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not max_val > min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val = min_val, max_val
        self.inplace = _reject_inplace(type(self).__name__, inplace)


class ReLU6(Hardtanh):
    """min(max(0, x), 6), elementwise: Hardtanh(0, 6), as in PyTorch (gradient 0 at 0 and 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return ""


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope·x otherwise (gradient negative_slope at 0)."""

    function = staticmethod(leaky_relu)
    settings = ("negative_slope",)

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = _reject_inplace("LeakyReLU", inplace)


class ELU(_Activation):
    """x for x > 0, α·(eˣ − 1) otherwise (gradient α at 0)."""

    function = staticmethod(elu)
    settings = ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = _reject_inplace("ELU", inplace)


class SELU(_Activation):
    """scale·(max(0, x) + min(0, α·(eˣ − 1))), α ≈ 1.6733, scale ≈ 1.0507 (gradient scale·α at 0)."""

    function = staticmethod(selu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _reject_inplace("SELU", inplace)


class GELU(_Activation):
    """x·Φ(x) = 0.5·x·(1 + erf(x/√2)); ``approximate='tanh'``: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""

    function = staticmethod(gelu)
    settings = ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        _check_approximate(approximate)
        self.approximate = approximate


class SiLU(_Activation):
    """x·σ(x), elementwise."""

    function = staticmethod(silu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _reject_inplace("SiLU", inplace)


class Softplus(_Activation):
    """log(1 + e^(β·x))/β, and x where β·x > threshold."""

    function = staticmethod(softplus)
    settings = ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold


class Softmax(_Activation):
    """e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x) along ``dim`` (None: PyTorch's deprecated implicit choice)."""

    function = staticmethod(softmax)
    settings = ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        # _stacklevel=5: a warning about an implicit dim points at the code that called the module.
        return self.function(input, self.dim, _stacklevel=5)


class LogSoftmax(Softmax):
    """(xᵢ − max x) − log Σⱼ e^(xⱼ − max x) along ``dim``."""

    function = staticmethod(log_softmax)


class PReLU(Module):
    """max(0, x) + a·min(0, x) with a learnable slope a: one shared, or one per channel (dim 1).

    ``weight`` has shape (num_parameters,) and starts at ``init``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if not isinstance(num_parameters, int) or isinstance(num_parameters, bool) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters, self.init = num_parameters, init
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
        self.weight = Parameter(empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Swish(Module):
    """x·σ(β·x). With ``learnable=True``, β is a Parameter of shape (1,) starting at ``beta``."""

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        self.learnable = learnable
        self.beta = Parameter(full((1,), float(beta))) if learnable else beta

    def forward(self, input: Tensor) -> Tensor:
        return swish(input, self.beta)

    def extra_repr(self) -> str:
        beta = self.beta.item() if self.learnable else self.beta
        return f"beta={beta}, learnable={self.learnable}"


class Maxout(Module):
    """y_o = maxₖ (x·W_{o,k}ᵀ + b_{o,k}) over ``pieces`` affine maps per output (Goodfellow et al. 2013).

    One ``Linear(in_features, out_features·pieces)`` (PyTorch's init) computes every piece; its
    outputs are read as (..., out_features, pieces), output o's piece k being row o·pieces + k of
    ``linear.weight``. The gradient goes to the arg-max piece (the first one on a tie).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        pieces: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if not isinstance(pieces, int) or isinstance(pieces, bool) or pieces < 1:
            raise ValueError(f"Maxout: pieces must be a positive int, got {pieces!r}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(in_features, out_features * pieces, bias=bias, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        affine = self.linear(input)
        by_piece = affine.reshape((*affine.shape[:-1], self.out_features, self.pieces))
        return by_piece.max(dim=-1).values

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"
