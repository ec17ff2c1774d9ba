"""Backpropagation made visible: one pass's numbers, a gradient check, and the classic mistakes.

`trace` runs minidl's own `forward` and `backward` on a few points and keeps every intermediate
value (the report's z = w·x + b, a = g(z), and backward dz = dx ⊙ g′(z), dw = dz·xᵀ, db = dz,
dx = wᵀ·dz), without touching the model's accumulated gradients or the caches a following
`backward` needs. `gradcheck` puts backprop's value of one weight's gradient beside a centred
finite difference in float64. `loss_along` is the loss along a step's direction. `MISTAKES`
(in `minidl.backprop.mistakes`) are the wrong backward passes students write, each opt-in.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from minidl.backprop.mistakes import MISTAKES, Mistake, correct_class, mistake_in, modules_of
from minidl.nn.container import _caches, _in_layer
from minidl.nn.linear import Linear
from minidl.nn.loss import Loss
from minidl.nn.module import Module

__all__ = ["MISTAKES", "Mistake", "Record", "Trace", "correct_class", "gradcheck", "loss_along", "mistake_in", "trace"]


@dataclass
class Record:
    """One module of a traced pass. Shapes: `input` `(N, in)`, `output` `(N, out)`, `grad_output`
    ∂L/∂output like `output`, `grad_input` ∂L/∂input like `input`; for a Linear layer
    `grad_weight` `(out, in)` and `grad_bias` `(out,)` of this pass alone (None otherwise)."""

    module: Module
    name: str  # "Linear(25, 25)", "Tanh"
    input: Tensor
    output: Tensor
    grad_output: Tensor
    grad_input: Tensor
    grad_weight: Tensor | None = None
    grad_bias: Tensor | None = None

    @property
    def is_linear(self) -> bool:
        return isinstance(self.module, Linear)


class Trace(list):
    """The `Record`s of a pass, in the order of the forward pass, with the loss at the end:
    `loss` (its value), `prediction` (the last output) and `grad_prediction` (∂L/∂prediction)."""

    def __init__(self, records: Sequence[Record], loss: float, prediction: Tensor, grad_prediction: Tensor) -> None:
        super().__init__(records)
        self.loss = loss
        self.prediction = prediction
        self.grad_prediction = grad_prediction


def module_name(module: Module) -> str:
    """`Linear(25, 25)` for a Linear layer (its shapes), the class's own name otherwise (`Tanh`)."""
    cls = correct_class(type(module))
    if issubclass(cls, Linear):
        return f"Linear({module.in_dim}, {module.out_dim})"
    return cls.__name__


def trace(model: Module, loss: Loss, x: Tensor, target: Tensor) -> Trace:
    """The forward and backward pass of `model` and `loss` on the points `x` `(N, in)` with their
    `target` (class indices `(N,)` or `(N, C)`), computed by the modules' own `forward` and
    `backward`, every intermediate value kept. The model's gradients and the caches of its last
    `forward` are as they were afterwards: a trace between a step's forward and backward changes
    nothing of that step. With a loss that sums (the report's), each row of a gradient is that
    point's own."""
    if not isinstance(model, Module):
        raise TypeError(f"trace: model must be a minidl Module, got {type(model).__name__}")
    if not isinstance(loss, Loss):
        raise TypeError(f"trace: loss must be a minidl loss, got {type(loss).__name__}")
    modules = modules_of(model)
    kept = list(_caches(model))
    grads = [g for _, g in model.param()]
    saved_grads = [g.clone() for g in grads]
    loss = copy.copy(loss)  # its caches are its own: the caller's loss is not touched
    try:
        if grads:
            torch._foreach_zero_(grads)
        inputs, outputs = [], []
        for i, module in enumerate(modules):
            inputs.append(x)
            try:
                x = module.forward(x)
            except (TypeError, ValueError, RuntimeError) as error:
                raise _in_layer(error, i, module) from error
            outputs.append(x)
        value = float(loss.forward(x, target))
        g = loss.backward()
        grad_prediction = g
        records: list[Record] = []
        for i in range(len(modules) - 1, -1, -1):
            module = modules[i]
            grad_output = g
            try:
                g = module.backward(g)
            except (TypeError, ValueError, RuntimeError) as error:
                raise _in_layer(error, i, module) from error
            record = Record(module, module_name(module), inputs[i], outputs[i], grad_output, g)
            if isinstance(module, Linear):
                record.grad_weight = module.grad_weight.clone()
                record.grad_bias = module.grad_bias.clone() if module.grad_bias is not None else None
                module.grad_weight.zero_()  # the next layer's pass is its own (a layer may appear twice)
                if module.grad_bias is not None:
                    module.grad_bias.zero_()
            records.append(record)
        records.reverse()
        return Trace(records, value, outputs[-1] if outputs else x, grad_prediction)
    finally:
        for grad, before in zip(grads, saved_grads):
            grad.copy_(before)
        for module, cache in kept:
            for name, cached in cache.items():
                setattr(module, name, cached)


def _float64(model: Module, loss: Loss, x: Tensor, target: Tensor) -> tuple[Module, Loss, Tensor, Tensor]:
    """Copies in float64: the model's weights (and any mistake it carries), the points, a float target."""
    model64 = copy.deepcopy(model).to(dtype=torch.float64)
    target = target.to(torch.float64) if target.is_floating_point() else target
    return model64, copy.copy(loss), x.to(torch.float64), target


def _parameter(model: Module, layer: int, index: tuple) -> tuple[Tensor, tuple, str]:
    modules = modules_of(model)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(modules):
        last = len(modules) - 1
        raise ValueError(f"gradcheck: layer must be the position of a Linear layer (0 to {last}), got {layer!r}")
    module = modules[layer]
    if not isinstance(module, Linear):
        raise ValueError(f"gradcheck: layer {layer} is {module_name(module)}, not a Linear layer")
    if isinstance(index, tuple) and len(index) == 2 and index[0] == "bias":
        if module.bias is None:
            raise ValueError(f"gradcheck: layer {layer} ({module_name(module)}) has no bias")
        tensor, where, name = module.bias, (index[1],), "bias"
    else:
        tensor, where, name = module.weight, tuple(index) if isinstance(index, tuple) else (index,), "weight"
    if len(where) != tensor.dim() or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i, n in zip(where, tensor.shape)
    ):
        raise ValueError(
            f"gradcheck: index {index!r} is not an entry of layer {layer}'s {name} of shape {tuple(tensor.shape)}"
        )
    return tensor, where, name


def gradcheck(
    model: Module, loss: Loss, x: Tensor, target: Tensor, layer: int, index: tuple, eps: float = 1e-6
) -> tuple[float, float]:
    """`(analytic, numeric)` ∂L/∂w for one entry of the Linear layer at position `layer`: its
    weight's entry `index` (`(out, in)`), or its bias's (`("bias", unit)`). The analytic value is
    backprop's (the modules' own backward, mistakes included); the numeric one the centred
    difference (L(w + eps) − L(w − eps)) / 2 eps. Both in float64, on copies: the model is untouched."""
    if not (isinstance(eps, (int, float)) and not isinstance(eps, bool) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"gradcheck: eps must be a positive number, got {eps!r}")
    _parameter(model, layer, index)  # a bad layer or index is said before anything is copied
    model64, loss64, x64, target64 = _float64(model, loss, x, target)
    tensor, where, name = _parameter(model64, layer, index)
    record = trace(model64, loss64, x64, target64)[layer]
    analytic = float((record.grad_bias if name == "bias" else record.grad_weight)[where])
    original = float(tensor[where])
    values = []
    for shift in (eps, -eps):
        tensor[where] = original + shift
        values.append(float(loss64.forward(model64.forward(x64), target64)))
    tensor[where] = original
    return analytic, (values[0] - values[1]) / (2 * eps)


def relative_error(analytic: float, numeric: float) -> float:
    """|a − n| / max(|a|, |n|, 1e-12): 0 where they agree, near 1 (or 2) where they do not."""
    return abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-12)


def loss_along(
    model: Module, loss: Loss, x: Tensor, target: Tensor, direction: Sequence[Tensor], etas: Sequence[float]
) -> Tensor:
    """The loss per sample, L(θ − η·d) / N on `x`, for each η of `etas`: `direction` holds one
    tensor per parameter (in `model.param()`'s order, e.g. the last step's gradients). The
    parameters are put back exactly as they were."""
    params = [p for p, _ in model.param()]
    if len(direction) != len(params) or any(d.shape != p.shape for d, p in zip(direction, params)):
        shapes = [tuple(p.shape) for p in params]
        raise ValueError(f"loss_along: direction must be one tensor per parameter, of shapes {shapes}")
    summed = type(loss)(reduction="sum")
    kept = list(_caches(model))
    saved = [p.clone() for p in params]
    out = []
    try:
        for eta in etas:
            if params:
                torch._foreach_copy_(params, saved)
                torch._foreach_add_(params, list(direction), alpha=-float(eta))
            out.append(float(summed.forward(model.forward(x), target)) / x.shape[-2])
    finally:
        if params:
            torch._foreach_copy_(params, saved)
        for module, cache in kept:
            for name, cached in cache.items():
                setattr(module, name, cached)
    return torch.tensor(out, dtype=torch.float64)
