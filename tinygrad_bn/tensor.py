"""``Tensor``: an n-dimensional array on a device that records the ops applied to it.

Everything here is device-independent: values live in backend buffers and every computation
goes through an op (``tinygrad_bn.ops``) or the backend contract.
"""

from __future__ import annotations

import builtins
import math
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from tinygrad_bn import autograd
from tinygrad_bn import dtype as dtypes
from tinygrad_bn.backend import CPU, Backend, Device, get_backend
from tinygrad_bn.dtype import DType
from tinygrad_bn.function import Function, enable_grad, is_grad_enabled, no_grad
from tinygrad_bn.ops import activation, elementwise, movement, reduce
from tinygrad_bn.ops.matmul import Matmul
from tinygrad_bn.ops.movement import INDEX_SLOT
from tinygrad_bn.random import Generator, numpy_generator

Scalar = bool | int | float
Operand = "Tensor | Scalar"
ShapeArg = int | Sequence[int]
Dims = int | Sequence[int] | None  # one dim, several, or all of them

MinMaxResult = namedtuple("MinMaxResult", ["values", "indices"])


class _VersionCounter:
    """Counts in-place writes to a storage; views share their base's counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


# --- argument checking shared by the methods below ---------------------------------------------


def _shape_from_args(op: str, args: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
    for size in shape:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"{op}: sizes must be ints, got {shape}")
    return tuple(int(size) for size in shape)


def _creation_shape(op: str, args: tuple) -> tuple[int, ...]:
    shape = _shape_from_args(op, args)
    if builtins.any(size < 0 for size in shape):
        raise ValueError(f"{op}: sizes must be non-negative, got {shape}")
    return shape


def _scalar(op: str, value: Any) -> Scalar:
    """A Python number from a Python/NumPy scalar or a one-element tensor; TypeError otherwise."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, (np.number, np.bool_)):
        return value.item()
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{op}: expected a number, got {type(value).__name__}")
    return value


def _normalize_dim(op: str, dim: int, ndim: int) -> int:
    bound = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dims (expected {-bound}..{bound - 1})"
        )
    return int(dim) % bound


def _normalize_dims(op: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Sorted, non-negative axes; ``None`` means all of them."""
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (int, np.integer, tuple, list)):
        raise TypeError(f"{op}: dim must be an int or a sequence of ints, got {dim!r}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    axes = sorted(_normalize_dim(op, d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {tuple(dims)} names an axis twice")
    return tuple(a for a in axes if a < ndim)  # a 0-d tensor's dim 0 / -1 reduces nothing


def _reduction_dims(op: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Axes a reduction runs over: ``None`` and an empty tuple both mean all of them, as in PyTorch."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return _normalize_dims(op, dim, ndim)


def _broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    ndim = builtins.max(len(shape) for shape in shapes)
    result = []
    for axis in range(-ndim, 0):
        sizes = {shape[axis] for shape in shapes if len(shape) >= -axis} - {1}
        if len(sizes) > 1:
            listed = " and ".join(str(tuple(shape)) for shape in shapes)
            raise ValueError(f"{op}: shapes {listed} cannot be broadcast together: sizes {sorted(sizes)} at dim {axis}")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def _numpy_data(data: Any, dtype: DType | None) -> np.ndarray:
    """Host values for ``tb.tensor(data)``: floats default to float32, ints to int64."""
    if isinstance(data, Tensor):
        array = data.detach().cpu().numpy()
    else:
        array = np.asarray(_host_values(data))
    if array.dtype.kind == "u" or array.dtype == object:
        raise TypeError(
            f"tensor: cannot make a tensor from these values (NumPy infers {array.dtype}): "
            "integers must fit in int64 and nested lists must be rectangular"
        )
    if dtype is not None:
        target = dtypes.to_dtype(dtype)
    elif array.dtype.kind == "f":
        keeps_float64 = array.dtype == np.float64 and (not _is_python_data(data) or _holds_numpy_float64(data))
        target = dtypes.float64 if keeps_float64 else dtypes.float32
    elif array.dtype.kind in "iu":
        target = dtypes.int64
    elif array.dtype.kind == "b":
        target = dtypes.bool_
    else:
        raise TypeError(f"tensor: cannot make a tensor from data of NumPy dtype {array.dtype}")
    if not target.is_floating_point and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"tensor: cannot convert non-finite floats to {target}")
    return np.array(array, dtype=target.numpy, copy=True)


def _host_values(data: Any) -> Any:
    """``data`` with tensors inside nested lists replaced by their values (tensor([t1, t2]))."""
    if isinstance(data, (list, tuple)) and builtins.any(isinstance(item, (list, tuple, Tensor)) for item in data):
        return [item.detach().cpu().numpy() if isinstance(item, Tensor) else _host_values(item) for item in data]
    return data


def _is_python_data(data: Any) -> bool:
    return isinstance(data, (list, tuple, float, int)) and not isinstance(data, np.generic)


def _is_empty_sequence(data: Any) -> bool:
    return isinstance(data, (list, tuple)) and len(data) == 0


def _holds_numpy_float64(data: Any) -> bool:
    """Whether nested lists hold a NumPy float64 (or array) element, which keeps float64 as in PyTorch."""
    if isinstance(data, (list, tuple)):
        return builtins.any(_holds_numpy_float64(item) for item in data)
    return isinstance(data, (np.ndarray, np.float64)) and data.dtype == np.float64


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Create tensors with ``tb.tensor``, ``tb.zeros``, ``tb.randn`` and friends. Ops record a graph
    when any input has ``requires_grad=True``; ``backward()`` then fills the leaves' ``.grad``.
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_buffer",
        "_device",
        "_dtype",
        "_grad_fn",
        "_requires_grad",
        "_retains_grad",
        "_version",
        "_view_replay",
        "_views",
        "grad",
    )
    __array_priority__ = 1000  # NumPy scalars on the left defer to our reflected operators
    __array_ufunc__ = None  # and so do NumPy arrays: np.ones(3) + t is t.__radd__(np.ones(3))

    def __init__(
        self,
        data: Any,
        dtype: DType | None = None,
        device: str | Device | None = None,
        requires_grad: bool = False,
    ):
        device = Device(device) if device is not None else (data.device if isinstance(data, Tensor) else CPU)
        self._init(get_backend(device).from_numpy(_numpy_data(data, dtype)), device)
        self.requires_grad = requires_grad

    def _init(self, buffer: Any, device: Device) -> None:
        self._buffer = buffer
        self._dtype = dtypes.from_numpy_dtype(buffer.dtype)  # read on every op: looked up once
        self._device = device
        self._grad_fn: Function | None = None
        self._requires_grad = False
        self._retains_grad = False
        self._version = _VersionCounter()
        self._base: Tensor | None = None  # the tensor owning the memory this view looks into
        self._view_replay: tuple | None = None  # (parent, view op, params) that re-derive this view
        self._views: dict[int, weakref.ref] | None = None  # on a base: its live replayable views, oldest first
        self.grad: Tensor | None = None

    @classmethod
    def _wrap(cls, buffer: Any, device: Device) -> Tensor:
        """A new leaf tensor around an existing device buffer."""
        tensor = object.__new__(cls)
        tensor._init(buffer, device)
        return tensor

    def _become_view_of(self, base: Tensor, replay: tuple | None) -> None:
        """Make this tensor a view into ``base``'s memory; ``replay`` = (parent, view op, params)."""
        root = base._base if base._base is not None else base
        self._base, self._version, self._view_replay = root, base._version, replay
        if replay is not None:
            if root._views is None:
                root._views = {}
            views, key = root._views, id(self)
            views[key] = weakref.ref(self, lambda _, views=views, key=key: views.pop(key, None))

    def _view_chain(self) -> tuple | None:
        """The (view op, params) steps from this view's base to it; None where one is not replayable
        (a view made under no_grad, or of a detached tensor)."""
        steps = []
        tensor = self
        while tensor._base is not None:
            if tensor._view_replay is None:
                return None
            parent, function, params = tensor._view_replay
            steps.append((function, params))
            tensor = parent
        return tuple(reversed(steps))

    def _rebase(self, grad_fn: Function) -> None:
        """Make ``grad_fn`` this tensor's producer (after an in-place write)."""
        if self._grad_fn is not None:
            self._grad_fn.retained_output = None  # .grad now belongs to the new value
        self._grad_fn, self._requires_grad = grad_fn, True
        if self._retains_grad:
            grad_fn.retained_output = weakref.ref(self)

    def _refresh_views(self) -> None:
        """Re-derive every live view of this (just rebased) base from it, so gradients through a
        view taken before the in-place write see the new value's graph, as in PyTorch."""
        for ref in list((self._views or {}).values()):
            view = ref()
            if view is None:
                continue
            parent, function, params = view._view_replay
            with enable_grad():
                fresh = function.apply(parent, **params)
            if fresh._grad_fn is not None:
                view._rebase(fresh._grad_fn)

    # --- metadata ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._buffer.shape  # (the backend contract: a tuple of ints)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dim."""
        return self.shape if dim is None else self.shape[_normalize_dim("size", dim, self.ndim)]

    @property
    def ndim(self) -> int:
        return len(self._buffer.shape)

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def device(self) -> Device:
        return self._device

    @property
    def backend(self) -> Backend:
        return get_backend(self._device)

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    # --- autograd state ----------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad: only leaf tensors can change requires_grad; use .detach() for a non-leaf"
            )
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(f"requires_grad: only floating point tensors can require gradients, got {self.dtype}")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Function | None:
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    def retain_grad(self) -> None:
        """Also fill ``.grad`` on this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain the gradient of a tensor that does not require grad")
        self._retains_grad = True
        if self._grad_fn is not None:
            self._grad_fn.retained_output = weakref.ref(self)

    def detach(self) -> Tensor:
        """The same values (shared memory), cut from the graph."""
        out = Tensor._wrap(self._buffer, self._device)
        out._version = self._version  # shares the memory, so in-place writes are still seen
        return out

    @property
    def data(self) -> Tensor:
        """The same memory, cut from the graph and from version tracking (writes to it go unseen)."""
        return Tensor._wrap(self._buffer, self._device)

    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate the gradient of this tensor with respect to every leaf into ``leaf.grad``."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _accumulate_grad(self, grad: Tensor, owned: bool = False) -> None:
        # NOTE: the first gradient is kept as it is when the engine says nothing else refers to it
        # (``owned``: a fresh, dense result), else copied, so .grad never aliases other memory and
        # is writable (backward ops return broadcast views freely). Later ones are added in place,
        # as in PyTorch, unless a graph is being built through .grad (create_graph=True).
        accumulated = self.grad
        if accumulated is None:
            self.grad = grad if owned and grad.backend.is_writable(grad._buffer) else grad.clone()
        elif is_grad_enabled() or accumulated.requires_grad:
            self.grad = accumulated + grad
        elif grad.shape == accumulated.shape and grad._dtype is accumulated._dtype and accumulated._base is None:
            # The common case, without add_'s graph bookkeeping (nothing is recorded here).
            backend = accumulated.backend
            backend.assign(accumulated._buffer, None, backend.binary("add", accumulated._buffer, grad._buffer))
            accumulated._version.value += 1
        else:
            accumulated.add_(grad)

    # --- conversion --------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shares memory on the CPU)."""
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use .detach().numpy()")
        return self.backend.to_numpy(self._buffer)

    def item(self) -> Scalar:
        if self.numel() != 1:
            raise RuntimeError(f"item: a tensor with {self.numel()} elements cannot be converted to a Python number")
        return self.backend.to_numpy(self._buffer).reshape(()).item()

    def tolist(self) -> Any:
        return self.backend.to_numpy(self._buffer).tolist()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        moves = device is not None and Device(device) != self._device
        dtype = None if dtype is None or dtypes.to_dtype(dtype) is self.dtype else dtypes.to_dtype(dtype)
        # A narrowing cast happens before the move, a widening one after: each runs where both dtypes can
        # live (float64 -> float32 for a device without fp64), and the smaller values travel.
        cast_first = dtype is not None and dtype.itemsize < self.dtype.itemsize
        out = elementwise.Cast.apply(self, dtype=dtype) if cast_first else self
        if moves:
            out = movement.ToDevice.apply(out, device=Device(device))
        if dtype is not None and not cast_first:
            out = elementwise.Cast.apply(out, dtype=dtype)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def __repr__(self) -> str:
        values = np.array2string(self.backend.to_numpy(self._buffer), separator=", ", prefix="tensor(")
        extras = []
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={self.dtype!r}")
        if self._device != CPU:
            extras.append(f"device='{self._device}'")
        if self._grad_fn is not None:
            extras.append(f"grad_fn={self._grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([values, *extras]) + ")"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.numel()} elements is ambiguous")
        return builtins.bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    # --- construction helpers on an existing tensor -------------------------------------------
    def new_full(self, size: ShapeArg, fill_value: Scalar, dtype: DType | None = None) -> Tensor:
        dtype = dtypes.to_dtype(dtype) if dtype is not None else self.dtype
        return Tensor._wrap(
            self.backend.full(_creation_shape("new_full", (size,)), fill_value, dtype.numpy), self._device
        )

    def new_zeros(self, size: ShapeArg, dtype: DType | None = None) -> Tensor:
        return self.new_full(size, 0, dtype)

    def new_ones(self, size: ShapeArg, dtype: DType | None = None) -> Tensor:
        return self.new_full(size, 1, dtype)

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow through it."""
        return movement.Clone.apply(self)

    def contiguous(self) -> Tensor:
        return movement.Contiguous.apply(self)

    # --- elementwise --------------------------------------------------------------------------
    def _operands(self, op: str, other: Operand, reverse: bool = False) -> tuple[Tensor, Tensor]:
        """Both operands as tensors of the result dtype, broadcast-checked, in call order."""
        if isinstance(other, np.ndarray):
            other = Tensor(other, device=self._device)
        if isinstance(other, Tensor):
            dtype = dtypes.result_type(self.dtype, self.ndim, other.dtype, other.ndim)
            _broadcast_shape(op, self.shape, other.shape)
        elif isinstance(other, (bool, int, float, np.number, np.bool_)):
            other = other.item() if isinstance(other, (np.number, np.bool_)) else other
            dtype = dtypes.scalar_result_type(self.dtype, other)
            other = self.new_full((), other, dtype)
        else:
            return NotImplemented
        pair = (self if self._dtype is dtype else self.to(dtype), other if other._dtype is dtype else other.to(dtype))
        return pair[::-1] if reverse else pair

    def _float_operands(self, op: str, other: Operand, reverse: bool = False) -> tuple[Tensor, Tensor]:
        operands = self._operands(op, other, reverse)
        if operands is NotImplemented or operands[0].dtype.is_floating_point:
            return operands
        return operands[0].to(dtypes.DEFAULT_FLOAT), operands[1].to(dtypes.DEFAULT_FLOAT)

    def _arithmetic(self, function: type[Function], op: str, other: Operand, reverse: bool = False) -> Tensor:
        operands = self._operands(op, other, reverse)
        if operands is NotImplemented:
            return NotImplemented
        return function.apply(*operands)

    def _compare(self, op: str, other: Operand) -> Tensor:
        operands = self._operands(op, other)
        if operands is NotImplemented:
            return NotImplemented
        a, b = operands
        return Tensor._wrap(self.backend.binary(op, a._buffer, b._buffer), self._device)

    def __add__(self, other: Operand) -> Tensor:
        return self._arithmetic(elementwise.Add, "add", other)

    def __radd__(self, other: Operand) -> Tensor:
        return self._arithmetic(elementwise.Add, "add", other, reverse=True)

    def __sub__(self, other: Operand) -> Tensor:
        return self._arithmetic(elementwise.Sub, "sub", other)

    def __rsub__(self, other: Operand) -> Tensor:
        return self._arithmetic(elementwise.Sub, "sub", other, reverse=True)

    def __mul__(self, other: Operand) -> Tensor:
        return self._arithmetic(elementwise.Mul, "mul", other)

    def __rmul__(self, other: Operand) -> Tensor:
        return self._arithmetic(elementwise.Mul, "mul", other, reverse=True)

    def __truediv__(self, other: Operand) -> Tensor:
        operands = self._float_operands("div", other)
        return NotImplemented if operands is NotImplemented else elementwise.Div.apply(*operands)

    def __rtruediv__(self, other: Operand) -> Tensor:
        operands = self._float_operands("div", other, reverse=True)
        return NotImplemented if operands is NotImplemented else elementwise.Div.apply(*operands)

    def __pow__(self, exponent: Operand) -> Tensor:
        return self._power(exponent)

    def __rpow__(self, base: Operand) -> Tensor:
        return self._power(base, reverse=True)

    def _power(self, other: Operand, reverse: bool = False) -> Tensor:
        operands = self._operands("pow", other, reverse)
        if operands is NotImplemented:
            return NotImplemented
        if operands[0]._dtype is dtypes.bool_:  # (as in PyTorch: a bool operand alone promotes to int64)
            raise NotImplementedError(
                f"pow: not implemented for two bool tensors (shapes {tuple(operands[0].shape)} and "
                f"{tuple(operands[1].shape)}); convert one to int64 or float first"
            )
        return elementwise.Pow.apply(*operands)

    def __matmul__(self, other: Tensor) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return other.matmul(self)

    def __neg__(self) -> Tensor:
        if self.dtype is dtypes.bool_:
            raise TypeError("neg: the - operator is not defined for bool tensors; use ~ to invert a mask")
        return elementwise.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    def __eq__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return self._compare("eq", other)

    def __ne__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return self._compare("ne", other)

    def __lt__(self, other: Operand) -> Tensor:
        return self._compare("lt", other)

    def __le__(self, other: Operand) -> Tensor:
        return self._compare("le", other)

    def __gt__(self, other: Operand) -> Tensor:
        return self._compare("gt", other)

    def __ge__(self, other: Operand) -> Tensor:
        return self._compare("ge", other)

    def _logical(self, op: str, other: Operand) -> Tensor:
        if self.dtype.is_floating_point or (isinstance(other, Tensor) and other.dtype.is_floating_point):
            raise TypeError(f"{op}: bitwise/logical ops need bool or integer tensors, got {self.dtype}")
        return self._compare(op, other)

    def __and__(self, other: Operand) -> Tensor:
        return self._logical("and", other)

    def __or__(self, other: Operand) -> Tensor:
        return self._logical("or", other)

    def __invert__(self) -> Tensor:
        if self.dtype is not dtypes.bool_:
            raise TypeError(f"invert: ~ is defined for bool tensors here, got {self.dtype}")
        return Tensor._wrap(self.backend.unary("not", self._buffer), self._device)

    def add(self, other: Operand) -> Tensor:
        return self + other

    def sub(self, other: Operand) -> Tensor:
        return self - other

    def mul(self, other: Operand) -> Tensor:
        return self * other

    def div(self, other: Operand) -> Tensor:
        return self / other

    def pow(self, exponent: Operand) -> Tensor:
        return self**exponent

    def maximum(self, other: Tensor) -> Tensor:
        return self._arithmetic(elementwise.Maximum, "maximum", other)

    def minimum(self, other: Tensor) -> Tensor:
        return self._arithmetic(elementwise.Minimum, "minimum", other)

    def _unary(self, function: type[Function]) -> Tensor:
        source = self if self.dtype.is_floating_point else self.to(dtypes.DEFAULT_FLOAT)
        return function.apply(source)

    def exp(self) -> Tensor:
        return self._unary(elementwise.Exp)

    def log(self) -> Tensor:
        return self._unary(elementwise.Log)

    def log1p(self) -> Tensor:
        return self._unary(elementwise.Log1p)

    def expm1(self) -> Tensor:
        """eˣ − 1, exact near 0 where ``exp(x) - 1`` cancels."""
        return self._unary(elementwise.Expm1)

    def erf(self) -> Tensor:
        """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt."""
        return self._unary(elementwise.Erf)

    def sqrt(self) -> Tensor:
        return self._unary(elementwise.Sqrt)

    def rsqrt(self) -> Tensor:
        """1/√x."""
        return 1 / self.sqrt()

    def reciprocal(self) -> Tensor:
        return 1 / self

    def sin(self) -> Tensor:
        return self._unary(elementwise.Sin)

    def cos(self) -> Tensor:
        return self._unary(elementwise.Cos)

    def tanh(self) -> Tensor:
        return self._unary(activation.Tanh)

    def sigmoid(self) -> Tensor:
        """σ(x) = 1/(1+e⁻ˣ), computed without overflow for any x (one fused pass each way)."""
        return self._unary(activation.Sigmoid)

    def relu(self) -> Tensor:
        """max(0, x); the gradient at 0 is 0 and a NaN passes its gradient (PyTorch's choices)."""
        if self._dtype.is_floating_point:
            return activation.Relu.apply(self)
        return elementwise.IntegerRelu.apply(self)

    def abs(self) -> Tensor:
        return elementwise.Abs.apply(self)

    def sign(self) -> Tensor:
        """−1, 0 or 1; its gradient is 0 everywhere (as in PyTorch)."""
        if self.dtype is dtypes.bool_:
            return self.clone()
        return elementwise.Sign.apply(self)

    def square(self) -> Tensor:
        return self * self

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """Limit values to [min, max]; the gradient reaches x where min <= x <= max and a tensor
        bound where x is beyond it. Where min > max the result is max, as in PyTorch. (At
        min == max with x outside, the bound x crossed gets the gradient; PyTorch gives none.)"""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = where(out < min, min, out)
            if max is not None:
                out = where(out > max, max, out)
            return out
        min, max = (None if bound is None else _scalar("clamp", bound) for bound in (min, max))
        dtype = self.dtype
        for bound in (min, max):
            if bound is not None:
                dtype = dtypes.scalar_result_type(dtype, bound)
        return elementwise.Clamp.apply(self.to(dtype), min=min, max=max)

    clip = clamp

    def where(self, condition: Tensor, other: Operand) -> Tensor:
        """``condition ? self : other`` elementwise."""
        return where(condition, self, other)

    # --- reductions --------------------------------------------------------------------------
    def sum(self, dim: Dims = None, keepdim: bool = False, *, dtype: DType | None = None) -> Tensor:
        """Σx over ``dim`` (all dims when None or empty); bool and int sums are int64."""
        source = self.to(dtype if dtype is not None else dtypes.int64 if self.dtype is dtypes.bool_ else self.dtype)
        return reduce.Sum.apply(source, axes=_reduction_dims("sum", dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: Dims = None, keepdim: bool = False, *, dtype: DType | None = None) -> Tensor:
        """Σx / n over ``dim``."""
        source = self.to(dtype) if dtype is not None else self
        if not source.dtype.is_floating_point:
            raise TypeError(f"mean: expected a floating point tensor, got {source.dtype}; pass dtype=tb.float32")
        axes = _reduction_dims("mean", dim, self.ndim)
        count = math.prod(self.shape[a] for a in axes)
        total = source.sum(axes, keepdim)
        return total / count if count else total * math.nan

    def var(
        self,
        dim: Dims = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        """Σ(x − mean)² / (n − correction), computed in two passes. ``correction`` defaults to 1
        (Bessel's); ``unbiased=False`` means ``correction=0``; ``var(False)`` is ``var(unbiased=False)``."""
        if isinstance(dim, bool):  # torch's var(unbiased) overload
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise ValueError("var: pass either unbiased or correction, not both")
        correction = int(unbiased) if unbiased is not None else (1 if correction is None else correction)
        axes = _reduction_dims("var", dim, self.ndim)
        count = math.prod(self.shape[a] for a in axes)
        deviation = self - self.mean(axes, keepdim=True)
        return (deviation * deviation).sum(axes, keepdim) / builtins.max(count - correction, 0)

    def std(
        self,
        dim: Dims = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        """√var (with gradient 0 where the deviation is 0, as in PyTorch)."""
        variance = self.var(dim, unbiased, keepdim, correction=correction)
        return elementwise.SqrtZeroGradientAtZero.apply(variance)

    def any(self, dim: Dims = None, keepdim: bool = False) -> Tensor:
        """Whether any element (over ``dim``) is nonzero."""
        return (self != 0).sum(dim, keepdim) > 0

    def all(self, dim: Dims = None, keepdim: bool = False) -> Tensor:
        """Whether every element (over ``dim``) is nonzero."""
        return (self == 0).sum(dim, keepdim) == 0

    def _extremum(self, op: str, dim: int | Tensor | None, keepdim: bool) -> Tensor | MinMaxResult:
        if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
            return self.maximum(dim) if op == "max" else self.minimum(dim)
        if dim is None:
            return self._reduce_extremum(op, None, False)
        if self.ndim == 0:
            _normalize_dim(op, dim, 0)
            return MinMaxResult(self, self.new_zeros((), dtypes.int64))
        # NOTE: max(dim) sends the gradient to the first extremal index, like PyTorch.
        axis = _normalize_dim(op, dim, self.ndim)
        indices = self._arg_extremum(op, axis, keepdim=True)
        values = self.gather(axis, indices)
        return MinMaxResult(values, indices) if keepdim else MinMaxResult(values.squeeze(axis), indices.squeeze(axis))

    def max(self, dim: int | Tensor | None = None, keepdim: bool = False) -> Tensor | MinMaxResult:
        """The largest value; with ``dim``, a (values, indices) pair along it; with a tensor, the
        elementwise maximum."""
        return self._extremum("max", dim, keepdim)

    def min(self, dim: int | Tensor | None = None, keepdim: bool = False) -> Tensor | MinMaxResult:
        """The smallest value; with ``dim``, a (values, indices) pair along it; with a tensor, the
        elementwise minimum."""
        return self._extremum("min", dim, keepdim)

    def _reduce_extremum(self, name: str, dim: Dims, keepdim: bool) -> Tensor:
        """amax / amin over ``dim`` (``name`` may also be "max" or "min": the full reductions)."""
        axes = _reduction_dims(name, dim, self.ndim)
        if self.numel() == 0 and dim is None:
            raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {self.shape} without a dim")
        for axis in axes:
            if self.shape[axis] == 0:
                raise IndexError(f"{name}: dim {axis} of a tensor of shape {self.shape} has size 0: nothing to reduce")
        function = reduce.Max if name.endswith("max") else reduce.Min
        return function.apply(self, axes=axes, keepdim=keepdim)

    def amax(self, dim: Dims = None, keepdim: bool = False) -> Tensor:
        """Largest value over ``dim``; ties share the gradient evenly."""
        return self._reduce_extremum("amax", dim, keepdim)

    def amin(self, dim: Dims = None, keepdim: bool = False) -> Tensor:
        """Smallest value over ``dim``; ties share the gradient evenly."""
        return self._reduce_extremum("amin", dim, keepdim)

    def _arg_extremum(self, op: str, dim: int | None, keepdim: bool) -> Tensor:
        name = "arg" + op
        if self.dtype is dtypes.bool_:
            raise TypeError(f"{name}: bool tensors are not supported; convert with .long() first")
        if self.numel() == 0:
            raise IndexError(f"{name}: cannot take the {name} of an empty tensor of shape {self.shape}")
        if dim is None:
            flat = self.reshape(-1)
            index = Tensor._wrap(self.backend.arg_extremum(op, flat._buffer, 0, False), self._device)
            return index.reshape((1,) * self.ndim) if keepdim else index
        axis = _normalize_dim(name, dim, self.ndim)
        if self.ndim == 0:
            return self.new_zeros((), dtypes.int64)
        return Tensor._wrap(self.backend.arg_extremum(op, self._buffer, axis, keepdim), self._device)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the first maximum (over the flattened tensor when ``dim`` is None); the first NaN wins."""
        return self._arg_extremum("max", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the first minimum (over the flattened tensor when ``dim`` is None); the first NaN wins."""
        return self._arg_extremum("min", dim, keepdim)

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log Σ exp(x), shifted by the (detached) max so it never overflows."""
        axes = _reduction_dims("logsumexp", dim, self.ndim)
        shift = self._detached_max(axes)
        shift = shift.where(shift.abs() != math.inf, 0.0)  # an all −inf row gives −inf, not NaN
        out = (self - shift).exp().sum(axes, keepdim=True).log() + shift
        return out if keepdim else out.squeeze(axes)

    def _shifted_by_max(self, op: str, dim: int) -> tuple[Tensor, int]:
        """x − max(x) along ``dim`` (max detached: it cancels out of softmax's gradient)."""
        axis = _normalize_dim(op, dim, self.ndim)
        return self - self._detached_max((axis,) if self.ndim else ()), axis

    def _detached_max(self, axes: tuple[int, ...]) -> Tensor:
        """amax over ``axes`` (keepdim), detached; zeros where the axes are empty (nothing to shift)."""
        if builtins.any(self.shape[a] == 0 for a in axes):
            return self.new_zeros(tuple(1 if d in axes else size for d, size in enumerate(self.shape)))
        return self.detach().amax(axes, keepdim=True)

    def softmax(self, dim: int) -> Tensor:
        """exp(x − max) / Σ exp(x − max) along ``dim``."""
        shifted, axis = self._shifted_by_max("softmax", dim)
        exps = shifted.exp()
        return exps / exps.sum(axis, keepdim=True)

    def log_softmax(self, dim: int) -> Tensor:
        """(x − max) − log Σ exp(x − max) along ``dim``: exact even where x is huge."""
        shifted, axis = self._shifted_by_max("log_softmax", dim)
        return shifted - shifted.exp().sum(axis, keepdim=True).log()

    # --- linear algebra -----------------------------------------------------------------------
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with NumPy/PyTorch rules: 1-D operands are promoted and squeezed back,
        batch dims broadcast."""
        if not isinstance(other, Tensor):
            raise TypeError(f"matmul: expected a Tensor, got {type(other).__name__}")
        shape, other_shape = self.shape, other.shape
        if not shape or not other_shape:
            raise RuntimeError(f"matmul: both arguments need at least 1 dim, got shapes {shape} and {other_shape}")
        if not (self._dtype.is_floating_point and other._dtype.is_floating_point):
            raise TypeError(f"matmul: expected floating point tensors, got {self.dtype} and {other.dtype}")
        a = self.unsqueeze(0) if len(shape) == 1 else self
        b = other.unsqueeze(-1) if len(other_shape) == 1 else other
        a_shape, b_shape = a.shape, b.shape
        if a_shape[-1] != b_shape[-2]:
            raise ValueError(
                f"matmul: shapes {shape} and {other_shape} are not aligned: "
                f"{a_shape[-1]} (dim {len(shape) - 1}) != {b_shape[-2]} (dim {max(len(other_shape) - 2, 0)})"
            )
        if len(a_shape) > 2 or len(b_shape) > 2:
            _broadcast_shape("matmul", a_shape[:-2], b_shape[:-2])
        if a._dtype is not b._dtype:
            dtype = dtypes.promote_types(a._dtype, b._dtype)
            a, b = a.to(dtype), b.to(dtype)
        out = Matmul.apply(a, b)
        if len(shape) == 1:
            out = out.squeeze(-2)
        if len(other_shape) == 1:
            out = out.squeeze(-1)
        return out

    # --- movement -----------------------------------------------------------------------------
    def _resolve_shape(self, op: str, shape: tuple[int, ...]) -> tuple[int, ...]:
        if shape.count(-1) > 1:
            raise ValueError(f"{op}: only one dim can be -1, got {shape}")
        known = math.prod(s for s in shape if s != -1)
        if -1 in shape:
            if known == 0 or self.numel() % known:
                raise ValueError(f"{op}: shape {shape} is invalid for a tensor of shape {self.shape}")
            shape = tuple(self.numel() // known if s == -1 else s for s in shape)
        if builtins.any(s < 0 for s in shape) or math.prod(shape) != self.numel():
            raise ValueError(
                f"{op}: shape {shape} is invalid for a tensor of shape {self.shape} ({self.numel()} elements)"
            )
        return shape

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same values in a new shape (a view where the layout allows); one dim may be -1."""
        shape = self._resolve_shape("reshape", _shape_from_args("reshape", shape))
        return movement.Reshape.apply(self, shape=shape, allow_copy=True)

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """Like reshape, but always shares memory; an error where the strides do not allow it."""
        shape = self._resolve_shape("view", _shape_from_args("view", shape))
        return movement.Reshape.apply(self, shape=shape, allow_copy=False)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (
            _normalize_dim("flatten", start_dim, self.ndim),
            _normalize_dim("flatten", end_dim, self.ndim),
        )
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape
        return self.reshape(*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])

    def squeeze(self, dim: Dims = None) -> Tensor:
        """Remove size-1 dims (all of them, or those in ``dim``; other sizes are left alone)."""
        axes = _normalize_dims("squeeze", dim, self.ndim)
        return self.reshape(tuple(s for d, s in enumerate(self.shape) if not (d in axes and s == 1)))

    def unsqueeze(self, dim: int) -> Tensor:
        axis = _normalize_dim("unsqueeze", dim, self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        axes = _shape_from_args("permute", dims)
        if len(axes) != self.ndim:
            raise ValueError(f"permute: got {len(axes)} dims {axes} for a tensor of shape {self.shape}")
        axes = tuple(_normalize_dim("permute", a, self.ndim) for a in axes)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {axes} are not a permutation of 0..{self.ndim - 1}")
        return movement.Permute.apply(self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        if self.ndim < 2:
            _normalize_dim("transpose", dim0, self.ndim), _normalize_dim("transpose", dim1, self.ndim)
            return self.permute(*range(self.ndim))
        axes = list(range(self.ndim))
        a, b = _normalize_dim("transpose", dim0, self.ndim), _normalize_dim("transpose", dim1, self.ndim)
        axes[a], axes[b] = axes[b], axes[a]
        return self.permute(*axes)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dims reversed."""
        return self.permute(*reversed(range(self.ndim)))

    def t(self) -> Tensor:
        """The transpose of a matrix; 0-d and 1-d tensors come back as they are (a view)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, but got shape {self.shape}; use transpose()")
        return self.transpose(0, 1) if self.ndim == 2 else self.permute(*range(self.ndim))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dims swapped."""
        return self.transpose(-2, -1)

    def expand(self, *sizes: int | Sequence[int]) -> Tensor:
        """A broadcast view; -1 keeps a dim's size, size-1 dims repeat without copying."""
        sizes = _shape_from_args("expand", sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"expand: target {sizes} has fewer dims than the tensor's shape {self.shape}")
        lead = len(sizes) - self.ndim
        target = list(sizes)
        for d, size in enumerate(self.shape):
            wanted = sizes[lead + d]
            if wanted == -1:
                target[lead + d] = size
            elif size != 1 and size != wanted:
                raise ValueError(
                    f"expand: the expanded size {wanted} must match the existing size {size} at non-singleton "
                    f"dim {d}; target {sizes}, tensor {self.shape}"
                )
        if builtins.any(s < 0 for s in target):
            raise ValueError(f"expand: -1 is not allowed for new leading dims, got {sizes}")
        target = tuple(target)
        return movement.Expand.apply(self, shape=target)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def sum_to_size(self, *size: int | Sequence[int]) -> Tensor:
        """Sum broadcast dims away so the result has ``size`` (the adjoint of expand)."""
        shape = _shape_from_args("sum_to_size", size)
        if shape == self.shape:
            return self
        lead = self.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + d for d, s in enumerate(shape) if s == 1 and self.shape[lead + d] != 1)
        return self.sum(axes, keepdim=True).reshape(shape)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        axis = _normalize_dim("split", dim, self.ndim)
        length = self.shape[axis]
        if isinstance(split_size_or_sections, int):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
            step = split_size_or_sections
            sizes = [builtins.min(step, length - start) for start in range(0, length, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != length or builtins.any(s < 0 for s in sizes):
                raise ValueError(f"split: sections {sizes} do not add up to {length}, the size of dim {dim}")
        starts = np.cumsum([0, *sizes[:-1]])
        prefix = (slice(None),) * axis
        return tuple(self[(*prefix, slice(int(start), int(start) + size))] for start, size in zip(starts, sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        axis = _normalize_dim("chunk", dim, self.ndim)
        length = self.shape[axis]
        if length == 0:  # PyTorch gives ``chunks`` empty pieces
            return tuple(self[(slice(None),) * axis + (slice(0, 0),)] for _ in range(chunks))
        return self.split(-(-length // chunks), dim)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` along ``dim`` (PyTorch's gather)."""
        axis = _normalize_dim("gather", dim, self.ndim)
        if index.ndim != self.ndim:
            raise ValueError(f"gather: index has {index.ndim} dims, the tensor has {self.ndim}")
        if index.dtype is not dtypes.int64:
            raise TypeError(f"gather: index must be an int64 tensor, got {index.dtype}")
        size = self.shape[axis]
        if index.numel() and not (0 <= index.min().item() and index.max().item() < size):
            raise IndexError(
                f"gather: an index in {index.tolist()} is out of bounds for dim {axis} with size {size} "
                "(gather takes indices in 0..size-1)"
            )
        grids = np.indices(index.shape, sparse=True)
        key = tuple(index if d == axis else Tensor(grids[d], device=self._device) for d in range(self.ndim))
        return self[key]

    # --- indexing -----------------------------------------------------------------------------
    def _normalize_key(self, key: Any) -> tuple[tuple, list[Tensor]]:
        """(key with INDEX_SLOT placeholders, index tensors), checked against the shape.

        A bool mask over k dims becomes k int64 index tensors (the positions of its True elements).
        """
        parts = [
            part if part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer, Tensor)) else
            Tensor(np.asarray(part, dtype=np.int64 if _is_empty_sequence(part) else None), device=self._device)
            for part in (list(key) if isinstance(key, tuple) else [key])
        ]  # fmt: skip
        index_tensors: list[Tensor] = []
        normalized: list = []
        consumed = builtins.sum(
            (p.ndim if p.dtype is dtypes.bool_ else 1) if isinstance(p, Tensor) else 1
            for p in parts
            if p is not None and p is not Ellipsis
        )
        if builtins.sum(1 for p in parts if p is Ellipsis) > 1:
            raise IndexError("index: an index can only have a single ellipsis ('...')")
        if consumed > self.ndim:
            raise IndexError(f"index: too many indices for a tensor of shape {self.shape}: got {consumed}")
        dim = 0
        for part in parts:
            if part is Ellipsis:
                normalized.extend([slice(None)] * (self.ndim - consumed))
                dim += self.ndim - consumed
            elif part is None:
                normalized.append(None)
            elif isinstance(part, slice):
                if part.step is not None and part.step <= 0:
                    raise ValueError(f"index: slice step must be positive, got {part.step}")
                normalized.append(part)
                dim += 1
            elif isinstance(part, (int, np.integer)) and not isinstance(part, bool):
                size = self.shape[dim]
                if not -size <= part < size:
                    raise IndexError(f"index: index {part} is out of bounds for dim {dim} with size {size}")
                normalized.append(int(part) % size)
                dim += 1
            elif isinstance(part, Tensor) and part.dtype is dtypes.bool_:
                covered = self.shape[dim : dim + part.ndim]
                if part.ndim == 0 or part.shape != covered:
                    raise IndexError(
                        f"index: a bool mask of shape {part.shape} does not match the indexed dims {covered} "
                        f"(starting at dim {dim}) of a tensor of shape {self.shape}"
                    )
                positions = self.backend.nonzero(part._buffer)
                index_tensors.extend(Tensor._wrap(p, self._device) for p in positions)
                normalized.extend([INDEX_SLOT] * part.ndim)
                dim += part.ndim
            elif isinstance(part, Tensor) and part.dtype is dtypes.int64:
                size = self.shape[dim]
                if part.numel() and not (-size <= part.min().item() and part.max().item() < size):
                    raise IndexError(
                        f"index: an index in {part.tolist()} is out of bounds for dim {dim} with size {size}"
                    )
                normalized.append(INDEX_SLOT)
                index_tensors.append(part)
                dim += 1
            else:
                raise IndexError(
                    f"index: tensors used as indices must be int64 or bool, got {getattr(part, 'dtype', part)!r}"
                )
        return tuple(normalized), index_tensors

    def __getitem__(self, key: Any) -> Tensor:
        """NumPy/PyTorch indexing: ints, slices, None, ``...`` and int64 index tensors or lists."""
        normalized, index_tensors = self._normalize_key(key)
        return movement.GetItem.apply(self, *index_tensors, key=normalized)

    def __setitem__(self, key: Any, value: Operand) -> None:
        normalized, index_tensors = self._normalize_key(key)
        value = value.to(self.dtype) if isinstance(value, Tensor) else self.new_full((), _scalar("setitem", value))
        target_shape = movement.GetItem.apply(self.detach(), *index_tensors, key=normalized).shape
        extra = value.ndim - len(target_shape)
        if extra > 0 and builtins.all(size == 1 for size in value.shape[:extra]):
            value = value.reshape(value.shape[extra:])  # leading size-1 dims broadcast away, as in PyTorch
        if value.ndim > len(target_shape) or _broadcast_shape("setitem", target_shape, value.shape) != target_shape:
            raise ValueError(
                f"setitem: a value of shape {value.shape} cannot be written into a slice of shape {target_shape}"
            )
        if is_grad_enabled() and (self._requires_grad or value.requires_grad):
            self._inplace(
                "setitem", lambda old: movement.SetItem.apply(old, value, *index_tensors, key=normalized), value
            )
        else:  # nothing to differentiate: write straight into memory
            self._check_writable("setitem")
            key_with_buffers = movement.fill_key(normalized, tuple(t._buffer for t in index_tensors))
            self.backend.assign(self._buffer, key_with_buffers, value._buffer)
            self._version.value += 1

    # --- in-place ops -------------------------------------------------------------------------
    def is_contiguous(self) -> bool:
        """Whether the elements lie in row-major order without gaps (views may not)."""
        return self.backend.is_contiguous(self._buffer)

    def _check_writable(self, op: str) -> None:
        if not self.backend.is_writable(self._buffer):
            raise RuntimeError(
                f"{op}: the tensor of shape {self.shape} is a broadcast (expanded) view or read-only memory "
                "(several elements may share one memory location); clone() it before writing to it"
            )

    def _inplace(self, op: str, compute: Callable[[Tensor], Tensor], *operands: Any) -> Tensor:
        """Write ``compute(current value)`` into self's memory and rebase the graph onto the result.

        When recording, ``compute`` runs on a copy of the current value, so ops that save their
        input (``y.mul_(w)`` needs the old y for w's gradient) keep the value they saw. A write
        through a view also rebases the view's base (``ViewScatter``), and every view of a
        rebased base is re-derived from it.
        """
        self._check_writable(op)
        recording = is_grad_enabled()
        wants_graph = recording and (
            self._requires_grad or builtins.any(isinstance(t, Tensor) and t._requires_grad for t in operands)
        )
        root = self._base if self._base is not None else self
        if wants_graph and root.is_leaf and root._requires_grad:
            what = "a leaf tensor" if root is self else "a view of a leaf tensor"
            raise RuntimeError(
                f"{op}: {what} that requires grad cannot be modified in place; do it inside `with tb.no_grad():`"
            )
        result = compute(self.clone() if wants_graph else self)
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op}: a result of shape {result.shape} cannot be written into a tensor of shape {self.shape}"
            )
        if not dtypes.can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"{op}: a result of dtype {result.dtype} cannot be written into a {self.dtype} tensor")
        views = self._view_chain() if self._base is not None else ()
        if recording and (result.requires_grad or root._requires_grad) and views is None:
            raise RuntimeError(
                f"{op}: this view was made under no_grad or from a detached tensor, so an in-place write "
                "through it cannot be differentiated; clone() it first"
            )
        result = result.to(self.dtype)
        with no_grad():
            self.backend.assign(self._buffer, None, result._buffer)
        self._version.value += 1
        if recording and result.requires_grad:
            if self._base is None:
                self._rebase(result._grad_fn)
            else:
                with enable_grad():
                    new_root = movement.ViewScatter.apply(root, result, views=views)
                root._rebase(new_root._grad_fn)
            root._refresh_views()
        return self

    def add_(self, other: Operand, alpha: Scalar = 1) -> Tensor:
        return self._inplace("add_", lambda x: x + (other * alpha if alpha != 1 else other), other)

    def sub_(self, other: Operand, alpha: Scalar = 1) -> Tensor:
        return self._inplace("sub_", lambda x: x - (other * alpha if alpha != 1 else other), other)

    def mul_(self, other: Operand) -> Tensor:
        return self._inplace("mul_", lambda x: x * other, other)

    def div_(self, other: Operand) -> Tensor:
        return self._inplace("div_", lambda x: x / other, other)

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return self._inplace("clamp_", lambda x: x.clamp(min, max))

    def fill_(self, value: Scalar) -> Tensor:
        return self._inplace("fill_", lambda x: _overwritten(x, x.new_full((), value)))

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def copy_(self, source: Tensor) -> Tensor:
        """Write ``source`` (broadcast to this shape, from any device) into this tensor."""
        return self._inplace("copy_", lambda x: _overwritten(x, source.to(x.device, x.dtype)), source)

    def __iadd__(self, other: Operand) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Operand) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Operand) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self.div_(other)


# --- functions of tensors -----------------------------------------------------------------------


def _overwritten(old: Tensor, new: Tensor) -> Tensor:
    """``new`` broadcast to ``old``'s shape, with a zero gradient for ``old`` (for fill_ and copy_)."""
    return where(old.new_zeros((), dtypes.bool_), old, new)


def where(condition: Tensor, input: Operand, other: Operand) -> Tensor:
    """``condition ? input : other`` elementwise, with broadcasting."""
    if not isinstance(condition, Tensor) or condition.dtype is not dtypes.bool_:
        raise TypeError("where: condition must be a bool tensor")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = tensor(input, device=condition.device)  # where(mask, 1.0, 0.0): the scalars decide the dtype
    anchor = input if isinstance(input, Tensor) else other
    a, b = anchor._operands("where", other if anchor is input else input)
    if anchor is not input:
        a, b = b, a
    _broadcast_shape("where", condition.shape, a.shape, b.shape)
    return elementwise.Where.apply(condition, a, b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product (see ``Tensor.matmul``)."""
    return a.matmul(b)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other dims must match."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat: expected a sequence of tensors, got a single Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    for index, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: expected a sequence of Tensors, got {type(t).__name__} at position {index}")
        if t.ndim == 0:
            raise ValueError(f"cat: a 0-d tensor (at position {index}) cannot be concatenated; use stack")
    axis = _normalize_dim("cat", dim, first.ndim)
    for index, t in enumerate(tensors):
        if t.ndim != first.ndim or builtins.any(t.shape[d] != first.shape[d] for d in range(first.ndim) if d != axis):
            raise ValueError(f"cat: tensor {index} has shape {t.shape}, expected {first.shape} except in dim {axis}")
    dtype = first.dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    return movement.Concatenate.apply(*(t.to(dtype) for t in tensors), axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for index, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {index} has shape {t.shape}, expected {tensors[0].shape}")
    axis = _normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([t.unsqueeze(axis) for t in tensors], axis)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; ``pad = (last_before, last_after, second_last_before, ...)`` like PyTorch."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of at most {2 * input.ndim} sizes, got {tuple(pad)}")
    if not builtins.all(isinstance(p, (int, np.integer)) for p in pad):
        raise TypeError(f"pad: sizes must be ints, got {tuple(pad)}")
    if builtins.any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return movement.Pad.apply(input, widths=tuple(widths), value=value)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding along a new last dim."""
    if tensor.dtype is not dtypes.int64:
        raise TypeError(f"one_hot: expected an int64 tensor of class indices, got {tensor.dtype}")
    if tensor.numel() and tensor.min().item() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = tensor.max().item() + 1 if tensor.numel() else 0
    elif tensor.numel() and tensor.max().item() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes ({num_classes})")
    classes = arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


def _method_as_function(name: str) -> Callable[..., Any]:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor as the first argument, got {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``; see ``Tensor.{name}``."
    return function


# torch.exp(x), torch.sum(x, dim), ...: the functional spellings of the methods above.
FUNCTIONAL_METHODS = (
    "abs", "add", "amax", "amin", "argmax", "argmin", "chunk", "clamp", "clip", "cos", "div", "erf", "exp", "expm1",
    "flatten",
    "gather", "log", "log1p", "log_softmax", "logsumexp", "max", "maximum", "mean", "min", "minimum", "mul",
    "permute", "pow", "relu", "reshape", "rsqrt", "sigmoid", "sign", "sin", "softmax", "split", "sqrt", "square",
    "squeeze", "std", "sub", "sum", "tanh", "transpose", "unsqueeze", "var",
)  # fmt: skip
functional = {name: _method_as_function(name) for name in FUNCTIONAL_METHODS}


# --- creation -------------------------------------------------------------------------------------


def tensor(
    data: Any, dtype: DType | None = None, device: str | Device | None = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, NumPy arrays, tensors).

    Python floats give float32 and ints int64; NumPy arrays keep float64.
    """
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``array`` (float32, float64, int64 or bool)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array, CPU)


def _make(values: np.ndarray, dtype: DType | None, device: str | Device | None, requires_grad: bool) -> Tensor:
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.from_numpy_dtype(values.dtype)
    device = Device(device) if device is not None else CPU
    values = np.ascontiguousarray(values, dtype=dtype.numpy).reshape(np.shape(values))  # 0-d stays 0-d
    out = Tensor._wrap(get_backend(device).from_numpy(values), device)
    out.requires_grad = requires_grad
    return out


def full(
    size: ShapeArg,
    fill_value: Scalar,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    value = _scalar("full", fill_value)
    if dtype is None:  # PyTorch's inference: only a Python bool gives bool; NumPy ints give int64
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = dtypes.bool_ if isinstance(fill_value, bool) else dtypes.DEFAULT_FLOAT
        else:
            dtype = dtypes.int64 if isinstance(value, int) else dtypes.DEFAULT_FLOAT
    fill_value = value
    shape = _creation_shape("full", (size,))
    device = Device(device) if device is not None else CPU
    out = Tensor._wrap(get_backend(device).full(shape, fill_value, dtypes.to_dtype(dtype).numpy), device)
    out.requires_grad = requires_grad
    return out


def zeros(
    *size: int | Sequence[int],
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    return full(_creation_shape("zeros", size), 0.0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones(
    *size: int | Sequence[int],
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    return full(_creation_shape("ones", size), 1.0, dtype=dtype, device=device, requires_grad=requires_grad)


def empty(
    *size: int | Sequence[int],
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uninitialised in PyTorch; zero-filled here (never garbage)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros_like(other: Tensor, *, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
    return zeros(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def ones_like(other: Tensor, *, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
    return ones(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def full_like(other: Tensor, fill_value: Scalar, *, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
    return full(other.shape, fill_value, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """[start, end) in steps of ``step``; int64 when all arguments are ints, else float32."""
    if end is None:
        start, end = 0, start
    start, end, step = (_scalar("arange", v) for v in (start, end, step))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: the range [{start}, {end}) is inconsistent with the sign of step {step}")
    all_ints = builtins.all(isinstance(v, int) for v in (start, end, step))
    values = np.arange(start, end, step, dtype=np.int64 if all_ints else np.float64)
    return _make(values, dtype or (dtypes.int64 if all_ints else dtypes.DEFAULT_FLOAT), device, requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return _make(np.linspace(start, end, steps), dtype or dtypes.DEFAULT_FLOAT, device, requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    for size in (n, m):
        if size is not None and (not isinstance(size, (int, np.integer)) or size < 0):
            raise ValueError(f"eye: sizes must be non-negative ints, got n={n!r}, m={m!r}")
    return _make(np.eye(n, m), dtype or dtypes.DEFAULT_FLOAT, device, requires_grad)


def _random_float_dtype(op: str, dtype: DType | None) -> DType:
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
    if not dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point dtype, got {dtype}")
    return dtype


def rand(
    *size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform on [0, 1), from ``generator`` (default: the global one ``tb.manual_seed`` seeds)."""
    dtype = _random_float_dtype("rand", dtype)
    values = numpy_generator(generator, "rand").random(_creation_shape("rand", size), dtype=dtype.numpy)
    return _make(values, dtype, device, requires_grad)


def randn(
    *size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal, from ``generator`` (default: the global one ``tb.manual_seed`` seeds)."""
    dtype = _random_float_dtype("randn", dtype)
    values = numpy_generator(generator, "randn").standard_normal(_creation_shape("randn", size), dtype=dtype.numpy)
    return _make(values, dtype, device, requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` starts at 0)."""
    if high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, size if high is None else high
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    values = numpy_generator(generator, "randint").integers(low, high, size=_creation_shape("randint", (size,)))
    return _make(values, dtype or dtypes.int64, device, False)


def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
) -> Tensor:
    """A random permutation of 0, ..., n - 1 (int64 unless ``dtype`` says otherwise)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    return _make(numpy_generator(generator, "randperm").permutation(n), dtype or dtypes.int64, device, False)
