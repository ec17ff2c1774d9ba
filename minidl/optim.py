"""Optimizers over the `(parameter, gradient)` pairs that `Module.param()` returns.

Updates use PyTorch's multi-tensor `_foreach_` kernels: one call updates every parameter, which is
what keeps a step of a small network cheap. `lr` may be changed between steps; it takes effect at
the next `step()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

from minidl._checks import argument, non_negative_float, positive_float
from minidl.params import Param


class Optimizer:
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


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 weight decay.

    Same update as `torch.optim.SGD` (dampening 0): `v = momentum * v + g`, `p -= lr * v`.
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

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self._lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
            f"nesterov={self.nesterov})"
        )


optim_SGD = SGD  # the report's name


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction and L2 weight decay, as `torch.optim.Adam`."""

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

    def __repr__(self) -> str:
        return f"Adam(lr={self._lr:g}, betas={self.betas}, eps={self.eps:g}, weight_decay={self.weight_decay:g})"
