"""Draws the worker's snapshots into the window's plots, views and labels: only what is new.

The worker reuses an array when nothing changed (the grid, the history, the look inside), so a
frame redraws only the parts whose objects changed; the numbers are set a few times a second;
the views inside the network only while shown.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QLabel

from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot
from minidl_gui._qt.widgets.health_view import HealthView
from minidl_gui._qt.widgets.hidden_view import HiddenLayerView
from minidl_gui._qt.widgets.metric_plot import MetricPlot
from minidl_gui._qt.widgets.network_view import NetworkView
from minidl_gui._qt.widgets.paint_tools import PaintTools
from minidl_gui._qt.widgets.training_settings import TrainingSettings
from minidl_gui.components.snapshot import Snapshot

LABEL_INTERVAL = 0.2  # seconds between updates of the numbers while training: readable, and cheap


@dataclass(frozen=True)
class Targets:
    """The window's widgets a snapshot is drawn into."""

    boundary: BoundaryPlot
    loss: MetricPlot
    accuracy: MetricPlot
    paint_tools: PaintTools
    training_settings: TrainingSettings
    epoch_labels: tuple[QLabel, ...]
    speed_label: QLabel
    metrics_label: QLabel
    network: NetworkView
    health: HealthView
    hidden: HiddenLayerView


def set_text(label: QLabel, text: str) -> None:
    if label.text() != text:  # setText relayouts the status bar even for the same text
        label.setText(text)


def metrics_text(snapshot: Snapshot) -> str:
    """The status bar's metrics, or why there are none."""
    if snapshot.status == "diverged":
        return "diverged: see the banner above the plots"
    if snapshot.note and not snapshot.playing:
        return snapshot.note  # paused by a stop condition: say why, until the next Play
    if math.isnan(snapshot.train_loss):
        return "not trained yet: press Play (Space)"
    return (
        f"train loss {snapshot.train_loss:.4f} · acc {100 * snapshot.train_accuracy:.1f}%    "
        f"test loss {snapshot.test_loss:.4f} · acc {100 * snapshot.test_accuracy:.1f}%"
    )


class SnapshotView:
    """What has been drawn so far, so that each snapshot draws only what changed."""

    def __init__(self, targets: Targets, view_visible: Callable[[str], bool]) -> None:
        """`view_visible(dock name)`: whether a view is shown and in front (the window's method, held weakly)."""
        self._to = targets
        self._view_visible = weakref.WeakMethod(view_visible)
        self._data_version = -1
        self._grid = self._history = self._probe = None
        self._labels_shown = 0.0

    def draw(self, snapshot: Snapshot) -> None:
        to = self._to
        if snapshot.grid is not self._grid:  # the worker reuses the array when nothing changed
            self._grid = snapshot.grid
            to.boundary.set_grid(snapshot.grid)
        if snapshot.neuron != to.boundary.neuron:
            title = None
            if snapshot.neuron is not None and snapshot.probe is not None:
                column, unit = snapshot.neuron
                title = f"{snapshot.probe.columns[column].title}, unit {unit + 1}"
            to.boundary.show_neuron_title(snapshot.neuron, title)
        to.boundary.set_highlight(snapshot.batch)
        if snapshot.data_version != self._data_version:
            self._data_version = snapshot.data_version
            to.boundary.set_dataset(snapshot.spec.dataset.name)
            to.boundary.show_true_boundary(not snapshot.drawn)  # unknown for points of one's own
            to.boundary.set_points(snapshot.x_train, snapshot.y_train, snapshot.x_test, snapshot.y_test)
            to.paint_tools.show_counts(len(snapshot.x_train), len(snapshot.x_test), snapshot.drawn)
        h = snapshot.history
        if h is not self._history:  # new only when an epoch ended
            self._history = h
            to.loss.set_data(h["epoch"], h["train_loss"], h["test_loss"])
            to.accuracy.set_data(h["epoch"], 100 * h["train_accuracy"], 100 * h["test_accuracy"])
        now = time.monotonic()
        slow_tick = not snapshot.playing or now - self._labels_shown >= LABEL_INTERVAL  # a few times a second
        if slow_tick:
            self._labels_shown = now
            for label in to.epoch_labels:
                set_text(label, f"Epoch {snapshot.epoch}")
            set_text(to.speed_label, f"{snapshot.steps_per_second:,.0f} steps/s" if snapshot.playing else "paused")
            set_text(to.metrics_label, metrics_text(snapshot))
            to.training_settings.show_current_lr(snapshot.lr, snapshot.spec.optimizer.lr)
        self._draw_views(snapshot, slow_tick)

    def _draw_views(self, snapshot: Snapshot, slow_tick: bool) -> None:
        """The views inside the network: only those shown, and only what is new."""
        to, visible = self._to, self._view_visible()
        if visible is None:  # the window is gone
            return
        to.hidden.set_spec(snapshot.spec)
        if snapshot.view_problem != to.network.problem:
            to.network.show_problem(snapshot.view_problem)
            to.hidden.show_problem(snapshot.view_problem)
        probe = snapshot.probe
        new_look = probe is not None and probe is not self._probe
        if new_look:
            self._probe = probe
            if visible("networkDock"):
                to.network.set_probe(probe, snapshot.spec)
            if visible("hiddenDock"):
                to.hidden.set_view(probe.hidden)
        # the health curves: with each look inside (or a few times a second when there is none)
        if visible("healthDock") and (new_look or (slow_tick and probe is None) or not snapshot.playing):
            to.health.set_spec(snapshot.spec)
            to.health.set_history(snapshot.history)
