"""The health of activation layers, as the trainer records it and the app draws it.

An activation layer is unhealthy in one of two ways, named by its class's `health_kind`:
"saturated" units sit near an asymptote, where the gradient vanishes (Tanh, Sigmoid); "dead" units
are never positive, so little or no gradient flows back (ReLU and its relatives). The measure is
the fraction of a layer's units stuck that way over a set of points: a saturated unit on most of
them, a dead unit on every one. The thresholds below are this program's choice, not the layer's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import Tensor

from minidl.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh

TANH_SATURATED = 0.97  # |tanh| above it: the gradient 1 - tanh² is below 0.06
SIGMOID_SATURATED = 0.47  # |s - 1/2| above it: within 0.03 of 0 or 1, the gradient s(1 - s) below 0.03
SOFTPLUS_DEAD = 0.01  # softplus below it: the gradient is below about beta · 0.01

# Per class: which outputs `(*, N, units)` count as stuck, and whether a unit must be stuck on
# most points (saturated) or on all of them (dead).
_STUCK: dict[type, tuple[Callable[[Tensor], Tensor], bool]] = {
    Tanh: (lambda y: y.abs() > TANH_SATURATED, True),
    Sigmoid: (lambda y: (y - 0.5).abs() > SIGMOID_SATURATED, True),
    ReLU: (lambda y: y <= 0, False),
    LeakyReLU: (lambda y: y <= 0, False),  # negative everywhere: only the slope's gradient is left
    GELU: (lambda y: y <= 0, False),  # the gradient is then small, and zero far below
    Softplus: (lambda y: y < SOFTPLUS_DEAD, False),
}


def health_kind(layer: object) -> str | None:
    """ "saturated", "dead", or None for a layer (a module or its class) whose health is not measured."""
    kind = getattr(layer, "health_kind", None)
    return kind if isinstance(kind, str) and _rule(layer) is not None else None


def unhealthy(layer: object, outputs: Tensor) -> float:
    """The fraction of the units of `layer` that are `health_kind(layer)` over the points of its
    `outputs` `(*, N, units)`; NaN for a layer whose health is not measured."""
    rule = _rule(layer)
    if rule is None:
        return math.nan
    stuck, most = rule
    per_point = stuck(outputs)
    per_unit = per_point.float().mean(-2) > 0.5 if most else per_point.all(-2)
    return per_unit.float().mean().item()


def _rule(layer: object) -> tuple[Callable[[Tensor], Tensor], bool] | None:
    cls = layer if isinstance(layer, type) else type(layer)
    return next((_STUCK[c] for c in cls.__mro__ if c in _STUCK), None)
