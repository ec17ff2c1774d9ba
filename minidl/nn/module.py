"""The `Module` base class: the contract every layer, activation and container follows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch
from torch import Tensor

ParamList = list[tuple[Tensor, Tensor]]


class Module:
    """A differentiable building block with a hand-written backward pass.

    Subclasses implement `forward(x)` and `backward(grad_wrt_output)`, cache in `forward` what
    `backward` needs, and name their parameters in `_param_names`. For a parameter `"weight"` the
    gradient lives in the attribute `"grad_weight"`, with the same shape, dtype and device.

    Gradients *accumulate* across backward calls until `zero_grad()`, as in PyTorch.
    """

    _param_names: tuple[str, ...] = ()
    _cache_names: tuple[str, ...] = ()  # what `forward` keeps for `backward` (see `Sequential.layer_outputs`)

    def __init__(self) -> None:
        self.training = True

    # ---- the core contract -------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def named_param(self) -> list[tuple[str, Tensor, Tensor]]:
        """`(name, parameter, gradient)` triples; names are the keys of `state_dict()`."""
        out = []
        for name in self._param_names:
            value = getattr(self, name)
            if value is not None:
                out.append((name, value, getattr(self, "grad_" + name)))
        return out

    def param(self) -> ParamList:
        """The `(parameter, gradient)` pairs an optimizer updates; empty when there are none."""
        return [(p, g) for _, p, g in self.named_param()]

    def zero_grad(self) -> None:
        grads = [g for _, g in self.param()]
        if grads:
            torch._foreach_zero_(grads)

    # ---- modes, devices, serialization -------------------------------------------------------
    def children(self) -> Iterator[Module]:
        return iter(())

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Module:
        """Move parameters and gradients (in place on the module, like `torch.nn.Module.to`).

        Build the optimizer *after* moving: it holds references to the tensors it updates.
        """
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"{type(self).__name__}.to: dtype must be a floating type, got {dtype}")
        for name, p, g in self.named_param():
            setattr(self, name, p.to(device=device, dtype=dtype))
            setattr(self, "grad_" + name, g.to(device=device, dtype=dtype))
        for child in self.children():
            child.to(device=device, dtype=dtype)
        self._forget_cache()
        return self

    def _forget_cache(self) -> None:
        """Drop what `forward` cached, e.g. after the parameters moved."""

    def state_dict(self) -> dict[str, Tensor]:
        return {name: p.clone() for name, p, _ in self.named_param()}

    def load_state_dict(self, state: Mapping[str, Tensor]) -> None:
        """Copy `state` into the parameters in place; all-or-nothing on any mismatch."""
        own = {name: p for name, p, _ in self.named_param()}
        check_state_dict(type(self).__name__, {name: tuple(p.shape) for name, p in own.items()}, state)
        for name, p in own.items():
            p.copy_(state[name])

    # ---- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _no_forward_error(self) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__}.backward called before forward")

    def _check_grad_shape(self, grad: Tensor, expected: Tensor) -> None:
        if not isinstance(grad, Tensor):
            raise TypeError(f"{type(self).__name__}.backward expects a tensor, got {type(grad).__name__}")
        if grad.shape != expected.shape:
            raise ValueError(
                f"{type(self).__name__}.backward: gradient has shape {tuple(grad.shape)}, "
                f"but the forward output had shape {tuple(expected.shape)}"
            )


def check_state_dict(owner: str, shapes: Mapping[str, tuple[int, ...]], state: object) -> None:
    """Refuse, as `owner.load_state_dict` does, a `state` that does not fit parameters of `shapes`
    (by name): a mapping of exactly those names to floating tensors of those shapes."""
    if not isinstance(state, Mapping):
        raise TypeError(f"load_state_dict expects a mapping of name -> tensor, got {type(state).__name__}")
    missing = sorted(set(shapes) - set(state))
    unexpected = sorted(set(state) - set(shapes))
    if missing or unexpected:
        raise ValueError(f"load_state_dict for {owner}: missing keys {missing}, unexpected keys {unexpected}")
    for name, shape in shapes.items():
        value = state[name]
        if not isinstance(value, Tensor):
            raise TypeError(f"load_state_dict: {name!r} must be a tensor, got {type(value).__name__}")
        if tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"load_state_dict: {name!r} has shape {tuple(value.shape)}, the model expects {tuple(shape)}"
            )
        if not value.dtype.is_floating_point:
            raise TypeError(f"load_state_dict: {name!r} must be a floating tensor, got {value.dtype}")
