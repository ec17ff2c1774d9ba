"""Argument checks shared by the modules: they turn bad input into messages that name it."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from minidl.params import Param, quoted


def argument(owner: str, param: Param, value: object) -> Any:
    """`value` checked against `param`: a `TypeError` for the wrong type, a `ValueError` out of range.

    The same `Param` rules (and words) as a spec field, for the framework's own arguments.
    """
    problem = param.problem(value)
    if not problem:
        return float(value) if param.kind is float else value
    wrong_type = isinstance(value, bool) or not isinstance(value, (int, float) if param.kind is float else int)
    error = TypeError if wrong_type and param.kind in (int, float) else ValueError
    raise error(f"{owner}: {param.name} {problem}, got {quoted(value)}")


def positive_int(owner: str, name: str, value: object) -> int:
    return argument(owner, Param(name, int, low=1), value)


def non_negative_float(owner: str, name: str, value: object) -> float:
    return argument(owner, Param(name, float, low=0.0), value)


def positive_float(owner: str, name: str, value: object) -> float:
    return argument(owner, Param(name, float, low=0.0, low_open=True), value)


def real_number(owner: str, name: str, value: object) -> float:
    return argument(owner, Param(name, float), value)


def float_dtype(owner: str, dtype: torch.dtype | None) -> torch.dtype:
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{owner}: dtype must be a floating torch.dtype, got {dtype!r}")
    return dtype


def input_tensor(owner: str, x: object, reference: Tensor) -> Tensor:
    """A tensor with the dtype and device of `reference` (a parameter), or a clear error."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: input must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype is not reference.dtype:
        raise TypeError(f"{owner}: input has dtype {x.dtype}, the parameters are {reference.dtype}")
    if not (x.is_cpu and reference.is_cpu) and x.device != reference.device:  # cheap on the hot CPU path
        raise RuntimeError(f"{owner}: input is on {x.device}, the parameters are on {reference.device}")
    return x
