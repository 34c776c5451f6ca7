"""Normalization ops: one fused kernel per direction.

``BatchNorm`` takes statistics per channel of x viewed as (n, channels, spatial); ``GroupNorm``
takes them per (sample, group) row of x viewed as (n, groups, channels_per_group, spatial), which
also serves layer norm (one group, affine per element), instance norm (one channel per group) and
RMS norm (``centered=False``). Inputs are (x, [weight], [bias]), which of the two are present given
by ``affine_inputs``; weight and bias hold one value per channel.

Forward keeps the kernel's mean and rstd for backward. Backward runs the fused kernel when no graph
is being recorded (a plain ``backward()``); with ``create_graph=True`` it builds the same three-term
formula from Tensor ops, statistics recomputed from x, so second derivatives are exact.
"""

from __future__ import annotations

import math

from tinygrad_bn.function import Function, is_grad_enabled, tensor_type


class _Normalization(Function):
    """Shared backward. Subclasses' forward sets ``view_shape`` (the (A, G, K, S) view the composite
    backward works on: statistics over ``stat_axes``, one weight per (g, k)),
    ``mean``/``rstd`` (buffers), ``eps`` and ``centered``/``batch_stats``."""

    stat_axes: tuple[int, ...]
    batch_stats = True
    centered = True

    def _prepare(self, x, affine, affine_inputs, kernel_shape):
        """x as a dense buffer of ``kernel_shape`` (kept for the fused backward), and the dense
        weight and bias buffers (or None)."""
        backend = self.backend
        self.has_weight, self.has_bias = affine_inputs
        self.save_for_backward(self.inputs[0], self.inputs[1] if self.has_weight else None)
        parameters = [backend.contiguous(p) for p in affine]
        weight = parameters[0] if self.has_weight else None
        bias = parameters[-1] if self.has_bias else None
        self.dense_x = backend.reshape(backend.contiguous(x), kernel_shape, True)
        return self.dense_x, weight, bias

    def backward(self, grad):
        x, weight = self.saved_tensors
        backward = self._composite_backward if is_grad_enabled() else self._fused_backward
        dx, dweight, dbias = backward(grad, x, weight)
        return (dx,) + ((dweight,) if self.has_weight else ()) + ((dbias,) if self.has_bias else ())

    def release(self) -> None:
        super().release()
        self.dense_x = None

    def _needs(self) -> tuple[bool, bool, bool]:
        needs = self.needs_input_grad
        return needs[0], self.has_weight and needs[1], self.has_bias and needs[-1]

    def _fused_backward(self, grad, x, weight):
        backend, device, x_buffer = self.backend, x.device, self.dense_x
        grad_buffer = backend.reshape(backend.contiguous(grad._buffer), x_buffer.shape, True)
        weight_buffer = None if weight is None else backend.contiguous(weight._buffer)
        gradients = self._kernel_backward(x_buffer, grad_buffer, weight_buffer, self._needs())
        # (dweight is None without a weight, so input_shapes[0] only stands in there.)
        shapes = (self.input_shapes[0], self.input_shapes[1 if self.has_weight else 0], self.input_shapes[-1])
        return [
            None if b is None else tensor_type()._wrap(b if b.shape == s else backend.reshape(b, s, True), device)
            for b, s in zip(gradients, shapes)
        ]

    def _composite_backward(self, grad, x, weight):
        """dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·dy, from Tensor ops (see ctensor/src/norm.c)."""
        from tinygrad_bn.tensor import Tensor

        shape, axes = self.view_shape, self.stat_axes
        x, grad = x.reshape(shape), grad.reshape(shape)
        if self.batch_stats:
            mean = x.mean(axes, keepdim=True) if self.centered else 0
            centered = x - mean
            rstd = ((centered * centered).mean(axes, keepdim=True) + self.eps).rsqrt()
        else:  # running statistics: constants
            statistics_shape = (1, 1, shape[2], 1)
            centered = x - Tensor._wrap(self.backend.reshape(self.mean, statistics_shape, True), x.device)
            rstd = Tensor._wrap(self.backend.reshape(self.rstd, statistics_shape, True), x.device)
        normalized = centered * rstd
        needs = self._needs()
        parameter_axes = (0, 3)
        dweight = (grad * normalized).sum(parameter_axes).reshape(self.input_shapes[1]) if needs[1] else None
        dbias = grad.sum(parameter_axes).reshape(self.input_shapes[-1]) if needs[2] else None
        dx = None
        if needs[0]:
            g = grad * weight.reshape(1, shape[1], shape[2], 1) if weight is not None else grad
            if self.batch_stats:  # terms 3 and 2: through the variance and the mean
                correction = normalized * (g * normalized).mean(axes, keepdim=True)
                g = g - (correction + g.mean(axes, keepdim=True) if self.centered else correction)
            dx = (g * rstd).reshape(self.input_shapes[0])
        return dx, dweight, dbias


class BatchNorm(_Normalization):
    """Batch norm, statistics per channel (dim 1) over every other dim.

    ``batch_stats``: this batch's statistics; running buffers (Tensors, dense, of x's dtype), when
    given, are updated in place with rate ``momentum``, or 1/num_batches_tracked when ``momentum``
    is None (a cumulative average); ``num_batches_tracked`` (an int64 Tensor), when given, counts
    the update. Otherwise the running buffers are the statistics (eval) and nothing changes.
    """

    stat_axes = (0, 3)

    def forward(
        self,
        x,
        *affine,
        affine_inputs=(False, False),
        eps=1e-5,
        batch_stats=True,
        running_mean=None,
        running_var=None,
        momentum=0.1,
        num_batches_tracked=None,
    ):
        shape = x.shape
        n, channels, spatial = shape[0], shape[1], math.prod(shape[2:])
        self.view_shape, self.eps, self.batch_stats = (n, 1, channels, spatial), eps, batch_stats
        x, weight, bias = self._prepare(x, affine, affine_inputs, (n, channels, spatial))
        backend = self.backend
        running_tensors = () if running_mean is None else (running_mean, running_var)
        updated = running_tensors if batch_stats else ()
        if num_batches_tracked is not None and updated:
            updated += (num_batches_tracked,)
        for tensor in updated:
            if not backend.is_writable(tensor._buffer):
                raise RuntimeError(f"batch_norm: the running statistic of shape {tensor.shape} is read-only memory")
        running = [backend.contiguous(t._buffer) for t in running_tensors] or [None, None]
        counter = num_batches_tracked._buffer if num_batches_tracked is not None else None
        y, self.mean, self.rstd = backend.batch_norm_forward(
            x, weight, bias, eps, batch_stats, *running, momentum, counter
        )
        for tensor, buffer in zip(updated, running):
            if buffer is not tensor._buffer:  # a strided view was updated through a dense copy
                backend.assign(tensor._buffer, None, buffer)
        for tensor in updated:
            tensor._version.value += 1
        return backend.reshape(y, shape, True)

    def _kernel_backward(self, x, grad, weight, needs):
        return self.backend.batch_norm_backward(x, grad, self.mean, self.rstd, weight, self.batch_stats, needs)


class GroupNorm(_Normalization):
    """Statistics per (sample, group) row of x viewed as ``layout`` = (n, groups,
    channels_per_group, spatial); ``centered=False`` is RMS norm."""

    stat_axes = (2, 3)

    def forward(self, x, *affine, affine_inputs=(False, False), layout=(), eps=1e-5, centered=True):
        self.view_shape, self.eps, self.centered = layout, eps, centered
        dense, weight, bias = self._prepare(x, affine, affine_inputs, layout)
        y, self.mean, self.rstd = self.backend.group_norm_forward(dense, weight, bias, eps, centered)
        return self.backend.reshape(y, x.shape, True)

    def _kernel_backward(self, x, grad, weight, needs):
        return self.backend.group_norm_backward(x, grad, self.mean, self.rstd, weight, self.centered, needs)
