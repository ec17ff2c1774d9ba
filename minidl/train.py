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
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from minidl._checks import positive_int
from minidl.data import Split
from minidl.ensemble import EnsembleLinear
from minidl.linear import Linear
from minidl.loss import one_hot
from minidl.module import Module
from minidl.optim import Optimizer

MIN_LR = 1e-12  # a decaying learning rate stops here instead of reaching 0
DEFAULT_THREADS = 1  # small networks train fastest on one torch thread (and leave a core free)
GRAD_SAMPLES = 16  # steps an epoch whose gradient norms are measured, evenly spread (all when fewer)


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
