"""The functional form of the layers in ``tinygrad_bn.nn`` (PyTorch's ``torch.nn.functional``).

Each function lives next to its layer (``activation.py``, ``loss.py``, ``dropout.py``,
``linear.py``, ``normalization.py``); this module gathers them under PyTorch's names.
"""

from __future__ import annotations

from tinygrad_bn.nn.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    swish,
    tanh,
)
from tinygrad_bn.nn.dropout import alpha_dropout, dropout
from tinygrad_bn.nn.linear import linear
from tinygrad_bn.nn.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinygrad_bn.nn.normalization import batch_norm, group_norm, instance_norm, layer_norm, rms_norm

__all__ = [
    "alpha_dropout",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "gelu",
    "group_norm",
    "hardtanh",
    "huber_loss",
    "instance_norm",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "prelu",
    "relu",
    "relu6",
    "rms_norm",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
    "tanh",
]
