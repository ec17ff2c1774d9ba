"""What training records: an `EpochRecord` per evaluated epoch, kept in a bounded `History`, and
the `Progress` a saved model carries (its epochs and last record)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from minidl._checks import positive_int
from minidl.errors import StateError, described
from minidl.params import Param, mapping

MAX_LAYER_VALUES = 1_000  # per-layer values in a saved record (a spec has at most 65 Linear layers)
_FRACTION = Param("fraction", float, low=0.0, high=1.0)


def checked(path: str, param: Param, value: Any) -> Any:
    """`value` checked against `param`, or a `StateError` in the spec's words."""
    problem = param.problem(value)
    if problem:
        raise StateError(f"{path}: {problem}, got {described(value)}")
    return float(value) if param.kind is float else value


def numbers(path: str, value: Any, low: float, high: float, size: int | None) -> tuple[float, ...]:
    """A list of numbers in [low, high] (infinity only if `high` is): empty, or of `size` if given."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_LAYER_VALUES:
        raise StateError(f"{path}: must be a list of numbers, got {described(value)}")
    if size is not None and len(value) not in (0, size):
        raise StateError(f"{path}: must hold {size} values (one per layer) or none, got {len(value)}")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
            raise StateError(f"{path}[{i}]: must be a number between {low:g} and {high:g}, got {described(v)}")
        out.append(float(v))
    return tuple(out)


@dataclass(frozen=True)
class EpochRecord:
    """Metrics at the end of an epoch. Losses are per sample (the summed loss divided by the set size)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    grad_norms: tuple[float, ...] = ()  # per Linear layer: its weight gradient's L2 norm, mean over the epoch
    health: tuple[float, ...] = ()  # per activation layer: the fraction of its units saturated or dead

    def as_dict(self) -> dict[str, float | tuple[float, ...]]:
        return asdict(self)

    def to_dict(self) -> dict[str, int | float | list[float]]:
        """Plain data (lists, not tuples), as `Trainer.state_dict()` and model files save it."""
        return {**asdict(self), "grad_norms": list(self.grad_norms), "health": list(self.health)}

    @classmethod
    def from_dict(
        cls, raw: Any, path: str = "record", linear: int | None = None, activations: int | None = None
    ) -> EpochRecord:
        """A record from `to_dict()`'s data, every field checked; `StateError` naming the first
        that is wrong. `linear`/`activations`: the only non-empty lengths the per-layer lists may have."""
        keys = tuple(f.name for f in fields(cls))
        raw = mapping(path, raw, keys, keys, error=StateError, show=described, noun="a mapping")
        return cls(
            epoch=checked(f"{path}.epoch", Param("epoch", int, low=1), raw["epoch"]),
            train_loss=checked(f"{path}.train_loss", Param("train_loss", float), raw["train_loss"]),
            train_accuracy=checked(f"{path}.train_accuracy", _FRACTION, raw["train_accuracy"]),
            test_loss=checked(f"{path}.test_loss", Param("test_loss", float), raw["test_loss"]),
            test_accuracy=checked(f"{path}.test_accuracy", _FRACTION, raw["test_accuracy"]),
            grad_norms=numbers(f"{path}.grad_norms", raw["grad_norms"], 0.0, math.inf, linear),
            health=numbers(f"{path}.health", raw["health"], 0.0, 1.0, activations),
        )


@dataclass(frozen=True)
class Progress:
    """How far a saved model had trained: its completed epochs and the last recorded metrics."""

    epoch: int
    record: EpochRecord | None = None


class History:
    """Every epoch's record up to `cap` records; beyond that it keeps every 2nd, 4th, … epoch.

    Memory stays bounded however long training runs, and the records stay evenly spread over the
    whole run, so a loss curve drawn from them keeps its shape.
    """

    def __init__(self, cap: int = 2000) -> None:
        self.cap = max(2, positive_int("History", "cap", cap))
        self.stride = 1
        self.records: list[EpochRecord] = []

    def append(self, record: EpochRecord) -> None:
        if record.epoch % self.stride:
            return
        self.records.append(record)
        if len(self.records) > self.cap:
            self.stride *= 2
            self.records = [r for r in self.records if r.epoch % self.stride == 0]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def column(self, name: str) -> list[float]:
        return [getattr(r, name) for r in self.records]
