"""The OpenCL backend: the device contract (``backend/base.py``) on one OpenCL device.

Buffers are ``CLBuffer`` views of device allocations; every op on the training path runs as a
kernel from ``kernels/*.cl`` on the device's in-order queue, so nothing waits for the device until
the user reads values (``to_numpy``). The rare ops marked NOTE go through the host.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_bn.backend.base import Backend
from tinygrad_bn.backend.opencl.layout import (
    CLBuffer,
    basic_view,
    coalesce,
    dense_strides,
    dims8,
    element_range,
    is_dense,
    reshape_strides,
)
from tinygrad_bn.backend.opencl.runtime import CL_TYPES, Allocation, DeviceQueue, Kernel

# Kernel signatures by program (argument kinds: see runtime._ARGUMENT_FORMATS).
_CAST_SIGNATURE = "BBliDDl"
_ELEMENTWISE = {
    "unary": "BBliiDDl",
    "binary": "BBlBliiDDDl",
    "compare": "BBlBliiDDDl",
    "where_select": "BBlBlBliDDDDl",
    "copy": "BlBliDDDl",
    **{f"cast_from_{name}": _CAST_SIGNATURE for name in CL_TYPES.values()},
    "increment_counter": "Bl",
}
_REDUCE = {
    "reduce_items": "BBliiDDiDDll",
    "reduce_groups": "BBliiDDiDDl",
    "arg_extremum": "BBliiDDlll",
}
_MATMUL = {"matmul_tiled": "BBlllBlllllliDDD", "matmul_direct": "BBlllBlllllliDDD"}
_NN = {
    "activation_forward": "BBiTTTl",
    "activation_backward": "BBBiTTTl",
    "batch_norm_statistics_groups": "BlllABBiBlBlAiBl",
    "batch_norm_running_statistics": "BlBlABBl",
    "batch_norm_normalize": "BBBBiBiBlll",
    "batch_norm_gradient_groups": "BBBBiBilllBiBiB",
    "batch_norm_input_grad": "BBBBBlll",
    "group_norm_forward_groups": "BBiBiBllliABB",
    "group_norm_input_grad_groups": "BBBBBiBllli",
    "group_norm_affine_grad_groups": "BBBBlllliBiB",
    "cross_entropy_forward_groups": "BBBBliBlllAB",
    "cross_entropy_sums_groups": "BBBliBll",
    "cross_entropy_backward": "BBBliBBlllABBl",
    "sgd_step": "BBBlTTTTTiii",
    "adam_step": "BBBBBlTTTTTTTTTii",
    "rmsprop_step": "BBBBBlTTTTTTTii",
    "adagrad_step": "BBBlTTTT",
}
_PROGRAMS = {"elementwise": _ELEMENTWISE, "reduce": _REDUCE, "matmul": _MATMUL, "nn": _NN}

_UNARY_CODES = {
    name: code
    for code, name in enumerate(
        ["neg", "exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "erf", "relu", "abs", "sign", "not"]
    )
}
_FLOAT_ONLY_UNARY = {"exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "erf"}
_BINARY_CODES = {
    name: code for code, name in enumerate(["add", "sub", "mul", "div", "pow", "maximum", "minimum", "and", "or"])
}
_COMPARE_CODES = {name: code for code, name in enumerate(["eq", "ne", "lt", "le", "gt", "ge"])}
_REDUCE_CODES = {"sum": 0, "max": 1, "min": 2}
_ACTIVATION_CODES = {
    name: code for code, name in enumerate(["sigmoid", "tanh", "swish", "elu", "gelu", "gelu_tanh", "relu"])
}
_MATMUL_GROUP = 8  # matmul.cl's GROUP: work-groups of 8 x 8 work-items,
_MATMUL_BLOCK = (8, 4)  # each computing 8 columns x ROWS rows of the output
_ELEMENTWISE_GROUP = 64
_REDUCTION_GROUP = 256  # the .cl files' GROUP_MAX
_ITEMS_PER_OUTPUT_BELOW = 16  # reductions this short run one work-item per output


def _next_power_of_two(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def _broadcast_strides(buffer: CLBuffer, shape: tuple[int, ...]) -> tuple[int, ...]:
    """buffer's strides when read as ``shape`` (new leading dims and size-1 dims repeat: stride 0)."""
    lead = len(shape) - buffer.ndim
    return (0,) * lead + tuple(
        0 if size == 1 and target != 1 else stride
        for size, stride, target in zip(buffer.shape, buffer.strides, shape[lead:])
    )


def _class_layout(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(outer, classes, inner) of logits with classes on dim 1, or dim 0 of a 1-d input."""
    if len(shape) == 1:
        return 1, shape[0], 1
    return shape[0], shape[1], math.prod(shape[2:])


class OpenCLBackend(Backend):
    """The contract on OpenCL device ``index`` (``"cl:<index>"``)."""

    def __init__(self, index: int, name: str, fp64: bool, local_memory: bool):
        self.name = f"cl:{index}"
        self.device_name = name
        self.queue = DeviceQueue(index, fp64, name)
        self.fp64 = fp64
        self.accumulator_dtype = np.dtype(np.float64 if fp64 else np.float32)
        largest = self.queue.max_work_group_size
        if largest < _MATMUL_GROUP * _MATMUL_GROUP:
            raise RuntimeError(f"{self.name}: work-groups of {largest} work-items are too small (64 needed)")
        self.group = min(_ELEMENTWISE_GROUP, largest)
        self.reduction_group = min(_REDUCTION_GROUP, 1 << (largest.bit_length() - 1))
        self._bad_target = None  # cross entropy's flag buffer, made on first use
        # NOTE: staging tiles in __local memory pays only where it is on-chip memory (see matmul.cl)
        self.matmul_kernel = "matmul_tiled" if local_memory else "matmul_direct"

    # --- plumbing -------------------------------------------------------------------------
    def _kernel(self, family: str, dtype: np.dtype, name: str) -> Kernel:
        return self.queue.program(family, dtype, _PROGRAMS[family]).kernel(name)

    def _new(self, shape, dtype, initial: np.ndarray | None = None) -> CLBuffer:
        """A fresh dense buffer: a copy of the dense array ``initial``, or values undefined."""
        dtype = np.dtype(dtype)
        if dtype not in CL_TYPES:
            raise TypeError(f"{self.name}: unsupported dtype {dtype}")
        if dtype == np.float64 and not self.fp64:
            raise TypeError(
                f"{self.name} ({self.device_name}) has no cl_khr_fp64: float64 tensors cannot live there; use float32"
            )
        shape = tuple(int(s) for s in shape)
        allocation = Allocation(self.queue, math.prod(shape) * dtype.itemsize, initial)
        return CLBuffer(allocation, shape, dense_strides(shape), 0, dtype)

    def _grid(self, n: int) -> tuple[tuple[int], tuple[int]]:
        return (n,), (self.group,)

    def _dense_at_start(self, buffer: CLBuffer | None) -> CLBuffer | None:
        """A dense buffer whose elements start at its allocation's start (the fused kernels take no offsets)."""
        if buffer is None or (buffer.offset == 0 and is_dense(buffer)):
            return buffer
        return self.cast(buffer, buffer.dtype)

    @staticmethod
    def _address(buffer: CLBuffer | None, fallback: CLBuffer) -> int:
        """The cl_mem handle of an optional buffer (``fallback``'s, never read, when it is None)."""
        return (fallback if buffer is None else buffer).allocation.address

    # --- memory ---------------------------------------------------------------------------
    def from_numpy(self, array: np.ndarray) -> CLBuffer:
        if not array.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
            array = np.array(array, order="C")
        out = self._new(array.shape, array.dtype, array)
        if array.dtype == np.int64 and array.size:
            out.allocation.known_range = (int(array.min()), int(array.max()))
        return out

    def to_numpy(self, buffer: CLBuffer) -> np.ndarray:
        dense = buffer if is_dense(buffer) else self.cast(buffer, buffer.dtype)
        out = np.empty(dense.shape, dtype=dense.dtype)
        self.queue.read(dense.allocation, dense.offset * dense.dtype.itemsize, out)
        return out

    def full(self, shape, value, dtype) -> CLBuffer:
        out = self._new(shape, dtype)
        self.queue.fill(out.allocation, np.array(value, dtype=out.dtype), out.allocation.nbytes)
        return out

    def cast(self, buffer, dtype) -> CLBuffer:
        out = self._new(buffer.shape, dtype)
        n = out.size
        if n:
            shape, (strides,) = coalesce(buffer.shape, buffer.strides)
            kernel = self._kernel("elementwise", out.dtype, f"cast_from_{CL_TYPES[buffer.dtype]}")
            kernel(*self._grid(n), out.allocation.address, buffer.allocation.address, buffer.offset, len(shape),
                   dims8(shape), dims8(strides), n)  # fmt: skip
        return out

    def is_contiguous(self, buffer) -> bool:
        return is_dense(buffer)

    def contiguous(self, buffer) -> CLBuffer:
        return buffer if is_dense(buffer) else self.cast(buffer, buffer.dtype)

    def assign(self, destination, key, source) -> None:
        destination.allocation.known_range = None
        if key is not None and any(isinstance(part, CLBuffer) for part in key):
            # NOTE: writes at index buffers (x[idx] = v) go through the host; they are not on a training path.
            values = self.to_numpy(destination)
            values[self._host_key(key)] = self.to_numpy(source)
            source, key = self.from_numpy(values), None
        target = destination if key is None else basic_view(destination, key)
        if target.size == 0:
            return
        if self.shares_memory(target, source):  # x[1:] = x[:-1]: read everything before writing
            source = self.cast(source, source.dtype)
        shape, (target_strides, source_strides) = coalesce(
            target.shape, target.strides, _broadcast_strides(source, target.shape)
        )
        kernel = self._kernel("elementwise", target.dtype, "copy")
        kernel(*self._grid(target.size), target.allocation.address, target.offset, source.allocation.address,
               source.offset, len(shape), dims8(shape), dims8(target_strides), dims8(source_strides),
               target.size)  # fmt: skip

    def is_writable(self, buffer) -> bool:
        return buffer.writable

    def shares_memory(self, a, b) -> bool:
        if a.allocation is not b.allocation:
            return False
        (a_first, a_last), (b_first, b_last) = element_range(a), element_range(b)
        a_bytes = (a_first * a.dtype.itemsize, (a_last + 1) * a.dtype.itemsize)
        b_bytes = (b_first * b.dtype.itemsize, (b_last + 1) * b.dtype.itemsize)
        return a_last >= a_first and b_last >= b_first and a_bytes[0] < b_bytes[1] and b_bytes[0] < a_bytes[1]

    # --- elementwise ------------------------------------------------------------------------
    def unary(self, op, x) -> CLBuffer:
        if op in _FLOAT_ONLY_UNARY and x.dtype.kind != "f":
            raise TypeError(f"{op}: needs a floating point tensor on {self.name}, got {x.dtype}")
        out = self._new(x.shape, x.dtype)
        if out.size:
            shape, (strides,) = coalesce(x.shape, x.strides)
            kernel = self._kernel("elementwise", x.dtype, "unary")
            kernel(*self._grid(out.size), out.allocation.address, x.allocation.address, x.offset, _UNARY_CODES[op],
                   len(shape), dims8(shape), dims8(strides), out.size)  # fmt: skip
        return out

    def binary(self, op, a, b) -> CLBuffer:
        if op == "pow" and a.dtype == np.int64:
            self._refuse_negative_integer_exponents(b)
        shape = np.broadcast_shapes(a.shape, b.shape)
        comparison = op in _COMPARE_CODES
        out = self._new(shape, np.bool_ if comparison else a.dtype)
        if out.size:
            dims, (a_strides, b_strides) = coalesce(shape, _broadcast_strides(a, shape), _broadcast_strides(b, shape))
            code = _COMPARE_CODES[op] if comparison else _BINARY_CODES[op]
            kernel = self._kernel("elementwise", a.dtype, "compare" if comparison else "binary")
            kernel(*self._grid(out.size), out.allocation.address, a.allocation.address, a.offset,
                   b.allocation.address, b.offset, code, len(dims), dims8(dims), dims8(a_strides),
                   dims8(b_strides), out.size)  # fmt: skip
        return out

    def _refuse_negative_integer_exponents(self, exponent: CLBuffer) -> None:
        """ValueError where an int64 exponent is negative, as on the CPU (NumPy) and in PyTorch: aᵇ with
        b < 0 is no integer. NOTE: it reads the smallest exponent back (one wait for the device); integer
        powers are never on a training path."""
        if exponent.size == 0:
            return
        smallest = self.to_numpy(self.reduce("min", exponent, tuple(range(exponent.ndim)), False))
        if smallest < 0:
            raise ValueError("Integers to negative integer powers are not allowed.")

    def where(self, condition, a, b) -> CLBuffer:
        shape = np.broadcast_shapes(condition.shape, a.shape, b.shape)
        out = self._new(shape, a.dtype)
        if out.size:
            dims, strides = coalesce(shape, *(_broadcast_strides(t, shape) for t in (condition, a, b)))
            kernel = self._kernel("elementwise", a.dtype, "where_select")
            kernel(*self._grid(out.size), out.allocation.address, condition.allocation.address, condition.offset,
                   a.allocation.address, a.offset, b.allocation.address, b.offset, len(dims), dims8(dims),
                   *[dims8(s) for s in strides], out.size)  # fmt: skip
        return out

    # --- fused activations --------------------------------------------------------------------
    def activation(self, kind, x, alpha, scale, beta) -> CLBuffer:
        x = self._dense_at_start(x)
        out = self._new(x.shape, x.dtype)
        if out.size:
            kernel = self._kernel("nn", x.dtype, "activation_forward")
            kernel(*self._grid(out.size), out.allocation.address, x.allocation.address, _ACTIVATION_CODES[kind],
                   alpha, scale, beta, out.size)  # fmt: skip
        return out

    def activation_backward(self, kind, saved, grad, alpha, scale, beta) -> CLBuffer:
        saved = self._dense_at_start(saved)
        grad = self._dense_at_start(self.contiguous(self.expand(grad, saved.shape)))
        out = self._new(saved.shape, saved.dtype)
        if out.size:
            kernel = self._kernel("nn", saved.dtype, "activation_backward")
            kernel(*self._grid(out.size), out.allocation.address, saved.allocation.address, grad.allocation.address,
                   _ACTIVATION_CODES[kind], alpha, scale, beta, out.size)  # fmt: skip
        return out

    # --- fused losses -------------------------------------------------------------------------
    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        x, target, weight = self._dense_at_start(x), self.contiguous(target), self._dense_at_start(weight)
        outer, classes, inner = _class_layout(x.shape)
        rows = outer * inner
        loss = self._new(target.shape, x.dtype)
        logsumexp = self._new(target.shape, self.accumulator_dtype)
        if rows == 0:
            return loss, logsumexp, self.full((2,), 0.0, self.accumulator_dtype)
        known = target.allocation.known_range
        checked = known is not None and 0 <= known[0] and known[1] < classes  # uploaded and all in range
        if self._bad_target is None:
            self._bad_target = Allocation(self.queue, 4)  # an int the kernel sets on a bad target
        if not checked:
            self.queue.fill(self._bad_target, np.zeros(1, np.int32), 4)
        group = min(self.reduction_group, _next_power_of_two(classes))
        weight_address = self._address(weight, x)
        kernel = self._kernel("nn", x.dtype, "cross_entropy_forward_groups")
        kernel((rows * group,), (group,), loss.allocation.address, logsumexp.allocation.address,
               x.allocation.address, target.allocation.address, target.offset, weight is not None, weight_address,
               classes, inner, ignore_index, label_smoothing, self._bad_target.address)  # fmt: skip
        if not checked:  # NOTE: targets not known to be in range cost one wait for the device (4 bytes back)
            self._raise_bad_target(target, classes, ignore_index)
        sums = self._new((2,), self.accumulator_dtype)
        group = min(self.reduction_group, _next_power_of_two(rows))
        kernel = self._kernel("nn", x.dtype, "cross_entropy_sums_groups")
        kernel((group,), (group,), sums.allocation.address, loss.allocation.address, target.allocation.address,
               target.offset, weight is not None, weight_address, ignore_index, rows)  # fmt: skip
        return loss, logsumexp, sums

    def _raise_bad_target(self, target: CLBuffer, classes: int, ignore_index: int) -> None:
        flag = np.zeros(1, np.int32)
        self.queue.read(self._bad_target, 0, flag)
        if not flag[0]:
            return
        values = self.to_numpy(target)
        bad = values[(values != ignore_index) & ((values < 0) | (values >= classes))]
        raise IndexError(
            f"cross_entropy: target {int(bad[0])} is out of bounds: expected a class index in [0, {classes}) "
            f"or ignore_index={ignore_index}"
        )

    def cross_entropy_backward(self, x, target, weight, ignore_index, label_smoothing, logsumexp, grad):
        x, target, weight = self._dense_at_start(x), self.contiguous(target), self._dense_at_start(weight)
        logsumexp = self._dense_at_start(logsumexp)
        grad = self._dense_at_start(self.contiguous(self.expand(grad, target.shape)))
        _, classes, inner = _class_layout(x.shape)
        dx = self._new(x.shape, x.dtype)
        if dx.size == 0:
            return dx
        weight_sum = logsumexp  # (never read without a weight)
        if weight is not None:
            weight_sum = self._dense_at_start(self.cast(self.reduce("sum", weight, (0,), False), logsumexp.dtype))
        kernel = self._kernel("nn", x.dtype, "cross_entropy_backward")
        kernel(*self._grid(dx.size), dx.allocation.address, x.allocation.address, target.allocation.address,
               target.offset, weight is not None, self._address(weight, x), weight_sum.allocation.address, classes,
               inner, ignore_index, label_smoothing, logsumexp.allocation.address, grad.allocation.address,
               dx.size)  # fmt: skip
        return dx

    # --- optimizers -----------------------------------------------------------------------------
    def optimizer_step(self, kind, params, grads, states, steps, fresh, settings) -> None:
        # One launch per tensor on the in-order queue: tensors sharing memory update one after another.
        for i, param in enumerate(params):
            if param.size == 0:
                continue
            state = [None if lists is None else lists[i] for lists in states]
            in_place = [param, *[s for s in state if s is not None]]
            fresh_copies = [self._dense_at_start(b) for b in in_place]
            param_, *rest = fresh_copies
            state_ = [None if s is None else rest.pop(0) for s in state]
            grad = self._dense_at_start(self.contiguous(self.expand(grads[i], param.shape)))
            step = None if steps is None else steps[i]
            self._optimizer_launch(kind, param_, grad, state_, step, fresh is not None and fresh[i], settings)
            for original, updated in zip(in_place, fresh_copies):
                if updated is not original:  # a view at an offset was updated through a copy
                    self.assign(original, None, updated)

    def _optimizer_launch(self, kind, p, grad, state, step, fresh, s) -> None:
        addresses = [self._address(b, p) for b in (p, grad, *state)]
        sign = -1.0 if s.get("maximize") else 1.0
        lr, wd, eps = s.get("lr", 0.0), s.get("weight_decay", 0.0), s.get("eps", 0.0)
        kernel = self._kernel("nn", p.dtype, f"{kind}_step")
        grid = self._grid(p.size)
        if kind == "sgd":
            mu = s.get("momentum", 0.0)
            kernel(*grid, *addresses[:3], p.size, lr, wd, mu, 1 - s.get("dampening", 0.0), sign, bool(fresh),
                   bool(s.get("nesterov")), mu != 0)  # fmt: skip
        elif kind == "adam":
            beta1, beta2 = s["beta1"], s["beta2"]
            decoupled = bool(s.get("decoupled_weight_decay"))
            kernel(*grid, *addresses, p.size, -lr / (1 - beta1**step), math.sqrt(1 - beta2**step), 1 - beta1,
                   beta2, 1 - beta2, eps, sign, wd, 1 - lr * wd if decoupled else 1.0,
                   not decoupled and wd != 0, bool(s.get("amsgrad")))  # fmt: skip
        elif kind == "rmsprop":
            mu, alpha = s.get("momentum", 0.0), s["alpha"]
            kernel(*grid, *addresses, p.size, lr, wd, mu, eps, alpha, 1 - alpha, sign, mu > 0,
                   bool(s.get("centered")))  # fmt: skip
        else:
            minus_clr = -(lr / (1 + (step - 1) * s.get("lr_decay", 0.0)))
            kernel(*grid, *addresses[:3], p.size, wd, eps, sign, minus_clr)

    # --- reductions -------------------------------------------------------------------------
    def reduce(self, op, x, axes, keepdim) -> CLBuffer:
        kept = [d for d in range(x.ndim) if d not in axes]
        out = self._new([x.shape[d] for d in kept], x.dtype)
        if out.size and x.size == 0:
            if op != "sum":
                raise ValueError(f"{op}: a reduction over an empty dim has no identity")
            out = self.full(out.shape, 0, x.dtype)
        elif out.size:
            self._reduce_into(out, op, x, kept, axes)
        if keepdim:
            shape = tuple(1 if d in axes else size for d, size in enumerate(x.shape))
            return out.view(shape, dense_strides(shape))
        return out

    def _reduce_into(self, out: CLBuffer, op: str, x: CLBuffer, kept: list[int], axes) -> None:
        inner = sorted(axes, key=lambda d: -abs(x.strides[d]))  # the innermost reduced dim the densest
        inner_shape, (inner_strides,) = coalesce(tuple(x.shape[d] for d in inner), tuple(x.strides[d] for d in inner))
        outer_shape, (outer_strides,) = coalesce(tuple(x.shape[d] for d in kept), tuple(x.strides[d] for d in kept))
        inner_n = math.prod(inner_shape)
        args = (out.allocation.address, x.allocation.address, x.offset, _REDUCE_CODES[op], len(outer_shape),
                dims8(outer_shape), dims8(outer_strides), len(inner_shape), dims8(inner_shape),
                dims8(inner_strides), inner_n)  # fmt: skip
        if inner_n < _ITEMS_PER_OUTPUT_BELOW or out.size >= 1024:
            self._kernel("reduce", x.dtype, "reduce_items")(*self._grid(out.size), *args, out.size)
        else:
            group = min(self.reduction_group, _next_power_of_two(inner_n))
            self._kernel("reduce", x.dtype, "reduce_groups")((out.size * group,), (group,), *args)

    def arg_extremum(self, op, x, axis, keepdim) -> CLBuffer:
        out_shape = [size for d, size in enumerate(x.shape) if d != axis]
        out = self._new(out_shape, np.int64)
        if out.size:
            kept = [d for d in range(x.ndim) if d != axis]
            shape, (strides,) = coalesce(tuple(out_shape), tuple(x.strides[d] for d in kept))
            kernel = self._kernel("reduce", x.dtype, "arg_extremum")
            kernel(*self._grid(out.size), out.allocation.address, x.allocation.address, x.offset, op == "min",
                   len(shape), dims8(shape), dims8(strides), x.shape[axis], x.strides[axis], out.size)  # fmt: skip
        if keepdim:
            return self.reshape(out, tuple(1 if d == axis else s for d, s in enumerate(x.shape)), True)
        return out

    # --- linear algebra -----------------------------------------------------------------------
    def matmul(self, a, b) -> CLBuffer:
        batch_shape = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        (m, k), n = a.shape[-2:], b.shape[-1]
        out = self._new(batch_shape + (m, n), a.dtype)
        if out.size == 0:
            return out
        if a.dtype.kind != "f":
            raise TypeError(f"matmul: needs floating point tensors on {self.name}, got {a.dtype}")
        a_batch = _broadcast_strides(a.view(a.shape[:-2], a.strides[:-2]), batch_shape)
        b_batch = _broadcast_strides(b.view(b.shape[:-2], b.strides[:-2]), batch_shape)
        dims, (a_batch, b_batch) = coalesce(batch_shape, a_batch, b_batch)
        columns, rows = _MATMUL_BLOCK
        groups = (-(-n // columns), -(-m // rows), math.prod(batch_shape))  # work-items (rounded up to groups)
        kernel = self._kernel("matmul", a.dtype, self.matmul_kernel)
        kernel(groups, (_MATMUL_GROUP, _MATMUL_GROUP, 1), out.allocation.address, a.allocation.address, a.offset,
               a.strides[-2], a.strides[-1], b.allocation.address, b.offset, b.strides[-2], b.strides[-1], m, n, k,
               len(dims), dims8(dims), dims8(a_batch), dims8(b_batch))  # fmt: skip
        return out

    # --- movement -----------------------------------------------------------------------------
    def reshape(self, x, shape, allow_copy):
        shape = tuple(shape)
        strides = reshape_strides(x.shape, x.strides, shape)
        if strides is not None:
            return x.view(shape, strides)
        if not allow_copy:
            return None
        dense = self.cast(x, x.dtype)
        return dense.view(shape, dense_strides(shape))

    def permute(self, x, axes) -> CLBuffer:
        return x.view([x.shape[a] for a in axes], [x.strides[a] for a in axes])

    def expand(self, x, shape) -> CLBuffer:
        shape = tuple(shape)
        if shape == x.shape:
            return x
        return x.view(shape, _broadcast_strides(x, shape), writable=False)  # read-only, as np.broadcast_to

    def getitem(self, x, key) -> CLBuffer:
        if any(isinstance(part, CLBuffer) for part in key):
            # NOTE: indexing with index buffers (gather, x[idx], masks) goes through the host; the training
            # path of the layers never does it.
            return self.from_numpy(np.asarray(self.to_numpy(x)[(*self._host_key(key), Ellipsis)]))
        return basic_view(x, key)

    def _host_key(self, key: tuple) -> tuple:
        return tuple(self.to_numpy(part) if isinstance(part, CLBuffer) else part for part in key)

    def nonzero(self, mask) -> tuple[CLBuffer, ...]:
        # NOTE: the positions' count decides the output shape, so the host reads the mask.
        return tuple(self.from_numpy(positions) for positions in np.nonzero(self.to_numpy(mask)))

    def index_add(self, shape, key, source) -> CLBuffer:
        # NOTE: through the host, as getitem with index buffers (whose gradient this is).
        out = np.zeros(shape, dtype=source.dtype)
        np.add.at(out, self._host_key(key), self.to_numpy(source))
        return self.from_numpy(out)

    def pad(self, x, widths, value) -> CLBuffer:
        out = self.full(tuple(before + size + after for (before, after), size in zip(widths, x.shape)), value, x.dtype)
        self.assign(out, tuple(slice(before, before + size) for (before, _), size in zip(widths, x.shape)), x)
        return out

    def concatenate(self, buffers, axis) -> CLBuffer:
        first = buffers[0]
        total = sum(b.shape[axis] for b in buffers)
        out = self._new(first.shape[:axis] + (total,) + first.shape[axis + 1 :], first.dtype)
        start = 0
        for part in buffers:
            size = part.shape[axis]
            self.assign(out, (slice(None),) * axis + (slice(start, start + size),), part)
            start += size
        return out

    # --- fused normalization --------------------------------------------------------------------
    def batch_norm_forward(
        self, x, weight, bias, eps, batch_stats, running_mean, running_var, momentum, num_batches_tracked
    ):
        x, weight, bias = (self._dense_at_start(b) for b in (x, weight, bias))
        n, channels, spatial = x.shape
        y, mean, rstd = self._new(x.shape, x.dtype), self._new((channels,), x.dtype), self._new((channels,), x.dtype)
        counts = batch_stats and running_mean is not None and num_batches_tracked is not None
        if counts:
            num_batches_tracked.allocation.known_range = None
            kernel = self._kernel("elementwise", np.dtype(np.int64), "increment_counter")
            kernel((1,), None, num_batches_tracked.allocation.address, num_batches_tracked.offset)
        if channels == 0:
            return y, mean, rstd
        if batch_stats and n * spatial == 0:  # no values: NaN statistics, running ones unchanged
            nan = self.full((channels,), np.nan, x.dtype)
            return y, nan, self.full((channels,), np.nan, x.dtype)
        if batch_stats:
            group = min(self.reduction_group, _next_power_of_two(n * spatial))
            counter = num_batches_tracked if counts else x
            has_running = running_mean is not None
            kernel = self._kernel("nn", x.dtype, "batch_norm_statistics_groups")
            kernel((channels * group,), (group,), x.allocation.address, n, channels, spatial, eps,
                   mean.allocation.address, rstd.allocation.address, has_running, self._address(running_mean, x),
                   0 if running_mean is None else running_mean.offset, self._address(running_var, x),
                   0 if running_var is None else running_var.offset, 0.0 if momentum is None else momentum,
                   momentum is None, counter.allocation.address, counter.offset if counts else 0)  # fmt: skip
        else:
            kernel = self._kernel("nn", x.dtype, "batch_norm_running_statistics")
            kernel(*self._grid(channels), running_mean.allocation.address, running_mean.offset,
                   running_var.allocation.address, running_var.offset, eps, mean.allocation.address,
                   rstd.allocation.address, channels)  # fmt: skip
        if y.size:
            kernel = self._kernel("nn", x.dtype, "batch_norm_normalize")
            kernel(*self._grid(y.size), y.allocation.address, x.allocation.address, mean.allocation.address,
                   rstd.allocation.address, weight is not None, self._address(weight, x), bias is not None,
                   self._address(bias, x), channels, spatial, y.size)  # fmt: skip
        return y, mean, rstd

    def _gradient_outputs(self, x: CLBuffer, channels: int, needs) -> tuple:
        """Fresh (dx, dweight, dbias) where ``needs`` asks for them (dweight and dbias zeroed), else None."""
        dx = self._new(x.shape, x.dtype) if needs[0] else None
        dweight = self.full((channels,), 0, x.dtype) if needs[1] else None
        dbias = self.full((channels,), 0, x.dtype) if needs[2] else None
        return dx, dweight, dbias

    def batch_norm_backward(self, x, grad, mean, rstd, weight, batch_stats, needs):
        x, grad, mean, rstd, weight = (self._dense_at_start(b) for b in (x, grad, mean, rstd, weight))
        n, channels, spatial = x.shape
        dx, dweight, dbias = self._gradient_outputs(x, channels, needs)
        if channels == 0 or x.size == 0:
            return dx, dweight, dbias
        constants = self._new((3 * channels,), x.dtype)
        group = min(self.reduction_group, _next_power_of_two(n * spatial))
        kernel = self._kernel("nn", x.dtype, "batch_norm_gradient_groups")
        kernel((channels * group,), (group,), x.allocation.address, grad.allocation.address, mean.allocation.address,
               rstd.allocation.address, weight is not None, self._address(weight, x), batch_stats, n, channels,
               spatial, constants.allocation.address, dweight is not None, self._address(dweight, x),
               dbias is not None, self._address(dbias, x))  # fmt: skip
        if dx is not None:
            kernel = self._kernel("nn", x.dtype, "batch_norm_input_grad")
            kernel(*self._grid(dx.size), dx.allocation.address, x.allocation.address, grad.allocation.address,
                   mean.allocation.address, constants.allocation.address, channels, spatial, dx.size)  # fmt: skip
        return dx, dweight, dbias

    def group_norm_forward(self, x, weight, bias, eps, centered):
        x, weight, bias = (self._dense_at_start(b) for b in (x, weight, bias))
        n, groups, per_group, spatial = x.shape
        y = self._new(x.shape, x.dtype)
        mean, rstd = self._new((n, groups), x.dtype), self._new((n, groups), x.dtype)
        if n * groups == 0:
            return y, mean, rstd
        if x.size == 0:
            return y, self.full((n, groups), np.nan, x.dtype), self.full((n, groups), np.nan, x.dtype)
        group = min(self.reduction_group, _next_power_of_two(per_group * spatial))
        kernel = self._kernel("nn", x.dtype, "group_norm_forward_groups")
        kernel((n * groups * group,), (group,), y.allocation.address, x.allocation.address, weight is not None,
               self._address(weight, x), bias is not None, self._address(bias, x), groups, per_group, spatial,
               centered, eps, mean.allocation.address, rstd.allocation.address)  # fmt: skip
        return y, mean, rstd

    def group_norm_backward(self, x, grad, mean, rstd, weight, centered, needs):
        x, grad, mean, rstd, weight = (self._dense_at_start(b) for b in (x, grad, mean, rstd, weight))
        n, groups, per_group, spatial = x.shape
        dx, dweight, dbias = self._gradient_outputs(x, groups * per_group, needs)
        if x.size == 0:
            return dx, dweight, dbias
        if dx is not None:
            group = min(self.reduction_group, _next_power_of_two(per_group * spatial))
            kernel = self._kernel("nn", x.dtype, "group_norm_input_grad_groups")
            kernel((n * groups * group,), (group,), dx.allocation.address, x.allocation.address,
                   grad.allocation.address, mean.allocation.address, rstd.allocation.address, weight is not None,
                   self._address(weight, x), groups, per_group, spatial, centered)  # fmt: skip
        if dweight is not None or dbias is not None:
            group = min(self.reduction_group, _next_power_of_two(n * spatial))
            kernel = self._kernel("nn", x.dtype, "group_norm_affine_grad_groups")
            kernel((groups * per_group * group,), (group,), x.allocation.address, grad.allocation.address,
                   mean.allocation.address, rstd.allocation.address, n, groups, per_group, spatial,
                   dweight is not None, self._address(dweight, x), dbias is not None,
                   self._address(dbias, x))  # fmt: skip
        return dx, dweight, dbias
