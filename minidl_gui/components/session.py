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
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from minidl.data import TEST_SHARE, random_split
from minidl.spec import Spec
from minidl.storage.resume import SavedSession
from minidl.train import Progress, Trainer
from minidl_gui.components import painted
from minidl_gui.components.backprop_views import BackpropWanted
from minidl_gui.components.grid import GRID_RESOLUTION
from minidl_gui.components.run_options import (
    DATA_FIELDS,
    LIVE_FIELDS,
    PACES,
    SLOW_MOTION,
    STOP_ACCURACY,
    UNTRAINABLE,
)
from minidl_gui.components.snapshot import Snapshot, Wanted
from minidl_gui.components.training import Training, arrays, was_drawn

WRITES = ("save", "save_session", "history")  # requests that write a file: kept whatever comes after
KEPT = (*WRITES, "fence")  # requests a new spec never drops


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
        self._training = Training(spec, grid_resolution)  # the worker's side
        self._probe_wanted: tuple[bool, int | None] = (False, None)  # (any view inside, hidden-layer column)
        self._neuron_shown: tuple[int, int] | None = None  # the heatmap shows this neuron's map
        self._backprop = BackpropWanted()  # what the backprop views ask for
        self._run: tuple[Trainer, bool, float | None] | None = None  # trainer, target met at Play, target
        self._last_pace: float | None = None
        self._next_step_at = 0.0  # when a paced run takes its next step

    @property
    def trainer(self) -> Trainer:
        """The trainer, touched by the worker thread alone (which builds it on its first look)."""
        return self._training.trainer

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
        spec = current.replace(**changes)  # the one spec this edit builds
        if spec == current:
            return spec
        self._check(spec)
        if set(changes) <= set(LIVE_FIELDS):  # known live from the fields it names: no rebuild, no diff
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
            return self._points if self._points is not None else self._training.points

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
        xy = painted.inside_the_plane(xy)
        if label not in (0, 1) or not len(xy):
            return 0
        with self._lock:
            to_test = random_split(len(xy), self._test_share, self._rng, keep_both=False)
        self._set_points(painted.added(self.points(), xy, label, to_test))
        return len(xy)

    def erase_points(self, centre: tuple[float, float], radius: float) -> int:
        """Remove the points within `radius` of `centre`; returns how many."""
        points, removed = painted.erased(self.points(), centre, radius)
        if removed:
            self._set_points(points)
        return removed

    def clear_points(self) -> None:
        """No points at all: paint new ones (training waits for at least one of each split)."""
        self._set_points(painted.empty())

    def set_points(self, x: np.ndarray, labels: np.ndarray, is_test: np.ndarray | None = None) -> None:
        """Replace every point (an imported file): `is_test` says which are test points, or they are
        drawn at `test_share` (every split keeps at least one point where there are two)."""
        if is_test is None:
            with self._lock:
                is_test = random_split(len(labels), self._test_share, self._rng)
        self._set_points(painted.split(x, labels, is_test))

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
            self._points = arrays(saved.data) if was_drawn(saved) else None
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

    @property
    def neuron_shown(self) -> tuple[int, int] | None:
        """The neuron whose map the heatmap is asked to show (diagram column, unit), or None."""
        with self._lock:
            return self._neuron_shown

    def want_probe(self, enabled: bool, hidden_column: int | None = None) -> None:
        """Look inside the network for the views that show it (a few times a second while training)."""
        self._request(_probe_wanted=(bool(enabled), hidden_column))

    def want_backprop(self, **changes: Any) -> BackpropWanted:
        """Ask the backprop views for `changes` (`BackpropWanted`'s fields: walk, point, link_mode,
        check, overlay, step_loss); returns what is asked for now. A `ValueError` changes nothing."""
        with self._lock:
            wanted = replace(self._backprop, **changes)
        self._request(_backprop=wanted)
        return wanted

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
        if self._training.untrainable and (playing or epochs_requested):  # the points shown cannot be trained on
            with self._lock:
                self._playing, self._epochs_requested, self._note = False, 0, UNTRAINABLE
            return True
        if not (playing or epochs_requested):
            self._run = None
            return changed
        trainer = self.trainer
        trainer.record_update = self._backprop.link_mode == "update"  # Δw kept only while it is drawn
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
        self._training.count_steps()
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
        if at_epoch and trainer.epoch == self._training.spec.epochs:
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
        training = self._training
        for kind, value in queue:
            if kind == "spec":
                training.rebuild(*value)
            elif kind == "live":  # every request before it applied, the trained spec is the one it edited
                training.live(value)
            elif kind == "reset":
                training.rebuild(training.spec, new_data=False)
            elif kind in WRITES:
                training.write(kind, *value)
            elif kind == "points":
                self._use_points(value)
            elif kind == "session":
                training.restore(value)
            elif kind == "fence":
                self._fence_passed = value
        return requested

    def serve_pending_writes(self) -> None:
        """Write what was asked for and not yet written (a save just before the window closed).
        Only once the worker has stopped: the caller's thread is then the only one here."""
        with self._lock:
            writes = [op for op in self._queue if op[0] in WRITES]
            self._queue = deque(op for op in self._queue if op[0] not in WRITES)
        for kind, value in writes:
            self._training.write(kind, *value)

    def _use_points(self, points: tuple[np.ndarray, ...]) -> None:
        trainable = self._training.use_points(points)
        with self._lock:
            if not trainable:  # nothing to train or test on: wait for more points
                self._playing, self._epochs_requested, self._note = False, 0, UNTRAINABLE
            elif self._note == UNTRAINABLE:
                self._note = ""

    def snapshot(self) -> Snapshot:
        """The state to draw, with the decision-boundary grid; called in the worker thread."""
        with self._lock:
            playing = self._playing or self._epochs_requested > 0
            probe, hidden_column = self._probe_wanted
            slow = self._pace is not None and self._pace <= SLOW_MOTION
            neuron, note, backprop = self._neuron_shown, self._note, self._backprop
        slow = slow and not self._training.untrainable
        wanted = Wanted(playing, neuron, probe, hidden_column, slow, note, backprop)
        return self._training.snapshot(wanted, self._fence_passed)
