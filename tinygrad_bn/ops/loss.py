"""Loss ops that need a backward other than the derivative of their forward."""

from __future__ import annotations

from tinygrad_bn.function import Function, tensor_type

LOG_FLOOR = -100.0  # PyTorch clamps BCE's logarithms here, so a probability of exactly 0 or 1 stays finite
BCE_GRADIENT_EPSILON = 1e-12  # and floors x(1 − x) in the gradient's denominator


class BinaryCrossEntropy(Function):
    """ℓ = −(y·max(log x, −100) + (1 − y)·max(log(1 − x), −100)) elementwise, on probabilities x.

    Backward is PyTorch's, not the derivative of the clamp: ∂ℓ/∂x = (x − y) / max(x(1 − x), 1e-12)
    (finite at x = 0 and 1) and ∂ℓ/∂y = −logit(x) = −log(x / (1 − x)).
    """

    def forward(self, x, y):
        self.save_for_backward(*self.inputs)
        backend = self.backend
        floor = backend.full((), LOG_FLOOR, x.dtype)
        one = backend.full((), 1.0, x.dtype)
        log_x = backend.binary("maximum", backend.unary("log", x), floor)
        log_one_minus_x = backend.binary("maximum", backend.unary("log1p", backend.unary("neg", x)), floor)
        # PyTorch's form: (y − 1)·log(1 − x) − y·log x
        negative_part = backend.binary("mul", backend.binary("sub", y, one), log_one_minus_x)
        return backend.binary("sub", negative_part, backend.binary("mul", y, log_x))

    def backward(self, grad):
        x, y = self.saved_tensors
        grad_x = grad * (x - y) / (x * (1 - x)).clamp(min=BCE_GRADIENT_EPSILON) if self.needs_input_grad[0] else None
        grad_y = -grad * (x / (1 - x)).log() if self.needs_input_grad[1] else None
        return grad_x, grad_y


class SoftmaxCrossEntropy(Function):
    """Cross entropy of logits x (classes on dim 1, or dim 0 of a 1-d input) against class
    indices t, fused with its log-softmax and its reduction: per row, with log p = x − logsumexp(x),
    ε the label smoothing, C the class count and w the class weights (1 when absent),

        ℓ = −(1 − ε)·w[t]·log p[t] − (ε/C)·Σ_c w[c]·log p[c],   0 where t = ignore_index,

    then ℓ per row ('none'), Σℓ ('sum') or Σℓ / Σ w[t] over the rows not ignored ('mean').
    Inputs: x, target (int64, x's shape without the class dim) and optionally weight (C,); only x
    gets a gradient. One kernel pass forward; backward is ``SoftmaxCrossEntropyGrad``.
    """

    def forward(self, x, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
        backend = self.backend
        self.settings = {"ignore_index": ignore_index, "label_smoothing": label_smoothing}
        self.reduction, self.device = reduction, self.inputs[0].device
        self.save_for_backward(*self.inputs)
        loss, self.logsumexp, sums = backend.cross_entropy(x, target, weight, **self.settings)
        if reduction == "none":
            return loss
        loss_sum, self.total_weight = backend.getitem(sums, (0,)), backend.cast(backend.getitem(sums, (1,)), x.dtype)
        if reduction == "sum":
            return backend.cast(loss_sum, x.dtype)
        return backend.cast(backend.binary("div", loss_sum, backend.getitem(sums, (1,))), x.dtype)

    def backward(self, grad):
        x, target, *weight = self.saved_tensors
        if self.reduction == "mean":
            grad = grad / tensor_type()._wrap(self.total_weight, self.device)
        if self.reduction != "none":
            grad = grad.expand(target.shape)
        grad_x = SoftmaxCrossEntropyGrad.apply(x, target, *weight, grad, logsumexp=self.logsumexp, **self.settings)
        return (grad_x, None, *([None] * len(weight)))


class SoftmaxCrossEntropyGrad(Function):
    """dx = g·(A·p − a) for the row gradients g, fused: p = softmax(x) along the class dim,
    a[c] = (1 − ε)·w[t]·[c = t] + (ε/C)·w[c] (0 for ignored rows) and A = Σ_c a[c].

    Its own backward, from Tensor ops (so higher derivatives stay exact): for an incoming G,
    d/dg = Σ_c G[c]·(A·p[c] − a[c]) and d/dx = g·A·p·(G − Σ_c G[c]·p[c]).
    """

    def forward(self, x, target, *weight_and_grad, logsumexp=None, ignore_index: int = -100, label_smoothing=0.0):
        *weight, grad = weight_and_grad
        self.settings = {"ignore_index": ignore_index, "label_smoothing": label_smoothing}
        self.save_for_backward(*self.inputs)
        weight_buffer = weight[0] if weight else None
        return self.backend.cross_entropy_backward(
            x, target, weight_buffer, **self.settings, logsumexp=logsumexp, grad=grad
        )

    def backward(self, grad_of_dx):
        x, target, *weight, grad = self.saved_tensors
        class_dim = 0 if x.ndim == 1 else 1
        share, total = _target_shares(x, target, weight[0] if weight else None, class_dim, **self.settings)
        p = x.softmax(class_dim)
        grad_x = grad_g = None
        if self.needs_input_grad[0]:
            weighted = (grad_of_dx * p).sum(class_dim, keepdim=True)
            grad_x = (grad * total).unsqueeze(class_dim) * p * (grad_of_dx - weighted)
        if self.needs_input_grad[-1]:
            grad_g = (grad_of_dx * (total.unsqueeze(class_dim) * p - share)).sum(class_dim)
        return (grad_x, None, *([None] * len(weight)), grad_g)


def _target_shares(x, target, weight, class_dim: int, ignore_index: int, label_smoothing: float):
    """(a, A): each row's loss weights a[c] = (1 − ε)·w[t]·[c = t] + (ε/C)·w[c] (0 rows where
    t = ignore_index), shaped like x, and their sums A, shaped like target."""
    classes = x.shape[class_dim]
    kept = target != ignore_index
    indices = target.where(kept, 0)
    class_shape = (classes,) + (1,) * (x.ndim - class_dim - 1)
    from tinygrad_bn.tensor import arange

    one_hot = indices.unsqueeze(class_dim) == arange(classes, device=x.device).reshape(class_shape)
    class_weight = x.new_ones(classes) if weight is None else weight
    target_weight = class_weight[indices] * (1 - label_smoothing)
    share = one_hot * target_weight.unsqueeze(class_dim) + class_weight.reshape(class_shape) * (
        label_smoothing / classes
    )
    share = share * kept.unsqueeze(class_dim)
    return share, share.sum(class_dim)
