"""Parameter initialisers: PyTorch's ``torch.nn.init`` names, signatures, defaults and formulas.

    from tinygrad_bn.nn import init
    init.kaiming_uniform_(weight, a=math.sqrt(5))   # in place, returns weight

Every initialiser writes into its tensor in place under ``tb.no_grad()`` and returns it. Random
ones draw from ``tb.rand``/``tb.randn``/``tb.randperm`` in the tensor's own dtype, from their
``generator=`` (a ``tb.Generator``) or else the global generator, so ``tb.manual_seed`` makes
them reproducible. For a weight of shape (out, in, *kernel): fan_in = in·∏kernel and
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
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "lecun_normal_",
    "lecun_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
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
Shape = tuple[int, ...]


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
        # NotImplementedError, as PyTorch's sampling kernels raise for integer dtypes.
        raise NotImplementedError(f"{op}: random initialisation needs a floating point tensor, got {tensor.dtype}")


def _uniform_draws(
    op: str, tensor: tb.Tensor, low: float, high: float, generator: tb.Generator | None, size: Shape | None = None
) -> tb.Tensor:
    """Draws from U(low, high) typed and placed like ``tensor`` (which is not written), of shape
    ``size`` (default: the tensor's)."""
    _check_floating(op, tensor)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"{op}: expected finite bounds, got a={low}, b={high}")
    if not low <= high:
        raise RuntimeError(f"{op}: expected a <= b for the range [a, b), got a={low}, b={high}")
    draws = tb.rand(
        tensor.shape if size is None else size, generator=generator, dtype=tensor.dtype, device=tensor.device
    )
    return draws * (high - low) + low


def _normal_draws(
    op: str, tensor: tb.Tensor, mean: float, std: float, generator: tb.Generator | None, size: Shape | None = None
) -> tb.Tensor:
    """Draws from N(mean, std²) typed and placed like ``tensor`` (which is not written), of shape
    ``size`` (default: the tensor's)."""
    _check_floating(op, tensor)
    if not std >= 0:
        raise RuntimeError(f"{op}: expected std >= 0, got std={std}")
    draws = tb.randn(
        tensor.shape if size is None else size, generator=generator, dtype=tensor.dtype, device=tensor.device
    )
    return draws * std + mean


def _uniform_with_std(op: str, tensor: tb.Tensor, std: float, generator: tb.Generator | None) -> tb.Tensor:
    """U(-bound, bound) with bound = √3·std, the uniform law whose standard deviation is std."""
    bound = math.sqrt(3.0) * std
    return _write(tensor, _uniform_draws(op, tensor, -bound, bound, generator))


def _normal_with_std(op: str, tensor: tb.Tensor, std: float, generator: tb.Generator | None) -> tb.Tensor:
    return _write(tensor, _normal_draws(op, tensor, 0.0, std, generator))


FillWithStd = Callable[[str, tb.Tensor, float, tb.Generator | None], tb.Tensor]


# --- initialisers -------------------------------------------------------------------------------


def uniform_(tensor: tb.Tensor, a: float = 0.0, b: float = 1.0, generator: tb.Generator | None = None) -> tb.Tensor:
    """Fill with draws from U(a, b): a + (b - a)·u, u ~ U[0, 1)."""
    return _write(tensor, _uniform_draws("uniform_", tensor, a, b, generator))


def normal_(tensor: tb.Tensor, mean: float = 0.0, std: float = 1.0, generator: tb.Generator | None = None) -> tb.Tensor:
    """Fill with draws from N(mean, std²): mean + std·z, z ~ N(0, 1)."""
    return _write(tensor, _normal_draws("normal_", tensor, mean, std, generator))


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(
    tensor: tb.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: tb.Generator | None = None,
) -> tb.Tensor:
    """Fill with draws from N(mean, std²) truncated to [a, b] (conditioned on lying in [a, b]).

    Exact rejection sampling, with PyTorch's two proposals: when [a, b] holds more than 30% of the
    normal's mass, normal draws are kept if they lie in [a, b]; otherwise uniform draws x on [a, b]
    are kept with probability exp(-½((x - mean)/std)²) / (that density's peak on [a, b]).
    """
    op = "trunc_normal_"
    _check_floating(op, tensor)
    if not std > 0:
        raise ValueError(f"{op}: expected std > 0, got std={std}")
    if not a <= b:
        raise RuntimeError(f"{op}: expected a <= b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            f"{op}: mean is more than 2 std from [a, b]. The distribution of values may be incorrect.",
            UserWarning,
            stacklevel=2,
        )
    mass = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std)
    if mass > 0.3:

        def propose(count: int) -> tb.Tensor:
            return _normal_draws(op, tensor, mean, std, generator, size=(count,))

        def keep(candidates: tb.Tensor) -> tb.Tensor:
            return (candidates >= a) & (candidates <= b)

    else:
        mode = max(a, min(mean, b))  # where the normal density peaks on [a, b]

        def propose(count: int) -> tb.Tensor:
            return _uniform_draws(op, tensor, a, b, generator, size=(count,))

        def keep(candidates: tb.Tensor) -> tb.Tensor:
            log_ratio = -0.5 * ((candidates - mean) / std).square() + 0.5 * ((mode - mean) / std) ** 2
            return _uniform_draws(op, tensor, 0.0, 1.0, generator, size=candidates.shape).log() <= log_ratio

    return _write(tensor, _rejection_sample(tensor, propose, keep))


def _rejection_sample(
    tensor: tb.Tensor, propose: Callable[[int], tb.Tensor], keep: Callable[[tb.Tensor], tb.Tensor]
) -> tb.Tensor:
    """``tensor.numel()`` proposals that ``keep`` accepts, shaped like ``tensor``: each round
    proposes as many candidates as are still missing."""
    accepted = [tb.zeros(0, dtype=tensor.dtype, device=tensor.device)]
    missing = tensor.numel()
    while missing > 0:
        candidates = propose(missing)
        kept = candidates[keep(candidates)]
        accepted.append(kept)
        missing -= kept.numel()
    return tb.cat(accepted).reshape(tensor.shape)


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


def dirac_(tensor: tb.Tensor, groups: int = 1) -> tb.Tensor:
    """Fill a conv weight (out, in, *kernel) so the convolution passes its input through.

    Per group g of out/groups output channels: W[g·out/groups + d, d, centre] = 1 for
    d < min(out/groups, in), where centre = size // 2 in each kernel dimension; 0 elsewhere.
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape {tensor.shape}")
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"dirac_: groups must be an int, got {type(groups).__name__}")
    if groups < 1:
        raise ValueError(f"dirac_: groups must be positive, got groups={groups}")
    out_channels, in_channels = tensor.shape[:2]
    if out_channels % groups != 0:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups, got dim 0 = {out_channels} and groups={groups}")
    values = tb.zeros(tensor.shape, dtype=tensor.dtype, device=tensor.device)
    per_group = out_channels // groups
    passed = range(min(per_group, in_channels))
    if tensor.numel() > 0 and passed:
        outputs = [group * per_group + channel for group in range(groups) for channel in passed]
        inputs = [channel for _ in range(groups) for channel in passed]
        centre = tuple(size // 2 for size in tensor.shape[2:])
        values[(outputs, inputs, *centre)] = 1
    return _write(tensor, values)


def _xavier_std(op: str, tensor: tb.Tensor, gain: float) -> float:
    fan_in, fan_out = _fans(op, tensor)
    # NOTE: a (0, 0) tensor has no fans; PyTorch divides by zero there, we leave it (empty) as it is.
    return gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))


def xavier_uniform_(tensor: tb.Tensor, gain: float = 1.0, generator: tb.Generator | None = None) -> tb.Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    return _uniform_with_std("xavier_uniform_", tensor, _xavier_std("xavier_uniform_", tensor, gain), generator)


def xavier_normal_(tensor: tb.Tensor, gain: float = 1.0, generator: tb.Generator | None = None) -> tb.Tensor:
    """Glorot & Bengio (2010): N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    return _normal_with_std("xavier_normal_", tensor, _xavier_std("xavier_normal_", tensor, gain), generator)


def _kaiming(
    op: str,
    tensor: tb.Tensor,
    a: float,
    mode: str,
    nonlinearity: str,
    fill: FillWithStd,
    generator: tb.Generator | None,
) -> tb.Tensor:
    """Fill with standard deviation gain/√fan, fan = fan_in or fan_out as ``mode`` says."""
    if 0 in tensor.shape:
        warnings.warn(f"{op}: initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return tensor
    fan = _fan(op, tensor, mode)
    return fill(op, tensor, _gain(op, nonlinearity, a) / math.sqrt(fan), generator)


def kaiming_uniform_(
    tensor: tb.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: tb.Generator | None = None,
) -> tb.Tensor:
    """He et al. (2015): U(-bound, bound) with bound = gain·√(3 / fan).

    gain = calculate_gain(nonlinearity, a) (``a`` is the leaky_relu negative slope); fan is fan_in
    (``mode='fan_in'``, keeps the forward variance) or fan_out (keeps the backward variance).
    """
    return _kaiming("kaiming_uniform_", tensor, a, mode, nonlinearity, _uniform_with_std, generator)


def kaiming_normal_(
    tensor: tb.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: tb.Generator | None = None,
) -> tb.Tensor:
    """He et al. (2015): N(0, std²) with std = gain / √fan (gain and fan as in kaiming_uniform_)."""
    return _kaiming("kaiming_normal_", tensor, a, mode, nonlinearity, _normal_with_std, generator)


def lecun_uniform_(tensor: tb.Tensor, generator: tb.Generator | None = None) -> tb.Tensor:
    """LeCun uniform: U(-bound, bound) with bound = √(3 / fan_in) (kaiming_uniform_ with gain 1)."""
    return _kaiming("lecun_uniform_", tensor, 0, "fan_in", "linear", _uniform_with_std, generator)


def lecun_normal_(tensor: tb.Tensor, generator: tb.Generator | None = None) -> tb.Tensor:
    """LeCun normal: N(0, std²) with std = 1 / √fan_in (kaiming_normal_ with nonlinearity='linear')."""
    return _kaiming("lecun_normal_", tensor, 0, "fan_in", "linear", _normal_with_std, generator)


def orthogonal_(tensor: tb.Tensor, gain: float = 1, generator: tb.Generator | None = None) -> tb.Tensor:
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
    draws = tb.randn(rows, cols, generator=generator, dtype=tensor.dtype).numpy()
    # NOTE: NumPy's QR (LAPACK) on the host: a one-off computation at initialisation time, not a
    # hot path, so it does not earn a QR op of our own. It keeps the dtype (float32 stays float32).
    q, r = np.linalg.qr(draws.T if rows < cols else draws)
    q *= np.where(np.diagonal(r) < 0, -1, 1)  # PyTorch's sign(), but a (measure-zero) R[j, j] = 0 keeps its column
    q = q.T if rows < cols else q
    values = tb.tensor(np.ascontiguousarray(q), dtype=tensor.dtype, device=tensor.device)
    return _write(tensor, values.reshape(tensor.shape) * gain)


def sparse_(tensor: tb.Tensor, sparsity: float, std: float = 0.01, generator: tb.Generator | None = None) -> tb.Tensor:
    """Martens (2010): fill a 2-D tensor with N(0, std²) draws, then zero ceil(sparsity·rows)
    entries of each column, at rows drawn uniformly without replacement (a ``tb.randperm``)."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity is the fraction of each column set to zero, in [0, 1], got {sparsity}")
    rows, columns = tensor.shape
    zeros_per_column = math.ceil(sparsity * rows)  # NOTE: as PyTorch, so ceil(0.3 * 10) = 4 (3.0000000000000004)
    values = _normal_draws("sparse_", tensor, 0.0, std, generator)
    if zeros_per_column > 0 and columns > 0:
        zero_rows = [
            tb.randperm(rows, generator=generator, device=tensor.device)[:zeros_per_column] for _ in range(columns)
        ]
        column_of = tb.arange(columns, device=tensor.device).reshape(1, columns).expand(zeros_per_column, columns)
        values[tb.stack(zero_rows, dim=1), column_of] = 0
    return _write(tensor, values)
