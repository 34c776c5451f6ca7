"""RMSprop (Hinton's lecture 6e), with momentum and the centered variant."""

from __future__ import annotations

from tinygrad_bn.ops.optimizer import optimizer_step
from tinygrad_bn.optim.optimizer import Optimizer, ParamsArg, check_non_negative


class RMSprop(Optimizer):
    """Per step, with g the gradient (g + λθ when weight_decay λ > 0):

    v ← αv + (1 − α)g²;   centered: ḡ ← αḡ + (1 − α)g, v′ = v − ḡ², else v′ = v
    d = √v′ + eps (eps outside the root);   θ ← θ − lr·g/d, or with momentum μ:
    b ← μb + g/d, θ ← θ − lr·b
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(eps, "epsilon value")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(alpha, "alpha value")
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, group, params):
        square_avgs = [self._state_tensor(p, "square_avg") for p in params]
        buffers = [self._state_tensor(p, "momentum_buffer") for p in params] if group["momentum"] > 0 else None
        grad_avgs = [self._state_tensor(p, "grad_avg") for p in params] if group["centered"] else None
        self._next_steps(params)  # state["step"] is kept as in PyTorch, though RMSprop's rule does not read it
        optimizer_step(
            "rmsprop",
            params,
            [p.grad for p in params],
            (square_avgs, buffers, grad_avgs),
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            centered=group["centered"],
            maximize=group["maximize"],
        )
