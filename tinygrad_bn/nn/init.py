"""Parameter initialisers: PyTorch's ``torch.nn.init`` names, signatures, defaults and formulas.

    from tinygrad_bn.nn import init
    init.kaiming_uniform_(weight, a=math.sqrt(5))   # in place, returns weight

Every initialiser writes into its tensor in place under ``tb.no_grad()`` and returns it. Random
ones draw from ``tb.rand``/``tb.randn`` (so ``tb.manual_seed`` makes them reproducible) in the
tensor's own dtype. For a weight of shape (out, in, *kernel): fan_in = in·∏kernel and
fan_out = out·∏kernel.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

import tinygrad_bn as tb

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "lecun_normal_",
    "lecun_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_GAIN_ONE = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
_NONLINEARITIES = (*_GAIN_ONE, "tanh", "relu", "leaky_relu", "selu")
_FAN_MODES = ("fan_in", "fan_out")


# --- gains and fans -----------------------------------------------------------------------------


def _gain(op: str, nonlinearity: str, param: float | None) -> float:
    if nonlinearity in _GAIN_ONE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"{op}: negative_slope {param!r} not a valid number (expected an int or float)")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically by PyTorch (pytorch/pytorch#50664)
    raise ValueError(f"{op}: unsupported nonlinearity {nonlinearity!r}, expected one of {list(_NONLINEARITIES)}")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (its ``nn.functional`` name).

    linear, conv*/conv_transpose*, sigmoid: 1; tanh: 5/3; relu: √2; selu: 3/4;
    leaky_relu: √(2 / (1 + negative_slope²)), with negative_slope = ``param`` (0.01 when None).
    """
    return _gain("calculate_gain", nonlinearity, param)


def _fans(op: str, tensor: tb.Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(
            f"{op}: fan in and fan out can not be computed for tensor with fewer than 2 dimensions, "
            f"got shape {tensor.shape}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_fan_in_and_fan_out(tensor: tb.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (size(1)·r, size(0)·r), r = the product of the sizes after dim 1."""
    return _fans("_calculate_fan_in_and_fan_out", tensor)


def _fan(op: str, tensor: tb.Tensor, mode: str) -> int:
    mode = mode.lower() if isinstance(mode, str) else mode  # PyTorch accepts 'FAN_IN'
    if mode not in _FAN_MODES:
        raise ValueError(f"{op}: mode {mode!r} not supported, please use one of {list(_FAN_MODES)}")
    fan_in, fan_out = _fans(op, tensor)
    return fan_in if mode == "fan_in" else fan_out


# --- writing values -----------------------------------------------------------------------------


def _write(tensor: tb.Tensor, values: tb.Tensor) -> tb.Tensor:
    with tb.no_grad():
        return tensor.copy_(values)


def _check_floating(op: str, tensor: tb.Tensor) -> None:
    if not isinstance(tensor, tb.Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{op}: random initialisation needs a floating point tensor, got {tensor.dtype}")


def _uniform(op: str, tensor: tb.Tensor, low: float, high: float) -> tb.Tensor:
    _check_floating(op, tensor)
    if not low <= high:
        raise ValueError(f"{op}: expected a <= b for the range [a, b), got a={low}, b={high}")
    draws = tb.rand(tensor.shape, dtype=tensor.dtype, device=tensor.device)
    return _write(tensor, draws * (high - low) + low)


def _normal(op: str, tensor: tb.Tensor, mean: float, std: float) -> tb.Tensor:
    _check_floating(op, tensor)
    if not std >= 0:
        raise ValueError(f"{op}: expected std >= 0, got std={std}")
    draws = tb.randn(tensor.shape, dtype=tensor.dtype, device=tensor.device)
    return _write(tensor, draws * std + mean)


def _uniform_with_std(op: str, tensor: tb.Tensor, std: float) -> tb.Tensor:
    """U(-bound, bound) with bound = √3·std, the uniform law whose standard deviation is std."""
    bound = math.sqrt(3.0) * std
    return _uniform(op, tensor, -bound, bound)


def _normal_with_std(op: str, tensor: tb.Tensor, std: float) -> tb.Tensor:
    return _normal(op, tensor, 0.0, std)


FillWithStd = Callable[[str, tb.Tensor, float], tb.Tensor]


# --- initialisers -------------------------------------------------------------------------------


def uniform_(tensor: tb.Tensor, a: float = 0.0, b: float = 1.0) -> tb.Tensor:
    """Fill with draws from U(a, b): a + (b - a)·u, u ~ U[0, 1)."""
    return _uniform("uniform_", tensor, a, b)


def normal_(tensor: tb.Tensor, mean: float = 0.0, std: float = 1.0) -> tb.Tensor:
    """Fill with draws from N(mean, std²): mean + std·z, z ~ N(0, 1)."""
    return _normal("normal_", tensor, mean, std)


def constant_(tensor: tb.Tensor, val: float) -> tb.Tensor:
    """Fill with ``val`` (converted to the tensor's dtype, as ``fill_`` does)."""
    with tb.no_grad():
        return tensor.fill_(val)


def zeros_(tensor: tb.Tensor) -> tb.Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: tb.Tensor) -> tb.Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def eye_(tensor: tb.Tensor) -> tb.Tensor:
    """Fill a 2-D tensor with the identity: W[i, j] = 1 if i == j else 0 (rectangular allowed)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _write(tensor, tb.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def _xavier_std(op: str, tensor: tb.Tensor, gain: float) -> float:
    fan_in, fan_out = _fans(op, tensor)
    # NOTE: a (0, 0) tensor has no fans; PyTorch divides by zero there, we leave it (empty) as it is.
    return gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))


def xavier_uniform_(tensor: tb.Tensor, gain: float = 1.0) -> tb.Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    return _uniform_with_std("xavier_uniform_", tensor, _xavier_std("xavier_uniform_", tensor, gain))


def xavier_normal_(tensor: tb.Tensor, gain: float = 1.0) -> tb.Tensor:
    """Glorot & Bengio (2010): N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    return _normal_with_std("xavier_normal_", tensor, _xavier_std("xavier_normal_", tensor, gain))


def _kaiming(op: str, tensor: tb.Tensor, a: float, mode: str, nonlinearity: str, fill: FillWithStd) -> tb.Tensor:
    """Fill with standard deviation gain/√fan, fan = fan_in or fan_out as ``mode`` says."""
    if 0 in tensor.shape:
        warnings.warn(f"{op}: initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return tensor
    fan = _fan(op, tensor, mode)
    return fill(op, tensor, _gain(op, nonlinearity, a) / math.sqrt(fan))


def kaiming_uniform_(
    tensor: tb.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> tb.Tensor:
    """He et al. (2015): U(-bound, bound) with bound = gain·√(3 / fan).

    gain = calculate_gain(nonlinearity, a) (``a`` is the leaky_relu negative slope); fan is fan_in
    (``mode='fan_in'``, keeps the forward variance) or fan_out (keeps the backward variance).
    """
    return _kaiming("kaiming_uniform_", tensor, a, mode, nonlinearity, _uniform_with_std)


def kaiming_normal_(
    tensor: tb.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> tb.Tensor:
    """He et al. (2015): N(0, std²) with std = gain / √fan (gain and fan as in kaiming_uniform_)."""
    return _kaiming("kaiming_normal_", tensor, a, mode, nonlinearity, _normal_with_std)


def lecun_uniform_(tensor: tb.Tensor) -> tb.Tensor:
    """LeCun uniform: U(-bound, bound) with bound = √(3 / fan_in) (kaiming_uniform_ with gain 1)."""
    return _kaiming("lecun_uniform_", tensor, 0, "fan_in", "linear", _uniform_with_std)


def lecun_normal_(tensor: tb.Tensor) -> tb.Tensor:
    """LeCun normal: N(0, std²) with std = 1 / √fan_in (kaiming_normal_ with nonlinearity='linear')."""
    return _kaiming("lecun_normal_", tensor, 0, "fan_in", "linear", _normal_with_std)


def orthogonal_(tensor: tb.Tensor, gain: float = 1) -> tb.Tensor:
    """Saxe et al. (2013): fill with gain·Q, Q a random (semi-)orthogonal matrix.

    The tensor is viewed as rows = size(0) by cols = numel / rows. Q comes from the QR
    factorisation A = QR of a standard normal draw A (of Aᵀ when rows < cols), with column j of Q
    multiplied by sign(R[j, j]) so that Q is uniform (Haar) over orthogonal matrices (Mezzadri 2006).
    Then WᵀW = gain²·I when rows ≥ cols, and WWᵀ = gain²·I when rows ≤ cols.
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {tensor.shape}")
    _check_floating("orthogonal_", tensor)
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    draws = tb.randn(rows, cols, dtype=tensor.dtype).numpy()
    # NOTE: NumPy's QR (LAPACK) on the host: a one-off computation at initialisation time, not a
    # hot path, so it does not earn a QR op of our own. It keeps the dtype (float32 stays float32).
    q, r = np.linalg.qr(draws.T if rows < cols else draws)
    q *= np.where(np.diagonal(r) < 0, -1, 1)  # PyTorch's sign(), but a (measure-zero) R[j, j] = 0 keeps its column
    q = q.T if rows < cols else q
    values = tb.tensor(np.ascontiguousarray(q), dtype=tensor.dtype, device=tensor.device)
    return _write(tensor, values.reshape(tensor.shape) * gain)
