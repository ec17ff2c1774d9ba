"""The worker's side of the session, free of Qt: the trainer, what it trains on, and its writes.

Touched by the worker thread alone (and, once that thread has stopped, by whoever serves the last
writes): the session's requests arrive here in order, at step boundaries.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import torch

from minidl.build import make_data, make_trainer
from minidl.data import Split
from minidl.spec import Spec
from minidl.storage.checkpoint import save_model
from minidl.storage.history import write_history
from minidl.storage.resume import SavedSession, restore_trainer, save_session
from minidl.train import Progress, Trainer
from minidl_gui.components.backprop_views import set_mistake
from minidl_gui.components.grid import GRID_RESOLUTION
from minidl_gui.components.painted import Points
from minidl_gui.components.run_options import DATA_FIELDS
from minidl_gui.components.snapshot import Snapshot, SnapshotMaker, Wanted

RATE_SECONDS = 2.0  # steps a second are counted over this window


def arrays(data: Split) -> Points:
    """The points as arrays for drawing, made once per data set."""
    return data.x_train.float().numpy(), data.y_train.numpy(), data.x_test.float().numpy(), data.y_test.numpy()


def without_live_fields(spec: Spec) -> dict:
    """The spec as a dict without the fields a live edit changes (two specs equal so differ only live)."""
    raw = spec.to_dict()
    raw.pop("epochs")
    raw.pop("mistake", None)
    raw["optimizer"].pop("lr")
    return raw


def was_drawn(saved: SavedSession) -> bool:
    """Whether a saved session's points were painted or imported (not its spec's own)."""
    return isinstance(saved.extra, dict) and bool(saved.extra.get("drawn", False))


class Training:
    """The trainer being trained, the spec it was built from (`spec`) and the points it trains on."""

    def __init__(self, spec: Spec, grid_resolution: int = GRID_RESOLUTION) -> None:
        self.spec = spec  # what is trained, live learning-rate changes included
        self._trainer: Trainer | None = None  # built at the worker's first step boundary
        self._build_lock = threading.Lock()
        self._first_data: Split | None = make_data(spec)  # shown (and exported) before any trainer exists
        self.data_version = 0  # changes with the points
        self.points: Points = arrays(self._first_data)
        self.drawn = False  # the points were painted or imported
        self.untrainable = False  # the points leave a split empty: the trainer waits for more
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=64)
        self._snapshots = SnapshotMaker(spec, grid_resolution)

    @property
    def trainer(self) -> Trainer:
        with self._build_lock:
            if self._trainer is None:
                self._trainer = make_trainer(self.spec, data=self._first_data)
                self._first_data = None
            return self._trainer

    # ---- what the session's requests do -------------------------------------------------------------
    def live(self, spec: Spec) -> None:
        """The learning rate, the epochs and the backprop mistake of `spec`, applied to the network
        being trained (a mistake in place: the weights and the optimizer's state go on). `spec` is
        the one the GUI built, taken as it is where nothing else differs (after a rebuild that
        failed, more does: then the trained spec keeps its own fields)."""
        same_otherwise = without_live_fields(spec) == without_live_fields(self.spec)
        mistake = spec.mistake
        if mistake != self.spec.mistake:
            if same_otherwise and self.trainer.diverged:  # nothing left to repair in place: start again
                self.rebuild(spec)
                return
            try:
                set_mistake(self.trainer.model, spec)
            except ValueError:  # it does not fit the network trained (after a rebuild that failed)
                mistake = self.spec.mistake
        if spec.optimizer.lr != self.spec.optimizer.lr:
            self.trainer.lr = spec.optimizer.lr
        if same_otherwise and mistake == spec.mistake:
            self.spec = spec
        else:
            self.spec = self.spec.replace(lr=spec.optimizer.lr, epochs=spec.epochs, mistake=mistake)

    def rebuild(
        self, spec: Spec, weights: dict | None = None, progress: Progress | None = None, new_data: bool = False
    ) -> None:
        """A new trainer for `spec` (with a model's `weights` and `progress`); the points stay unless
        `new_data` or a data field changed."""
        same_data = not new_data and all(getattr(spec, name) == getattr(self.spec, name) for name in DATA_FIELDS)
        trainer = make_trainer(spec, data=self.trainer.data if same_data else None)
        if weights is not None:
            trainer.model.load_state_dict(weights)
        if progress is not None:  # a saved model's epoch and metrics (its optimizer's state is not in the file)
            trainer.resume_from(progress)
        with self._build_lock:  # a first build in another thread finishes first, then gives way
            self._trainer, self.spec, self._first_data = trainer, spec, None
        self._snapshots.new_network(spec)
        if not same_data:
            self._new_points(arrays(trainer.data), drawn=False)
        self._rate_window.clear()

    def restore(self, saved: SavedSession) -> None:
        """Continue a saved (and checked) session exactly where it stopped."""
        trainer = restore_trainer(saved)
        with self._build_lock:
            self._trainer, self.spec, self._first_data = trainer, saved.spec, None
        self._snapshots.new_network(saved.spec)
        self._new_points(arrays(trainer.data), drawn=was_drawn(saved))
        self._rate_window.clear()

    def use_points(self, points: Points) -> bool:
        """Train on these points from the next step, the network going on where it was; False where
        a split is empty (nothing to train or test on: the trainer waits for more)."""
        self._new_points(points, drawn=True)
        if self.untrainable:
            return False
        x_train, y_train, x_test, y_test = points
        dtype, device = self.trainer.data.x_train.dtype, self.trainer.data.x_train.device
        self.trainer.replace_data(
            Split(
                torch.as_tensor(x_train, dtype=dtype, device=device),
                torch.as_tensor(y_train, dtype=torch.int64, device=device),
                torch.as_tensor(x_test, dtype=dtype, device=device),
                torch.as_tensor(y_test, dtype=torch.int64, device=device),
            )
        )
        self._snapshots.forget_history()
        return True

    def _new_points(self, points: Points, drawn: bool) -> None:
        self.data_version += 1
        self.points, self.drawn = points, drawn
        self.untrainable = not len(points[0]) or not len(points[2])

    # ---- writes ----------------------------------------------------------------------------------------
    def write(self, kind: str, path: Path, future: Future, extra: dict | None = None) -> None:
        """Write the model, the session or the history (`kind`) now; the future says how it went."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            trainer = self.trainer
            if kind == "save":
                save_model(path, self.spec, trainer.model, trainer=trainer)
            elif kind == "save_session":
                if self.untrainable:
                    raise ValueError(
                        "the points shown leave the training or the test set empty: paint or import more first"
                    )
                save_session(path, self.spec, trainer, {**(extra or {}), "drawn": self.drawn})
            else:
                write_history(path, trainer)
        except Exception as error:  # a FileProblem, a state that does not fit, an OSError: said, never lost
            future.set_exception(error)
        else:
            what = {"save": "model", "save_session": "session"}.get(kind, "history")
            future.set_result(f"Saved the {what} at epoch {trainer.epoch} to {path}")

    # ---- what is drawn ---------------------------------------------------------------------------------
    def count_steps(self) -> None:
        self._rate_window.append((time.perf_counter(), self.trainer.steps))

    def steps_per_second(self) -> float:
        window = [(t, s) for t, s in self._rate_window if t > time.perf_counter() - RATE_SECONDS]
        if len(window) < 2 or window[-1][0] == window[0][0]:
            return 0.0
        return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])

    def has_neuron(self, neuron: tuple[int, int]) -> bool:
        return self._snapshots.has_neuron(neuron)

    def snapshot(self, wanted: Wanted, fence: int) -> Snapshot:
        x_train, y_train, x_test, y_test = self.points
        return self._snapshots.make(
            self.trainer,
            self.spec,
            wanted,
            data_version=self.data_version,
            steps_per_second=self.steps_per_second() if wanted.playing else 0.0,
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            drawn=self.drawn,
            fence=fence,
        )
