"""Argument checks shared by the modules: they turn bad input into messages that name it."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def positive_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value}")
    return value


def non_negative_float(owner: str, name: str, value: object) -> float:
    number = real_number(owner, name, value)
    if number < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
    return number


def positive_float(owner: str, name: str, value: object) -> float:
    number = real_number(owner, name, value)
    if not number > 0:
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value}")
    return number


def real_number(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    return number


def float_dtype(owner: str, dtype: torch.dtype | None) -> torch.dtype:
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{owner}: dtype must be a floating torch.dtype, got {dtype!r}")
    return dtype


def input_tensor(owner: str, x: object, reference: Tensor) -> Tensor:
    """A tensor with the dtype and device of `reference` (a parameter), or a clear error."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: input must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype != reference.dtype:
        raise TypeError(f"{owner}: input has dtype {x.dtype}, the parameters are {reference.dtype}")
    if x.device != reference.device:
        raise RuntimeError(f"{owner}: input is on {x.device}, the parameters are on {reference.device}")
    return x
