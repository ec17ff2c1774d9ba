"""Losses: `forward(prediction, target)` returns a 0-d tensor, `backward()` its gradient w.r.t. the prediction.

Shapes: prediction `(N, C)`; target either class indices `(N,)` (an integer tensor) or a float
`(N, C)` tensor (one-hot vectors or class probabilities). Leading dimensions before `(N, C)` index
independent models trained side by side (see `EnsembleLinear`): the loss is summed over them, so
each model receives exactly its own gradient.
"""

from __future__ import annotations

import torch
from torch import Tensor

from minidl.nn.module import Module

REDUCTIONS = ("sum", "mean")


class Loss(Module):
    """The base of the losses: checks and the class-index shortcuts they share.

    Every loss also says what its outputs mean for a picture of the decision: `class_one_score`.
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self._cached_minus_ones: Tensor | None = None

    def __call__(self, prediction: Tensor, target: Tensor) -> Tensor:  # type: ignore[override]
        return self.forward(prediction, target)

    def _check(self, prediction: object, target: object) -> tuple[Tensor, Tensor, bool]:
        """Validate; returns (prediction, target, target_is_class_indices)."""
        name = type(self).__name__
        if not isinstance(prediction, Tensor) or not isinstance(target, Tensor):
            raise TypeError(
                f"{name}: prediction and target must be tensors, got {type(prediction).__name__} "
                f"and {type(target).__name__}"
            )
        if not prediction.is_floating_point():
            raise TypeError(f"{name}: prediction must be a floating tensor, got {prediction.dtype}")
        if prediction.dim() < 2:
            raise ValueError(f"{name}: prediction must have shape (N, C), got {tuple(prediction.shape)}")
        if target.is_cpu != prediction.is_cpu or (not target.is_cpu and target.device != prediction.device):
            raise RuntimeError(f"{name}: target is on {target.device}, prediction on {prediction.device}")
        if target.is_floating_point():
            if target.shape != prediction.shape:
                raise ValueError(
                    f"{name}: a float target must have the prediction's shape {tuple(prediction.shape)}, "
                    f"got {tuple(target.shape)}"
                )
            if target.dtype != prediction.dtype:
                raise TypeError(f"{name}: target dtype {target.dtype} differs from prediction dtype {prediction.dtype}")
            return prediction, target, False
        if target.dtype != torch.int64:
            if target.dtype.is_complex or target.dtype == torch.bool:
                raise TypeError(f"{name}: target must be class indices (integer) or float, got {target.dtype}")
            target = target.long()
        if target.shape != prediction.shape[:-1]:
            raise ValueError(
                f"{name}: class-index target must have shape {tuple(prediction.shape[:-1])} for prediction "
                f"{tuple(prediction.shape)}, got {tuple(target.shape)}"
            )
        if not target.is_cpu and target.numel():  # on the CPU, the indexing kernel itself refuses
            low, high = torch.aminmax(target)
            if low.item() < 0 or high.item() >= prediction.shape[-1]:
                raise self._index_error(target, prediction.shape[-1])
        return prediction, target, True

    def _index_error(self, target: Tensor, classes: int) -> ValueError:
        bad = target[(target < 0) | (target >= classes)][0].item()
        return ValueError(f"{type(self).__name__}: class index {bad} out of range for {classes} classes")

    def _subtract_one_at(self, values: Tensor, target: Tensor) -> Tensor:
        """`values - one_hot(target)` in one kernel and no one-hot tensor; indices checked on the way.

        Hot: it runs every step with class-index targets, so the -1 source is cached and the rare
        cases (a new shape, dtype or device, a bad index) are found by the kernel's own refusal.
        """
        index = target.unsqueeze(-1)
        minus_ones = self._cached_minus_ones
        if minus_ones is None or minus_ones.shape != index.shape or minus_ones.dtype is not values.dtype:
            minus_ones = self._cached_minus_ones = torch.full(
                index.shape, -1.0, dtype=values.dtype, device=values.device
            )
        try:
            return values.scatter_add(-1, index, minus_ones)
        except RuntimeError:
            if minus_ones.device != values.device:
                self._cached_minus_ones = None
                return self._subtract_one_at(values, target)
            raise self._index_error(target, values.shape[-1]) from None

    def _samples(self, prediction: Tensor) -> int:
        return prediction.shape[-2]

    def per_sample(self, prediction: Tensor, target: Tensor) -> Tensor:
        """Each sample's own term of the "sum" reduction, `(N,)`: which points the loss weighs most."""
        prediction, target, indices = self._check(prediction, target)
        if indices:
            target = one_hot(target, prediction.shape[-1], like=prediction)
        return self._terms(prediction, target).sum(-1)

    def _terms(self, prediction: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def class_one_score(outputs: Tensor) -> Tensor:
        """A network's outputs `(N, 2)` trained with this loss -> `(N,)` scores in [0, 1] of class 1,
        0.5 on the decision boundary (where both outputs are equal)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def one_hot(target: Tensor, classes: int, like: Tensor) -> Tensor:
    """Class indices `(*,)` -> float one-hot `(*, classes)` with `like`'s dtype and device."""
    return torch.zeros(*target.shape, classes, dtype=like.dtype, device=like.device).scatter_(
        -1, target.unsqueeze(-1), 1.0
    )


class LossMSE(Loss):
    """Squared error, summed (`reduction="sum"`, the report's definition) or averaged.

    Shapes: prediction x `(N, C)`, target t `(N, C)` or class indices `(N,)` (one-hot vectors).
    forward: L = Σ (x − t)² over all N·C entries ("sum"), or that divided by N·C ("mean"; the
    default of PyTorch's `MSELoss`). backward: dL/dx = 2 (x − t), or 2 (x − t) / (N·C).
    `forward` keeps diff = x − t for "sum", and the gradient itself 2·diff/(N·C) for "mean"
    (scaled in place, once), so either backward is one multiply or copy of a saved tensor.
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__(reduction)
        self._scaled_diff: Tensor | None = None

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        prediction, target, indices = self._check(prediction, target)
        diff = self._subtract_one_at(prediction, target) if indices else prediction - target
        flat = diff.view(-1)
        loss = torch.dot(flat, flat)
        if self.reduction == "mean":
            scale = 1.0 / (self._samples(prediction) * prediction.shape[-1])
            loss = loss * scale
            self._scaled_diff = diff.mul_(2.0 * scale)
        else:
            self._scaled_diff = diff
        return loss

    def backward(self) -> Tensor:  # type: ignore[override]
        diff = self._scaled_diff
        if diff is None:
            raise self._no_forward_error()
        return diff * 2.0 if self.reduction == "sum" else diff.clone()  # 2 (x − t), or the saved 2 (x − t)/(N·C)

    def _forget_cache(self) -> None:
        self._scaled_diff = None

    def _terms(self, prediction: Tensor, target: Tensor) -> Tensor:
        return (prediction - target).square()  # (x − t)² per entry

    @staticmethod
    def class_one_score(outputs: Tensor) -> Tensor:
        """(x₁ − x₀ + 1) / 2 clipped to [0, 1]: outputs trained towards one-hot targets, so
        (0, 1) scores 1, (1, 0) scores 0, and equal outputs 0.5."""
        return ((outputs[:, 1] - outputs[:, 0] + 1) / 2).clamp(0.0, 1.0)


class LossCrossEntropy(Loss):
    """Softmax cross-entropy on raw scores (logits), summed (the report's definition) or averaged.

    Shapes: logits x `(N, C)`, target t `(N, C)` (one-hot or probabilities) or class indices `(N,)`.
    forward: p = softmax(x) row by row, L = −Σₙ Σₖ tₙₖ log pₙₖ ("sum"), or that over N ("mean";
    the default of PyTorch's `CrossEntropyLoss`). backward: dL/dx = p − onehot(t) (for a target
    row that sums to s, p·s − t), divided by N for "mean". The log-softmax subtracts the row
    maximum first, so logits of ±1e4 neither overflow nor give NaN.
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__(reduction)
        self._probabilities: Tensor | None = None
        self._target: Tensor | None = None
        self._indices = False
        self._scale = 1.0

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        prediction, target, indices = self._check(prediction, target)
        shifted = prediction - prediction.amax(-1, keepdim=True)
        exp = shifted.exp()
        total = exp.sum(-1, keepdim=True)
        log_probabilities = shifted - total.log()
        if indices:
            try:
                loss = -log_probabilities.gather(-1, target.unsqueeze(-1)).sum()
            except RuntimeError:
                raise self._index_error(target, prediction.shape[-1]) from None
        else:
            loss = -torch.dot(target.reshape(-1), log_probabilities.view(-1))
        self._scale = 1.0 / self._samples(prediction) if self.reduction == "mean" else 1.0
        self._probabilities = exp.div_(total)
        self._target = target
        self._indices = indices
        return loss * self._scale if self.reduction == "mean" else loss

    def backward(self) -> Tensor:  # type: ignore[override]
        p, target = self._probabilities, self._target
        if p is None or target is None:
            raise self._no_forward_error()
        if self._indices:
            grad = self._subtract_one_at(p, target)  # p − onehot(t), in one kernel
        else:  # d/dx of −Σₖ tₖ log softmax(x)ₖ = p · Σₖ tₖ − t
            grad = torch.addcmul(-target, p, target.sum(-1, keepdim=True))
        return grad.mul_(self._scale) if self._scale != 1.0 else grad

    def _forget_cache(self) -> None:
        self._probabilities = None
        self._target = None

    def _terms(self, prediction: Tensor, target: Tensor) -> Tensor:
        shifted = prediction - prediction.amax(-1, keepdim=True)
        return -target * (shifted - shifted.exp().sum(-1, keepdim=True).log())  # −t log softmax(x) per entry

    @staticmethod
    def class_one_score(outputs: Tensor) -> Tensor:
        """softmax(outputs)[:, 1]: the probability of class 1 the network gives."""
        return torch.softmax(outputs, -1)[:, 1]
