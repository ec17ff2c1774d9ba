"""Checking a trainer's saved state (`Trainer.state_dict()`) before anything is changed.

`check_state(state, fit, optimizer)` checks a whole state against a `Fit`, what a trainer is
(its settings, the names, shapes and dtypes of its weights, its points, what it records), and
against an optimizer of the trainer's type, and returns a `CheckedState` of fresh copies that a
trainer of that `Fit` applies (`Trainer.load_checked`). A `Fit` comes from a trainer
(`Trainer.fit()`) or, without building one, from a spec and its points (`minidl.build.state_fit`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from minidl.errors import StateError, described
from minidl.nn.ensemble import EnsembleLinear
from minidl.nn.linear import Linear
from minidl.optim import Optimizer
from minidl.params import Param, mapping
from minidl.train.health import health_kind
from minidl.train.record import EpochRecord, checked, numbers

MAX_MESSAGE = 10_000  # characters of a saved status message
STATE_KEYS = (
    *("settings", "model", "optimizer", "epoch", "steps", "position", "order", "last_batch", "generator"),
    *("status", "message", "last_finite_loss", "grad_norm_samples", "health", "history", "last_record"),
)
SETTINGS = ("batch_size", "lr_decay", "shuffle", "evaluate_every")
WeightLayout = tuple[tuple[str, tuple[int, ...], torch.dtype], ...]  # (name, shape, dtype) of every weight


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def looked_at(layers: Sequence[type], record_layers: bool, evaluate_every: int) -> tuple[list[int], list[int]]:
    """Of a `Sequential`'s layer classes, the indices of the Linear layers whose gradient norms and
    of the activations whose health a trainer records (none if it does not look inside)."""
    if not record_layers or evaluate_every <= 0:
        return [], []
    linear = [i for i, cls in enumerate(layers) if issubclass(cls, (Linear, EnsembleLinear))]
    return linear, [i for i, cls in enumerate(layers) if health_kind(cls)]


@dataclass(frozen=True)
class Fit:
    """What a trainer's state must fit; two trainers of equal `Fit` take each other's states."""

    settings: tuple[tuple[str, Any], ...]  # the SETTINGS, by name
    weights: WeightLayout
    points: int  # training points
    linear_layers: int  # gradient norms recorded per step
    activation_layers: int  # health values recorded per epoch
    grad_dtype: torch.dtype | None  # of the gradient norms (None: none are recorded)
    history_cap: int

    @property
    def batch_size(self) -> int:
        return dict(self.settings)["batch_size"]

    @property
    def shuffle(self) -> bool:
        return dict(self.settings)["shuffle"]


@dataclass(frozen=True, eq=False)
class CheckedState:
    """A trainer state checked against `fit`: every part as a fresh copy (tensors on the CPU, or
    where the state had them), ready to apply."""

    fit: Fit
    weights: dict[str, Tensor]
    optimizer: dict[str, Any]
    epoch: int
    steps: int
    position: int
    order: Tensor | None
    last_batch: Tensor | None
    generator: Tensor
    status: str
    message: str
    last_finite_loss: float
    grad_norm_samples: tuple[tuple[Tensor, ...], ...]
    health: tuple[float, ...]
    history_stride: int
    history_records: tuple[EpochRecord, ...]
    last_record: EpochRecord | None


def check_state(state: Any, fit: Fit, optimizer: Optimizer) -> CheckedState:
    """`state` checked whole against `fit` and `optimizer` (of the trainer's type, options and
    parameter shapes; its parameters may be placeholders), or a `StateError` naming what does not fit."""
    state = _fields("trainer state", state, STATE_KEYS)
    settings = _fields("settings", state["settings"], SETTINGS)
    for name, own in fit.settings:
        saved = settings[name]
        if type(saved) is not type(own) or saved != own:
            raise StateError(f"settings.{name}: the state was saved with {described(saved)}, this trainer has {own!r}")
    status = state["status"]
    if not isinstance(status, str) or status not in ("ready", "diverged"):
        raise StateError(f"status: must be 'ready' or 'diverged', got {described(status)}")
    ready = status == "ready"
    message = state["message"]
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise StateError(f"message: must be a text of at most {MAX_MESSAGE:,} characters, got {described(message)}")
    weights = _weights(state["model"], fit.weights, finite=ready)
    optimizer_state = optimizer.check_state(state["optimizer"], finite=ready)

    epoch = checked("epoch", Param("epoch", int, low=0), state["epoch"])
    steps = checked("steps", Param("steps", int, low=epoch), state["steps"])
    n, batch_size = fit.points, fit.batch_size
    position = checked("position", Param("position", int, low=0, high=n - 1), state["position"])
    if position % batch_size:
        raise StateError(f"position: must be a multiple of the batch size {batch_size}, got {position}")
    order = state["order"]
    if order is None:
        if position:
            raise StateError(f"order: missing, but the epoch is at point {position}")
    else:
        order = _index_tensor("order", order, range(n, n + 1), n)
        if not torch.equal(order.sort().values, torch.arange(n)):
            raise StateError(f"order: must be an order of the {n} training points, each once")
        if not fit.shuffle and not torch.equal(order, torch.arange(n)):
            raise StateError("order: this trainer does not shuffle, so the order must be the stored one")
    last_batch = state["last_batch"]
    if last_batch is not None:
        last_batch = _index_tensor("last_batch", last_batch, range(1, batch_size + 1), n)
    generator = _generator(state["generator"])
    loss = state["last_finite_loss"]
    if not isinstance(loss, float) or math.isinf(loss):
        raise StateError(f"last_finite_loss: must be a finite number or NaN, got {described(loss)}")
    samples = _samples(state["grad_norm_samples"], steps, fit)
    health = numbers("health", state["health"], 0.0, 1.0, fit.activation_layers)
    history = _fields("history", state["history"], ("cap", "stride", "records"))
    cap = history["cap"]
    if type(cap) is not int or cap != fit.history_cap:
        raise StateError(f"history.cap: the state was saved with {described(cap)}, this trainer has {fit.history_cap}")
    stride = checked("history.stride", Param("stride", int, low=1), history["stride"])
    if stride & (stride - 1):
        raise StateError(f"history.stride: must be a power of 2, got {stride}")
    raw_records = history["records"]
    if not isinstance(raw_records, (list, tuple)) or len(raw_records) > cap:
        raise StateError(f"history.records: must be a list of at most {cap} records, got {described(raw_records)}")
    records = [_record(f"history.records[{i}]", r, epoch, fit) for i, r in enumerate(raw_records)]
    for i, record in enumerate(records):
        if record.epoch % stride or (i and record.epoch <= records[i - 1].epoch):
            raise StateError(
                f"history.records[{i}].epoch: must be after the previous record's and a multiple of "
                f"{stride}, got {record.epoch}"
            )
    raw_last = state["last_record"]
    return CheckedState(
        fit=fit,
        weights=weights,
        optimizer=optimizer_state,
        epoch=epoch,
        steps=steps,
        position=position,
        order=order,
        last_batch=last_batch,
        generator=generator,
        status=status,
        message=message,
        last_finite_loss=float(loss),
        grad_norm_samples=samples,
        health=health,
        history_stride=stride,
        history_records=tuple(records),
        last_record=None if raw_last is None else _record("last_record", raw_last, epoch, fit),
    )


def _fields(path: str, value: Any, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """`value` as a mapping with exactly `keys`, or a `StateError` naming the first that differs."""
    return mapping(path, value, keys, keys, error=StateError, show=described, noun="a mapping")


def _index_tensor(path: str, value: Any, length: range, n: int) -> Tensor:
    """A 1-d int64 tensor of a length in `length`, of indices into `n` points."""
    if not isinstance(value, Tensor) or value.layout != torch.strided:
        raise StateError(f"{path}: must be a tensor of point indices, got {described(value)}")
    if value.dtype != torch.int64 or value.dim() != 1 or value.shape[0] not in length:
        count = str(length.start) if len(length) == 1 else f"{length.start} to {length.stop - 1}"
        raise StateError(f"{path}: must be {count} int64 indices, got {value.dtype} of shape {_shape(value)}")
    if value.numel() and (bool((value < 0).any()) or bool((value >= n).any())):
        raise StateError(f"{path}: holds an index outside the {n} training points")
    return value.detach().clone()


def _weights(raw: Any, layout: WeightLayout, finite: bool) -> dict[str, Tensor]:
    own = {name: (shape, dtype) for name, shape, dtype in layout}
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        raise StateError(f"model weights: must be a mapping of names to tensors, got {described(raw)}")
    missing, unknown = sorted(set(own) - set(raw)), sorted(set(raw) - set(own))
    if missing or unknown:
        which = f"no {missing[0]!r}" if missing else f"an unknown {described(unknown[0])}"
        raise StateError(f"model weights: they do not fit the model ({which}; its weights: {', '.join(own)})")
    for name, (shape, dtype) in own.items():
        t = raw[name]
        if not isinstance(t, Tensor) or t.layout != torch.strided:
            raise StateError(f"model weights: {name!r} must be a tensor, got {described(t)}")
        if _shape(t) != shape:
            raise StateError(f"model weights: {name!r} has shape {_shape(t)}, the model's is {shape}")
        if t.dtype != dtype:
            raise StateError(f"model weights: {name!r} is {t.dtype}, the model's is {dtype}")
        if finite and not bool(torch.isfinite(t).all()):
            raise StateError(f"model weights: {name!r} holds values that are not finite, yet the status is ready")
    return {name: raw[name].detach().clone() for name in own}


def _generator(raw: Any) -> Tensor:
    own = torch.Generator().get_state()
    if not isinstance(raw, Tensor) or raw.dtype != own.dtype or raw.shape != own.shape:
        raise StateError(
            f"generator: must be a {own.dtype} tensor of shape {_shape(own)} (a random generator's state), "
            f"got {described(raw)}"
        )
    raw = raw.detach().to("cpu", copy=True).contiguous()
    try:
        torch.Generator().set_state(raw)
    except RuntimeError:
        raise StateError("generator: not a valid random generator state") from None
    return raw


def _samples(raw: Any, steps: int, fit: Fit) -> tuple[tuple[Tensor, ...], ...]:
    layers = fit.linear_layers
    if not isinstance(raw, Tensor) or raw.layout != torch.strided or raw.dim() != 2 or raw.shape[1] != layers:
        raise StateError(
            f"grad_norm_samples: must be a tensor of shape (samples, {layers}), one norm per Linear layer, "
            f"got {described(raw)}"
        )
    if raw.shape[0] > steps:
        raise StateError(f"grad_norm_samples: {raw.shape[0]} samples, more than the {steps} steps taken")
    if not raw.shape[0]:
        return ()
    if not layers:
        raise StateError(f"grad_norm_samples: this trainer measures no gradient norms, got {raw.shape[0]} samples")
    if raw.dtype != fit.grad_dtype:
        raise StateError(f"grad_norm_samples: is {raw.dtype}, the model's gradients are {fit.grad_dtype}")
    if bool((raw.isnan() | (raw < 0)).any()):
        raise StateError("grad_norm_samples: holds a value that is negative or NaN")
    return tuple(tuple(row.unbind(0)) for row in raw.detach().clone())


def _record(path: str, raw: Any, epoch: int, fit: Fit) -> EpochRecord:
    record = EpochRecord.from_dict(raw, path, fit.linear_layers, fit.activation_layers)
    if record.epoch > epoch:
        raise StateError(f"{path}.epoch: {record.epoch} is after the {epoch} epochs trained")
    return record
