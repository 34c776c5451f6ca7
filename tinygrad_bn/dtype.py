"""Element types and the promotion rules between them (PyTorch's, restricted to four types)."""

from __future__ import annotations

import numpy as np


class DType:
    """An element type. ``tb.float32`` and friends are the only instances."""

    __slots__ = ("is_floating_point", "itemsize", "name", "numpy")

    def __init__(self, name: str, numpy_dtype: type, is_floating_point: bool):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = is_floating_point

    def __repr__(self) -> str:
        return f"tinygrad_bn.{self.name}"

    def __reduce__(self) -> str:  # pickles as the module-level singleton
        return self.name


float32 = DType("float32", np.float32, True)
float64 = DType("float64", np.float64, True)
int64 = DType("int64", np.int64, False)
bool_ = DType("bool", np.bool_, False)

DEFAULT_FLOAT = float32
ALL_DTYPES = (float32, float64, int64, bool_)
_BY_NUMPY = {dtype.numpy: dtype for dtype in ALL_DTYPES}
_RANK = {bool_: 0, int64: 1, float32: 2, float64: 3}
_KIND = {bool_: 0, int64: 1, float32: 2, float64: 2}


def from_numpy_dtype(numpy_dtype: np.dtype) -> DType:
    """The DType stored as ``numpy_dtype``; TypeError for element types we do not hold."""
    try:
        return _BY_NUMPY[numpy_dtype]  # (a buffer's dtype: no np.dtype() round trip on every new tensor)
    except (KeyError, TypeError):
        pass
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except KeyError:
        names = ", ".join(dtype.name for dtype in ALL_DTYPES)
        raise TypeError(f"unsupported dtype {np.dtype(numpy_dtype)}: expected one of {names}") from None


def to_dtype(dtype: DType | str | np.dtype | type) -> DType:
    """Accept ``tb.float32``, ``"float32"``, ``np.float32`` and the like."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str) and dtype in ("float", "double", "long"):
        return {"float": float32, "double": float64, "long": int64}[dtype]
    return from_numpy_dtype(np.dtype(dtype))


def promote_types(a: DType, b: DType) -> DType:
    """The wider of two tensor dtypes: bool < int64 < float32 < float64."""
    return a if _RANK[a] >= _RANK[b] else b


def can_cast(source: DType, target: DType) -> bool:
    """Whether an in-place op may store a ``source`` result into a ``target`` tensor: only within
    or down a kind (float64 into float32 yes, float into int64 no), as in PyTorch."""
    return _KIND[source] <= _KIND[target]


def result_type(a: DType, a_ndim: int, b: DType, b_ndim: int) -> DType:
    """dtype of ``a op b`` for two tensors: a 0-d tensor next to a dimensioned one decides the
    dtype only when it is of a higher kind (bool < integer < float), as in PyTorch.

    float32[3] + float64[] is float32; int64[3] + float64[] is float64.
    """
    if (a_ndim == 0) != (b_ndim == 0):
        dimensioned, zero_dim = (a, b) if b_ndim == 0 else (b, a)
        if _KIND[zero_dim] <= _KIND[dimensioned]:
            return dimensioned
    return promote_types(a, b)


def scalar_result_type(tensor_dtype: DType, scalar: bool | int | float) -> DType:
    """dtype of ``tensor op scalar``: a Python scalar never widens a tensor within its kind.

    float32 with 2.5 stays float32; int64 with 2.5 becomes the default float type; bool with 2
    becomes int64.
    """
    if isinstance(scalar, bool) or tensor_dtype.is_floating_point:
        return tensor_dtype
    if isinstance(scalar, int):
        return promote_types(tensor_dtype, int64)
    return DEFAULT_FLOAT
