"""The backward-pass mistakes students make, each opt-in and named; the real classes stay correct.

A mistake swaps the class of the modules it concerns for a subclass whose backward is wrong in
exactly that way: the weights, their gradients (the tensors an optimizer holds) and everything
else stay, so a network being trained can be broken, and repaired, in place (`inject`, `repair`).
`apply(model)` does it on a copy, as a new model with the same weights. `mistake_in(model)` says
which mistake a model carries.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from minidl.nn.activation import Identity, Tanh, _Elementwise
from minidl.nn.container import Sequential
from minidl.nn.linear import Linear
from minidl.nn.module import Module


def correct_class(cls: type) -> type:
    """The correct class a mistaken one stands in for (the class itself when it is correct)."""
    return getattr(cls, "_correct", cls)


def modules_of(model: Module) -> list[Module]:
    """The modules a mistake or a trace goes through: a Sequential's, or the module itself."""
    return list(model) if isinstance(model, Sequential) else [model]


def mistake_in(model: Module) -> str | None:
    """The name of the mistake `model` carries (in `MISTAKES`), or None."""
    for module in modules_of(model):
        name = getattr(type(module), "_mistake", None)
        if name is not None:
            return name
    return None


def repair(model: Module) -> None:
    """Every module of `model` back to its correct class, in place (a no-op on a correct model)."""
    for module in modules_of(model):
        cls = type(module)
        if cls is not correct_class(cls):
            for name in getattr(cls, "_extra", ()):
                module.__dict__.pop(name, None)
            module.__class__ = correct_class(cls)


# ---- the wrong backward passes --------------------------------------------------------------------
def _linear_backward(self: Linear, g: Tensor, weight_grad: Callable, bias: bool = True) -> Tensor:
    """Linear's backward with the weight gradient `weight_grad(self, g, x)` (and the bias's only if `bias`)."""
    x = self._input
    if x is None:
        raise self._no_forward_error()
    if not isinstance(g, Tensor) or g.shape[-1:] != (self.out_dim,) or g.numel() // self.out_dim != x.shape[0]:
        shape = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
        expected = (x.shape[0], self.out_dim)
        raise ValueError(f"{self._name()}.backward: gradient has shape {shape}, expected {expected}")
    if g.dim() != 2:
        return self.backward(g.reshape(-1, self.out_dim)).reshape(*g.shape[:-1], self.in_dim)
    self.grad_weight.add_(weight_grad(self, g, x))
    if bias and self.grad_bias is not None:
        self.grad_bias.add_(g.sum(0))
    return g.mm(self.weight)


def _no_derivative(self: _Elementwise, g: Tensor) -> Tensor:
    self._saved_for(g)
    return g  # dz = dx: the ⊙ g′(z) forgotten


def _sigmoid_forward(self: Tanh, x: Tensor) -> Tensor:
    y = torch.sigmoid(self._check_input(x))  # eˣ/(1 + eˣ): the report's typo for tanh
    self._saved = y
    return y  # the backward is still Tanh's, g ⊙ (1 − y²)


def _wrong_sign(self: Linear, g: Tensor) -> Tensor:
    return _linear_backward(self, g, lambda m, g, x: -g.t().mm(x))  # dW = −δᵀx


def _transposed(self: Linear, g: Tensor) -> Tensor:
    return _linear_backward(self, g, lambda m, g, x: x.t().mm(g).reshape(m.grad_weight.shape))  # xᵀδ, laid into W


def _no_bias_gradient(self: Linear, g: Tensor) -> Tensor:
    return _linear_backward(self, g, lambda m, g, x: g.t().mm(x), bias=False)  # db never computed


def _not_zeroed(self: Linear, g: Tensor) -> Tensor:
    x = self._input
    if x is None or not isinstance(g, Tensor) or g.dim() != 2:
        return _linear_backward(self, g, lambda m, g, x: g.t().mm(x))  # the checks, or the reshape to 2-D
    fresh_w, fresh_b = g.t().mm(x), g.sum(0)
    before_w, before_b = self._total_weight, self._total_bias
    # this step's gradient added to all the earlier ones (new tensors: a trace can put them back)
    total_w = self._total_weight = (
        fresh_w if before_w is None else before_w.to(fresh_w) + fresh_w
    )  # (its dtype, device)
    total_b = self._total_bias = fresh_b if before_b is None else before_b.to(fresh_b) + fresh_b
    dx = _linear_backward(self, g, lambda m, g, x: total_w, bias=False)
    if self.grad_bias is not None:
        self.grad_bias.add_(total_b)
    return dx


def _halved(self: Linear, g: Tensor) -> Tensor:
    if isinstance(g, Tensor) and g.dim() != 2:  # rows first, so that it is halved once
        return self.backward(g.reshape(-1, self.out_dim)).reshape(*g.shape[:-1], self.in_dim)
    half = g * 0.5 if isinstance(g, Tensor) else g  # dL/dx = x − t: MSE's 2(x − t) without its 2
    return _linear_backward(self, half, lambda m, g, x: g.t().mm(x))


# ---- the list ------------------------------------------------------------------------------------------
def _activations(classes: list[type]) -> list[int]:
    return [i for i, cls in enumerate(classes) if issubclass(cls, _Elementwise) and not issubclass(cls, Identity)]


def _of(kind: type) -> Callable[[list[type]], list[int]]:
    return lambda classes: [i for i, cls in enumerate(classes) if issubclass(cls, kind)]


def _last_linear(classes: list[type]) -> list[int]:
    return _of(Linear)(classes)[-1:]


@dataclass(frozen=True)
class Mistake:
    """A wrong backward pass: `description` says what is wrong and what it does to training."""

    name: str
    title: str  # a menu's text
    description: str
    where: Callable[[list[type]], list[int]]  # the modules it concerns, by position, from their classes
    methods: dict  # what the mistaken subclass overrides
    needs: str  # what a network must have for it, said when it has none
    extra: tuple[str, ...] = ()  # attributes the mistake keeps on a module (its own caches)
    loss: str | None = None  # the loss (a name of minidl.registry.LOSSES) it belongs to, if only one

    def mistaken_class(self, cls: type) -> type:
        """The subclass of `cls` with this mistake (one per class, made once)."""
        key = (self.name, cls)
        if key not in _CLASSES:
            namespace = {
                **self.methods,
                "_mistake": self.name,
                "_correct": cls,
                "_extra": self.extra,
                "_cache_names": (*cls._cache_names, *self.extra),
                "__module__": __name__,
            }
            _CLASSES[key] = type(f"{cls.__name__}[{self.name}]", (cls,), namespace)  # print(net) shows it
        return _CLASSES[key]

    def inject(self, model: Module) -> int:
        """Break `model` in place (after repairing any other mistake); returns how many modules
        changed. A `ValueError` (nothing changed) where the network has nothing this concerns."""
        modules = modules_of(model)
        chosen = self.where([correct_class(type(m)) for m in modules])
        if not chosen:
            raise ValueError(self.unfit())
        repair(model)
        for i in chosen:
            module = modules[i]
            module.__class__ = self.mistaken_class(type(module))
            for name in self.extra:
                setattr(module, name, None)
        return len(chosen)

    def fits(self, classes: list[type]) -> bool:
        """Whether a network of these layer classes (in order) has something this mistake concerns."""
        return bool(self.where(classes))

    def unfit(self) -> str:
        return f"{self.title}: the network needs {self.needs}"

    def apply(self, model: Module) -> Module:
        """A new model with `model`'s weights whose backward makes this mistake."""
        broken = copy.deepcopy(model)
        self.inject(broken)
        return broken


_CLASSES: dict[tuple[str, type], type] = {}

MISTAKES: dict[str, Mistake] = {
    m.name: m
    for m in (
        Mistake(
            "no_activation_derivative",
            "Activation derivative forgotten",
            "Backward passes the gradient through every activation unchanged: dz = dx instead of dx ⊙ g′(z). "
            "The gradient check fails; the network trains as if it were linear, and the loss plateaus.",
            _activations,
            {"backward": _no_derivative},
            "an activation layer",
        ),
        Mistake(
            "tanh_as_sigmoid",
            "Tanh taken as eˣ/(1 + eˣ)",
            "The report's typo: Tanh's forward computes g(x) = eˣ/(1 + eˣ), which is the sigmoid, while its "
            "backward keeps tanh's 1 − y². The derivative no longer belongs to the function.",
            _of(Tanh),
            {"forward": _sigmoid_forward},
            "a Tanh layer",
        ),
        Mistake(
            "dw_transposed",
            "dW with the wrong transpose",
            "dW computed as xᵀ·δ and laid into W's shape, instead of δᵀ·x (the report's dw = dz·xᵀ): for a "
            "square layer W's transpose, otherwise a scramble of it.",
            _of(Linear),
            {"backward": _transposed},
            "a Linear layer",
        ),
        Mistake(
            "dw_wrong_sign",
            "dW with the wrong sign",
            "dW = −δᵀ·x: every weight steps uphill, and the loss grows instead of shrinking (biases still go down).",
            _of(Linear),
            {"backward": _wrong_sign},
            "a Linear layer",
        ),
        Mistake(
            "no_bias_gradient",
            "Bias gradient forgotten",
            "db is never computed (it stays 0): the biases keep their initial values, so every boundary a "
            "unit draws is pinned near where it started.",
            _of(Linear),
            {"backward": _no_bias_gradient},
            "a Linear layer",
        ),
        Mistake(
            "grad_not_zeroed",
            "Gradients not zeroed between steps",
            "Each step's gradient is added to all the earlier ones (zero_grad forgotten): the steps grow "
            "with every minibatch and keep pushing in old directions, until training blows up. (The first "
            "step after it is put in is still right: the gradient check fails from the second on.)",
            _of(Linear),
            {"backward": _not_zeroed},
            "a Linear layer",
            extra=("_total_weight", "_total_bias"),
        ),
        Mistake(
            "mse_factor_2",
            "MSE's factor 2 dropped",
            "MSE's gradient taken as x − t instead of 2(x − t): every gradient is half of what it "
            "should be, so training is right in direction but runs at half the learning rate.",
            _last_linear,
            {"backward": _halved},
            "a Linear layer",
            loss="mse",
        ),
    )
}
