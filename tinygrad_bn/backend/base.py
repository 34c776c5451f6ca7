"""The device contract: everything ``Tensor`` and the ops ask of a device.

A backend owns device buffers. A buffer is whatever the device uses (a NumPy array on the CPU,
an OpenCL buffer view later) and must expose ``.shape`` (a tuple of ints) and ``.dtype`` (a NumPy
dtype). Buffers may be views of one another (reshape, permute, expand, basic slicing); writes
through one are seen through the others. The Tensor layer validates shapes, dtypes and indices
before calling in, so a backend may trust its arguments.

Nothing here knows about autograd: gradients are composed from these operations by the ops in
``tinygrad_bn.ops``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

import numpy as np

Buffer = Any
UnaryOp = Literal["neg", "exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "erf", "relu", "abs", "sign", "not"]
BinaryOp = Literal[
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "and", "or"
]
ReduceOp = Literal["sum", "max", "min"]
OptimizerKind = Literal["sgd", "adam", "rmsprop", "adagrad"]
ActivationKind = Literal["sigmoid", "tanh", "swish", "elu", "gelu", "gelu_tanh", "relu"]
# Index keys hold Python ints, slices, None, Ellipsis and int64 index buffers of this device.
IndexKey = tuple


class Backend(ABC):
    """One device's implementation of the contract."""

    name: str

    # --- memory --------------------------------------------------------------------------
    @abstractmethod
    def from_numpy(self, array: np.ndarray) -> Buffer:
        """A device buffer holding ``array``'s values (may share host memory on the CPU)."""

    @abstractmethod
    def to_numpy(self, buffer: Buffer) -> np.ndarray:
        """The buffer's values as a host array (a view where the device is the host)."""

    @abstractmethod
    def full(self, shape: tuple[int, ...], value: float | int | bool, dtype: np.dtype) -> Buffer:
        """A new contiguous buffer filled with ``value``."""

    @abstractmethod
    def cast(self, buffer: Buffer, dtype: np.dtype) -> Buffer:
        """A new dense row-major buffer with the values converted to ``dtype``."""

    @abstractmethod
    def is_contiguous(self, buffer: Buffer) -> bool:
        """Whether the buffer is dense row-major (its elements in order, no gaps)."""

    @abstractmethod
    def contiguous(self, buffer: Buffer) -> Buffer:
        """The buffer itself if it is dense row-major, else a dense copy."""

    @abstractmethod
    def assign(self, destination: Buffer, key: IndexKey | None, source: Buffer) -> None:
        """Write ``source`` (broadcast) into ``destination[key]`` (all of it when key is None)."""

    @abstractmethod
    def is_writable(self, buffer: Buffer) -> bool:
        """Whether ``assign`` may write into ``buffer`` (not a broadcast view, not read-only memory)."""

    @abstractmethod
    def shares_memory(self, a: Buffer, b: Buffer) -> bool:
        """Whether writes through one buffer can change the other."""

    # --- elementwise (inputs broadcast against each other, same dtype) --------------------
    @abstractmethod
    def unary(self, op: UnaryOp, x: Buffer) -> Buffer: ...

    @abstractmethod
    def binary(self, op: BinaryOp, a: Buffer, b: Buffer) -> Buffer:
        """Comparisons return bool buffers; everything else keeps the operands' dtype."""

    @abstractmethod
    def where(self, condition: Buffer, a: Buffer, b: Buffer) -> Buffer: ...

    # --- fused activations (float buffers) -------------------------------------------------
    @abstractmethod
    def activation(self, kind: ActivationKind, x: Buffer, alpha: float, scale: float, beta: float) -> Buffer:
        """f(x) in one pass: sigmoid, tanh, swish x·σ(βx), elu scale·(x > 0 ? x : α(eˣ − 1)),
        gelu x/2·(1 + erf(x/√2)), gelu_tanh x/2·(1 + tanh(√(2/π)(x + 0.044715x³))), relu (x <= 0 ? 0 : x)."""

    @abstractmethod
    def activation_backward(
        self, kind: ActivationKind, saved: Buffer, grad: Buffer, alpha: float, scale: float, beta: float
    ) -> Buffer:
        """grad·f′ in one pass, from ``saved``: the output for sigmoid, tanh and relu (y <= 0 ? 0 : grad),
        the input otherwise."""

    # --- fused losses ----------------------------------------------------------------------
    @abstractmethod
    def cross_entropy(
        self, x: Buffer, target: Buffer, weight: Buffer | None, ignore_index: int, label_smoothing: float
    ) -> tuple[Buffer, Buffer, Buffer]:
        """Softmax cross entropy of logits ``x`` (N, C, *) with int64 class indices ``target`` (N, *),
        in one pass (see ``ct_cross_entropy_forward``): (loss per row, float64 log-sum-exp per row,
        float64 [Σ loss, Σ w[t] over the targets not ignored]). Raises IndexError naming a target
        that is neither ignore_index nor in [0, C)."""

    @abstractmethod
    def cross_entropy_backward(
        self,
        x: Buffer,
        target: Buffer,
        weight: Buffer | None,
        ignore_index: int,
        label_smoothing: float,
        logsumexp: Buffer,
        grad: Buffer,
    ) -> Buffer:
        """d loss / d x times ``grad`` (one entry per row), from forward's log-sum-exp."""

    # --- optimizers ------------------------------------------------------------------------
    @abstractmethod
    def optimizer_step(
        self,
        kind: OptimizerKind,
        params: list[Buffer],
        grads: list[Buffer],
        states: tuple[list[Buffer] | None, list[Buffer] | None, list[Buffer] | None],
        steps: list[int] | None,
        fresh: list[bool] | None,
        settings: dict[str, float | bool],
    ) -> None:
        """Update ``params`` and the state buffers in place for one step of ``kind`` (``sgd``,
        ``adam``, ``rmsprop`` or ``adagrad``; see ``ct_optimizer_step`` for the rules and for which
        state lists each reads). All buffers are dense, of one float dtype, grads shaped like params."""

    # --- reductions ----------------------------------------------------------------------
    @abstractmethod
    def reduce(self, op: ReduceOp, x: Buffer, axes: tuple[int, ...], keepdim: bool) -> Buffer:
        """Reduce over ``axes`` (sorted, non-negative, possibly empty)."""

    @abstractmethod
    def arg_extremum(self, op: Literal["max", "min"], x: Buffer, axis: int, keepdim: bool) -> Buffer:
        """int64 index of the first maximum (op "max") or minimum along ``axis``; a NaN wins either way.
        ``x`` is float or int64."""

    # --- linear algebra ------------------------------------------------------------------
    @abstractmethod
    def matmul(self, a: Buffer, b: Buffer) -> Buffer:
        """(..., m, k) @ (..., k, n) -> (..., m, n); batch dims broadcast, both at least 2-D."""

    # --- movement (views where the layout allows) -----------------------------------------
    @abstractmethod
    def reshape(self, x: Buffer, shape: tuple[int, ...], allow_copy: bool) -> Buffer | None:
        """A buffer of the new shape; None when ``allow_copy`` is False and a view is impossible."""

    @abstractmethod
    def permute(self, x: Buffer, axes: tuple[int, ...]) -> Buffer: ...

    @abstractmethod
    def expand(self, x: Buffer, shape: tuple[int, ...]) -> Buffer:
        """Broadcast view: size-1 dims repeat without copying; new leading dims may be added."""

    @abstractmethod
    def getitem(self, x: Buffer, key: IndexKey) -> Buffer:
        """NumPy/PyTorch indexing: a view for basic keys, a copy when index buffers appear."""

    @abstractmethod
    def nonzero(self, mask: Buffer) -> tuple[Buffer, ...]:
        """The positions of the True elements of a bool buffer: one int64 buffer per dim, in
        row-major order (what ``x[mask]`` indexes with)."""

    @abstractmethod
    def index_add(self, shape: tuple[int, ...], key: IndexKey, source: Buffer) -> Buffer:
        """zeros(shape) with ``source`` added at ``[key]``; repeated indices accumulate."""

    @abstractmethod
    def pad(self, x: Buffer, widths: tuple[tuple[int, int], ...], value: float) -> Buffer:
        """Constant padding: ``widths[d] = (before, after)`` for every dim."""

    @abstractmethod
    def concatenate(self, buffers: list[Buffer], axis: int) -> Buffer: ...

    # --- fused normalization (dense float buffers of one dtype; None = no weight/bias) ----------
    @abstractmethod
    def batch_norm_forward(
        self,
        x: Buffer,
        weight: Buffer | None,
        bias: Buffer | None,
        eps: float,
        batch_stats: bool,
        running_mean: Buffer | None,
        running_var: Buffer | None,
        momentum: float | None,
        num_batches_tracked: Buffer | None,
    ) -> tuple[Buffer, Buffer, Buffer]:
        """Batch norm of x (n, channels, spatial), statistics per channel: returns (y, mean, rstd).

        ``batch_stats``: this batch's mean and biased variance, and when running buffers are given
        they are updated in place (running = (1 − momentum)·running + momentum·batch value, with
        the unbiased variance), after incrementing ``num_batches_tracked`` (an int64 0-d buffer)
        when that is given; ``momentum=None`` then means 1/num_batches_tracked (a cumulative
        average). Otherwise the running buffers are the statistics and nothing changes.
        """

    @abstractmethod
    def batch_norm_backward(
        self,
        x: Buffer,
        grad: Buffer,
        mean: Buffer,
        rstd: Buffer,
        weight: Buffer | None,
        batch_stats: bool,
        needs: tuple[bool, bool, bool],
    ) -> tuple[Buffer | None, Buffer | None, Buffer | None]:
        """(dx, dweight, dbias) of batch norm, each None unless ``needs`` asks for it."""

    @abstractmethod
    def group_norm_forward(
        self, x: Buffer, weight: Buffer | None, bias: Buffer | None, eps: float, centered: bool
    ) -> tuple[Buffer, Buffer, Buffer]:
        """Normalization of x (n, groups, channels_per_group, spatial) with statistics per
        (sample, group) and affine per channel: returns (y, mean, rstd), mean and rstd (n, groups).
        ``centered=False`` is RMS norm (no mean subtracted, mean returned as zeros)."""

    @abstractmethod
    def group_norm_backward(
        self,
        x: Buffer,
        grad: Buffer,
        mean: Buffer,
        rstd: Buffer,
        weight: Buffer | None,
        centered: bool,
        needs: tuple[bool, bool, bool],
    ) -> tuple[Buffer | None, Buffer | None, Buffer | None]:
        """(dx, dweight, dbias) of group norm, each None unless ``needs`` asks for it."""
