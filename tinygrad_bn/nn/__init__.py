"""Layers and the Module system (``torch.nn``'s names and semantics)."""

from tinygrad_bn.nn import functional, init
from tinygrad_bn.nn.containers import ModuleList, Sequential
from tinygrad_bn.nn.linear import Flatten, Identity, Linear
from tinygrad_bn.nn.module import Module, Parameter

__all__ = ["Flatten", "Identity", "Linear", "Module", "ModuleList", "Parameter", "Sequential", "functional", "init"]
