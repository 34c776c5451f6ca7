"""Loss ops that need a backward other than the derivative of their forward."""

from __future__ import annotations

from tinygrad_bn.function import Function

LOG_FLOOR = -100.0  # PyTorch clamps BCE's logarithms here, so a probability of exactly 0 or 1 stays finite
BCE_GRADIENT_EPSILON = 1e-12  # and floors x(1 − x) in the gradient's denominator


class BinaryCrossEntropy(Function):
    """ℓ = −(y·max(log x, −100) + (1 − y)·max(log(1 − x), −100)) elementwise, on probabilities x.

    Backward is PyTorch's, not the derivative of the clamp: ∂ℓ/∂x = (x − y) / max(x(1 − x), 1e-12)
    (finite at x = 0 and 1) and ∂ℓ/∂y = −logit(x) = −log(x / (1 − x)).
    """

    def forward(self, x, y):
        self.save_for_backward(*self.inputs)
        backend = self.backend
        floor = backend.full((), LOG_FLOOR, x.dtype)
        one = backend.full((), 1.0, x.dtype)
        log_x = backend.binary("maximum", backend.unary("log", x), floor)
        log_one_minus_x = backend.binary("maximum", backend.unary("log1p", backend.unary("neg", x)), floor)
        # PyTorch's form: (y − 1)·log(1 − x) − y·log x
        negative_part = backend.binary("mul", backend.binary("sub", y, one), log_one_minus_x)
        return backend.binary("sub", negative_part, backend.binary("mul", y, log_x))

    def backward(self, grad):
        x, y = self.saved_tensors
        grad_x = grad * (x - y) / (x * (1 - x)).clamp(min=BCE_GRADIENT_EPSILON) if self.needs_input_grad[0] else None
        grad_y = -grad * (x / (1 - x)).log() if self.needs_input_grad[1] else None
        return grad_x, grad_y
