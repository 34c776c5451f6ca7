"""tinygrad_bn: a small deep-learning framework whose hot kernels live in ctensor (C).

import tinygrad_bn as tb
x = tb.randn(4, 3, requires_grad=True)
loss = (x @ x.T).relu().sum()
loss.backward()          # x.grad now holds d loss / d x
"""

from tinygrad_bn import autograd
from tinygrad_bn._ctensor_lib import get_num_threads, set_num_threads, simd_name
from tinygrad_bn.backend import Device
from tinygrad_bn.backend import Device as device  # noqa: N813 - PyTorch's name
from tinygrad_bn.dtype import DType, bool_, float32, float64, int64
from tinygrad_bn.function import enable_grad, is_grad_enabled, no_grad
from tinygrad_bn.random import Generator, default_generator, initial_seed, manual_seed
from tinygrad_bn.serialization import SerializationError, load, save
from tinygrad_bn.tensor import (
    FUNCTIONAL_METHODS,
    Tensor,
    arange,
    cat,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    functional,
    linspace,
    matmul,
    one_hot,
    ones,
    ones_like,
    pad,
    rand,
    randint,
    randn,
    randperm,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

globals().update(functional)  # tb.exp, tb.sum, tb.softmax, ... (see tensor.FUNCTIONAL_METHODS)

from tinygrad_bn import cl, data, diagnostics, nn, optim  # noqa: E402 - built on everything above

float = float32
double = float64
long = int64
bool = bool_

__version__ = "0.1.0"

__all__ = [
    "DType",
    "Device",
    "Generator",
    "SerializationError",
    "Tensor",
    "arange",
    "autograd",
    "bool",
    "bool_",
    "cat",
    "cl",
    "data",
    "default_generator",
    "device",
    "diagnostics",
    "double",
    "empty",
    "enable_grad",
    "eye",
    "float",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "get_num_threads",
    "initial_seed",
    "int64",
    "is_grad_enabled",
    "linspace",
    "load",
    "long",
    "manual_seed",
    "matmul",
    "nn",
    "no_grad",
    "one_hot",
    "ones",
    "ones_like",
    "optim",
    "pad",
    "rand",
    "randint",
    "randn",
    "randperm",
    "save",
    "set_num_threads",
    "simd_name",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]
__all__ += list(FUNCTIONAL_METHODS)
