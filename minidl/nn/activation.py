"""Element-wise activations y = σ(x). Each keeps what its derivative needs from the forward pass.

Backward is the report's dz = dx ⊙ g′(z): the gradient w.r.t. the output times the derivative,
element by element. Shapes: any input `(*)`; the output and the gradients have the same shape.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from minidl._checks import positive_float, real_number
from minidl.nn.module import Module

__all__ = ["GELU", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Softplus", "Tanh"]


class _Elementwise(Module):
    """Caches the forward output (or input) in `_saved`, checks the gradient's shape in `backward`.

    Shapes: input `(N, units)` or any `(*)`; the output and both gradients have the same shape.
    In the backward formulas g is the gradient w.r.t. the output, y the output, x the input.
    `health_kind` says how a unit of this activation fails: "saturated" (stuck near an asymptote,
    where the gradient vanishes) or "dead" (never positive); `minidl.train.health` measures it.
    """

    _cache_names = ("_saved",)
    health_kind: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self._saved: Tensor | None = None

    def _check_input(self, x: object) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{type(self).__name__}: input must be a floating tensor, got {x.dtype}")
        return x

    def _saved_for(self, grad: Tensor) -> Tensor:
        saved = self._saved
        if saved is None:
            raise self._no_forward_error()
        self._check_grad_shape(grad, saved)
        return saved

    def _forget_cache(self) -> None:
        self._saved = None


class ReLU(_Elementwise):
    """y = max(0, x). Backward: dx = g ⊙ 1[y > 0] (the derivative at 0 is taken as 0, as in PyTorch)."""

    health_kind = "dead"

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self._check_input(x))
        self._saved = y
        return y

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        y = self._saved_for(grad_wrt_output)
        return grad_wrt_output * (y > 0)  # dx = g ⊙ 1[y > 0]


class LeakyReLU(_Elementwise):
    """y = x for x > 0, slope · x otherwise. Backward: dx = g where x > 0, slope · g elsewhere."""

    health_kind = "dead"

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = real_number("LeakyReLU", "slope", slope)

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        self._saved = x
        return torch.where(x > 0, x, x * self.slope)

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        x = self._saved_for(grad_wrt_output)
        return torch.where(x > 0, grad_wrt_output, grad_wrt_output * self.slope)  # dx = g ⊙ g′(x)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class Tanh(_Elementwise):
    """y = tanh(x). Backward: dx = g ⊙ (1 − y²), from the saved output y (the report's g′(z))."""

    health_kind = "saturated"

    def forward(self, x: Tensor) -> Tensor:
        y = torch.tanh(self._check_input(x))
        self._saved = y
        return y

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        y = self._saved_for(grad_wrt_output)
        g = grad_wrt_output
        return torch.addcmul(g, g * y, y, value=-1)  # g − (g ⊙ y) ⊙ y = g ⊙ (1 − y²), in one kernel


class Sigmoid(_Elementwise):
    """y = s(x) = 1 / (1 + exp(−x)). Backward: dx = g ⊙ s (1 − s), from the saved output s."""

    health_kind = "saturated"

    def forward(self, x: Tensor) -> Tensor:
        y = torch.sigmoid(self._check_input(x))
        self._saved = y
        return y

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        s = self._saved_for(grad_wrt_output)
        gs = grad_wrt_output * s
        return torch.addcmul(gs, gs, s, value=-1)  # g ⊙ s − (g ⊙ s) ⊙ s = g ⊙ s (1 − s)


class GELU(_Elementwise):
    """y = x Φ(x), Φ the standard normal CDF (the exact erf form, as `torch.nn.GELU()`).

    Backward: dx = g ⊙ (Φ(x) + x φ(x)), φ(x) = exp(−x²/2) / √(2π) the normal density; from the
    saved input x.
    """

    health_kind = "dead"

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        self._saved = x
        return x * _normal_cdf(x)

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        x = self._saved_for(grad_wrt_output)
        density = torch.exp(-0.5 * x * x).mul_(_INV_SQRT_2PI)  # φ(x)
        return grad_wrt_output * torch.addcmul(_normal_cdf(x), x, density)  # g ⊙ (Φ(x) + x φ(x))


_INV_SQRT_2 = 0.5**0.5
_INV_SQRT_2PI = (2.0 * math.pi) ** -0.5


def _normal_cdf(x: Tensor) -> Tensor:
    """Φ(x) = (1 + erf(x / √2)) / 2."""
    return torch.erf(x * _INV_SQRT_2).add_(1.0).mul_(0.5)


class Softplus(_Elementwise):
    """y = log(1 + exp(β x)) / β, and y = x where β x > threshold (as `torch.nn.Softplus`): a smooth ReLU.

    Backward: dx = g ⊙ s(β x), s the sigmoid (dx = g above the threshold); from the saved input x.
    """

    health_kind = "dead"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = positive_float("Softplus", "beta", beta)
        self.threshold = real_number("Softplus", "threshold", threshold)

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        self._saved = x
        scaled = x * self.beta
        return torch.where(scaled > self.threshold, x, torch.log1p(torch.exp(scaled)) / self.beta)

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        x = self._saved_for(grad_wrt_output)
        scaled = x * self.beta
        return grad_wrt_output * torch.where(scaled > self.threshold, 1.0, torch.sigmoid(scaled))

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}, threshold={self.threshold:g}"


class Identity(_Elementwise):
    """y = x; backward dx = g. A placeholder in an edited network."""

    def forward(self, x: Tensor) -> Tensor:
        self._saved = self._check_input(x)
        return x

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        self._saved_for(grad_wrt_output)
        return grad_wrt_output
