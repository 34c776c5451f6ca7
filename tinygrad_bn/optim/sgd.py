"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum."""

from __future__ import annotations

from tinygrad_bn.ops.optimizer import optimizer_step
from tinygrad_bn.optim.optimizer import Optimizer, ParamsArg, check_non_negative


class SGD(Optimizer):
    """θ ← θ − lr·g′ with, per step (PyTorch's rule; g the gradient, λ the weight decay, μ the
    momentum, τ the dampening):

        g ← g + λθ;   b ← g on the first step, else μb + (1 − τ)g;   g′ = g + μb (Nesterov) or b

    (g′ = g when μ = 0). ``maximize`` ascends instead.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, group, params):
        buffers = fresh = None
        if group["momentum"] != 0:
            fresh = [self.state.get(p, {}).get("momentum_buffer") is None for p in params]
            buffers = [self._state_tensor(p, "momentum_buffer") for p in params]
        optimizer_step(
            "sgd",
            params,
            [p.grad for p in params],
            (buffers, None, None),
            fresh=fresh,
            lr=group["lr"],
            momentum=group["momentum"],
            dampening=group["dampening"],
            weight_decay=group["weight_decay"],
            nesterov=group["nesterov"],
            maximize=group["maximize"],
        )
