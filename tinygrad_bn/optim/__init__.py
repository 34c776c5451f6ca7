"""Optimizers with PyTorch's update rules, each step one fused kernel call per parameter group, and
their learning-rate schedules (``tinygrad_bn.optim.lr_scheduler``)."""

from tinygrad_bn.optim import lr_scheduler
from tinygrad_bn.optim.adagrad import Adagrad
from tinygrad_bn.optim.adam import Adam, AdamW
from tinygrad_bn.optim.optimizer import Optimizer
from tinygrad_bn.optim.rmsprop import RMSprop
from tinygrad_bn.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
