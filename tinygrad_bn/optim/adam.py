"""Adam (Kingma & Ba 2015), with the AMSGrad variant, and AdamW (decoupled weight decay)."""

from __future__ import annotations

from tinygrad_bn.ops.optimizer import optimizer_step
from tinygrad_bn.optim.optimizer import Optimizer, ParamsArg, check_non_negative


class Adam(Optimizer):
    """Per step t, with g the gradient (g + λθ when weight_decay λ > 0):

    m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²;   (AMSGrad: v̂max ← max(v̂max, v))
    θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(eps, "epsilon value")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        check_non_negative(weight_decay, "weight_decay value")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, group, params):
        exp_avgs = [self._state_tensor(p, "exp_avg") for p in params]
        exp_avg_sqs = [self._state_tensor(p, "exp_avg_sq") for p in params]
        max_exp_avg_sqs = [self._state_tensor(p, "max_exp_avg_sq") for p in params] if group["amsgrad"] else None
        beta1, beta2 = group["betas"]
        optimizer_step(
            "adam",
            params,
            [p.grad for p in params],
            (exp_avgs, exp_avg_sqs, max_exp_avg_sqs),
            steps=self._next_steps(params),
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            amsgrad=group["amsgrad"],
            maximize=group["maximize"],
            decoupled_weight_decay=self.decoupled_weight_decay,
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): θ ← θ(1 − lr·λ) before the
    Adam step, which itself sees the plain gradient. ``weight_decay`` defaults to 1e-2."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
