"""Fused activations: one kernel pass forward and one backward (``ct_activation_*`` on the CPU).

An activation's backward is itself an op, ``ActivationGrad``: dx = dy·f′. Its own backward is
written with Tensor ops from the activation's ``slope_derivative``, so first-order training runs
the fused kernel both ways while second and higher derivatives stay exact.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tinygrad_bn.function import Function

if TYPE_CHECKING:
    from tinygrad_bn.tensor import Tensor

# GELU's tanh form: u = √(2/π)·(x + 0.044715·x³)
GELU_TANH_K = math.sqrt(2 / math.pi)
GELU_TANH_C = 0.044715


class Activation(Function):
    """y = f(x) for the backend activation named ``kind``, with parameters alpha, scale and beta.

    f′ is computed from the output when ``saves_output`` (sigmoid, tanh), else from the input;
    ``slope_derivative`` is the derivative of f′ with respect to that saved tensor.
    """

    kind: str
    saves_output = False

    def forward(self, x, alpha: float = 1.0, scale: float = 1.0, beta: float = 1.0):
        self.params = {"alpha": alpha, "scale": scale, "beta": beta}
        if self.saves_output:
            self.save_output()
        else:
            self.save_for_backward(*self.inputs)
        return self.backend.activation(self.kind, x, **self.params)

    def backward(self, grad):
        saved = self.output if self.saves_output else self.saved_tensors[0]
        return ActivationGrad.apply(saved, grad, activation=type(self), params=self.params)

    @staticmethod
    def slope_derivative(saved: Tensor, alpha: float, scale: float, beta: float) -> Tensor | None:
        """(f′)′ with respect to the saved tensor; None where it is 0 everywhere."""
        raise NotImplementedError


class ActivationGrad(Function):
    """dx = dy·f′(saved), fused; its backward: d/d(dy) = f′(saved), d/d(saved) = dy·(f′)′(saved)."""

    def forward(self, saved, grad, activation: type[Activation], params: dict):
        self.activation, self.params = activation, params
        self.save_for_backward(*self.inputs)
        return self.backend.activation_backward(activation.kind, saved, grad, **params)

    def backward(self, grad_of_dx):
        saved, grad = self.saved_tensors
        grad_saved = grad_grad = None
        if self.needs_input_grad[0]:
            curvature = self.activation.slope_derivative(saved, **self.params)
            # (None: f′ is piecewise constant, so f″ = 0 exactly, even where grad or grad_of_dx is infinite)
            grad_saved = saved.new_zeros(saved.shape) if curvature is None else grad_of_dx * grad * curvature
        if self.needs_input_grad[1]:
            grad_grad = ActivationGrad.apply(saved, grad_of_dx, activation=self.activation, params=self.params)
        return grad_saved, grad_grad


class Relu(Activation):
    """max(0, x) (NaN stays NaN); f′ = 0 where y <= 0 (so at x = 0, PyTorch's choice) and 1 elsewhere,
    a NaN passing its gradient, from the output y."""

    kind = "relu"
    saves_output = True

    @staticmethod
    def slope_derivative(y, alpha, scale, beta):  # f′ is 0 or 1: f″ = 0
        return None


class Sigmoid(Activation):
    """σ(x) = 1/(1 + e⁻ˣ); σ′ = y(1 − y) from the output y."""

    kind = "sigmoid"
    saves_output = True

    @staticmethod
    def slope_derivative(y, alpha, scale, beta):  # d[y(1 − y)]/dy
        return 1 - 2 * y


class Tanh(Activation):
    """tanh x; tanh′ = 1 − y² from the output y."""

    kind = "tanh"
    saves_output = True

    @staticmethod
    def slope_derivative(y, alpha, scale, beta):  # d[1 − y²]/dy
        return -2 * y


class Swish(Activation):
    """x·σ(βx) for a number β (SiLU at β = 1); f′ = s(1 + βx(1 − s)) with s = σ(βx)."""

    kind = "swish"

    @staticmethod
    def slope_derivative(x, alpha, scale, beta):  # f″ = β·s(1 − s)·(2 + βx(1 − 2s))
        s = (x * beta).sigmoid()
        return beta * s * (1 - s) * (2 + beta * x * (1 - 2 * s))


class ExponentialLinear(Activation):
    """scale·x for x > 0, scale·α·(eˣ − 1) otherwise (ELU; SELU with its α and scale)."""

    kind = "elu"

    @staticmethod
    def slope_derivative(x, alpha, scale, beta):  # f″ = 0 for x > 0, scale·α·eˣ otherwise
        # NOTE: exp sees min(x, 0) only, so the branch not taken stays finite.
        return (x.clamp(max=0.0).exp() * (alpha * scale)).where(x <= 0, 0.0)


class Gelu(Activation):
    """x·Φ(x) = x/2·(1 + erf(x/√2)); f′ = Φ(x) + x·φ(x)."""

    kind = "gelu"

    @staticmethod
    def slope_derivative(x, alpha, scale, beta):  # f″ = φ(x)(2 − x²), φ(x) = e^(−x²/2)/√(2π)
        density = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return density * (2 - x * x)


class GeluTanh(Activation):
    """x/2·(1 + tanh u) = x·σ(2u), u = √(2/π)(x + 0.044715x³) (no cancellation for x < 0);
    f′ = s + 2x·s(1 − s)·u′ with s = σ(2u)."""

    kind = "gelu_tanh"

    @staticmethod
    def slope_derivative(x, alpha, scale, beta):  # f″ = 4s(1 − s)·(u′ − x(2s − 1)u′² + x·u″/2)
        s = ((x + GELU_TANH_C * x * x * x) * (2 * GELU_TANH_K)).sigmoid()
        du = GELU_TANH_K * (1 + 3 * GELU_TANH_C * x * x)
        ddu = 6 * GELU_TANH_K * GELU_TANH_C * x
        return 4 * s * (1 - s) * (du - x * (2 * s - 1) * du * du + 0.5 * x * ddu)
