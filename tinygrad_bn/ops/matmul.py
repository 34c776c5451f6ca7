"""Matrix product of operands with at least two dims each; batch dims broadcast."""

from __future__ import annotations

from tinygrad_bn.function import Function


class Matmul(Function):
    def forward(self, a, b):
        self.save_for_backward(*self.inputs_needed_by_other_grads())
        return self.backend.matmul(a, b)

    def backward(self, grad):  # C = AB: dA = dC·Bᵀ, dB = Aᵀ·dC (batch broadcasting summed by the engine)
        a, b = self.saved_tensors
        return (
            grad @ b.transpose(-1, -2) if self.needs_input_grad[0] else None,
            a.transpose(-1, -2) @ grad if self.needs_input_grad[1] else None,
        )


class Linear(Function):
    """y = x·Wᵀ + b over the last dim of x: x (*, in), W (out, in), b (out,) when given.

    One op rather than matmul, transpose and add, so the weight's gradient comes out as a fresh
    (out, in) matrix: dW = dyᵀ·x and db = Σ dy over every dim but the last; dx = dy·W.
    """

    def forward(self, x, weight, *bias):
        x_tensor, weight_tensor = self.inputs[:2]  # (x and weight here are the device buffers)
        self.save_for_backward(
            x_tensor if self.needs_input_grad[1] else None, weight_tensor if self.needs_input_grad[0] else None
        )
        out = self.backend.matmul(x, self.backend.permute(weight, (1, 0)))
        return self.backend.binary("add", out, bias[0]) if bias else out

    def backward(self, grad):
        x, weight = self.saved_tensors
        features_out = grad.shape[-1]
        rows = grad.reshape(-1, features_out)
        grad_x = grad @ weight if self.needs_input_grad[0] else None
        grad_weight = rows.T @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None
        grad_bias = rows.sum(0) if len(self.needs_input_grad) > 2 and self.needs_input_grad[2] else None
        return grad_x, grad_weight, grad_bias
