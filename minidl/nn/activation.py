"""Element-wise activations. Each keeps what its derivative needs from the forward pass.

Shapes: any input `(*)`; the output and the gradients have the same shape.
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

    `health_kind` names what an unhealthy unit of this activation is ("saturated": stuck near an
    asymptote, where the gradient vanishes; "dead": never positive, so no gradient at all), and
    `unhealthy(outputs)` measures the fraction of such units over a set of points.
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

    def unhealthy(self, outputs: Tensor) -> float:
        """The fraction of units that are `health_kind` over the points of `outputs` `(*, N, units)`."""
        return float("nan")


def _fraction_of_units(stuck: Tensor, most: bool) -> float:
    """`stuck` `(*, N, units)` per point -> the fraction of units stuck on most (or all) points."""
    per_unit = stuck.float().mean(-2) > 0.5 if most else stuck.all(-2)
    return per_unit.float().mean().item()


class ReLU(_Elementwise):
    """max(0, x); the derivative at 0 is taken as 0, as in PyTorch. Dead: zero on every point."""

    health_kind = "dead"

    def unhealthy(self, outputs: Tensor) -> float:
        return _fraction_of_units(outputs <= 0, most=False)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self._check_input(x))
        self._saved = y
        return y

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        y = self._saved_for(grad_wrt_output)
        return grad_wrt_output * (y > 0)


class LeakyReLU(_Elementwise):
    """x for x > 0, slope * x otherwise. Dead: negative on every point (only the slope's gradient left)."""

    health_kind = "dead"

    def unhealthy(self, outputs: Tensor) -> float:
        return _fraction_of_units(outputs <= 0, most=False)

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = real_number("LeakyReLU", "slope", slope)

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        self._saved = x
        return torch.where(x > 0, x, x * self.slope)

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        x = self._saved_for(grad_wrt_output)
        return torch.where(x > 0, grad_wrt_output, grad_wrt_output * self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class Tanh(_Elementwise):
    """tanh(x); d/dx = 1 - tanh(x)^2, computed from the saved output.

    Saturated: |tanh| > 0.97 (the gradient below 0.06) on most points.
    """

    health_kind = "saturated"

    def unhealthy(self, outputs: Tensor) -> float:
        return _fraction_of_units(outputs.abs() > 0.97, most=True)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.tanh(self._check_input(x))
        self._saved = y
        return y

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        y = self._saved_for(grad_wrt_output)
        return torch.addcmul(grad_wrt_output, grad_wrt_output * y, y, value=-1)


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)); d/dx = s (1 - s), computed from the saved output.

    Saturated: within 0.03 of 0 or 1 (the gradient below 0.03) on most points.
    """

    health_kind = "saturated"

    def unhealthy(self, outputs: Tensor) -> float:
        return _fraction_of_units((outputs - 0.5).abs() > 0.47, most=True)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.sigmoid(self._check_input(x))
        self._saved = y
        return y

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        s = self._saved_for(grad_wrt_output)
        gs = grad_wrt_output * s
        return torch.addcmul(gs, gs, s, value=-1)


class GELU(_Elementwise):
    """x Φ(x), Φ the standard normal CDF (the exact erf form, as `torch.nn.GELU()`).

    d/dx = Φ(x) + x φ(x), φ the standard normal density; computed from the saved input.
    Dead: not positive on any point (the gradient is then small, and zero far below).
    """

    health_kind = "dead"

    def unhealthy(self, outputs: Tensor) -> float:
        return _fraction_of_units(outputs <= 0, most=False)

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        self._saved = x
        return x * _normal_cdf(x)

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        x = self._saved_for(grad_wrt_output)
        density = torch.exp(-0.5 * x * x).mul_(_INV_SQRT_2PI)
        return grad_wrt_output * torch.addcmul(_normal_cdf(x), x, density)


_INV_SQRT_2 = 0.5**0.5
_INV_SQRT_2PI = (2.0 * math.pi) ** -0.5


def _normal_cdf(x: Tensor) -> Tensor:
    return torch.erf(x * _INV_SQRT_2).add_(1.0).mul_(0.5)


class Softplus(_Elementwise):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as `torch.nn.Softplus`).

    A smooth ReLU; d/dx = sigmoid(beta x) (1 above the threshold), from the saved input.
    Dead: below 0.01 on every point (the gradient below about beta * 0.01).
    """

    health_kind = "dead"

    def unhealthy(self, outputs: Tensor) -> float:
        return _fraction_of_units(outputs < 0.01, most=False)

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
    """Passes its input through; useful as a placeholder in an edited network."""

    def forward(self, x: Tensor) -> Tensor:
        self._saved = self._check_input(x)
        return x

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        self._saved_for(grad_wrt_output)
        return grad_wrt_output
