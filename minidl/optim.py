"""Optimizers over the `(parameter, gradient)` pairs that `Module.param()` returns.

Updates use PyTorch's multi-tensor `_foreach_` kernels: one call updates every parameter, which is
what keeps a step of a small network cheap. `lr` may be changed between steps; it takes effect at
the next `step()`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from minidl._checks import argument, non_negative_float, positive_float
from minidl.errors import StateError, described
from minidl.params import Param, mapping

MAX_SAVED_LR = 1e6  # far above any lr that trains; a larger one would overflow a float32 step


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


class Optimizer:
    """The base of every optimizer: it holds `params` and `grads`, the tensors of `Module.param()`'s
    `(parameter, gradient)` pairs, and updates the parameters in place with `step()`.

    A subclass writes its update rule in `step()` and names its buffers (momentum, moments) for
    `state_dict()` in `_extra_keys`/`_extra_state`/`_check_extra`/`_set_extra`. `lr` (> 0) may
    change between steps.
    """

    def __init__(self, params: Iterable[tuple[Tensor, Tensor]], lr: float) -> None:
        name = type(self).__name__
        pairs = list(params) if not isinstance(params, Tensor) else None
        if pairs is None:
            raise TypeError(f"{name}: params must be the list of (parameter, gradient) pairs from Module.param()")
        self.params: list[Tensor] = []
        self.grads: list[Tensor] = []
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(t, Tensor) for t in pair)):
                raise TypeError(f"{name}: params[{i}] must be a (parameter, gradient) pair of tensors, got {pair!r}")
            p, g = pair
            if p.shape != g.shape:
                raise ValueError(f"{name}: params[{i}] has shape {tuple(p.shape)} but its gradient {tuple(g.shape)}")
            self.params.append(p)
            self.grads.append(g)
        self.lr = lr

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = positive_float(type(self).__name__, "lr", value)

    def zero_grad(self) -> None:
        if self.grads:
            torch._foreach_zero_(self.grads)

    def step(self) -> None:
        raise NotImplementedError

    # ---- saving and restoring ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """What decides the next steps beyond the constructor's options: the type, the current lr
        and the optimizer's buffers (copies, on the CPU). Plain data: `torch.load(weights_only=True)`
        reads it."""
        return {"type": type(self).__name__, "lr": self._lr, **self._extra_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from `state` (a `state_dict()` of an optimizer of this type over parameters of
        the same shapes); all-or-nothing: a `StateError` naming what does not fit changes nothing."""
        self.set_state(self.check_state(state))

    def prepare_state(self, state: Mapping[str, Any], finite: bool = False) -> Callable[[], None]:
        """Check `state` whole and return the function that applies it, so a caller can check
        several parts before changing any (see `check_state`)."""
        checked = self.check_state(state, finite)
        return lambda: self.set_state(checked)

    def check_state(self, state: Mapping[str, Any], finite: bool = False) -> dict[str, Any]:
        """`state` checked against this optimizer's type, options and parameter shapes and dtypes
        (not their values or device: the parameters may be placeholders), as fresh copies that
        `set_state` applies. `StateError` if it does not fit; with `finite`, also if a buffer
        holds a value that is not finite."""
        name = type(self).__name__
        if not isinstance(state, Mapping):
            raise StateError(f"optimizer state: must be a mapping, got {described(state)}")
        kind = state.get("type")
        if not isinstance(kind, str) or kind != name:
            raise StateError(f"optimizer state: saved by a {described(kind)} optimizer, this one is {name}")
        keys = ("type", "lr", *self._extra_keys())
        mapping("optimizer state", state, keys, keys, error=StateError, show=described, noun="a mapping")
        lr = state["lr"]
        problem = Param("lr", float, low=0.0, low_open=True, high=MAX_SAVED_LR).problem(lr)
        if problem:
            raise StateError(f"optimizer state: lr {problem}, got {described(lr)}")
        return {"lr": float(lr), **self._check_extra(state, finite)}

    def set_state(self, checked: Mapping[str, Any]) -> None:
        """Apply what `check_state` returned (of this optimizer or of one built the same way); the
        buffers are copied onto the parameters' device, so one checked state may be applied twice."""
        self._set_extra(checked)
        self._lr = checked["lr"]

    def _extra_keys(self) -> tuple[str, ...]:
        return ()

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _check_extra(self, state: Mapping[str, Any], finite: bool) -> dict[str, Any]:
        return {}

    def _set_extra(self, checked: Mapping[str, Any]) -> None:
        pass

    def _tensors(self, what: str, value: Any, finite: bool) -> list[Tensor]:
        """`value` as one tensor per parameter, each of its parameter's shape and dtype (fresh
        copies), or a `StateError` naming the first that does not fit."""
        if not isinstance(value, (list, tuple)) or not all(isinstance(t, Tensor) for t in value):
            raise StateError(f"optimizer state: {what} must be a list of tensors, got {described(value)}")
        if len(value) != len(self.params):
            raise StateError(
                f"optimizer state: {len(value)} {what} tensors, the model has {len(self.params)} parameters"
            )
        out = []
        for i, (t, p) in enumerate(zip(value, self.params)):
            if t.shape != p.shape:
                raise StateError(
                    f"optimizer state: {what} of parameter {i} has shape {_shape(t)}, the model's is {_shape(p)}"
                )
            if t.dtype != p.dtype:
                raise StateError(f"optimizer state: {what} of parameter {i} is {t.dtype}, the model's is {p.dtype}")
            if finite and not bool(torch.isfinite(t).all()):
                raise StateError(f"optimizer state: {what} of parameter {i} holds values that are not finite")
            out.append(t.detach().clone(memory_format=torch.contiguous_format))
        return out

    def _placed(self, tensors: list[Tensor]) -> list[Tensor]:
        """Copies of checked buffers on their parameters' devices."""
        return [t.to(device=p.device, copy=True) for t, p in zip(tensors, self.params)]

    @staticmethod
    def _saved(tensors: list[Tensor]) -> list[Tensor]:
        return [t.detach().to("cpu", copy=True) for t in tensors]


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 weight decay.

    The update of `torch.optim.SGD` (dampening 0), for each parameter p with gradient g::

        d = g + weight_decay · p                 (L2 weight decay)
        v = d               on the first step,   (momentum buffer, only when momentum > 0)
        v = momentum · v + d   after it
        d = d + momentum · v   with Nesterov,  d = v  without
        p = p − lr · d

    With `momentum=0` that is plain SGD, p = p − lr · (g + weight_decay · p).
    """

    def __init__(
        self,
        params: Iterable[tuple[Tensor, Tensor]],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = non_negative_float("SGD", "momentum", momentum)
        self.weight_decay = non_negative_float("SGD", "weight_decay", weight_decay)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a positive momentum")
        self.nesterov = bool(nesterov)
        self._buffers: list[Tensor] | None = None

    def step(self) -> None:
        if not self.params:
            return
        d = self.grads
        if self.weight_decay:
            d = torch._foreach_add(d, self.params, alpha=self.weight_decay)
        if self.momentum:
            if self._buffers is None:
                self._buffers = [t.clone() for t in d]
            else:
                torch._foreach_mul_(self._buffers, self.momentum)
                torch._foreach_add_(self._buffers, d)
            d = torch._foreach_add(d, self._buffers, alpha=self.momentum) if self.nesterov else self._buffers
        torch._foreach_add_(self.params, d, alpha=-self._lr)

    def _extra_keys(self) -> tuple[str, ...]:
        return ("momentum_buffers",)

    def _extra_state(self) -> dict[str, Any]:
        return {"momentum_buffers": None if self._buffers is None else self._saved(self._buffers)}

    def _check_extra(self, state: Mapping[str, Any], finite: bool) -> dict[str, Any]:
        raw = state["momentum_buffers"]
        if raw is None:
            return {"momentum_buffers": None}
        if not self.momentum:
            raise StateError("optimizer state: momentum buffers were saved, but this SGD has no momentum")
        return {"momentum_buffers": self._tensors("momentum buffer", raw, finite)}

    def _set_extra(self, checked: Mapping[str, Any]) -> None:
        buffers = checked["momentum_buffers"]
        self._buffers = None if buffers is None else self._placed(buffers)

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self._lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
            f"nesterov={self.nesterov})"
        )


optim_SGD = SGD  # the report's name


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction and L2 weight decay, as `torch.optim.Adam`.

    At step t (from 1), for each parameter p with gradient g::

        d = g + weight_decay · p              (L2 weight decay, added to the gradient)
        m = β1 · m + (1 − β1) · d             (first moment: a lerp of m towards d)
        v = β2 · v + (1 − β2) · d ⊙ d         (second moment)
        m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)  (bias correction: m and v start at 0)
        p = p − lr · m̂ / (√v̂ + eps)

    `step()` folds the two corrections into one step size and one divisor:
    p −= (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps), the same arithmetic as torch's.
    """

    def __init__(
        self,
        params: Iterable[tuple[Tensor, Tensor]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise TypeError(f"Adam: betas must be a pair of numbers, got {betas!r}")
        for i, beta in enumerate(betas):
            argument("Adam", Param(f"betas[{i}]", float, low=0.0, high=1.0, high_open=True), beta)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = positive_float("Adam", "eps", eps)
        self.weight_decay = non_negative_float("Adam", "weight_decay", weight_decay)
        self.steps = 0
        self._m = [torch.zeros_like(p) for p in self.params]
        self._v = [torch.zeros_like(p) for p in self.params]

    def step(self) -> None:
        if not self.params:
            return
        beta1, beta2 = self.betas
        self.steps += 1
        g = self.grads
        if self.weight_decay:
            g = torch._foreach_add(g, self.params, alpha=self.weight_decay)
        torch._foreach_lerp_(self._m, g, 1.0 - beta1)
        torch._foreach_mul_(self._v, beta2)
        torch._foreach_addcmul_(self._v, g, g, value=1.0 - beta2)
        step_size = self._lr / (1.0 - beta1**self.steps)
        denom = torch._foreach_sqrt(self._v)
        torch._foreach_div_(denom, math.sqrt(1.0 - beta2**self.steps))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self._m, denom, value=-step_size)

    def _extra_keys(self) -> tuple[str, ...]:
        return ("steps", "m", "v")

    def _extra_state(self) -> dict[str, Any]:
        return {"steps": self.steps, "m": self._saved(self._m), "v": self._saved(self._v)}

    def _check_extra(self, state: Mapping[str, Any], finite: bool) -> dict[str, Any]:
        steps = state["steps"]
        problem = Param("steps", int, low=0).problem(steps)
        if problem:
            raise StateError(f"optimizer state: steps {problem}, got {described(steps)}")
        m = self._tensors("moment 'm'", state["m"], finite)
        v = self._tensors("moment 'v'", state["v"], finite)
        for i, t in enumerate(v):
            if bool((t < 0).any()):
                raise StateError(f"optimizer state: moment 'v' of parameter {i} holds negative values")
        return {"steps": steps, "m": m, "v": v}

    def _set_extra(self, checked: Mapping[str, Any]) -> None:
        self.steps, self._m, self._v = checked["steps"], self._placed(checked["m"]), self._placed(checked["v"])

    def __repr__(self) -> str:
        return f"Adam(lr={self._lr:g}, betas={self.betas}, eps={self.eps:g}, weight_decay={self.weight_decay:g})"
