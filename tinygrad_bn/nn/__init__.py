"""Layers, losses, initialisers and the Module system (``torch.nn``'s names and semantics)."""

from tinygrad_bn.nn import (
    functional,
    init,
)
from tinygrad_bn.nn.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    Maxout,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Swish,
    Tanh,
)
from tinygrad_bn.nn.containers import ModuleList, Sequential
from tinygrad_bn.nn.dropout import AlphaDropout, Dropout
from tinygrad_bn.nn.linear import Flatten, Identity, Linear
from tinygrad_bn.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from tinygrad_bn.nn.module import Module, Parameter

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "AlphaDropout",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Hardtanh",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Maxout",
    "Module",
    "ModuleList",
    "NLLLoss",
    "PReLU",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Swish",
    "Tanh",
    "functional",
    "init",
]
