"""Finite-difference checks of gradients (first and second order)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinygrad_bn import autograd
from tinygrad_bn.function import enable_grad, no_grad
from tinygrad_bn.random import generator
from tinygrad_bn.tensor import Tensor, tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def _outputs(fn: Callable[..., Tensor | Sequence[Tensor]], inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    return [out] if isinstance(out, Tensor) else list(out)


def _numeric_jacobian_column(fn, inputs, which: int, flat_index: int, eps: float) -> list[list[float]]:
    """d outputs / d inputs[which].flat[flat_index] by central differences, one list per output."""
    columns = []
    with no_grad():
        values = []
        for sign in (1, -1):
            perturbed = inputs[which].detach().clone()
            perturbed[np.unravel_index(flat_index, perturbed.shape)] += sign * eps
            arguments = [perturbed if i == which else t.detach() for i, t in enumerate(inputs)]
            values.append([o.double().reshape(-1).tolist() for o in _outputs(fn, arguments)])
        for plus, minus in zip(*values):
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    return columns


def gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare autograd's Jacobian of ``fn`` with central differences, element by element.

    numeric[i, j] = (f(x + eps·e_j)[i] − f(x − eps·e_j)[i]) / (2·eps); an element passes iff
    |analytic − numeric| <= atol + rtol·|numeric|. Only inputs with ``requires_grad`` are checked;
    they must be float64 (float32 cannot meet these tolerances). Returns True or raises
    ``GradcheckError`` describing the worst element.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype.name != "float64":
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; gradcheck needs float64 inputs")
    outputs = _outputs(fn, inputs)
    for o_index, output in enumerate(outputs):
        if not output.requires_grad:
            continue
        flat = output.reshape(-1)
        for i in checked:
            analytic_rows = []  # analytic_rows[k][j] = d out.flat[k] / d in.flat[j]
            for k in range(flat.numel()):
                (g,) = autograd.grad(flat[k], [inputs[i]], retain_graph=True, allow_unused=True)
                analytic_rows.append(g.reshape(-1).tolist() if g is not None else [0.0] * inputs[i].numel())
            worst = None
            for j in range(inputs[i].numel()):
                numeric_column = _numeric_jacobian_column(fn, inputs, i, j, eps)[o_index]
                for k, numeric in enumerate(numeric_column):
                    analytic = analytic_rows[k][j]
                    excess = abs(analytic - numeric) - (atol + rtol * abs(numeric))
                    if worst is None or excess > worst[0]:
                        worst = (excess, k, j, analytic, numeric)
            if worst is not None and worst[0] > 0:
                _, k, j, analytic, numeric = worst
                raise GradcheckError(
                    f"gradcheck failed: d output[{o_index}].flat[{k}] / d input[{i}].flat[{j}] "
                    f"(output shape {tuple(output.shape)}, input shape {tuple(inputs[i].shape)}): "
                    f"analytic {analytic!r}, numeric {numeric!r}, |difference| {abs(analytic - numeric):.3g} "
                    f"> atol + rtol*|numeric| = {atol + rtol * abs(numeric):.3g}"
                )
    return True


def gradgradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """``gradcheck`` of the vector-Jacobian product of ``fn`` built with ``create_graph=True``.

    This checks second derivatives: the VJP v ↦ vᵀ·J(x) is differentiated with respect to both x
    and v. ``grad_outputs`` default to random float64 tensors (from the seeded generator).
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        grad_outputs = [
            tensor(generator().standard_normal(o.shape), dtype=o.dtype, requires_grad=True) for o in outputs
        ]
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    n_inputs = len(inputs)

    def vector_jacobian_product(*arguments: Tensor) -> list[Tensor]:
        primal, vectors = list(arguments[:n_inputs]), list(arguments[n_inputs:])
        with enable_grad():  # finite differences call this under no_grad with detached copies
            for i in checked:
                if not primal[i].requires_grad:
                    primal[i] = primal[i].detach().requires_grad_()
            grads = autograd.grad(
                _outputs(fn, primal), [primal[i] for i in checked], vectors, create_graph=True, allow_unused=True
            )
        return [g if g is not None else primal[i].detach() * 0 for g, i in zip(grads, checked)]

    return gradcheck(vector_jacobian_product, [*inputs, *grad_outputs], eps, atol, rtol)
