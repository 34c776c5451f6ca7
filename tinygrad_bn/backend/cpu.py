"""The CPU backend: NumPy arrays are the buffers; matmul and reductions run in ctensor.

NumPy does the plain elementwise math and the views (its strides are our strides); the hot
paths, matmul and reductions, go through the C kernels with the array's own strides, so
transposed and sliced operands are never copied first.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from tinygrad_bn._ctensor_lib import check, dense_pointers, ffi, int64_array, lib, pointer
from tinygrad_bn.backend.base import Backend

_UNARY = {
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "abs": np.abs,
    "sign": lambda x: np.sign(np.nan_to_num(x, nan=0.0)),  # sign(NaN) = 0, as in PyTorch
    "expm1": np.expm1,
    "erf": lambda x: _erf(x).astype(x.dtype, copy=False),
    "not": np.logical_not,
}
_BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
}
_ACTIVATIONS = {
    "sigmoid": lib.CT_ACTIVATION_SIGMOID,
    "tanh": lib.CT_ACTIVATION_TANH,
    "swish": lib.CT_ACTIVATION_SWISH,
    "elu": lib.CT_ACTIVATION_ELU,
    "gelu": lib.CT_ACTIVATION_GELU,
    "gelu_tanh": lib.CT_ACTIVATION_GELU_TANH,
    "relu": lib.CT_ACTIVATION_RELU,
}
_POINTER_LIST_TYPES = {np.dtype(np.float32): "float *[]", np.dtype(np.float64): "double *[]"}
_OPTIMIZERS = {
    "sgd": lib.CT_OPTIMIZER_SGD,
    "adam": lib.CT_OPTIMIZER_ADAM,
    "rmsprop": lib.CT_OPTIMIZER_RMSPROP,
    "adagrad": lib.CT_OPTIMIZER_ADAGRAD,
}


def _per_dtype(name: str) -> dict:
    """ctensor's ``ct_<name>_f32`` and ``_f64`` kernels by NumPy dtype."""
    return {np.dtype(np.float32): getattr(lib, f"ct_{name}_f32"), np.dtype(np.float64): getattr(lib, f"ct_{name}_f64")}


_BATCH_NORM_FORWARD, _BATCH_NORM_BACKWARD = _per_dtype("batch_norm_forward"), _per_dtype("batch_norm_backward")
_GROUP_NORM_FORWARD, _GROUP_NORM_BACKWARD = _per_dtype("group_norm_forward"), _per_dtype("group_norm_backward")
_REDUCE_OPS = {"sum": lib.CT_REDUCE_SUM, "max": lib.CT_REDUCE_MAX, "min": lib.CT_REDUCE_MIN}
_NUMPY_REDUCE = {"sum": np.sum, "max": np.max, "min": np.min}


_ERF_SERIES_BELOW = 2.0  # |x| below this: the series; from it on: the continued fraction
# 1/(1·3·5···(2k+1)) for k < 30: the series' coefficients (relative error ~1e-15 on [0, 2))
_ERF_SERIES_COEFFICIENTS = np.cumprod([1.0] + [1 / (2 * k + 1) for k in range(1, 30)])
_ERFC_FRACTION_DEPTH = 40  # absolute error of 1 − erfc ~2e-16 on [2, ∞)


def _erf(values: np.ndarray) -> np.ndarray:
    """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, vectorised and accurate to ~1e-15 (computed in float64).

    With z = |x| and erf(−z) = −erf(z):
    - z < 2: erf(z) = 2/√π · z · e^(−z²) · Σₖ (2z²)ᵏ / (1·3·5···(2k+1)); every term is positive,
      so nothing cancels (summed by Horner's rule, in place);
    - z ≥ 2: erf(z) = 1 − erfc(z), with Laplace's continued fraction
      erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ···))))), evaluated from its tail.
    NOTE: ~0.15 µs per element in NumPy (about math.erf's speed); a C kernel should replace it.
    """
    x = np.asarray(values, dtype=np.float64)
    z = np.abs(x)
    out = np.empty_like(z)
    small = z < _ERF_SERIES_BELOW  # False for NaN: NaN flows through the fraction unchanged

    near = z[small]
    two_z_squared = 2 * near * near
    series = np.full_like(near, _ERF_SERIES_COEFFICIENTS[-1])
    for coefficient in _ERF_SERIES_COEFFICIENTS[-2::-1]:
        series *= two_z_squared
        series += coefficient
    out[small] = (2 / math.sqrt(math.pi)) * near * np.exp(-near * near) * series

    far = z[~small]
    fraction = far.copy()
    for k in range(_ERFC_FRACTION_DEPTH, 0, -1):
        fraction = far + (k / 2) / fraction
    out[~small] = 1 - np.exp(-far * far) / (math.sqrt(math.pi) * fraction)
    return np.copysign(out, x)


def _dense(array: np.ndarray) -> np.ndarray:
    """The array itself if it is dense row-major, else a dense copy (0-d stays 0-d)."""
    return array if array.flags.c_contiguous else np.array(array, order="C")


def _array(value) -> np.ndarray:
    """NumPy turns 0-d results into scalars; buffers must stay (writable) arrays."""
    return value if isinstance(value, np.ndarray) else np.array(value)


def _gradient_outputs(x: np.ndarray, channels: int, needs: tuple[bool, bool, bool]) -> tuple:
    """Fresh (dx, dweight, dbias) arrays where ``needs`` asks for them, else None."""
    dtype = x.dtype
    dx = np.empty(x.shape, dtype) if needs[0] else None  # (np.empty: half of empty_like's cost)
    dweight = np.empty(channels, dtype) if needs[1] else None
    dbias = np.empty(channels, dtype) if needs[2] else None
    return dx, dweight, dbias


def _element_strides(array: np.ndarray) -> list[int]:
    size = array.itemsize
    return [stride // size for stride in array.strides]


def _coalesce(shape: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """Drop size-1 dims and merge neighbours that walk memory as one dim."""
    merged_shape: list[int] = []
    merged_strides: list[int] = []
    for size, stride in zip(shape, strides):
        if size == 1:
            continue
        if merged_shape and merged_strides[-1] == stride * size:
            merged_shape[-1] *= size
            merged_strides[-1] = stride
        else:
            merged_shape.append(size)
            merged_strides.append(stride)
    return merged_shape, merged_strides


def _any_overlap(arrays: list[np.ndarray]) -> bool:
    """Whether any two dense arrays share memory (their address ranges, sorted, touch)."""
    ranges = sorted((a.__array_interface__["data"][0], a.nbytes) for a in arrays)
    return any(start + size > next_start for (start, size), (next_start, _) in itertools.pairwise(ranges))


def _class_layout(x: np.ndarray) -> tuple[int, int, int]:
    """(outer, classes, inner) of logits with classes on dim 1, or dim 0 of a 1-d input."""
    if x.ndim == 1:
        return 1, x.shape[0], 1
    return x.shape[0], x.shape[1], math.prod(x.shape[2:])


def _raise_bad_target(x: np.ndarray, target: np.ndarray, ignore_index: int) -> None:
    classes = _class_layout(x)[1]
    bad = target[(target != ignore_index) & ((target < 0) | (target >= classes))]
    if bad.size:
        raise IndexError(
            f"cross_entropy: target {int(bad[0])} is out of bounds: expected a class index in [0, {classes}) "
            f"or ignore_index={ignore_index}"
        )


def _optional_pointer(array: np.ndarray | None):
    return ffi.NULL if array is None else pointer(_dense(array))


class CPUBackend(Backend):
    name = "cpu"

    # --- memory ---------------------------------------------------------------------------
    def from_numpy(self, array: np.ndarray) -> np.ndarray:
        return array

    def to_numpy(self, buffer: np.ndarray) -> np.ndarray:
        return buffer

    def full(self, shape, value, dtype) -> np.ndarray:
        return np.full(shape, value, dtype=dtype)

    def cast(self, buffer, dtype) -> np.ndarray:
        return _array(buffer.astype(dtype, order="C"))

    def is_contiguous(self, buffer) -> bool:
        return bool(buffer.flags.c_contiguous)

    def contiguous(self, buffer) -> np.ndarray:
        return _dense(buffer)

    def assign(self, destination, key, source) -> None:
        destination[... if key is None else key] = source

    def is_writable(self, buffer) -> bool:
        return bool(buffer.flags.writeable)  # broadcast views (np.broadcast_to) are read-only

    def shares_memory(self, a, b) -> bool:
        return bool(np.may_share_memory(a, b))

    # --- elementwise ------------------------------------------------------------------------
    @np.errstate(all="ignore")  # inf and NaN are results, as in PyTorch, not warnings
    def unary(self, op, x) -> np.ndarray:
        if op == "relu":
            return _array(np.maximum(x, 0).astype(x.dtype, copy=False))
        return _array(_UNARY[op](x))

    @np.errstate(all="ignore")
    def binary(self, op, a, b) -> np.ndarray:
        return _array(_BINARY[op](a, b))

    def where(self, condition, a, b) -> np.ndarray:
        return _array(np.where(condition, a, b))

    # --- fused activations --------------------------------------------------------------------
    def activation(self, kind, x, alpha, scale, beta) -> np.ndarray:
        x = _dense(x)
        out = np.empty(x.shape, dtype=x.dtype)
        kernel = lib.ct_activation_forward_f32 if x.dtype == np.float32 else lib.ct_activation_forward_f64
        check(kernel(_ACTIVATIONS[kind], x.size, pointer(x), pointer(out), alpha, scale, beta), kind)
        return out

    def activation_backward(self, kind, saved, grad, alpha, scale, beta) -> np.ndarray:
        saved, grad = _dense(saved), _dense(np.broadcast_to(grad, saved.shape))
        out = np.empty(saved.shape, dtype=saved.dtype)
        kernel = lib.ct_activation_backward_f32 if saved.dtype == np.float32 else lib.ct_activation_backward_f64
        status = kernel(_ACTIVATIONS[kind], saved.size, pointer(saved), pointer(grad), pointer(out), alpha, scale, beta)
        check(status, kind + " backward")
        return out

    # --- fused losses -------------------------------------------------------------------------
    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        x, target = _dense(x), _dense(target)
        loss = np.empty(target.shape, dtype=x.dtype)
        logsumexp = np.empty(target.shape, dtype=np.float64)
        sums = np.zeros(2, dtype=np.float64)
        kernel = lib.ct_cross_entropy_forward_f32 if x.dtype == np.float32 else lib.ct_cross_entropy_forward_f64
        status = kernel(
            *_class_layout(x), pointer(x), pointer(target), _optional_pointer(weight), ignore_index,
            label_smoothing, pointer(loss), pointer(logsumexp), pointer(sums),
        )  # fmt: skip
        if status == lib.CT_ERR_INVALID_ARGUMENT:  # the kernel checks every target before reading x
            _raise_bad_target(x, target, ignore_index)
        check(status, "cross_entropy")
        return loss, logsumexp, sums

    def cross_entropy_backward(self, x, target, weight, ignore_index, label_smoothing, logsumexp, grad):
        x, target = _dense(x), _dense(target)
        grad = _dense(np.broadcast_to(grad, target.shape))
        dx = np.empty(x.shape, dtype=x.dtype)
        kernel = lib.ct_cross_entropy_backward_f32 if x.dtype == np.float32 else lib.ct_cross_entropy_backward_f64
        status = kernel(
            *_class_layout(x), pointer(x), pointer(target), _optional_pointer(weight), ignore_index,
            label_smoothing, pointer(logsumexp), pointer(grad), pointer(dx),
        )  # fmt: skip
        check(status, "cross_entropy backward")
        return dx

    # --- optimizers -----------------------------------------------------------------------------
    def optimizer_step(self, kind, params, grads, states, steps, fresh, settings) -> None:
        if not params:
            return
        if len(params) > 1 and _any_overlap(params):  # the kernel updates tensors in parallel: one at a time
            for i in range(len(params)):
                only = [None if lists is None else [lists[i]] for lists in (*states, steps, fresh)]
                self.optimizer_step(kind, [params[i]], [grads[i]], tuple(only[:3]), only[3], only[4], settings)
            return
        pointer_type = _POINTER_LIST_TYPES[params[0].dtype]
        grads = [_dense(g) for g in grads]  # a broadcast or strided gradient becomes dense first

        def pointers(buffers):
            return ffi.NULL if buffers is None else ffi.new(pointer_type, [pointer(b) for b in buffers])

        kernel = lib.ct_optimizer_step_f32 if params[0].dtype == np.float32 else lib.ct_optimizer_step_f64
        status = kernel(
            _OPTIMIZERS[kind], len(params), pointers(params), pointers(grads), *[pointers(s) for s in states],
            int64_array([p.size for p in params]), ffi.NULL if steps is None else int64_array(steps),
            ffi.NULL if fresh is None else ffi.new("uint8_t[]", [int(f) for f in fresh]),
            ffi.new("ct_optimizer_settings *", settings),
        )  # fmt: skip
        check(status, kind)

    # --- reductions -------------------------------------------------------------------------
    def reduce(self, op, x, axes, keepdim) -> np.ndarray:
        kept = [d for d in range(x.ndim) if d not in axes]
        out = np.empty([x.shape[d] for d in kept], dtype=x.dtype)
        if out.size and x.dtype in (np.float32, np.float64):
            strides = _element_strides(x)
            # Walk the reduced dims in memory order so the innermost one is the densest.
            inner = sorted(axes, key=lambda d: -abs(strides[d]))
            inner_shape, inner_strides = _coalesce([x.shape[d] for d in inner], [strides[d] for d in inner])
            outer_shape, outer_strides = _coalesce([x.shape[d] for d in kept], [strides[d] for d in kept])
            kernel = lib.ct_reduce_f32 if x.dtype == np.float32 else lib.ct_reduce_f64
            status = kernel(
                _REDUCE_OPS[op],
                pointer(x),
                len(outer_shape),
                int64_array(outer_shape),
                int64_array(outer_strides),
                len(inner_shape),
                int64_array(inner_shape),
                int64_array(inner_strides),
                pointer(out),
            )
            check(status, op)
        elif out.size:  # integer and bool tensors (labels, masks) are never on a hot path
            out = np.asarray(_NUMPY_REDUCE[op](x, axis=tuple(axes)), dtype=x.dtype)
        return np.expand_dims(out, tuple(axes)) if keepdim else out

    def arg_extremum(self, op, x, axis, keepdim) -> np.ndarray:
        out_shape = [size for d, size in enumerate(x.shape) if d != axis]
        out = np.empty(out_shape, dtype=np.int64)
        if out.size and x.dtype in (np.float32, np.float64):
            if op == "min":  # argmin x = argmax -x: negation is exact and keeps NaN
                x = np.negative(x)
            strides = _element_strides(x)
            kept = [d for d in range(x.ndim) if d != axis]
            outer_shape, outer_strides = _coalesce(out_shape, [strides[d] for d in kept])
            kernel = lib.ct_argmax_f32 if x.dtype == np.float32 else lib.ct_argmax_f64
            status = kernel(
                pointer(x),
                len(outer_shape),
                int64_array(outer_shape),
                int64_array(outer_strides),
                x.shape[axis],
                strides[axis],
                pointer(out),
            )
            check(status, "arg" + op)
        elif out.size:
            out = np.asarray((np.argmax if op == "max" else np.argmin)(x, axis=axis))
        return np.expand_dims(out, axis) if keepdim else out

    # --- linear algebra -----------------------------------------------------------------------
    def matmul(self, a, b) -> np.ndarray:
        batch_shape = a.shape[:-2]
        if a.shape[:-2] != b.shape[:-2]:  # broadcast batch dims become zero strides
            batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            a = np.broadcast_to(a, batch_shape + a.shape[-2:])
            b = np.broadcast_to(b, batch_shape + b.shape[-2:])
        (m, k), n = a.shape[-2:], b.shape[-1]
        out = np.empty(batch_shape + (m, n), dtype=a.dtype)  # dense: row stride n, column stride 1
        if out.size == 0:
            return out
        a_strides, b_strides = _element_strides(a), _element_strides(b)
        batch = (ffi.NULL,) * 4  # plain 2-D products (one per layer per step) need no batch arrays
        if batch_shape:
            out_batch_strides = _element_strides(out)[:-2]
            batch = tuple(int64_array(v) for v in (batch_shape, a_strides[:-2], b_strides[:-2], out_batch_strides))
        kernel = lib.ct_matmul_f32 if a.dtype == np.float32 else lib.ct_matmul_f64
        status = kernel(
            m, n, k,
            pointer(a), a_strides[-2], a_strides[-1],
            pointer(b), b_strides[-2], b_strides[-1],
            pointer(out), n, 1,
            len(batch_shape), *batch,
        )  # fmt: skip
        check(status, "matmul")
        return out

    # --- movement -----------------------------------------------------------------------------
    def reshape(self, x, shape, allow_copy):
        if allow_copy:
            return x.reshape(shape)  # the method: a third of np.reshape's cost on small arrays
        try:
            return np.reshape(x, shape, copy=False)
        except ValueError:
            return None

    def permute(self, x, axes) -> np.ndarray:
        return np.transpose(x, axes)

    def expand(self, x, shape) -> np.ndarray:
        return np.broadcast_to(x, shape)

    def getitem(self, x, key) -> np.ndarray:
        return x[(*key, Ellipsis)]  # the trailing ... keeps an all-int index a 0-d view, not a scalar

    def nonzero(self, mask) -> tuple[np.ndarray, ...]:
        return np.nonzero(mask)

    def index_add(self, shape, key, source) -> np.ndarray:
        out = np.zeros(shape, dtype=source.dtype)
        np.add.at(out, key, source)
        return out

    def pad(self, x, widths, value) -> np.ndarray:
        return np.pad(x, widths, mode="constant", constant_values=value)

    def concatenate(self, buffers, axis) -> np.ndarray:
        return np.concatenate(buffers, axis=axis)

    # --- fused normalization --------------------------------------------------------------------
    def batch_norm_forward(
        self, x, weight, bias, eps, batch_stats, running_mean, running_var, momentum, num_batches_tracked
    ):
        n, channels, spatial = x.shape
        if batch_stats and running_mean is not None and num_batches_tracked is not None:
            count = num_batches_tracked.item() + 1
            num_batches_tracked[()] = count  # (a tenth of np.add(..., out=)'s cost on a 0-d array)
            if momentum is None:
                momentum = 1.0 / count
        dtype = x.dtype
        y, mean, rstd = np.empty(x.shape, dtype), np.empty(channels, dtype), np.empty(channels, dtype)
        x_, weight_, bias_, running_mean_, running_var_, y_, mean_, rstd_ = dense_pointers(
            x, weight, bias, running_mean, running_var, y, mean, rstd
        )
        status = _BATCH_NORM_FORWARD[x.dtype](
            n, channels, spatial, x_, weight_, bias_, eps, batch_stats,
            running_mean_, running_var_, 0.0 if momentum is None else momentum, y_, mean_, rstd_,
        )  # fmt: skip
        check(status, "batch_norm")
        return y, mean, rstd

    def batch_norm_backward(self, x, grad, mean, rstd, weight, batch_stats, needs):
        n, channels, spatial = x.shape
        dx, dweight, dbias = _gradient_outputs(x, channels, needs)
        x_, grad_, mean_, rstd_, weight_, dx_, dweight_, dbias_ = dense_pointers(
            x, grad, mean, rstd, weight, dx, dweight, dbias
        )
        status = _BATCH_NORM_BACKWARD[x.dtype](
            n, channels, spatial, x_, grad_, mean_, rstd_, weight_, batch_stats, dx_, dweight_, dbias_
        )
        check(status, "batch_norm backward")
        return dx, dweight, dbias

    def group_norm_forward(self, x, weight, bias, eps, centered):
        n, groups, per_group, spatial = x.shape
        dtype = x.dtype
        y, mean, rstd = np.empty(x.shape, dtype), np.empty((n, groups), dtype), np.empty((n, groups), dtype)
        x_, weight_, bias_, y_, mean_, rstd_ = dense_pointers(x, weight, bias, y, mean, rstd)
        status = _GROUP_NORM_FORWARD[x.dtype](
            n, groups, per_group, spatial, centered, x_, weight_, bias_, eps, y_, mean_, rstd_
        )
        check(status, "group_norm")
        return y, mean, rstd

    def group_norm_backward(self, x, grad, mean, rstd, weight, centered, needs):
        n, groups, per_group, spatial = x.shape
        dx, dweight, dbias = _gradient_outputs(x, groups * per_group, needs)
        x_, grad_, mean_, rstd_, weight_, dx_, dweight_, dbias_ = dense_pointers(
            x, grad, mean, rstd, weight, dx, dweight, dbias
        )
        status = _GROUP_NORM_BACKWARD[x.dtype](
            n, groups, per_group, spatial, centered, x_, grad_, mean_, rstd_, weight_, dx_, dweight_, dbias_
        )
        check(status, "group_norm backward")
        return dx, dweight, dbias
