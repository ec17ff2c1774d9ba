"""The app's training state, free of Qt: the only door between the window and the trainer.

The window (GUI thread) only *requests*: play, pause, one epoch, reset, an edit of the spec, a
new spec, a save. Requests are queued in order and the worker thread applies them at step
boundaries inside `advance()`; the trainer is touched by that thread alone.

Two specs: `spec` is the one the user asked for (what the controls show, what *Save experiment*
writes), changed at once by every request; `Snapshot.spec` is the one being trained, which
catches up at the next step boundary. A learning-rate edit is live (the network trains on);
any other edit rebuilds. The base learning rate is the spec's; the current one (after
`lr_decay`) is `Snapshot.lr`. The spec's `epochs` is where a run pauses (when that stop is on),
also changed live.

How fast it trains (the pace, from one step a second to full speed) and when it pauses on its
own (at the spec's last epoch, at a test accuracy) are the session's too: the window only asks.

Points can be painted, erased or imported: the session keeps the points asked for (`points()`),
and the worker trains on them from the next step, the network going on where it was. A change of
the data's own fields (dataset, counts, noise, seed) draws fresh points again. A whole session
(spec, weights, optimizer, data, random state, history) is saved and opened through it too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from minidl.cli import write_history
from minidl.data import Split
from minidl.params import Param
from minidl.spec import Spec, make_trainer
from minidl.storage.checkpoint import Progress, save_model
from minidl.storage.resume import SavedSession, restore_trainer, save_session
from minidl.train import Trainer
from minidl_gui.components.grid import GRID_RESOLUTION, class_one_score, grid_points
from minidl_gui.components.probe import Probe, Prober

GRID_SHARE = 0.25  # the heatmap may take at most this share of the worker's time
PROBE_INTERVAL = 0.75  # seconds between two looks inside the network while training...
PROBE_SHARE = 0.05  # ...or fewer: a look inside takes at most this share of the worker's time
CURVE_POINTS = 150  # points per drawn curve: a 3-pixel line over a few hundred pixels needs no more
PACES: tuple[float | None, ...] = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, None)
"""Training speeds the app offers, in steps a second; None is full speed."""
SLOW_MOTION = 30.0  # at this pace or slower, the points of the last step's batch are highlighted
LIVE_FIELDS = ("lr", "epochs")  # edits of these apply to the running network: no rebuild
STOP_ACCURACY = Param(
    "stop_accuracy", float, 95.0, low=0.0, high=100.0, doc="pause when the test accuracy reaches this (%)"
)
TEST_SHARE = Param(
    "test_share", float, 0.2, low=0.0, high=0.9, doc="share of painted or imported points kept for testing"
)
DATA_FIELDS = ("dataset", "seed", "dtype")  # a change of these draws new points (and drops painted ones)
WRITES = ("save", "save_session", "history")  # requests that write a file: kept whatever comes after
KEPT = (*WRITES, "fence")  # requests a new spec never drops
UNTRAINABLE = "Paint at least one training point and one test point (or import some) to train"


@dataclass(frozen=True)
class Snapshot:
    """What the window draws; built in the worker thread, read-only afterwards."""

    spec: Spec  # the spec being trained, live lr changes included
    data_version: int  # changes when the data (and so the scatter points) change
    epoch: int
    steps: int
    step_in_epoch: int
    steps_per_second: float
    playing: bool
    status: str
    message: str
    lr: float  # the current learning rate (the spec's, after decay)
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    history: dict[str, np.ndarray]  # evenly thinned to CURVE_POINTS; the same object until an epoch ends
    grid: np.ndarray  # (resolution, resolution), rows are y, in [0, 1]; same object if not recomputed
    x_train: np.ndarray = field(repr=False)  # the same objects until the data change
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    probe: Probe | None = field(default=None, repr=False)  # inside the network; the same object until renewed
    neuron: tuple[int, int] | None = None  # the neuron (diagram column, unit) whose map `grid` is, if any
    batch: np.ndarray | None = field(default=None, repr=False)  # in slow motion: the last step's points, (n, 2)
    note: str = ""  # why training paused on its own (a stop condition), until the next Play
    drawn: bool = False  # the points were painted, erased or imported: the dataset's true boundary does not apply
    view_problem: str = ""  # why a view inside the network could not be computed this time (training goes on)
    fence: int = 0  # the last `Session.fence` marker applied before this snapshot was built


def _differs_only_live(a: Spec, b: Spec) -> bool:
    """Whether `a` and `b` differ in LIVE_FIELDS alone."""
    live = {"lr": b.optimizer.lr, "epochs": b.epochs}
    return a.replace(**live) == b


class Session:
    """Requests from the GUI thread, applied by the worker thread in `advance()`."""

    def __init__(
        self,
        spec: Spec | None = None,
        check: Callable[[Spec], None] | None = None,
        grid_resolution: int = GRID_RESOLUTION,
    ) -> None:
        """`check(spec)` may refuse any spec requested later with a `SpecError` (the app's limits)."""
        self._check = check or (lambda spec: None)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        spec = spec or Spec()
        self._spec = spec  # what the user asked for
        self._queue: deque[tuple[str, Any]] = deque()  # ("spec", (spec, weights)), ("live", spec), ("reset", None)...
        self._epochs_requested = 0
        self._playing = False
        self._pace: float | None = None  # steps a second; None: full speed
        self._stop_at_epoch = True  # pause at the spec's `epochs`
        self._stop_accuracy: float | None = None  # pause when the test accuracy (%) reaches it
        self._note = ""
        self._points: tuple[np.ndarray, ...] | None = (
            None  # painted or imported (x/y train, x/y test); None: the spec's
        )
        self._test_share = TEST_SHARE.default
        self._rng = np.random.default_rng(0)  # which painted points go to the test set
        self._requested = False  # any request since the worker last looked: publish a snapshot
        self._fences = 0  # markers asked for (`fence`)...
        self._fence_passed = 0  # ...and the last one the worker has applied
        # the worker's side
        self._trained_spec = spec
        self.trainer: Trainer = make_trainer(spec)
        self._data_version = 0
        self._data_arrays = self._arrays(self.trainer.data)
        self._drawn = False  # the trainer's points were painted or imported
        self._untrainable = False  # the points asked for leave a split empty: the trainer waits for more
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=64)
        self._grid_resolution = grid_resolution
        self._grid_points = grid_points(grid_resolution)
        self._grid_cache: tuple | None = None  # trainer, steps, when, grid, neuron shown
        self._grid_seconds = 0.0
        self._history_cache: tuple[Trainer, int, dict[str, np.ndarray]] | None = None  # trainer, epoch, arrays
        self._probe_wanted: tuple[bool, int | None] = (False, None)  # (any view inside, hidden-layer column)
        self._neuron_shown: tuple[int, int] | None = None  # the heatmap shows this neuron's map
        self._prober = Prober(spec)
        self._probe_seconds = 0.0
        self._probe_cache: tuple[Trainer, int, float, tuple, Probe] | None = None  # trainer, steps, when, wanted
        self._run: tuple[Trainer, bool, float | None] | None = None  # trainer, target met at Play, target
        self._last_pace: float | None = None
        self._next_step_at = 0.0  # when a paced run takes its next step

    # ---- requests (GUI thread) --------------------------------------------------------------------
    def _request(self, op: tuple[str, Any] | None = None, **state) -> None:
        """Queue `op` and set `state` (attribute names) under the lock, then wake the worker."""
        with self._lock:
            if op is not None:
                self._queue.append(op)
            for name, value in state.items():
                setattr(self, name, value)
            self._requested = True
        self._wake.set()

    def play(self) -> None:
        self._request(_playing=True, _note="")

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
        """Start again from the initial weights of the current spec (same seed, same data); pauses."""
        self._request(("reset", None), _playing=False, _epochs_requested=0, _note="")

    def set_spec(
        self, spec: Spec, weights: dict | None = None, progress: Progress | None = None, fresh_data: bool = False
    ) -> None:
        """Rebuild model, loss, optimizer and data from `spec` at the next step boundary; pauses.

        Every spec, learning-rate or reset request made before it is dropped. `weights` (a
        `state_dict` for this spec's model) replace the initial weights, e.g. a saved model's, and
        `progress` (a saved model's epoch and last metrics) is shown with them. With `fresh_data` (a
        lesson, a pasted or opened set-up) the spec's own points are drawn even where painted or
        imported ones would otherwise be kept.
        """
        if not isinstance(spec, Spec):
            raise TypeError(f"set_spec expects a Spec, got {type(spec).__name__}")
        self._check(spec)
        with self._lock:
            new_data = fresh_data or any(getattr(spec, name) != getattr(self._spec, name) for name in DATA_FIELDS)
            self._queue = deque(op for op in self._queue if op[0] in KEPT)  # writes are never dropped
            self._queue.append(("spec", (spec, weights, progress, new_data)))
            if new_data:
                self._points = None
            elif self._points is not None:  # painted or imported points stay, whatever was queued before
                self._queue.append(("points", self._points))
            self._note = ""
            self._spec = spec
            self._playing, self._epochs_requested, self._requested = False, 0, True
        self._wake.set()

    def edit(self, **changes: Any) -> Spec:
        """The spec with `changes` (`Spec.replace` names); a `SpecError` leaves everything as it was.

        A change of the learning rate alone is applied live; anything else rebuilds and pauses.
        """
        with self._lock:
            current = self._spec
        spec = current.replace(**changes)
        if spec == current:
            return spec
        self._check(spec)
        if _differs_only_live(spec, current):
            self._request(("live", spec), _spec=spec)
        else:
            self.set_spec(spec)
        return spec

    def set_lr(self, lr: float) -> Spec:
        """The base learning rate, applied at the next step; the model is not reset."""
        return self.edit(lr=lr)

    def fence(self) -> int:
        """A marker in the request queue; returns its number. The first snapshot whose `fence` is at
        least that number was built after the worker applied every request made before the marker
        (and, if playing, trained at least one step): proof for a test or a script that what it
        asked for is done, or that what it stopped is not going on, without waiting on the clock."""
        with self._lock:
            self._fences += 1
            number = self._fences
        self._request(("fence", number))
        return number

    def request_save(self, path: str | Path) -> Future:
        """Save the trained model (its spec and weights) at the next step boundary.

        The future's result is a one-line message; its exception a `FileProblem` saying why not.
        """
        future: Future = Future()
        self._request(("save", (Path(path), future)))
        return future

    # ---- points (GUI thread) -----------------------------------------------------------------------
    def points(self) -> tuple[np.ndarray, ...]:
        """The points asked for: x_train (n, 2), y_train (n,), x_test, y_test (what is drawn next)."""
        with self._lock:
            return self._points if self._points is not None else self._data_arrays

    def _set_points(self, points: tuple[np.ndarray, ...]) -> None:
        with self._lock:
            self._points = tuple(points)
            self._queue = deque(op for op in self._queue if op[0] != "points")
            self._queue.append(("points", self._points))
            self._requested = True
        self._wake.set()

    def add_points(self, xy: np.ndarray, label: int) -> int:
        """Add points of class `label` (0 or 1) at `xy` (k, 2) in [0,1]^2; each goes to the test set
        with the probability `test_share`. Returns how many were added."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        xy = xy[np.isfinite(xy).all(axis=1) & (xy >= 0).all(axis=1) & (xy <= 1).all(axis=1)]
        if label not in (0, 1) or not len(xy):
            return 0
        x_train, y_train, x_test, y_test = self.points()
        with self._lock:
            to_test = self._rng.random(len(xy)) < self._test_share
        if not len(x_test) and len(x_train) + (~to_test).sum() > 0:
            to_test[0] = True  # an empty split fills first: a network needs both to train
        elif not len(x_train) and not (~to_test).any():
            to_test[0] = False
        labels = np.full(len(xy), label, dtype=np.int64)
        self._set_points(
            (
                np.concatenate([x_train, xy[~to_test]]).astype(np.float64),
                np.concatenate([y_train, labels[~to_test]]),
                np.concatenate([x_test, xy[to_test]]).astype(np.float64),
                np.concatenate([y_test, labels[to_test]]),
            )
        )
        return len(xy)

    def erase_points(self, centre: tuple[float, float], radius: float) -> int:
        """Remove the points within `radius` of `centre`; returns how many."""
        x_train, y_train, x_test, y_test = self.points()
        keep_train = np.hypot(*(x_train - centre).T) > radius
        keep_test = np.hypot(*(x_test - centre).T) > radius
        removed = int((~keep_train).sum() + (~keep_test).sum())
        if removed:
            self._set_points((x_train[keep_train], y_train[keep_train], x_test[keep_test], y_test[keep_test]))
        return removed

    def clear_points(self) -> None:
        """No points at all: paint new ones (training waits for at least one of each split)."""
        empty = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        self._set_points((*empty, *empty))

    def set_points(self, x: np.ndarray, labels: np.ndarray, is_test: np.ndarray | None = None) -> None:
        """Replace every point (an imported file): `is_test` says which are test points, or they are
        drawn at `test_share` (every split keeps at least one point where there are two)."""
        x, labels = np.asarray(x, dtype=np.float64).reshape(-1, 2), np.asarray(labels, dtype=np.int64)
        if is_test is None:
            with self._lock:
                is_test = self._rng.random(len(x)) < self._test_share
            if len(x) >= 2 and is_test.all():
                is_test[0] = False
            if len(x) >= 2 and not is_test.any():
                is_test[-1] = True
        is_test = np.asarray(is_test, dtype=bool)
        self._set_points((x[~is_test], labels[~is_test], x[is_test], labels[is_test]))

    def restore_points(self, points: tuple[np.ndarray, ...]) -> None:
        """Exactly these points again (x_train, y_train, x_test, y_test): an undo."""
        self._set_points(tuple(np.array(array) for array in points))

    def drawn_points(self) -> tuple[np.ndarray, ...] | None:
        """The painted or imported points asked for, or None where the spec's own are used."""
        with self._lock:
            return self._points

    def set_test_share(self, share: float) -> None:
        with self._lock:
            self._test_share = TEST_SHARE.check(share)

    # ---- sessions (GUI thread) ---------------------------------------------------------------------
    def request_save_session(self, path: str | Path, extra: dict | None = None) -> Future:
        """Save the whole session at the next step boundary; the future's exception is a `FileProblem`."""
        future: Future = Future()
        self._request(("save_session", (Path(path), future, extra or {})))
        return future

    def request_history(self, path: str | Path) -> Future:
        """Write the per-epoch history as CSV at the next step boundary (the trainer's full record)."""
        future: Future = Future()
        self._request(("history", (Path(path), future)))
        return future

    def open_session(self, saved: SavedSession) -> None:
        """Continue a saved session exactly where it stopped (at the next step boundary); pauses."""
        self._check(saved.spec)
        with self._lock:
            self._queue = deque(op for op in self._queue if op[0] in KEPT)
            self._queue.append(("session", saved))
            self._note = ""
            self._spec = saved.spec
            drawn = bool(saved.extra.get("drawn", False)) if isinstance(saved.extra, dict) else False
            data = saved.data
            self._points = self._arrays(data) if drawn else None
            self._playing, self._epochs_requested, self._requested = False, 0, True
        self._wake.set()

    def set_pace(self, steps_per_second: float | None) -> None:
        """Train at most this many steps a second (one of PACES), or at full speed (None)."""
        if steps_per_second not in PACES:
            raise ValueError(f"pace must be one of {PACES}, got {steps_per_second!r}")
        self._request(_pace=steps_per_second)

    @property
    def pace(self) -> float | None:
        with self._lock:
            return self._pace

    def set_stop(self, at_epoch: bool, accuracy: float | None) -> None:
        """Pause on its own: at the spec's `epochs` (if `at_epoch`), and when the test accuracy
        reaches `accuracy` percent (None: never). A run started where a stop is already met goes on."""
        if accuracy is not None:
            accuracy = STOP_ACCURACY.check(accuracy)
        self._request(_stop_at_epoch=bool(at_epoch), _stop_accuracy=accuracy)

    @property
    def stop(self) -> tuple[bool, float | None]:
        with self._lock:
            return self._stop_at_epoch, self._stop_accuracy

    def show_neuron(self, neuron: tuple[int, int] | None) -> None:
        """Make the heatmap show a neuron's map (diagram column, unit), or the class-1 score (None)."""
        self._request(_neuron_shown=neuron)

    def want_probe(self, enabled: bool, hidden_column: int | None = None) -> None:
        """Look inside the network for the views that show it (a few times a second while training)."""
        self._request(_probe_wanted=(bool(enabled), hidden_column))

    @property
    def spec(self) -> Spec:
        """The spec the user asked for, with every request so far."""
        with self._lock:
            return self._spec

    @property
    def playing(self) -> bool:
        with self._lock:
            return self._playing or self._epochs_requested > 0

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
            playing, epochs_requested, pace = self._playing, self._epochs_requested, self._pace
            stop = (self._stop_at_epoch, self._stop_accuracy)
        if self._untrainable and (playing or epochs_requested):  # the points shown cannot be trained on
            with self._lock:
                self._playing, self._epochs_requested, self._note = False, 0, UNTRAINABLE
            return True
        if not (playing or epochs_requested):
            self._run = None
            return changed
        trainer = self.trainer
        if self._run is None or self._run[0] is not trainer or self._run[2] != stop[1]:
            self._run = (trainer, self._accuracy_met(trainer, stop[1]), stop[1])  # a target met already: no stop
        if pace != self._last_pace:  # a new speed starts now, not after the old one's wait
            self._last_pace, self._next_step_at = pace, 0.0
        deadline = time.perf_counter() + budget_s
        start_epoch = trainer.epoch
        wake = self._wake
        while True:
            if pace is not None and not self._pace_wait(pace, deadline):
                break
            if not trainer.step():  # diverged: pause, and say so in the next snapshot
                with self._lock:
                    self._playing, self._epochs_requested = False, 0
                changed = True
                break
            changed = True
            if trainer.epoch != start_epoch:  # an epoch ended: a stop condition, or one asked-for epoch done
                start_epoch = trainer.epoch
                if playing:
                    note = self._stop_note(trainer, stop)
                    if note:
                        self._request(_playing=False, _note=note)
                        self._run = None  # the next Play starts a new run, however soon it comes
                        break
                elif epochs_requested:
                    with self._lock:
                        self._epochs_requested = max(0, self._epochs_requested - 1)
                        epochs_requested = self._epochs_requested
                    if not epochs_requested:
                        break
            if wake.is_set() or time.perf_counter() >= deadline:  # a request: apply it at this step boundary
                break
        self._rate_window.append((time.perf_counter(), trainer.steps))
        return changed

    def _pace_wait(self, pace: float, deadline: float) -> bool:
        """Wait for a paced run's next step; False if a request or the publish slot comes first."""
        now = time.perf_counter()
        wait = self._next_step_at - now
        if wait > 0:
            self._wake.wait(min(wait, max(deadline - now, 1 / 32)))  # never a busy loop, even when late
            if self._wake.is_set() or time.perf_counter() < self._next_step_at:
                return False
        self._next_step_at = max(self._next_step_at + 1 / pace, time.perf_counter() + 0.5 / pace)  # no bursts
        return True

    @staticmethod
    def _accuracy_met(trainer: Trainer, target: float | None) -> bool:
        record = trainer.last_record
        return target is not None and record is not None and 100 * record.test_accuracy >= target

    def _stop_note(self, trainer: Trainer, stop: tuple[bool, float | None]) -> str:
        """Why the run pauses at this epoch's end, or ''."""
        at_epoch, target = stop
        if at_epoch and trainer.epoch == self._trained_spec.epochs:
            return f"Paused at epoch {trainer.epoch}, the set-up's last (Run: pause at epoch)"
        if self._accuracy_met(trainer, target) and self._run is not None and not self._run[1]:
            accuracy = 100 * trainer.last_record.test_accuracy
            return f"Paused at epoch {trainer.epoch}: test accuracy {accuracy:.1f}% reached {target:g}%"
        return ""

    def _apply_requests(self) -> bool:
        self._wake.clear()  # what arrives from here on wakes the next step boundary
        with self._lock:
            queue, self._queue = self._queue, deque()
            requested, self._requested = self._requested, False
        for kind, value in queue:
            if kind == "spec":
                self._rebuild(*value)
            elif kind == "live":
                if value.optimizer.lr != self._trained_spec.optimizer.lr:
                    self.trainer.lr = value.optimizer.lr
                self._trained_spec = self._trained_spec.replace(lr=value.optimizer.lr, epochs=value.epochs)
            elif kind == "reset":
                self._rebuild(self._trained_spec, new_data=False)
            elif kind in WRITES:
                self._serve_write(kind, value)
            elif kind == "points":
                self._use_points(value)
            elif kind == "session":
                self._restore(value)
            elif kind == "fence":
                self._fence_passed = value
        return requested

    def _serve_write(self, kind: str, value: tuple) -> None:
        if kind == "save":
            path, future = value
            self._write(future, self._save_model, path, "model")
        elif kind == "save_session":
            path, future, extra = value
            self._write(future, partial(self._save_session, extra=extra), path, "session")
        elif kind == "history":
            path, future = value
            self._write(future, self._write_history, path, "history")

    def serve_pending_writes(self) -> None:
        """Write what was asked for and not yet written (a save just before the window closed).
        Only once the worker has stopped: the caller's thread is then the only one here."""
        with self._lock:
            writes = [op for op in self._queue if op[0] in WRITES]
            self._queue = deque(op for op in self._queue if op[0] not in WRITES)
        for kind, value in writes:
            self._serve_write(kind, value)

    def _use_points(self, points: tuple[np.ndarray, ...]) -> None:
        """Train on these points from the next step; the network goes on where it was."""
        self._data_version += 1
        self._data_arrays = points
        self._drawn = True
        x_train, y_train, x_test, y_test = points
        self._untrainable = not len(x_train) or not len(x_test)
        if self._untrainable:  # nothing to train or test on: wait for more points
            with self._lock:
                self._playing, self._epochs_requested = False, 0
                self._note = UNTRAINABLE
            return
        with self._lock:
            if self._note == UNTRAINABLE:
                self._note = ""
        dtype, device = self.trainer.data.x_train.dtype, self.trainer.data.x_train.device
        self.trainer.replace_data(
            Split(
                torch.as_tensor(x_train, dtype=dtype, device=device),
                torch.as_tensor(y_train, dtype=torch.int64, device=device),
                torch.as_tensor(x_test, dtype=dtype, device=device),
                torch.as_tensor(y_test, dtype=torch.int64, device=device),
            )
        )
        self._history_cache = None

    def _write(self, future: Future, write: Callable[[Path], None], path: Path, what: str) -> None:
        """Serve a write request at this step boundary; the future says how it went."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            write(path)
        except Exception as error:  # a FileProblem, a state that does not fit, an OSError: said, never lost
            future.set_exception(error)
        else:
            future.set_result(f"Saved the {what} at epoch {self.trainer.epoch} to {path}")

    def _save_model(self, path: Path) -> None:
        save_model(path, self._trained_spec, self.trainer.model, trainer=self.trainer)

    def _save_session(self, path: Path, extra: dict) -> None:
        if self._untrainable:
            raise ValueError("the points shown leave the training or the test set empty: paint or import more first")
        save_session(path, self._trained_spec, self.trainer, {**extra, "drawn": self._drawn})

    def _write_history(self, path: Path) -> None:
        write_history(path, self.trainer)

    def _restore(self, saved: SavedSession) -> None:
        old = self._trained_spec
        self.trainer = restore_trainer(saved)
        self._trained_spec = saved.spec
        if saved.spec.layers != old.layers:
            self._prober = Prober(saved.spec)
        self._data_version += 1
        self._data_arrays = self._arrays(self.trainer.data)
        self._drawn = bool(saved.extra.get("drawn", False)) if isinstance(saved.extra, dict) else False
        self._untrainable = False
        self._rate_window.clear()

    def _rebuild(
        self, spec: Spec, weights: dict | None = None, progress: Progress | None = None, new_data: bool = False
    ) -> None:
        old = self._trained_spec
        same_data = not new_data and spec.dataset == old.dataset and spec.seed == old.seed and spec.dtype == old.dtype
        self.trainer = make_trainer(spec, data=self.trainer.data if same_data else None)
        if weights is not None:
            self.trainer.model.load_state_dict(weights)
        if progress is not None:  # a saved model's epoch and metrics (its optimizer's state is not in the file)
            self.trainer.epoch = progress.epoch
            if progress.record is not None:
                self.trainer.last_record = progress.record
                self.trainer.history.append(progress.record)
        self._trained_spec = spec
        if spec.layers != old.layers:
            self._prober = Prober(spec)
        if not same_data:
            self._data_version += 1
            self._data_arrays = self._arrays(self.trainer.data)
            self._drawn = self._untrainable = False
        self._rate_window.clear()

    @staticmethod
    def _arrays(data: Split) -> tuple[np.ndarray, ...]:
        """The points as arrays for drawing, made once per data set."""
        return data.x_train.float().numpy(), data.y_train.numpy(), data.x_test.float().numpy(), data.y_test.numpy()

    def steps_per_second(self) -> float:
        window = [(t, s) for t, s in self._rate_window if t > time.perf_counter() - 2.0]
        if len(window) < 2 or window[-1][0] == window[0][0]:
            return 0.0
        return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])

    def _grid(self, trainer: Trainer, neuron: tuple[int, int] | None, playing: bool = False) -> np.ndarray:
        """The heatmap: the class-1 score, or the map of `neuron` (diagram column, unit) when one is
        shown; while playing, recomputed at most `GRID_SHARE` of the time, so a big network still
        trains; once paused (or diverged), always the network as it now is: no later snapshot
        may come to mend a stale picture."""
        now = time.perf_counter()
        cached = self._grid_cache
        if (
            cached is not None
            and cached[0] is trainer
            and cached[4] == neuron
            and (
                cached[1] == trainer.steps or (playing and now - cached[2] < self._grid_seconds * (1 / GRID_SHARE - 1))
            )
        ):
            return cached[3]
        if neuron is None:
            values = class_one_score(trainer.predict(self._grid_points), self._trained_spec.loss)
        else:
            values = self._prober.neuron_map(trainer, self._grid_points, *neuron)
        grid = values.reshape(self._grid_resolution, self._grid_resolution).float().numpy()
        done = time.perf_counter()
        self._grid_seconds = done - now
        self._grid_cache = (trainer, trainer.steps, done, grid, neuron)
        return grid

    def _history(self, trainer: Trainer) -> dict[str, np.ndarray]:
        """The curves as arrays, rebuilt only when an epoch has ended since the last snapshot."""
        cached = self._history_cache
        if cached is not None and cached[0] is trainer and cached[1] == trainer.epoch:
            return cached[2]
        names = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
        records = trainer.history.records
        records = records[:: -(-len(records) // CURVE_POINTS)] if records else []  # thinned, first kept
        record = trainer.last_record
        if record is not None and (not records or records[-1].epoch != record.epoch):
            records.append(record)  # the newest epoch, even where the bounded history skipped it
        history = {name: np.array([getattr(r, name) for r in records], dtype=float) for name in names}
        for name in ("grad_norms", "health"):  # (epochs, layers): per Linear layer, per activation layer
            width = len(getattr(records[-1], name)) if records else 0
            gap = (float("nan"),) * width
            rows = [getattr(r, name) if len(getattr(r, name)) == width else gap for r in records]
            history[name] = np.array(rows, dtype=float).reshape(len(rows), width)
        self._history_cache = (trainer, trainer.epoch, history)
        return history

    def _probe(self, trainer: Trainer, playing: bool) -> Probe | None:
        """A look inside, renewed at most every PROBE_INTERVAL while training (at once otherwise)."""
        with self._lock:
            wanted = self._probe_wanted
        if not wanted[0]:
            return None
        now = time.perf_counter()
        cached = self._probe_cache
        fresh = cached is not None and cached[0] is trainer and cached[3] == wanted
        interval = max(PROBE_INTERVAL, self._probe_seconds / PROBE_SHARE)
        if fresh and (cached[1] == trainer.steps or (playing and now - cached[2] < interval)):
            return cached[4]
        probe = self._prober.probe(trainer, wanted[1])
        self._probe_seconds = time.perf_counter() - now
        self._probe_cache = (trainer, trainer.steps, now, wanted, probe)
        return probe

    def snapshot(self) -> Snapshot:
        """The state to draw, with the decision-boundary grid; called in the worker thread."""
        trainer = self.trainer
        record = trainer.last_record
        nan = float("nan")
        with self._lock:
            playing = self._playing or self._epochs_requested > 0
            neuron, pace, note = self._neuron_shown, self._pace, self._note
        if neuron is not None and not self._prober.has_neuron(*neuron):
            neuron = None  # the network changed shape under it
        problems: list[str] = []
        probe = self._view("The look inside the network", problems, self._probe, trainer, playing)
        grid = (
            self._view(f"The map of neuron {neuron}", problems, self._grid, trainer, neuron, playing)
            if neuron
            else None
        )
        if grid is None:
            neuron, grid = None, self._grid(trainer, None, playing)  # the decision boundary, drawn by the trainer
        x_train, y_train, x_test, y_test = self._data_arrays
        batch = None
        if pace is not None and pace <= SLOW_MOTION and trainer.last_batch is not None and not self._untrainable:
            batch = x_train[trainer.last_batch.cpu().numpy()]
        return Snapshot(
            spec=self._trained_spec,
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
            history=self._history(trainer),
            grid=grid,
            neuron=neuron,
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            probe=probe,
            batch=batch,
            note=note,
            drawn=self._drawn,
            view_problem="; ".join(problems),
            fence=self._fence_passed,
        )

    @staticmethod
    def _view(what: str, problems: list[str], compute: Callable, *args: Any) -> Any:
        """A view's own computation (a look inside, a neuron's map): where it fails, the views say
        so (`Snapshot.view_problem`) and training goes on; it never becomes the worker's error."""
        try:
            return compute(*args)
        except Exception as error:  # any failure of a picture: the picture says it, training goes on
            text = str(error).splitlines()[0] if str(error) else ""
            problems.append(f"{what} failed: {type(error).__name__}: {text[:160]}")
            return None
