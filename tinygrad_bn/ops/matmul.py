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
