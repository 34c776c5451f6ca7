"""Finite-difference checks of gradients (first and second order)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinygrad_bn import autograd
from tinygrad_bn.function import enable_grad, no_grad
from tinygrad_bn.random import numpy_generator
from tinygrad_bn.tensor import Tensor, tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def _outputs(fn: Callable[..., Tensor | Sequence[Tensor]], inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    return [out] if isinstance(out, Tensor) else list(out)


def _flat_values(tensor: Tensor) -> np.ndarray:
    return np.array(tensor.detach().double().reshape(-1).cpu().numpy())


def _numeric_jacobians(fn, inputs: list[Tensor], which: int, eps: float, n_outputs: int) -> list[np.ndarray]:
    """Per output o, J[o][k, j] = d outputs[o].flat[k] / d inputs[which].flat[j] by central differences
    (one pair of evaluations per input element serves every output)."""
    x = inputs[which]
    columns: list[list[np.ndarray]] = []
    with no_grad():
        for j in range(x.numel()):
            values = []
            for sign in (1, -1):
                perturbed = x.detach().clone()
                perturbed[np.unravel_index(j, perturbed.shape)] += sign * eps
                arguments = [perturbed if i == which else t.detach() for i, t in enumerate(inputs)]
                values.append([_flat_values(o) for o in _outputs(fn, arguments)])
            columns.append([(plus - minus) / (2 * eps) for plus, minus in zip(*values)])
    if not columns:
        return [np.zeros((o.numel(), 0)) for o in _outputs(fn, inputs)]
    return [np.stack([column[o] for column in columns], axis=1) for o in range(n_outputs)]


def _analytic_jacobians(output: Tensor, inputs: list[Tensor], checked: list[int]) -> dict[int, np.ndarray]:
    """J[i][k, j] = d output.flat[k] / d inputs[i].flat[j] by autograd, one backward per output
    element; all zeros for an output that does not require grad."""
    jacobians = {i: np.zeros((output.numel(), inputs[i].numel())) for i in checked}
    if output.requires_grad:
        flat = output.reshape(-1)
        for k in range(flat.numel()):
            grads = autograd.grad(flat[k], [inputs[i] for i in checked], retain_graph=True, allow_unused=True)
            for i, grad in zip(checked, grads):
                if grad is not None:
                    jacobians[i][k] = _flat_values(grad)
    return jacobians


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
    they must be float64 (float32 cannot meet these tolerances). Every floating point output is
    checked; one that does not require grad must have a numeric Jacobian of zero. Returns True or
    raises ``GradcheckError`` describing the worst element.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype.name != "float64":
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; gradcheck needs float64 inputs")
    outputs = _outputs(fn, inputs)
    numeric = {i: _numeric_jacobians(fn, inputs, i, eps, len(outputs)) for i in checked}
    worst = None
    for o_index, output in enumerate(outputs):
        if not output.dtype.is_floating_point:
            continue  # integer outputs (indices) have no derivative
        for i, analytic in _analytic_jacobians(output, inputs, checked).items():
            expected = numeric[i][o_index]
            excess = np.abs(analytic - expected) - (atol + rtol * np.abs(expected))
            if excess.size and (worst is None or excess.max() > worst[0]):
                k, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
                worst = (excess[k, j], o_index, i, int(k), int(j), float(analytic[k, j]), float(expected[k, j]))
    if worst is not None and worst[0] > 0:
        _, o_index, i, k, j, analytic, numeric_value = worst
        raise GradcheckError(
            f"gradcheck failed: d output[{o_index}].flat[{k}] / d input[{i}].flat[{j}] "
            f"(output shape {tuple(outputs[o_index].shape)}, input shape {tuple(inputs[i].shape)}): "
            f"analytic {analytic!r}, numeric {numeric_value!r}, |difference| {abs(analytic - numeric_value):.3g} "
            f"> atol + rtol*|numeric| = {atol + rtol * abs(numeric_value):.3g}"
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
            tensor(numpy_generator().standard_normal(o.shape), dtype=o.dtype, requires_grad=True) for o in outputs
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
