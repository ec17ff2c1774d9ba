"""What the window draws, and how the worker makes it at a bounded cost: the view policy.

A `Snapshot` is built in the worker thread and read-only afterwards. `SnapshotMaker` decides how
often each costly part is renewed while training: the heatmap at most `GRID_SHARE` of the
worker's time, the look inside the network every `PROBE_INTERVAL` (or at most `PROBE_SHARE` of
the time), the curves once an epoch; paused, everything is the network as it now is, so no later
snapshot has to mend a stale picture. A view that fails says so (`Snapshot.view_problem`) and
training goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minidl.registry import LOSSES
from minidl.spec import Spec
from minidl.train import Trainer
from minidl_gui.components.backprop_views import BackpropMaker, BackpropPicture, BackpropWanted
from minidl_gui.components.grid import GRID_RESOLUTION, grid_points
from minidl_gui.components.probe import Probe, Prober

GRID_SHARE = 0.25  # the heatmap may take at most this share of the worker's time
PROBE_INTERVAL = 0.75  # seconds between two looks inside the network while training...
PROBE_SHARE = 0.05  # ...or fewer: a look inside takes at most this share of the worker's time
CURVE_POINTS = 150  # points per drawn curve: a 3-pixel line over a few hundred pixels needs no more
HISTORY_NAMES = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")


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
    backprop: BackpropPicture | None = field(default=None, repr=False)  # the backprop views' numbers, if shown


@dataclass(frozen=True)
class Wanted:
    """What the window asks to see, read under the session's lock for one snapshot."""

    playing: bool
    neuron: tuple[int, int] | None  # the heatmap shows this neuron's map instead of the class-1 score
    probe: bool  # a view inside the network is shown
    hidden_column: int | None  # the hidden-layer view's column, if shown
    slow_motion: bool  # ring the last step's batch (a slow pace, and points to train on)
    note: str
    backprop: BackpropWanted = field(default_factory=BackpropWanted)


@dataclass(frozen=True)
class _Drawn:
    """A costly part of a snapshot, kept until the network it shows has moved on."""

    trainer: Trainer
    at: int  # the trainer's count when it was made: its steps (its epochs for the curves)
    made_at: float  # perf_counter
    key: Any  # what else it depends on (the neuron shown, the views wanted)
    value: Any

    def still_shows(self, trainer: Trainer, key: Any, playing: bool, interval: float, now: float) -> bool:
        """The same network and question, and either no step since, or (while training) renewed lately."""
        if self.trainer is not trainer or self.key != key:
            return False
        return self.at == trainer.steps or (playing and now - self.made_at < interval)


class SnapshotMaker:
    """Builds snapshots in the worker thread; keeps the costly parts while they still hold."""

    def __init__(self, spec: Spec, grid_resolution: int = GRID_RESOLUTION) -> None:
        self._resolution = grid_resolution
        self._grid_points = grid_points(grid_resolution)
        self._prober = Prober(spec)
        self._backprop = BackpropMaker(spec)
        self._layers = spec.layers
        self._grid: _Drawn | None = None
        self._grid_seconds = 0.0  # what the last heatmap took
        self._probe: _Drawn | None = None
        self._probe_seconds = 0.0
        self._history: _Drawn | None = None

    def new_network(self, spec: Spec) -> None:
        """A network of `spec`'s shape is trained from now on (the probe's columns follow it)."""
        if spec.layers != self._layers:
            self._prober, self._backprop, self._layers = Prober(spec), BackpropMaker(spec), spec.layers

    def forget_history(self) -> None:
        """The data changed under the same trainer: the curves are rebuilt at the next snapshot."""
        self._history = None

    def has_neuron(self, neuron: tuple[int, int]) -> bool:
        return self._prober.has_neuron(*neuron)

    def make(self, trainer: Trainer, spec: Spec, wanted: Wanted, **fields: Any) -> Snapshot:
        """The snapshot of `trainer` (trained from `spec`); `fields` are the session's own
        (data_version, the four point arrays, drawn, steps_per_second, fence)."""
        record = trainer.last_record
        nan = float("nan")
        problems: list[str] = []
        probe = self._view("The look inside the network", problems, self._look_inside, trainer, wanted)
        backprop = self._view(
            "The backprop views",
            problems,
            self._backprop.make,
            trainer,
            spec,
            wanted.backprop,
            wanted.playing,
            fields["data_version"],
        )
        neuron = wanted.neuron if wanted.neuron is not None and self.has_neuron(wanted.neuron) else None
        grid = None
        if neuron is not None:
            grid = self._view(f"The map of neuron {neuron}", problems, self._heatmap, trainer, spec, neuron, wanted)
        if grid is None:
            neuron, grid = None, self._heatmap(trainer, spec, None, wanted)  # the decision boundary
        batch = None
        if wanted.slow_motion and trainer.last_batch is not None:
            batch = fields["x_train"][trainer.last_batch.cpu().numpy()]
        return Snapshot(
            spec=spec,
            epoch=trainer.epoch,
            steps=trainer.steps,
            step_in_epoch=trainer.step_in_epoch,
            playing=wanted.playing,
            status=trainer.status,
            message=trainer.message,
            lr=trainer.lr,
            train_loss=record.train_loss if record else nan,
            train_accuracy=record.train_accuracy if record else nan,
            test_loss=record.test_loss if record else nan,
            test_accuracy=record.test_accuracy if record else nan,
            history=self._curves(trainer),
            grid=grid,
            neuron=neuron,
            probe=probe,
            batch=batch,
            note=wanted.note,
            view_problem="; ".join(problems),
            backprop=backprop,
            **fields,
        )

    def _heatmap(self, trainer: Trainer, spec: Spec, neuron: tuple[int, int] | None, wanted: Wanted) -> np.ndarray:
        """The class-1 score (as the loss reads its outputs), or the map of `neuron` (diagram column, unit)."""
        now = time.perf_counter()
        interval = self._grid_seconds * (1 / GRID_SHARE - 1)
        if self._grid is not None and self._grid.still_shows(trainer, neuron, wanted.playing, interval, now):
            return self._grid.value
        if neuron is None:
            values = LOSSES[spec.loss].class_one_score(trainer.predict(self._grid_points))
        else:
            values = self._prober.neuron_map(trainer, self._grid_points, *neuron)
        grid = values.reshape(self._resolution, self._resolution).float().numpy()
        done = time.perf_counter()
        self._grid_seconds = done - now
        self._grid = _Drawn(trainer, trainer.steps, done, neuron, grid)
        return grid

    def _curves(self, trainer: Trainer) -> dict[str, np.ndarray]:
        """The curves as arrays, rebuilt only when an epoch has ended since the last snapshot."""
        drawn = self._history
        if drawn is not None and drawn.trainer is trainer and drawn.at == trainer.epoch:
            return drawn.value
        records = trainer.history.records
        records = records[:: -(-len(records) // CURVE_POINTS)] if records else []  # thinned, first kept
        record = trainer.last_record
        if record is not None and (not records or records[-1].epoch != record.epoch):
            records.append(record)  # the newest epoch, even where the bounded history skipped it
        history = {name: np.array([getattr(r, name) for r in records], dtype=float) for name in HISTORY_NAMES}
        for name in ("grad_norms", "health"):  # (epochs, layers): per Linear layer, per activation layer
            width = len(getattr(records[-1], name)) if records else 0
            gap = (float("nan"),) * width
            rows = [getattr(r, name) if len(getattr(r, name)) == width else gap for r in records]
            history[name] = np.array(rows, dtype=float).reshape(len(rows), width)
        self._history = _Drawn(trainer, trainer.epoch, 0.0, None, history)
        return history

    def _look_inside(self, trainer: Trainer, wanted: Wanted) -> Probe | None:
        """A look inside, renewed at most every PROBE_INTERVAL while training (at once otherwise)."""
        if not wanted.probe:
            return None
        now = time.perf_counter()
        interval = max(PROBE_INTERVAL, self._probe_seconds / PROBE_SHARE)
        key = wanted.hidden_column
        if self._probe is not None and self._probe.still_shows(trainer, key, wanted.playing, interval, now):
            return self._probe.value
        probe = self._prober.probe(trainer, key)
        self._probe_seconds = time.perf_counter() - now
        self._probe = _Drawn(trainer, trainer.steps, now, key, probe)
        return probe

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
