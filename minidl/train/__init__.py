"""The training engine shared by the command line, the desktop app and the benchmarks.

A `Trainer` is *driven*: the caller runs one step, one epoch or N epochs at a time, reads the
metrics, changes the learning rate between steps, and can stop it at any step boundary from
another thread. It computes everything synchronously and never waits on anything but compute.

Data may carry a leading model dimension (`EnsembleLinear` networks): metrics are then per model
in `evaluate()`, and the history records their mean.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor

from minidl._checks import positive_int
from minidl.data import CLASSES, INPUT_DIM, Split
from minidl.nn.ensemble import EnsembleLinear
from minidl.nn.linear import Linear
from minidl.nn.loss import one_hot
from minidl.nn.module import Module
from minidl.optim import Optimizer, StateError, described
from minidl.params import Param

MIN_LR = 1e-12  # a decaying learning rate stops here instead of reaching 0
DEFAULT_THREADS = 1  # small networks train fastest on one torch thread (and leave a core free)
GRAD_SAMPLES = 16  # steps an epoch whose gradient norms are measured, evenly spread (all when fewer)
MAX_MESSAGE = 10_000  # characters of a saved status message
MAX_LAYER_VALUES = 1_000  # per-layer values in a saved record (a spec has at most 65 Linear layers)

__all__ = ["DataError", "EpochRecord", "History", "StateError", "Trainer", "check_split", "set_threads"]


class DataError(ValueError):
    """Points and labels that cannot be trained on; the message names the tensor and says why."""


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def check_split(split: Split, dtype: torch.dtype, models: tuple[int, ...] = ()) -> Split:
    """`split` if it can be trained on, else a `DataError` naming the first tensor that cannot.

    Points `(*models, n, 2)` of `dtype`, finite; labels `(*models, n)` int64, each 0 or 1; at least
    one point in each set. `models` is the leading shape of an ensemble's data (`()`: one model).
    """
    if not isinstance(split, Split):
        raise DataError(f"the data must be a Split of points and labels, got {type(split).__name__}")
    lead = "".join(f"{m}, " for m in models)
    for name in ("train", "test"):
        x, y = getattr(split, f"x_{name}"), getattr(split, f"y_{name}")
        for what, t in ((f"x_{name}", x), (f"y_{name}", y)):
            if not isinstance(t, Tensor):
                raise DataError(f"{what} must be a tensor, got {described(t)}")
            if t.layout != torch.strided:
                raise DataError(f"{what} must be a dense tensor, got a {t.layout} one")
        if x.dim() != len(models) + 2 or _shape(x)[: len(models)] != models or x.shape[-1] != INPUT_DIM:
            raise DataError(f"x_{name} must be points of shape ({lead}n, {INPUT_DIM}), got shape {_shape(x)}")
        if x.shape[-2] < 1:
            raise DataError(f"x_{name} holds no points; at least one is needed")
        if x.dtype != dtype:
            raise DataError(f"x_{name} is {x.dtype}, the model is {dtype}")
        if y.dtype != torch.int64:
            raise DataError(f"y_{name} must be int64 class labels, got {y.dtype}")
        if _shape(y) != _shape(x)[:-1]:
            raise DataError(f"y_{name} must be one label per point, of shape {_shape(x)[:-1]}, got shape {_shape(y)}")
        if not bool(torch.isfinite(x).all()):
            raise DataError(f"x_{name} holds coordinates that are not finite (NaN or infinity)")
        wrong = (y < 0) | (y >= CLASSES)
        if bool(wrong.any()):
            raise DataError(f"y_{name} must be labels 0 or 1, found {y[wrong][0].item()}")
    return split


def _check(path: str, param: Param, value: Any) -> Any:
    """`value` checked against `param`, or a `StateError` in the spec's words."""
    problem = param.problem(value)
    if problem:
        raise StateError(f"{path}: {problem}, got {described(value)}")
    return float(value) if param.kind is float else value


def _mapping(path: str, value: Any, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """`value` as a mapping with exactly `keys`, or a `StateError` naming the first that differs."""
    if not isinstance(value, Mapping):
        raise StateError(f"{path}: must be a mapping, got {described(value)}")
    unknown = sorted(str(k) for k in set(value) - set(keys))
    if unknown:
        raise StateError(f"{path}: unknown field {described(unknown[0])} (fields: {', '.join(keys)})")
    missing = [k for k in keys if k not in value]
    if missing:
        raise StateError(f"{path}: missing field {missing[0]!r}")
    return value


def _numbers(path: str, value: Any, low: float, high: float, size: int | None) -> tuple[float, ...]:
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


def set_threads(threads: int) -> None:
    """torch's CPU threads for this process; a no-op when already set (the call is not free)."""
    threads = positive_int("set_threads", "threads", threads)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


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
        raw = _mapping(path, raw, tuple(f.name for f in fields(cls)))
        return cls(
            epoch=_check(f"{path}.epoch", Param("epoch", int, low=1), raw["epoch"]),
            train_loss=_check(f"{path}.train_loss", Param("train_loss", float), raw["train_loss"]),
            train_accuracy=_check(f"{path}.train_accuracy", _FRACTION, raw["train_accuracy"]),
            test_loss=_check(f"{path}.test_loss", Param("test_loss", float), raw["test_loss"]),
            test_accuracy=_check(f"{path}.test_accuracy", _FRACTION, raw["test_accuracy"]),
            grad_norms=_numbers(f"{path}.grad_norms", raw["grad_norms"], 0.0, math.inf, linear),
            health=_numbers(f"{path}.health", raw["health"], 0.0, 1.0, activations),
        )


_FRACTION = Param("fraction", float, low=0.0, high=1.0)


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


class Trainer:
    """Minibatch training of `model` on `data` (shuffled every epoch unless `shuffle=False`),
    with divergence detection.

    `status` is `"ready"` until something goes wrong, then `"diverged"` with `message` saying
    where; a diverged trainer refuses further steps (build a new one to start over).
    A trainer belongs to one thread at a time; only `request_stop` may be called from another.
    `threads` sets torch's CPU threads for the whole process (one is fastest for small
    networks; `None` leaves torch as it is).
    """

    def __init__(
        self,
        model: Module,
        loss: Module,
        optimizer: Optimizer,
        data: Split,
        batch_size: int = 10,
        seed: int | None = 0,
        history_cap: int = 2000,
        evaluate_every: int = 1,
        lr_decay: float = 1.0,
        shuffle: bool = True,
        threads: int | None = DEFAULT_THREADS,
        record_layers: bool = True,
    ) -> None:
        if threads is not None:
            set_threads(threads)
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.data = data
        self.batch_size = positive_int("Trainer", "batch_size", batch_size)
        if isinstance(evaluate_every, bool) or not isinstance(evaluate_every, int) or evaluate_every < 0:
            raise ValueError(f"Trainer: evaluate_every must be an integer >= 0, got {evaluate_every!r}")
        self.evaluate_every = evaluate_every  # epochs between recorded evaluations; 0: only on demand
        if isinstance(lr_decay, bool) or not isinstance(lr_decay, (int, float)) or not 0 < lr_decay <= 1:
            raise ValueError(f"Trainer: lr_decay must be in (0, 1], got {lr_decay!r}")
        self.lr_decay = float(lr_decay)  # the lr is multiplied by this after every epoch
        self.shuffle = bool(shuffle)  # False: the stored order every epoch (the report's code)
        self._generator = torch.Generator()
        if seed is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(seed)
        self._eval_loss = type(loss)(reduction="sum")
        # One-hot once, here: class-index targets would be range-checked and converted every step.
        self._train_targets = one_hot(data.y_train, data.classes, like=data.x_train)
        self.history = History(history_cap)
        # What the layers do, for looking inside: gradient norms of the Linear layers (sampled on
        # GRAD_SAMPLES steps an epoch) and the health of the activations (on the training points).
        looks_inside = record_layers and evaluate_every > 0 and hasattr(model, "layer_outputs")
        children = list(model.children()) if looks_inside else []
        self.linear_layers = [i for i, m in enumerate(children) if isinstance(m, (Linear, EnsembleLinear))]
        self.activation_layers = [i for i, m in enumerate(children) if getattr(m, "health_kind", None)]
        self._weight_grads = [children[i].grad_weight for i in self.linear_layers]
        self._norm_every = max(1, self.steps_per_epoch // GRAD_SAMPLES)
        self._norm_samples: list[list[Tensor]] = []
        self._health: tuple[float, ...] = ()
        self.epoch = 0  # completed epochs
        self.steps = 0  # completed steps, all epochs
        self.status = "ready"
        self.message = ""
        self.last_record: EpochRecord | None = None
        self._last_finite_loss = math.nan
        self._order: Tensor | None = None
        self._position = 0
        self.last_batch: Tensor | None = None  # indices into the training points of the last step's batch
        self._stop = threading.Event()

    # ---- state the driver reads and writes -------------------------------------------------------
    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.lr = value  # validated there; applies at the next step

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.x_train.shape[-2] / self.batch_size)

    @property
    def step_in_epoch(self) -> int:
        return self._position // self.batch_size

    def request_stop(self) -> None:
        """Ask `run`/`run_epoch` (possibly in another thread) to return at the next step boundary."""
        self._stop.set()

    # ---- driving -----------------------------------------------------------------------------------
    def step(self) -> bool:
        """One minibatch update; evaluates and records at the end of an epoch. False if diverged."""
        if self.diverged:
            return False
        n = self.data.x_train.shape[-2]
        if self._order is None:
            order = torch.randperm(n, generator=self._generator) if self.shuffle else torch.arange(n)
            self._order = order.to(self.data.x_train.device)
            self._position = 0
        index = self._order[self._position : self._position + self.batch_size]
        x = self.data.x_train[..., index, :]
        y = self._train_targets[..., index, :]
        self.optimizer.zero_grad()
        value = self.loss.forward(self.model.forward(x), y).item()
        if not math.isfinite(value):
            self._diverge(f"the training loss became {value}")
            return False
        self._last_finite_loss = value
        self.model.backward(self.loss.backward())
        if self._weight_grads and (self._position // self.batch_size) % self._norm_every == 0:
            self._norm_samples.append(torch._foreach_norm(self._weight_grads))
        self.optimizer.step()
        self.steps += 1
        self.last_batch = index
        self._position += self.batch_size
        if self._position >= n:
            self._order = None
            self._position = 0
            self.epoch += 1
            if self.lr_decay != 1.0:
                self.optimizer.lr = max(self.optimizer.lr * self.lr_decay, MIN_LR)
            return self._end_epoch()
        return True

    def run_epoch(self) -> bool:
        """Steps to the end of the current epoch; False if it diverged or was stopped first."""
        self._stop.clear()
        return self._run_epoch()

    def _run_epoch(self) -> bool:
        epoch = self.epoch
        while self.epoch == epoch:
            if self._stop.is_set() or not self.step():
                return False
        return True

    def run(self, epochs: int, on_epoch: Callable[[EpochRecord], None] | None = None) -> bool:
        """`epochs` more epochs; `on_epoch` is called after each. False if diverged or stopped."""
        epochs = positive_int("Trainer.run", "epochs", epochs)
        self._stop.clear()
        for _ in range(epochs):
            if not self._run_epoch():
                return False
            if on_epoch is not None and self.last_record is not None:
                on_epoch(self.last_record)
        return True

    # ---- measuring ---------------------------------------------------------------------------------
    def evaluate(self, health: bool = False) -> dict[str, Tensor]:
        """Loss per sample and accuracy on both sets; tensors of shape `(models,)` for ensembles.

        With `health`, the activations' health on the training points is kept for the record.
        """
        out = {}
        was_training = self.model.training
        self.model.eval()
        for split in ("train", "test"):
            x, y = getattr(self.data, f"x_{split}"), getattr(self.data, f"y_{split}")
            if health and split == "train" and self.activation_layers:
                outputs = self.model.layer_outputs(x)
                self._health = tuple(self.model[i].unhealthy(outputs[i]) for i in self.activation_layers)
                prediction = outputs[-1]
            else:
                prediction = self.model.forward(x)
            per_model = self._per_model_loss(prediction, y)
            out[f"{split}_loss"] = per_model / y.shape[-1]
            out[f"{split}_accuracy"] = (prediction.argmax(-1) == y).to(prediction.dtype).mean(-1)
        self.model.train(was_training)
        return out

    def _per_model_loss(self, prediction: Tensor, y: Tensor) -> Tensor:
        if prediction.dim() == 2:
            return self._eval_loss.forward(prediction, y)
        return torch.stack([self._eval_loss.forward(p, t) for p, t in zip(prediction, y)])

    def _end_epoch(self) -> bool:
        if not self.evaluate_every or self.epoch % self.evaluate_every:
            self._norm_samples.clear()
            return True
        metrics = {k: v.mean().item() for k, v in self.evaluate(health=True).items()}
        if not all(math.isfinite(v) for v in metrics.values()) or not self._parameters_finite():
            self._diverge("the parameters are no longer finite")
            return False
        norms: tuple[float, ...] = ()
        if self._norm_samples:
            norms = tuple(torch.stack([torch.stack(s) for s in self._norm_samples]).mean(0).tolist())
            self._norm_samples.clear()
        self.last_record = EpochRecord(epoch=self.epoch, **metrics, grad_norms=norms, health=self._health)
        self.history.append(self.last_record)
        return True

    def _parameters_finite(self) -> bool:
        params = [p for p, _ in self.model.param()]
        return not params or bool(torch.isfinite(torch.stack([p.sum() for p in params])).all())

    def _diverge(self, what: str) -> None:
        self.status = "diverged"
        self.message = (
            f"Training diverged at epoch {self.epoch + 1}, step {self.step_in_epoch + 1}: {what} "
            f"(last finite loss {self._last_finite_loss:.4g}, learning rate {self.lr:g}). "
            "Try a smaller learning rate."
        )

    # ---- new points ------------------------------------------------------------------------------
    def replace_data(self, split: Split) -> None:
        """Train on `split` from the next step: the weights, the optimizer's state, the counters
        and the history stay; the current epoch starts over on the new training points (in a new
        order). `DataError` (nothing changed) if the points cannot be trained on: see `check_split`.

        Call it between steps, from the thread that trains. The tensors are copied.
        """
        reference = self.data.x_train
        check_split(split, reference.dtype, _shape(reference)[:-2])
        data = Split(
            *(
                t.detach().to(reference.device, copy=True)
                for t in (split.x_train, split.y_train, split.x_test, split.y_test)
            )
        )
        targets = one_hot(data.y_train, data.classes, like=data.x_train)
        self.data = data
        self._train_targets = targets
        self._norm_every = max(1, self.steps_per_epoch // GRAD_SAMPLES)
        self._order = None
        self._position = 0
        self.last_batch = None

    # ---- saving and restoring ----------------------------------------------------------------------
    STATE_KEYS = (
        *("settings", "model", "optimizer", "epoch", "steps", "position", "order", "last_batch", "generator"),
        *("status", "message", "last_finite_loss", "grad_norm_samples", "health", "history", "last_record"),
    )
    SETTINGS = ("batch_size", "lr_decay", "shuffle", "evaluate_every")

    def state_dict(self) -> dict[str, Any]:
        """Everything that decides how training goes on, beyond the model's and the optimizer's
        construction: weights, the optimizer's state and lr, counters, the place in the epoch and
        its order, the random generator, status, the measurements of the epoch in progress and the
        history. Plain data on the CPU (tensors, lists, dicts, str, int, float, bool, None), copies:
        `torch.load(weights_only=True)` reads it, and training on does not change it.

        A trainer built the same way that loads it (`load_state_dict`) trains on bit for bit as
        this one would.
        """
        grads = self._weight_grads
        if self._norm_samples:
            samples = torch.stack([torch.stack(s) for s in self._norm_samples]).cpu()
        else:
            samples = torch.empty(0, len(grads), dtype=grads[0].dtype if grads else self.data.x_train.dtype)
        return {
            "settings": {name: getattr(self, name) for name in self.SETTINGS},
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "steps": self.steps,
            "position": self._position,
            "order": None if self._order is None else self._order.detach().to("cpu", copy=True),
            "last_batch": None if self.last_batch is None else self.last_batch.detach().to("cpu", copy=True),
            "generator": self._generator.get_state(),
            "status": self.status,
            "message": self.message,
            "last_finite_loss": self._last_finite_loss,
            "grad_norm_samples": samples,
            "health": list(self._health),
            "history": {
                "cap": self.history.cap,
                "stride": self.history.stride,
                "records": [r.to_dict() for r in self.history.records],
            },
            "last_record": None if self.last_record is None else self.last_record.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from `state`, a `state_dict()` of a trainer built the same way (same spec) on
        the same data. Everything is checked first, against this trainer's model, optimizer and
        data: a `StateError` (a `ValueError`) names what does not fit, and nothing has changed.
        """
        self._prepare_state(state)()

    def _prepare_state(self, state: Mapping[str, Any]) -> Callable[[], None]:
        state = _mapping("trainer state", state, self.STATE_KEYS)
        settings = _mapping("settings", state["settings"], self.SETTINGS)
        for name in self.SETTINGS:
            saved, own = settings[name], getattr(self, name)
            if type(saved) is not type(own) or saved != own:
                raise StateError(
                    f"settings.{name}: the state was saved with {described(saved)}, this trainer has {own!r}"
                )
        status = state["status"]
        if not isinstance(status, str) or status not in ("ready", "diverged"):
            raise StateError(f"status: must be 'ready' or 'diverged', got {described(status)}")
        ready = status == "ready"
        message = state["message"]
        if not isinstance(message, str) or len(message) > MAX_MESSAGE:
            raise StateError(f"message: must be a text of at most {MAX_MESSAGE:,} characters, got {described(message)}")
        weights = self._checked_weights(state["model"], finite=ready)
        apply_optimizer = self.optimizer.prepare_state(state["optimizer"], finite=ready)

        epoch = _check("epoch", Param("epoch", int, low=0), state["epoch"])
        steps = _check("steps", Param("steps", int, low=epoch), state["steps"])
        n = self.data.x_train.shape[-2]
        position = _check("position", Param("position", int, low=0, high=n - 1), state["position"])
        if position % self.batch_size:
            raise StateError(f"position: must be a multiple of the batch size {self.batch_size}, got {position}")
        order = state["order"]
        if order is None:
            if position:
                raise StateError(f"order: missing, but the epoch is at point {position}")
        else:
            order = _index_tensor("order", order, range(n, n + 1), n)
            if not torch.equal(order.sort().values, torch.arange(n)):
                raise StateError(f"order: must be an order of the {n} training points, each once")
            if not self.shuffle and not torch.equal(order, torch.arange(n)):
                raise StateError("order: this trainer does not shuffle, so the order must be the stored one")
        last_batch = state["last_batch"]
        if last_batch is not None:
            last_batch = _index_tensor("last_batch", last_batch, range(1, self.batch_size + 1), n)
        generator = self._checked_generator(state["generator"])
        loss = state["last_finite_loss"]
        if not isinstance(loss, float) or math.isinf(loss):
            raise StateError(f"last_finite_loss: must be a finite number or NaN, got {described(loss)}")
        samples = self._checked_samples(state["grad_norm_samples"], steps)
        health = _numbers("health", state["health"], 0.0, 1.0, len(self.activation_layers))
        history = _mapping("history", state["history"], ("cap", "stride", "records"))
        cap = history["cap"]
        if type(cap) is not int or cap != self.history.cap:
            raise StateError(
                f"history.cap: the state was saved with {described(cap)}, this trainer has {self.history.cap}"
            )
        stride = _check("history.stride", Param("stride", int, low=1), history["stride"])
        if stride & (stride - 1):
            raise StateError(f"history.stride: must be a power of 2, got {stride}")
        raw_records = history["records"]
        if not isinstance(raw_records, (list, tuple)) or len(raw_records) > cap:
            raise StateError(f"history.records: must be a list of at most {cap} records, got {described(raw_records)}")
        records = [self._checked_record(f"history.records[{i}]", r, epoch) for i, r in enumerate(raw_records)]
        for i, record in enumerate(records):
            if record.epoch % stride or (i and record.epoch <= records[i - 1].epoch):
                raise StateError(
                    f"history.records[{i}].epoch: must be after the previous record's and a multiple of "
                    f"{stride}, got {record.epoch}"
                )
        raw_last = state["last_record"]
        last_record = None if raw_last is None else self._checked_record("last_record", raw_last, epoch)
        device = self.data.x_train.device

        def apply() -> None:
            self.model.load_state_dict(weights)
            apply_optimizer()
            self.epoch, self.steps, self._position = epoch, steps, position
            self._order = None if order is None else order.to(device)
            self.last_batch = None if last_batch is None else last_batch.to(device)
            self._generator.set_state(generator)
            self.status, self.message = status, message
            self._last_finite_loss = float(loss)
            self._norm_samples = samples
            self._health = health
            self.history.stride, self.history.records = stride, records
            self.last_record = last_record

        return apply

    def _checked_weights(self, raw: Any, finite: bool) -> dict[str, Tensor]:
        own = {name: p for name, p, _ in self.model.named_param()}
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise StateError(f"model weights: must be a mapping of names to tensors, got {described(raw)}")
        missing, unknown = sorted(set(own) - set(raw)), sorted(set(raw) - set(own))
        if missing or unknown:
            which = f"no {missing[0]!r}" if missing else f"an unknown {described(unknown[0])}"
            raise StateError(f"model weights: they do not fit the model ({which}; its weights: {', '.join(own)})")
        for name, p in own.items():
            t = raw[name]
            if not isinstance(t, Tensor) or t.layout != torch.strided:
                raise StateError(f"model weights: {name!r} must be a tensor, got {described(t)}")
            if t.shape != p.shape:
                raise StateError(f"model weights: {name!r} has shape {_shape(t)}, the model's is {_shape(p)}")
            if t.dtype != p.dtype:
                raise StateError(f"model weights: {name!r} is {t.dtype}, the model's is {p.dtype}")
            if finite and not bool(torch.isfinite(t).all()):
                raise StateError(f"model weights: {name!r} holds values that are not finite, yet the status is ready")
        return {name: raw[name].detach().clone() for name in own}

    def _checked_generator(self, raw: Any) -> Tensor:
        own = self._generator.get_state()
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

    def _checked_samples(self, raw: Any, steps: int) -> list[list[Tensor]]:
        grads = self._weight_grads
        layers = len(grads)
        if not isinstance(raw, Tensor) or raw.layout != torch.strided or raw.dim() != 2 or raw.shape[1] != layers:
            raise StateError(
                f"grad_norm_samples: must be a tensor of shape (samples, {layers}), one norm per Linear layer, "
                f"got {described(raw)}"
            )
        if raw.shape[0] > steps:
            raise StateError(f"grad_norm_samples: {raw.shape[0]} samples, more than the {steps} steps taken")
        if not raw.shape[0]:
            return []
        if not layers:
            raise StateError(f"grad_norm_samples: this trainer measures no gradient norms, got {raw.shape[0]} samples")
        if raw.dtype != grads[0].dtype:
            raise StateError(f"grad_norm_samples: is {raw.dtype}, the model's gradients are {grads[0].dtype}")
        if bool((raw.isnan() | (raw < 0)).any()):
            raise StateError("grad_norm_samples: holds a value that is negative or NaN")
        raw = raw.detach().to(grads[0].device, copy=True)
        return [list(row.unbind(0)) for row in raw]

    def _checked_record(self, path: str, raw: Any, epoch: int) -> EpochRecord:
        record = EpochRecord.from_dict(raw, path, len(self.linear_layers), len(self.activation_layers))
        if record.epoch > epoch:
            raise StateError(f"{path}.epoch: {record.epoch} is after the {epoch} epochs trained")
        return record

    def predict(self, points: Tensor) -> Tensor:
        """The model's outputs for `points` `(N, 2)` in eval mode, training left as it was.

        Call it between steps, from the thread that trains. With an ensemble the points go to
        every model and the outputs are `(models, N, classes)`.
        """
        reference = self.data.x_train
        points = points.to(dtype=reference.dtype, device=reference.device)
        if reference.dim() == 3:
            points = points.expand(reference.shape[0], -1, -1)
        was_training = self.model.training
        self.model.eval()
        try:
            return self.model.forward(points)
        finally:
            self.model.train(was_training)
