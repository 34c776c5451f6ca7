"""Elementwise ops. Inputs arrive broadcast-compatible and of one dtype; the autograd engine sums
each gradient back to its input's shape, so the backwards below ignore broadcasting."""

from __future__ import annotations

import math

from tinygrad_bn.function import Function


class UnaryFunction(Function):
    """A one-input op computed by the backend's unary kernel named ``op``."""

    op: str

    def forward(self, x):
        return self.backend.unary(self.op, x)


class Neg(UnaryFunction):
    op = "neg"

    def backward(self, grad):
        return -grad


class Exp(UnaryFunction):
    op = "exp"

    def forward(self, x):
        self.save_output()
        return super().forward(x)

    def backward(self, grad):  # d eˣ = eˣ
        return grad * self.output


class Expm1(UnaryFunction):
    """eˣ − 1, exact near x = 0 where ``exp(x) - 1`` cancels (ELU and SELU use it, as PyTorch does)."""

    op = "expm1"

    def forward(self, x):
        self.save_output()
        return super().forward(x)

    def backward(self, grad):  # d(eˣ − 1) = eˣ
        return grad * (self.output + 1)


class Erf(UnaryFunction):
    """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (exact GELU uses it)."""

    op = "erf"

    def forward(self, x):
        self.save_for_backward(*self.inputs)
        return super().forward(x)

    def backward(self, grad):  # d erf(x) = 2/√π · e^(−x²)
        (x,) = self.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Log(UnaryFunction):
    op = "log"

    def forward(self, x):
        self.save_for_backward(*self.inputs)
        return super().forward(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad / x


class Log1p(UnaryFunction):
    op = "log1p"

    def forward(self, x):
        self.save_for_backward(*self.inputs)
        return super().forward(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad / (x + 1)


class Sqrt(UnaryFunction):
    op = "sqrt"

    def forward(self, x):
        self.save_output()
        return super().forward(x)

    def backward(self, grad):  # d √x = 1 / (2√x)
        return grad / (self.output * 2)


class SqrtZeroGradientAtZero(Sqrt):
    """√x whose derivative at x = 0 is taken as 0 instead of ∞ (PyTorch's choice for std)."""

    def backward(self, grad):
        out = self.output
        return (grad / (out * 2)).where(out != 0, 0.0)


class Sin(UnaryFunction):
    op = "sin"

    def forward(self, x):
        self.save_for_backward(*self.inputs)
        return super().forward(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * x.cos()


class Cos(UnaryFunction):
    op = "cos"

    def forward(self, x):
        self.save_for_backward(*self.inputs)
        return super().forward(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return -grad * x.sin()


class IntegerRelu(UnaryFunction):
    """max(0, x) of an integer tensor, which carries no gradient (floating ones take the fused
    ``activation.Relu``)."""

    op = "relu"


class Abs(UnaryFunction):
    op = "abs"

    def forward(self, x):
        self.save_for_backward(*self.inputs)
        return super().forward(x)

    def backward(self, grad):
        # NOTE: sign(0) = 0, so |x| has gradient 0 at 0, as in PyTorch.
        (x,) = self.saved_tensors
        return grad * x.sign()


class Sign(UnaryFunction):
    op = "sign"

    def backward(self, grad):  # piecewise constant: d sign(x) = 0 (PyTorch's choice at 0 too)
        return grad.new_zeros(grad.shape)


class Add(Function):
    def forward(self, a, b):
        return self.backend.binary("add", a, b)

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    def forward(self, a, b):
        return self.backend.binary("sub", a, b)

    def backward(self, grad):
        return grad, -grad if self.needs_input_grad[1] else None


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(*self.inputs_needed_by_other_grads())
        return self.backend.binary("mul", a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        return (
            grad * b if self.needs_input_grad[0] else None,
            grad * a if self.needs_input_grad[1] else None,
        )


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(self.inputs[0] if self.needs_input_grad[1] else None, self.inputs[1])
        return self.backend.binary("div", a, b)

    def backward(self, grad):  # d(a/b) = da/b − a·db/b²
        a, b = self.saved_tensors
        return (
            grad / b if self.needs_input_grad[0] else None,
            -grad * a / (b * b) if self.needs_input_grad[1] else None,
        )


class Pow(Function):
    def forward(self, base, exponent):
        self.save_for_backward(*self.inputs)
        if self.needs_input_grad[1]:
            self.save_output()
        return self.backend.binary("pow", base, exponent)

    def backward(self, grad):
        # d(aᵇ)/da = b·aᵇ⁻¹, taken as 0 where b == 0 (so 0⁰ has gradient 0, as in PyTorch);
        # d(aᵇ)/db = aᵇ·ln a, taken as 0 where a == 0 and b >= 0 (the limit from the right).
        base, exponent = self.saved_tensors
        grad_base = grad_exponent = None
        if self.needs_input_grad[0]:
            grad_base = (grad * exponent * base ** (exponent - 1)).where(exponent != 0, 0.0)
        if self.needs_input_grad[1]:
            at_zero = (base == 0) & (exponent >= 0)
            grad_exponent = (grad * self.output * base.where(~at_zero, 1.0).log()).where(~at_zero, 0.0)
        return grad_base, grad_exponent


class Maximum(Function):
    def forward(self, a, b):
        self.save_for_backward(*self.inputs)
        return self.backend.binary("maximum", a, b)

    def backward(self, grad):
        # NOTE: ties split the gradient evenly between a and b, as in PyTorch.
        a, b = self.saved_tensors
        share = (a > b) + (a == b) * 0.5
        return grad * share, grad * (1 - share)


class Minimum(Function):
    def forward(self, a, b):
        self.save_for_backward(*self.inputs)
        return self.backend.binary("minimum", a, b)

    def backward(self, grad):
        # NOTE: ties split the gradient evenly between a and b, as in PyTorch.
        a, b = self.saved_tensors
        share = (a < b) + (a == b) * 0.5
        return grad * share, grad * (1 - share)


class Where(Function):
    def forward(self, condition, a, b):
        self.save_for_backward(self.inputs[0])
        return self.backend.where(condition, a, b)

    def backward(self, grad):
        (condition,) = self.saved_tensors
        return None, grad.where(condition, 0.0), grad.where(~condition, 0.0)


class Clamp(Function):
    """clamp(x, min, max) with Python-number bounds (either may be None)."""

    def forward(self, x, min=None, max=None):
        self.save_for_backward(*self.inputs)
        self.bounds = (min, max)
        out = x
        if min is not None:
            out = self.backend.binary("maximum", out, self.backend.full((), min, x.dtype))
        if max is not None:
            out = self.backend.binary("minimum", out, self.backend.full((), max, x.dtype))
        return out

    def backward(self, grad):
        # NOTE: the gradient passes where min <= x <= max, bounds included, as in PyTorch.
        (x,) = self.saved_tensors
        low, high = self.bounds
        inside = grad
        if low is not None:
            inside = inside.where(x >= low, 0.0)
        if high is not None:
            inside = inside.where(x <= high, 0.0)
        return inside


class Cast(Function):
    def forward(self, x, dtype=None):
        self.source_dtype = self.inputs[0].dtype
        return self.backend.cast(x, dtype.numpy)

    def backward(self, grad):
        return grad.to(self.source_dtype)
