"""Shared test helpers: the PyTorch oracle and a forward + backward comparison against it."""

from __future__ import annotations

import numpy as np

import tinygrad_bn as tb
from tinygrad_bn.testing import assert_close

torch = __import__("pytest").importorskip("torch")  # conftest turns this skip into a failure in CI
torch.set_num_threads(1)


def torch_tensor(tensor: tb.Tensor) -> torch.Tensor:
    """A PyTorch leaf with the same values, dtype and requires_grad."""
    values = np.array(tensor.detach().numpy())
    out = torch.from_numpy(values)
    return out.requires_grad_(tensor.requires_grad) if tensor.requires_grad else out


def check_against_torch(
    ours, theirs, *inputs: tb.Tensor, rtol: float | None = None, atol: float | None = None, seed: int = 0
) -> None:
    """Run ``ours`` on our tensors and ``theirs`` on PyTorch copies; compare outputs, then the
    gradients of every input that requires grad, for one random output gradient."""
    torch_inputs = [torch_tensor(t) for t in inputs]
    out, expected = ours(*inputs), theirs(*torch_inputs)
    assert tuple(out.shape) == tuple(expected.shape), (out.shape, tuple(expected.shape))
    assert_close(out, expected, rtol=rtol, atol=atol)
    if not any(t.requires_grad for t in inputs) or not out.requires_grad:
        return
    gradient = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype.numpy)
    out.backward(tb.tensor(gradient))
    expected.backward(torch.from_numpy(gradient))
    for index, (ours_in, theirs_in) in enumerate(zip(inputs, torch_inputs)):
        if ours_in.requires_grad:
            assert ours_in.grad is not None, f"input {index} got no gradient"
            assert_close(ours_in.grad, theirs_in.grad, rtol=rtol, atol=atol)
