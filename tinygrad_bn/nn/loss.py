"""Loss functions and their modules, with PyTorch's names, signatures, defaults and numerics.

Every loss computes a per-element (or per-sample) loss ℓ and then reduces it: ``'none'`` keeps
ℓ, ``'sum'`` gives Σℓ, ``'mean'`` gives Σℓ / n (for the weighted class-index losses, n is the
sum of the weights of the targets that are not ignored). The legacy ``size_average`` and
``reduce`` arguments map to a reduction as in PyTorch, with its deprecation warning.

Cross entropy with class-index targets is one fused op (log-softmax and the weighted, smoothed
NLL in one kernel pass; backward softmax − smoothed, weighted one-hot in another), whose backward
is itself differentiable; with class-probability targets it is composed from Tensor ops.
Binary cross entropy is one ``Function`` because PyTorch's gradient is not the derivative of its
clamped forward (see ``BinaryCrossEntropy``).
"""

from __future__ import annotations

import warnings

from tinygrad_bn import dtype as dtypes
from tinygrad_bn.function import is_grad_enabled
from tinygrad_bn.nn.module import Module
from tinygrad_bn.ops.loss import BinaryCrossEntropy, SoftmaxCrossEntropy
from tinygrad_bn.tensor import Tensor, _broadcast_shape

# --- reductions -------------------------------------------------------------------------------


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` pair to a reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{legacy}' instead.", stacklevel=3
    )
    return legacy


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str, total_weight: Tensor | None = None) -> Tensor:
    """ℓ ('none'), Σℓ ('sum') or Σℓ / n ('mean'), n = ``total_weight`` when given, else ℓ's element count."""
    _check_reduction(reduction)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if total_weight is None else loss.sum() / total_weight


# --- shape checks -----------------------------------------------------------------------------


def _check_broadcastable(
    name: str, what: str, shape: tuple[int, ...], input_shape: tuple[int, ...], widen: bool = False
) -> None:
    """``shape`` must broadcast to ``input_shape`` (or, with ``widen``, together with it: a
    regression target may widen the result, with PyTorch's warning elsewhere)."""
    try:
        joint = _broadcast_shape(name, tuple(shape), tuple(input_shape))
    except ValueError:
        joint = None
    if joint is None or (not widen and joint != tuple(input_shape)):
        raise ValueError(
            f"{name}: {what} of shape {tuple(shape)} does not broadcast against input of shape {tuple(input_shape)}"
        )


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: target of shape {tuple(target.shape)} must have the same shape as input {tuple(input.shape)}"
        )


def _check_float(name: str, what: str, tensor: Tensor) -> None:
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating point {what}, got {tensor.dtype}")


# --- regression losses ------------------------------------------------------------------------


def _difference(name: str, input: Tensor, target: Tensor) -> Tensor:
    """x − y, broadcast with PyTorch's warning when the shapes differ."""
    _check_float(name, "input", input)
    if target.shape != input.shape:
        _check_broadcastable(name, "target", target.shape, input.shape, widen=True)
        warnings.warn(
            f"{name}: using a target size {tuple(target.shape)} that is different to the input size "
            f"{tuple(input.shape)}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
    return input - target


def mse_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
) -> Tensor:
    """Mean squared error: ℓ = (x − y)², then reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(_difference("mse_loss", input, target).square(), reduction)


def l1_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
) -> Tensor:
    """Mean absolute error: ℓ = |x − y|, then reduced (subgradient 0 where x = y, as in PyTorch)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(_difference("l1_loss", input, target).abs(), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss with d = x − y: ℓ = d²/2 where |d| < δ, else δ·(|d| − δ/2); then reduced."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    difference = _difference("huber_loss", input, target)
    size = difference.abs()
    loss = (0.5 * difference.square()).where(size < delta, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


# --- classification over C classes on dim 1 ------------------------------------------------------


def _class_dim(name: str, input: Tensor) -> int:
    """Classes lie on dim 1 of (N, C, d1, ...), or dim 0 of an unbatched (C,) input."""
    _check_float(name, "input", input)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _class_weight(name: str, weight: Tensor | None, input: Tensor, class_dim: int) -> Tensor | None:
    """``weight`` (one entry per class) shaped to broadcast along ``class_dim`` of ``input``."""
    if weight is None:
        return None
    classes = input.shape[class_dim]
    if weight.shape != (classes,):
        raise ValueError(
            f"{name}: weight must have shape ({classes},), one entry per class of input {tuple(input.shape)}, "
            f"got {tuple(weight.shape)}"
        )
    return weight.reshape((classes,) + (1,) * (input.ndim - class_dim - 1))


def _check_index_weight_dtype(name: str, weight: Tensor | None, input: Tensor) -> None:
    """With class-index targets the class weights must have the input's dtype (PyTorch casts nothing there)."""
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(
            f"{name}: weight is {weight.dtype.name} but the input of shape {tuple(input.shape)} is "
            f"{input.dtype.name}; expected the same dtype (weight.to(input.dtype))"
        )


def _check_class_indices(name: str, input: Tensor, target: Tensor, class_dim: int) -> None:
    """Class-index targets are int64 with the input's shape less its class dim."""
    if target.dtype is not dtypes.int64:
        raise TypeError(
            f"{name}: expected int64 class indices as target, got {target.dtype} (target shape "
            f"{tuple(target.shape)}, input shape {tuple(input.shape)})"
        )
    expected = input.shape[:class_dim] + input.shape[class_dim + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"{name}: target of shape {tuple(target.shape)} does not match input of shape {tuple(input.shape)}: "
            f"expected target shape {expected} (the input's shape without its class dim {class_dim})"
        )


def _valid_class_indices(
    name: str, input: Tensor, target: Tensor, class_dim: int, ignore_index: int
) -> tuple[Tensor, Tensor]:
    """(targets with ignored entries replaced by class 0, mask of the entries that count)."""
    _check_class_indices(name, input, target, class_dim)
    kept = target != ignore_index
    indices = target.where(kept, 0)
    classes = input.shape[class_dim]
    out_of_range = (indices < 0) | (indices >= classes)
    if out_of_range.any().item():
        value = int(target.numpy()[out_of_range.numpy()][0])
        raise IndexError(
            f"{name}: target {value} is out of bounds: expected a class index in [0, {classes}) "
            f"or ignore_index={ignore_index}"
        )
    return indices, kept


def _class_index_loss(
    name: str,
    log_probs: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Per target t_i (ε = ``label_smoothing``, C classes, log p the log-probabilities):

        ℓ_i = −(1 − ε)·w[t_i]·log p[i, t_i] − (ε/C)·Σ_c w_c·log p[i, c],   0 where t_i = ignore_index

    'mean' divides Σ_i ℓ_i by Σ_i w[t_i] over the targets that are not ignored (NaN if none is).
    """
    class_dim = _class_dim(name, log_probs)
    class_weight = _class_weight(name, weight, log_probs, class_dim)
    _check_index_weight_dtype(name, weight, log_probs)
    indices, kept = _valid_class_indices(name, log_probs, target, class_dim, ignore_index)
    kept_values = kept.to(log_probs.dtype)
    target_weight = kept_values if weight is None else weight[indices] * kept_values
    picked = log_probs.gather(class_dim, indices.unsqueeze(class_dim)).squeeze(class_dim)
    loss = -(picked * target_weight)
    if label_smoothing > 0:
        weighted = log_probs if class_weight is None else log_probs * class_weight
        classes = log_probs.shape[class_dim]
        loss = (1 - label_smoothing) * loss - (label_smoothing / classes) * weighted.sum(class_dim)
    loss = loss.where(kept, 0.0)  # ignored targets contribute exactly 0, even next to an infinite log p
    return _reduce(loss, reduction, target_weight.sum())


def _fused_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str, label_smoothing: float
) -> Tensor:
    """Cross entropy of class-index targets as one fused op (see ``SoftmaxCrossEntropy``)."""
    _check_reduction(reduction)
    class_dim = _class_dim("cross_entropy", input)
    _class_weight("cross_entropy", weight, input, class_dim)  # shape check
    _check_index_weight_dtype("cross_entropy", weight, input)
    _check_class_indices("cross_entropy", input, target, class_dim)
    if not -(2**63) <= ignore_index < 2**63:
        raise ValueError(f"cross_entropy: ignore_index must fit in int64, got {ignore_index}")
    if weight is not None:
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError("cross_entropy: the loss is not differentiable with respect to weight (PyTorch's rule)")
        weight = weight.detach()
    options = {"ignore_index": ignore_index, "label_smoothing": label_smoothing, "reduction": reduction}
    return SoftmaxCrossEntropy.apply(input, target, *([] if weight is None else [weight]), **options)


def _class_probability_loss(
    log_probs: Tensor,
    target: Tensor,
    class_weight: Tensor | None,
    class_dim: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    """ℓ_i = −Σ_c w_c·q_ic·log p_ic with q = (1 − ε)·y + ε/C; 'mean' divides by the number of
    samples (N·d1·…), not by the weights."""
    classes = log_probs.shape[class_dim]
    smoothed = target * (1 - label_smoothing) + label_smoothing / classes if label_smoothing > 0 else target
    products = log_probs * smoothed
    if class_weight is not None:
        products = products * class_weight
    return _reduce(-products.sum(class_dim), reduction)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class-index targets, given log-probabilities ``input``
    ((C,), (N, C) or (N, C, d1, ...)): ℓ_i = −w[t_i]·x[i, t_i], 0 where t_i = ``ignore_index``;
    'mean' divides Σℓ by Σ w[t_i] over the targets that are not ignored."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _class_index_loss("nll_loss", input, target, weight, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy of logits ``input`` ((C,), (N, C) or (N, C, d1, ...), classes on dim 1),
    with log p = log_softmax(x) (exact for any logits, ±1000 included).

    Class-index targets (int64, the input's shape without dim 1): ℓ_i = −(1 − ε)·w[t_i]·log p[i, t_i]
    − (ε/C)·Σ_c w_c·log p[i, c], 0 where t_i = ``ignore_index``; 'mean' divides by Σ w[t_i] over the
    targets that are not ignored. Class-probability targets (float, the input's shape):
    ℓ_i = −Σ_c w_c·((1 − ε)·y_ic + ε/C)·log p_ic; 'mean' divides by the number of samples.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    class_dim = _class_dim("cross_entropy", input)
    if target.shape != input.shape:
        return _fused_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    log_probs = input.log_softmax(class_dim)
    if ignore_index != -100:
        raise ValueError("cross_entropy: ignore_index is not supported for floating point (probability) targets")
    if not target.dtype.is_floating_point:
        raise TypeError(
            f"cross_entropy: a target of the input's shape {tuple(input.shape)} holds class probabilities and must "
            f"be floating point, got {target.dtype}"
        )
    class_weight = _class_weight("cross_entropy", weight, input, class_dim)
    return _class_probability_loss(log_probs, target, class_weight, class_dim, reduction, label_smoothing)


# --- binary classification ----------------------------------------------------------------------


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross entropy of probabilities x in [0, 1]: ℓ = −w·(y·log x + (1 − y)·log(1 − x)),
    each log clamped at −100 (see ``BinaryCrossEntropy``); ``weight`` broadcasts against x."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    name = "binary_cross_entropy"
    _check_float(name, "input", input)
    _check_float(name, "target", target)
    _check_same_shape(name, input, target)
    if ((input < 0) | (input > 1)).any().item():
        raise ValueError(f"{name}: all elements of input should be between 0 and 1")
    if ((target < 0) | (target > 1)).any().item():
        raise ValueError(f"{name}: all elements of target should be between 0 and 1")
    if target.dtype is not input.dtype:
        target = target.to(input.dtype)
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        _check_broadcastable(name, "weight", weight.shape, input.shape)
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of logits x, stable for any x (PyTorch's formula):

        ℓ = w·((1 − y)·x − (1 + (p_w − 1)·y)·log σ(x)),   log σ(x) = min(x, 0) − log(1 + e^{−|x|})

    which without ``pos_weight`` (p_w) is max(x, 0) − x·y + log(1 + e^{−|x|}). ``pos_weight``
    scales the positive term and broadcasts against the target (one entry per class on the last dim).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    name = "binary_cross_entropy_with_logits"
    _check_float(name, "input", input)
    _check_float(name, "target", target)
    _check_same_shape(name, input, target)
    log_sigmoid = input.minimum(input.new_zeros(())) - (-input.abs()).exp().log1p()
    if pos_weight is not None:
        _check_broadcastable(name, "pos_weight", pos_weight.shape, target.shape)
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sigmoid
    if weight is not None:
        _check_broadcastable(name, "weight", weight.shape, input.shape)
        loss = loss * weight
    return _reduce(loss, reduction)


# --- modules ------------------------------------------------------------------------------------


class _Loss(Module):
    """Base of the loss modules: holds ``reduction`` (from the legacy arguments when given)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """A loss with a per-class (or per-element) ``weight``, registered as a buffer as in PyTorch."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """ℓ = (x − y)², reduced (see ``mse_loss``)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """ℓ = |x − y|, reduced (see ``l1_loss``)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """ℓ = d²/2 where |d| < δ, else δ·(|d| − δ/2), with d = x − y, reduced (see ``huber_loss``)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_WeightedLoss):
    """ℓ_i = −w[t_i]·x[i, t_i] on log-probabilities, skipping ``ignore_index`` (see ``nll_loss``)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits (classes on dim 1) against class indices or class probabilities,
    with optional class weights, ``ignore_index`` and label smoothing (see ``cross_entropy``)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_WeightedLoss):
    """ℓ = −w·(y·log x + (1 − y)·log(1 − x)) on probabilities, logs clamped at −100
    (see ``binary_cross_entropy``)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross entropy in one stable formula, with optional ``pos_weight``
    (see ``binary_cross_entropy_with_logits``). ``weight`` and ``pos_weight`` are buffers."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
