"""The `Trainer`: minibatch training driven one step, one epoch or N epochs at a time.

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
from typing import Any

import torch
from torch import Tensor

from minidl._checks import positive_int
from minidl.data import CLASSES, INPUT_DIM, Split
from minidl.errors import StateError, described
from minidl.nn.loss import one_hot
from minidl.nn.module import Module
from minidl.optim import Optimizer
from minidl.train.health import unhealthy
from minidl.train.record import EpochRecord, History, Progress
from minidl.train.state import SETTINGS, STATE_KEYS, CheckedState, Fit, check_state, looked_at

MIN_LR = 1e-12  # a decaying learning rate stops here instead of reaching 0
DEFAULT_THREADS = 1  # small networks train fastest on one torch thread (and leave a core free)
GRAD_SAMPLES = 16  # steps an epoch whose gradient norms are measured, evenly spread (all when fewer)
EVALUATE_EVERY = 1  # a trainer's default: evaluate and record every epoch
HISTORY_CAP = 2000  # a trainer's default: records kept (see `History`)


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


def set_threads(threads: int) -> None:
    """torch's CPU threads for this process; a no-op when already set (the call is not free)."""
    threads = positive_int("set_threads", "threads", threads)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


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
        history_cap: int = HISTORY_CAP,
        evaluate_every: int = EVALUATE_EVERY,
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
        children = list(model.children()) if hasattr(model, "layer_outputs") else []
        self.linear_layers, self.activation_layers = looked_at(
            [type(m) for m in children], record_layers, evaluate_every
        )
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
        self.record_update = False  # True: keep each step's change of the parameters in `last_update`
        self.last_update: list[Tensor] | None = None  # Δθ of the last step (in `model.param()`'s order)
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
        if self.record_update:
            params = self.optimizer.params
            before = torch._foreach_mul(params, 1.0) if params else []
            self.optimizer.step()
            self.last_update = torch._foreach_sub(params, before) if params else []
        else:
            self.optimizer.step()
            self.last_update = None  # never an older step's
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
                self._health = tuple(unhealthy(self.model[i], outputs[i]) for i in self.activation_layers)
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
    STATE_KEYS = STATE_KEYS
    SETTINGS = SETTINGS

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

    def fit(self) -> Fit:
        """What a state must fit to be loaded here (see `minidl.train.state`)."""
        grads = self._weight_grads
        return Fit(
            settings=tuple((name, getattr(self, name)) for name in self.SETTINGS),
            weights=tuple((name, tuple(p.shape), p.dtype) for name, p, _ in self.model.named_param()),
            points=self.data.x_train.shape[-2],
            linear_layers=len(self.linear_layers),
            activation_layers=len(self.activation_layers),
            grad_dtype=grads[0].dtype if grads else None,
            history_cap=self.history.cap,
        )

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from `state`, a `state_dict()` of a trainer built the same way (same spec) on
        the same data. Everything is checked first, against this trainer's model, optimizer and
        data: a `StateError` (a `ValueError`) names what does not fit, and nothing has changed.
        """
        self._apply(check_state(state, self.fit(), self.optimizer))

    def load_checked(self, checked: CheckedState, state: Mapping[str, Any] | None = None) -> None:
        """Continue from a state checked already (`check_state`) against this trainer's `fit()`,
        without checking it again. A trainer that does not fit it checks `state` (the raw state)
        in full, so the `StateError` says what differs; without `state` it refuses in one line."""
        if checked.fit == self.fit():
            self._apply(checked)
        elif state is not None:
            self.load_state_dict(state)
        else:
            raise StateError("trainer state: it was checked for a trainer built otherwise")

    def resume_from(self, progress: Progress) -> None:
        """Go on counting from a saved model's `progress`: its epochs, and its last record as the
        last and first of this trainer's history (a model file holds no optimizer state)."""
        self.epoch = progress.epoch
        if progress.record is not None:
            self.last_record = progress.record
            self.history.append(progress.record)

    def _apply(self, checked: CheckedState) -> None:
        device = self.data.x_train.device
        self.model.load_state_dict(checked.weights)
        self.optimizer.set_state(checked.optimizer)
        self.epoch, self.steps, self._position = checked.epoch, checked.steps, checked.position
        self._order = None if checked.order is None else checked.order.to(device, copy=True)
        self.last_batch = None if checked.last_batch is None else checked.last_batch.to(device, copy=True)
        self._generator.set_state(checked.generator)
        self.status, self.message = checked.status, checked.message
        self._last_finite_loss = checked.last_finite_loss
        grad_device = self._weight_grads[0].device if self._weight_grads else device
        self._norm_samples = [[t.to(grad_device, copy=True) for t in row] for row in checked.grad_norm_samples]
        self._health = checked.health
        self.history.stride, self.history.records = checked.history_stride, list(checked.history_records)
        self.last_record = checked.last_record

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
