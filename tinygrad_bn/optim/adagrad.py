"""Adagrad (Duchi et al. 2011)."""

from __future__ import annotations

from tinygrad_bn.ops.optimizer import optimizer_step
from tinygrad_bn.optim.optimizer import Optimizer, ParamsArg, check_non_negative


class Adagrad(Optimizer):
    """Per step t, with g the gradient (g + λθ when weight_decay λ > 0):

        s ← s + g²;   θ ← θ − lr/(1 + (t − 1)·lr_decay) · g/(√s + eps)

    ``s`` starts at ``initial_accumulator_value``.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(lr_decay, "lr_decay value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(initial_accumulator_value, "initial_accumulator_value value")
        check_non_negative(eps, "epsilon value")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates the state eagerly
            for param in group["params"]:
                self._state_tensor(param, "sum", group["initial_accumulator_value"])
                self.state[param]["step"] = 0

    def _update(self, group, params):
        optimizer_step(
            "adagrad",
            params,
            [p.grad for p in params],
            ([self._state_tensor(p, "sum", group["initial_accumulator_value"]) for p in params], None, None),
            steps=self._next_steps(params),
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
        )
