"""The app's training state, free of Qt: what the worker thread runs and the window controls.

The window (GUI thread) only *requests* things: play, pause, one epoch, reset, a new spec, a new
learning rate. The worker thread applies the requests at step boundaries inside `advance()`, so
the trainer is only ever touched by one thread, and no request can be lost while the worker is
busy in its loop (a queued Qt slot on a busy worker would never be delivered).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from minidl.spec import Spec, make_trainer
from minidl.train import Trainer

GRID_RESOLUTION = 96


@dataclass(frozen=True)
class Snapshot:
    """What the window draws; built in the worker thread, read-only afterwards."""

    spec: Spec
    data_version: int  # changes when the data (and so the scatter points) change
    epoch: int
    steps: int
    step_in_epoch: int
    steps_per_second: float
    playing: bool
    status: str
    message: str
    lr: float
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    history: dict[str, np.ndarray]  # the same object until an epoch ends: unchanged curves need no redraw
    grid: np.ndarray  # (GRID_RESOLUTION, GRID_RESOLUTION), rows are y, in [0, 1]; same object if not recomputed
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)


class Session:
    """Requests from the GUI thread, applied by the worker thread in `advance()`."""

    def __init__(self, spec: Spec | None = None) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._spec = spec or Spec(init="xavier", epochs=10**6)
        self._pending_spec: Spec | None = None
        self._pending_weights: dict | None = None
        self._pending_lr: float | None = None
        self._reset_requested = False
        self._epochs_requested = 0
        self._playing = False
        self._requested = False  # any request since the worker last looked: publish a snapshot
        self._data_version = 0
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=64)
        self._grid_cache: tuple[Trainer, int, float, np.ndarray] | None = None  # trainer, steps, when, grid
        self._grid_seconds = 0.0
        self._history_cache: tuple[Trainer, int, dict[str, np.ndarray]] | None = None  # trainer, epoch, arrays
        self.trainer: Trainer = make_trainer(self._spec)  # the worker's; built here once for a ready window

    # ---- requests (any thread) --------------------------------------------------------------------
    def _request(self, **state) -> None:
        """Record a request under the lock and wake the worker; `state` names attributes to set."""
        with self._lock:
            for name, value in state.items():
                setattr(self, name, value)
            self._requested = True
        self._wake.set()

    def play(self) -> None:
        self._request(_playing=True)

    def pause(self) -> None:
        self._request(_playing=False, _epochs_requested=0)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step_epoch(self) -> None:
        """Train exactly one more epoch, then stop (requests add up: two presses, two epochs)."""
        with self._lock:  # read and add under one lock: the worker counts them down concurrently
            self._epochs_requested += 1
            self._playing = False
            self._requested = True
        self._wake.set()

    def reset(self) -> None:
        """Start again from the initial weights of the current spec (same seed, same data)."""
        self._request(_reset_requested=True, _playing=False, _epochs_requested=0)

    def set_spec(self, spec: Spec, weights: dict | None = None) -> None:
        """Rebuild model, loss, optimizer and data from `spec` at the next step boundary; pauses.

        `weights` (a `state_dict` for this spec's model) replace the initial weights, e.g. a saved model.
        """
        self._request(_pending_spec=spec, _pending_weights=weights, _playing=False, _epochs_requested=0)

    def set_lr(self, lr: float) -> None:
        """Applies at the next step; the model is not reset."""
        self._request(_pending_lr=lr)

    @property
    def spec(self) -> Spec:
        with self._lock:
            return self._pending_spec or self._spec

    @property
    def playing(self) -> bool:
        with self._lock:
            return self._playing

    def wait_for_request(self, timeout: float) -> None:
        """Block the worker until a request arrives (or `timeout` passes)."""
        self._wake.wait(timeout)
        self._wake.clear()

    def interrupt(self) -> None:
        """Wake a waiting worker (used when shutting down)."""
        self._wake.set()

    # ---- the worker's side ------------------------------------------------------------------------
    def advance(self, budget_s: float) -> bool:
        """Apply requests, then train for up to `budget_s` seconds. True if anything changed."""
        changed = self._apply_requests()
        with self._lock:
            playing, epochs_requested = self._playing, self._epochs_requested
        if not (playing or epochs_requested):
            return changed
        trainer = self.trainer
        deadline = time.perf_counter() + budget_s
        start_epoch = trainer.epoch
        while time.perf_counter() < deadline:
            if not trainer.step():
                with self._lock:
                    self._playing, self._epochs_requested = False, 0
                break
            if trainer.epoch != start_epoch and epochs_requested and not playing:
                with self._lock:
                    self._epochs_requested = max(0, self._epochs_requested - 1)
                    epochs_requested = self._epochs_requested
                start_epoch = trainer.epoch
                if not epochs_requested:
                    break
            if self._wake.is_set():  # a request arrived: apply it at this step boundary
                break
        self._rate_window.append((time.perf_counter(), trainer.steps))
        return True

    def _apply_requests(self) -> bool:
        with self._lock:
            spec, self._pending_spec = self._pending_spec, None
            weights, self._pending_weights = self._pending_weights, None
            lr, self._pending_lr = self._pending_lr, None
            reset, self._reset_requested = self._reset_requested, False
            requested, self._requested = self._requested, False
        if spec is not None:
            data_changed = spec.dataset != self._spec.dataset or spec.seed != self._spec.seed
            self._spec = spec
            self._rebuild(keep_data=not data_changed)
            if weights is not None:
                self.trainer.model.load_state_dict(weights)
        if lr is not None:
            self._spec = self._spec.with_changes(optimizer={**self._spec.optimizer.to_dict(), "lr": lr})
            self.trainer.lr = lr
        if reset:
            self._rebuild(keep_data=True)
        return requested

    def _rebuild(self, keep_data: bool) -> None:
        data = self.trainer.data if keep_data else None
        self.trainer = make_trainer(self._spec, data=data)
        if not keep_data:
            self._data_version += 1
        self._rate_window.clear()

    def steps_per_second(self) -> float:
        window = [(t, s) for t, s in self._rate_window if t > time.perf_counter() - 2.0]
        if len(window) < 2 or window[-1][0] == window[0][0]:
            return 0.0
        return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])

    def _grid(self, trainer: Trainer) -> np.ndarray:
        """The heatmap; recomputed at most a quarter of the time, so a big network still trains."""
        now = time.perf_counter()
        cached = self._grid_cache
        if cached is not None and cached[0] is trainer and cached[1] == trainer.steps:
            return cached[3]
        if cached is not None and cached[0] is trainer and now - cached[2] < 3 * self._grid_seconds:
            return cached[3]
        grid = trainer.predict_grid(GRID_RESOLUTION).float().numpy()
        done = time.perf_counter()
        self._grid_seconds = done - now
        self._grid_cache = (trainer, trainer.steps, done, grid)
        return grid

    def _history(self, trainer: Trainer) -> dict[str, np.ndarray]:
        """The curves as arrays, rebuilt only when an epoch has ended since the last snapshot."""
        cached = self._history_cache
        if cached is not None and cached[0] is trainer and cached[1] == trainer.epoch:
            return cached[2]
        names = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
        records = list(trainer.history)
        record = trainer.last_record
        if record is not None and (not records or records[-1].epoch != record.epoch):
            records.append(record)  # the newest epoch, even where the bounded history skipped it
        history = {name: np.array([getattr(r, name) for r in records], dtype=float) for name in names}
        self._history_cache = (trainer, trainer.epoch, history)
        return history

    def snapshot(self) -> Snapshot:
        """The state to draw, with the decision-boundary grid; called in the worker thread."""
        trainer = self.trainer
        record = trainer.last_record
        history = self._history(trainer)
        data = trainer.data
        nan = float("nan")
        with self._lock:
            playing = self._playing or self._epochs_requested > 0
        return Snapshot(
            spec=self._spec,
            data_version=self._data_version,
            epoch=trainer.epoch,
            steps=trainer.steps,
            step_in_epoch=trainer.step_in_epoch,
            steps_per_second=self.steps_per_second() if playing else 0.0,
            playing=playing,
            status=trainer.status,
            message=trainer.message,
            lr=trainer.lr,
            train_loss=record.train_loss if record else nan,
            train_accuracy=record.train_accuracy if record else nan,
            test_loss=record.test_loss if record else nan,
            test_accuracy=record.test_accuracy if record else nan,
            history=history,
            grid=self._grid(trainer),
            x_train=data.x_train.float().numpy(),
            y_train=data.y_train.numpy(),
            x_test=data.x_test.float().numpy(),
            y_test=data.y_test.numpy(),
        )
