"""``assert_close``: compare tensors (ours, NumPy's or PyTorch's) with dtype-aware tolerances."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_bn.tensor import Tensor

# PyTorch's defaults for torch.testing.assert_close.
DEFAULT_TOLERANCES = {np.dtype(np.float32): (1.3e-6, 1e-5), np.dtype(np.float64): (1e-7, 1e-7)}


def _host(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.array(value.detach().cpu().numpy())
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def assert_close(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    check_shape: bool = True,
    equal_nan: bool = True,
) -> None:
    """Assert |actual − expected| <= atol + rtol·|expected| elementwise.

    Tolerances default to PyTorch's for the less precise of the two dtypes. On failure the message
    names the worst element, both values and the number of mismatches.
    """
    a, e = _host(actual), _host(expected)
    if check_shape and a.shape != e.shape:
        raise AssertionError(f"assert_close: shapes differ: actual {a.shape}, expected {e.shape}")
    if rtol is None or atol is None:
        loosest = max((DEFAULT_TOLERANCES.get(x.dtype, (0.0, 0.0)) for x in (a, e)), key=lambda tol: tol[0])
        rtol = loosest[0] if rtol is None else rtol
        atol = loosest[1] if atol is None else atol
    a64, e64 = np.broadcast_arrays(a.astype(np.float64), e.astype(np.float64))
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    excess = np.where(close, -np.inf, np.nan_to_num(np.abs(a64 - e64), nan=np.inf) - atol - rtol * np.abs(e64))
    worst = np.unravel_index(int(np.argmax(excess)), a64.shape)
    where = tuple(int(i) for i in worst)
    raise AssertionError(
        f"assert_close: {int((~close).sum())} of {close.size} elements differ; worst at index {where}: "
        f"actual {a64[worst].item()!r}, expected {e64[worst].item()!r} (rtol={rtol}, atol={atol})"
    )
