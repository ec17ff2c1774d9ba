"""The main window: side panel, controls, plots, status bar. It draws snapshots and sends
requests to the session; training itself happens in `TrainingWorker`'s thread, and the window
never touches the trainer."""

from __future__ import annotations

import itertools
import math
import time
from concurrent.futures import Future
from functools import partial
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from minidl.checkpoint import read_experiment
from minidl.files import FileProblem, write_text_atomic
from minidl.params import SpecError
from minidl.registry import LR
from minidl.spec import REPORT, Layer, Spec
from minidl_gui.grid import GRID_RESOLUTION
from minidl_gui.icon import app_icon
from minidl_gui.limits import MAX_LIVE_FILE_BYTES, check_live
from minidl_gui.session import Session, Snapshot
from minidl_gui.settings import app_settings
from minidl_gui.widgets.banner import Banner
from minidl_gui.widgets.boundary_plot import BoundaryPlot
from minidl_gui.widgets.data_settings import DataSettings
from minidl_gui.widgets.health_view import HealthView
from minidl_gui.widgets.hidden_view import HiddenLayerView
from minidl_gui.widgets.layer_editor import LayerEditor
from minidl_gui.widgets.metric_plot import MetricPlot
from minidl_gui.widgets.network_view import NetworkView
from minidl_gui.widgets.training_settings import TrainingSettings
from minidl_gui.worker import TrainingWorker

LABEL_INTERVAL = 0.2  # seconds between updates of the numbers while training: readable, and cheap
LAYOUT_VERSION = 1  # of the saved window layout: raise it when the docks change
LAUNCH_SPEC = REPORT.replace(init="default")
"""At launch: the report's experiment (disk data, 2-25-25-25-2 Tanh, MSE, SGD lr 0.01), from
PyTorch's default initial weights, with which the disk shows within the first ~25 epochs."""


def _stop_worker(worker: TrainingWorker, *_) -> None:
    if shiboken6.isValid(worker) and not worker.stop(5000):
        worker.wait()


class MainWindow(QMainWindow):
    save_finished = Signal(object)  # a Future from Session.request_save, done (delivered in the GUI thread)

    def __init__(self, spec: Spec | None = None, grid_resolution: int = GRID_RESOLUTION, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("minidl — live training")
        self.resize(1560, 960)
        self.setWindowIcon(app_icon())
        spec = spec or LAUNCH_SPEC
        check_live(spec)
        self.session = Session(spec, check=check_live, grid_resolution=grid_resolution)
        self.last_snapshot: Snapshot | None = None
        self._data_version = -1
        self._drawn_grid = self._drawn_history = self._drawn_probe = None
        self._shown_status = ""
        self._labels_shown = 0.0
        self._reset_pending = False

        self.setCentralWidget(self._build_center())
        self._build_side_panel(spec)
        self._build_views()
        self._build_status_bar()
        self._build_shortcuts()
        self._build_menu()
        self._restore_layout()
        self.save_finished.connect(self._show_save_result)

        self.worker = TrainingWorker(self.session)
        self.worker.snapshot_ready.connect(self._on_snapshot)
        # dropped without close() (del, app.quit(), sys.exit): stop the thread before Qt deletes anything
        self.destroyed.connect(partial(_stop_worker, self.worker))
        self.worker.start()

    # ---- layout -----------------------------------------------------------------------------------
    def _build_center(self) -> QWidget:
        self.play_button = self._control_button("playButton", "Play", "Play / Pause training (Space)")
        self._show_playing(False)
        self.step_button = self._control_button("stepButton", "Step epoch", "Train one epoch (Right arrow or S)")
        self.reset_button = self._control_button("resetButton", "Reset", "Start again from the initial weights (R)")
        self.play_button.clicked.connect(self.toggle_play)
        self.step_button.clicked.connect(self.step_epoch)
        self.reset_button.clicked.connect(self.reset)
        controls = QHBoxLayout()
        for b in (self.play_button, self.step_button, self.reset_button):
            controls.addWidget(b)
        controls.addStretch(1)
        self.epoch_big = QLabel("Epoch 0")
        self.epoch_big.setStyleSheet("font-size: 22pt; font-weight: 700;")
        controls.addWidget(self.epoch_big)

        self.banner = Banner()
        self.boundary_plot = BoundaryPlot()
        self.loss_plot = MetricPlot("lossPlot", "Loss (per sample)", "loss")
        self.accuracy_plot = MetricPlot("accuracyPlot", "Accuracy", "accuracy (%)", percent=True)
        self.log_y = QCheckBox("Log-scale loss")
        self.log_y.setObjectName("logLossCheck")
        self.log_y.toggled.connect(self.loss_plot.set_log_y)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.loss_plot, 1)
        right_layout.addWidget(self.log_y)
        right_layout.addWidget(self.accuracy_plot, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.boundary_plot)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        center = QWidget()
        layout = QVBoxLayout(center)
        layout.addLayout(controls)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        return center

    def _control_button(self, name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setMinimumSize(150, 44)
        button.setStyleSheet("font-size: 14pt; font-weight: 600;")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the Play shortcut
        return button

    def _build_side_panel(self, spec: Spec) -> None:
        self.layer_editor = LayerEditor(spec.layers, self.request_edit)
        training = self.training_settings = TrainingSettings(spec, self.request_edit)
        data = self.data_settings = DataSettings(spec, self.request_edit)
        data.show_train.toggled.connect(self.boundary_plot.show_train_points)
        data.show_test.toggled.connect(self.boundary_plot.show_test_points)
        # short names for the controls, used by tests and scripts
        self.lr_control, self.loss_combo = training.lr_control, training.loss_combo
        self.optimizer_combo, self.batch_spin = training.optimizer_combo, training.batch_spin
        self.dataset_combo, self.noise_spin, self.seed_spin = data.dataset_combo, data.noise_spin, data.seed_spin

        panel = QWidget()
        panel_layout = QVBoxLayout(panel)
        for group in (self.layer_editor, training, data):
            panel_layout.addWidget(group)
        panel_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(380)
        dock = self.side_panel = QDockWidget("Experiment")
        dock.setObjectName("sidePanel")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    def _build_views(self) -> None:
        """The views inside the network, each in a dock of its own (tabbed together at first)."""
        self.network_view = NetworkView(self.boundary_plot.lut, self.change_units)
        self.health_view = HealthView()
        self.hidden_view = HiddenLayerView()
        self.view_docks: dict[str, QDockWidget] = {}
        for name, title, widget in (
            ("networkDock", "Network", self.network_view),
            ("healthDock", "Layer health", self.health_view),
            ("hiddenDock", "Hidden layer", self.hidden_view),
        ):
            dock = QDockWidget(title)
            dock.setObjectName(name)
            dock.setWidget(widget)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            dock.visibilityChanged.connect(self._views_changed)
            self.view_docks[name] = dock
        docks = list(self.view_docks.values())
        for first, second in itertools.pairwise(docks):
            self.tabifyDockWidget(first, second)
        docks[0].raise_()
        self.resizeDocks(docks[:1], [280], Qt.Orientation.Vertical)  # the plots keep most of the height
        self.network_view.neuron_hovered.connect(self._hover_neuron)
        self.network_view.neuron_clicked.connect(self._click_neuron)
        self.hidden_view.column_changed.connect(self._views_changed)
        self._neuron_pinned: tuple[int, int] | None = None

    def view_visible(self, name: str) -> bool:
        """Whether a view's dock is shown and its tab in front."""
        dock = self.view_docks[name]
        return dock.isVisible() and dock.widget().isVisible()

    def _views_changed(self, *_) -> None:
        network, hidden = self.view_visible("networkDock"), self.view_visible("hiddenDock")
        self.session.want_probe(network or hidden, self.hidden_view.column() if hidden else None)

    def _build_status_bar(self) -> None:
        self.epoch_label = QLabel("Epoch 0")
        self.epoch_label.setObjectName("epochLabel")
        self.speed_label = QLabel("")
        self.speed_label.setObjectName("speedLabel")
        self.metrics_label = QLabel("")
        self.metrics_label.setObjectName("metricsLabel")
        bar = self.statusBar()
        for label in (self.epoch_label, self.speed_label, self.metrics_label):
            label.setStyleSheet("font-size: 12pt; padding: 0 12px;")
            bar.addWidget(label)

    def _build_shortcuts(self) -> None:
        for keys, slot in (
            ("Space", self.toggle_play),
            ("Right", self.step_epoch),
            ("S", self.step_epoch),
            ("R", self.reset),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

    def _build_menu(self) -> None:
        self._build_file_menu()
        view = self.menuBar().addMenu("&View")
        view.setObjectName("viewMenu")
        for dock in (self.side_panel, *self.view_docks.values()):
            view.addAction(dock.toggleViewAction())

    def _build_file_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        open_action = menu.addAction("&Open experiment…")
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._open_dialog)
        save_action = menu.addAction("&Save experiment as…")
        save_action.setShortcut(QKeySequence.StandardKey.Save)
        save_action.triggered.connect(self._save_dialog)
        save_model_action = menu.addAction("Save &trained model as…")
        save_model_action.triggered.connect(self._save_model_dialog)
        menu.addSeparator()
        menu.addAction("&Quit", QKeySequence.StandardKey.Quit, self.close)

    # ---- files -------------------------------------------------------------------------------------
    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open experiment or model", "", "Experiment spec or trained model (*.json *.pt);;All files (*)"
        )
        if path:
            self.open_experiment(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save experiment", "experiment.json", "Experiment spec (*.json)")
        if path:
            self.save_experiment(path)

    def _save_model_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save trained model", "model.pt", "Trained model (*.pt)")
        if path:
            self.save_model(path)

    def save_model(self, path: str | Path) -> Future:
        """Ask the worker to write the spec and the weights at the next step boundary; the result
        (a message, or a `FileProblem`) shows in the status bar or the banner."""
        future = self.session.request_save(path)
        future.add_done_callback(self.save_finished.emit)
        return future

    def _show_save_result(self, future: Future) -> None:
        error = future.exception()
        if error is not None:
            self.banner.show_message(f"Could not save the model: {error}")
        else:
            self.statusBar().showMessage(future.result(), 5000)

    def save_experiment(self, path: str | Path) -> bool:
        """Write the experiment (layers, training settings, data) as a JSON spec, atomically."""
        try:
            write_text_atomic(path, self.session.spec.to_json() + "\n", "experiment")
        except FileProblem as error:
            self.banner.show_message(f"Could not save the experiment: {error}")
            return False
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def open_experiment(self, path: str | Path) -> bool:
        """Load a JSON spec, or a saved model (spec and weights), into every control and rebuild.

        A file that cannot be used changes nothing and says why in the banner.
        """
        try:
            spec, weights = read_experiment(path, check=check_live, limit=MAX_LIVE_FILE_BYTES)
        except FileProblem as error:
            self.banner.show_message(f"Could not open the file: {error}")
            return False
        self.apply_spec(spec, weights)
        return True

    def apply_spec(self, spec: Spec, weights: dict | None = None) -> None:
        """Rebuild from `spec` (with `weights`, if given) and show it in every control."""
        self.session.set_spec(spec, weights)
        self.banner.hide()
        self._show_spec(spec)

    # ---- requests ---------------------------------------------------------------------------------
    def request_edit(self, **changes) -> str:
        """Edit the spec (`Spec.replace` names); '' if done, else why not (and nothing changed)."""
        try:
            spec = self.session.edit(**changes)
        except SpecError as error:
            self._show_spec(self.session.spec)
            return str(error)
        self._show_spec(spec)
        return ""

    def change_units(self, linear: int, delta: int) -> str:
        """Add `delta` units to the Linear layer at `linear` (an index into the hidden layers)."""
        layers = list(self.session.spec.layers)
        if not 0 <= linear < len(layers) or layers[linear].units is None:
            return f"layer {linear} is not a Linear layer"
        layers[linear] = Layer(layers[linear].type, (("units", layers[linear].units + delta),))
        return self.request_edit(layers=layers)

    def _show_spec(self, spec: Spec) -> None:
        """Every control shows `spec` exactly; nothing is emitted."""
        self.layer_editor.set_layers(spec.layers)
        self.training_settings.set_spec(spec)
        self.data_settings.set_spec(spec)
        self._show_playing(self.session.playing)

    def current_spec(self) -> Spec:
        """The experiment the controls show: the session's requested spec."""
        return self.session.spec

    def toggle_play(self) -> None:
        if self.session.playing:
            self.session.pause()
            self._show_playing(False)
        elif self.stuck_diverged():
            self._show_divergence(self.last_snapshot)  # nothing can train: say why again, with the way out
        else:
            self.banner.hide()
            self.session.play()
            self._show_playing(True)

    def stuck_diverged(self) -> bool:
        """Whether the network shown has diverged and no reset or edit on its way will replace it."""
        snapshot = self.last_snapshot
        if snapshot is None or snapshot.status != "diverged":
            return False
        return not self._reset_pending and self.session.spec == snapshot.spec

    def _show_divergence(self, snapshot: Snapshot) -> None:
        self.banner.show_message(
            snapshot.message, [("Reset with lr ÷ 10", self.reset_with_smaller_lr), ("Reset (R)", self.reset)]
        )

    def _show_playing(self, playing: bool) -> None:
        if self.play_button.text() == ("Pause" if playing else "Play"):
            return  # an icon set again repaints the button: not at every frame
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def step_epoch(self) -> None:
        self.session.step_epoch()

    def reset(self) -> None:
        self.banner.hide()
        self._reset_pending = True
        self.session.reset()
        self._show_playing(False)

    def reset_with_smaller_lr(self) -> None:
        """The way out of a divergence: a tenth of the learning rate, from the initial weights."""
        lr = max(LR.low, float(f"{self.session.spec.optimizer.lr / 10:.3g}"))
        self.request_edit(lr=lr)
        self.reset()

    # ---- drawing ---------------------------------------------------------------------------------
    def _on_snapshot(self) -> None:
        snapshot = self.worker.take_snapshot()
        if snapshot is None:
            return
        self.last_snapshot = snapshot
        if snapshot.status != "diverged":
            self._reset_pending = False
        if snapshot.grid is not self._drawn_grid:  # the worker reuses the array when nothing changed
            self._drawn_grid = snapshot.grid
            self.boundary_plot.set_grid(snapshot.grid)
        if snapshot.neuron != self.boundary_plot.neuron:
            title = None
            if snapshot.neuron is not None and snapshot.probe is not None:
                column, unit = snapshot.neuron
                title = f"{snapshot.probe.columns[column].title}, unit {unit + 1}"
            self.boundary_plot.show_neuron_title(snapshot.neuron, title)
        if snapshot.data_version != self._data_version:
            self._data_version = snapshot.data_version
            self.boundary_plot.set_dataset(snapshot.spec.dataset.name)
            self.boundary_plot.set_points(snapshot.x_train, snapshot.y_train, snapshot.x_test, snapshot.y_test)
        h = snapshot.history
        if h is not self._drawn_history:  # new only when an epoch ended
            self._drawn_history = h
            self.loss_plot.set_data(h["epoch"], h["train_loss"], h["test_loss"])
            self.accuracy_plot.set_data(h["epoch"], 100 * h["train_accuracy"], 100 * h["test_accuracy"])
        now = time.monotonic()
        slow_tick = not snapshot.playing or now - self._labels_shown >= LABEL_INTERVAL  # a few times a second
        if slow_tick:
            self._labels_shown = now
            self._set_text(self.epoch_label, f"Epoch {snapshot.epoch}")
            self._set_text(self.epoch_big, f"Epoch {snapshot.epoch}")
            speed = f"{snapshot.steps_per_second:,.0f} steps/s" if snapshot.playing else "paused"
            self._set_text(self.speed_label, speed)
            self._set_text(self.metrics_label, self._metrics_text(snapshot))
            self.training_settings.show_current_lr(snapshot.lr, snapshot.spec.optimizer.lr)
        self._show_playing(snapshot.playing)
        self._draw_views(snapshot, slow_tick)
        if snapshot.status == "diverged" and self._shown_status != "diverged":
            self._show_divergence(snapshot)
        elif self.worker.error:
            self.banner.show_message(
                "Training stopped on an internal error.\n" + self.worker.error, [("Reset", self.reset)]
            )
            self.worker.error = None
        self._shown_status = snapshot.status

    def _draw_views(self, snapshot: Snapshot, slow_tick: bool) -> None:
        """The views inside the network: only those shown, and only what is new."""
        self.hidden_view.set_spec(snapshot.spec)
        probe = snapshot.probe
        new_look = probe is not None and probe is not self._drawn_probe
        if new_look:
            self._drawn_probe = probe
            if self.view_visible("networkDock"):
                self.network_view.set_probe(probe, snapshot.spec)
            if self.view_visible("hiddenDock"):
                self.hidden_view.set_view(probe.hidden)
        # the health curves: with each look inside (or a few times a second when there is none)
        if self.view_visible("healthDock") and (new_look or (slow_tick and probe is None) or not snapshot.playing):
            self.health_view.set_spec(snapshot.spec)
            self.health_view.set_history(snapshot.history)

    @staticmethod
    def _set_text(label: QLabel, text: str) -> None:
        if label.text() != text:  # setText relayouts the status bar even for the same text
            label.setText(text)

    @staticmethod
    def _metrics_text(snapshot: Snapshot) -> str:
        if snapshot.status == "diverged":
            return "diverged: see the banner above the plots"
        if math.isnan(snapshot.train_loss):
            return "not trained yet: press Play (Space)"
        return (
            f"train loss {snapshot.train_loss:.4f} · acc {100 * snapshot.train_accuracy:.1f}%    "
            f"test loss {snapshot.test_loss:.4f} · acc {100 * snapshot.test_accuracy:.1f}%"
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.worker.stop(1000):  # a step still running: wait for it rather than kill a live thread
            self.worker.wait()
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        super().closeEvent(event)

    def _restore_layout(self) -> None:
        settings = app_settings()
        geometry, state = settings.value("window/geometry"), settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)

    # ---- inside the network ------------------------------------------------------------------------
    def show_neuron(self, layer_index: int | None, unit: int = 0) -> None:
        """Show a neuron's map (diagram column `layer_index`: 0 the inputs, then the hidden layers,
        the last the outputs) large in the decision-boundary plot, until `show_neuron(None)`."""
        neuron = None if layer_index is None else (int(layer_index), int(unit))
        self._neuron_pinned = neuron
        self.network_view.show_pinned(neuron)
        self.session.show_neuron(neuron)

    def _hover_neuron(self, neuron: tuple[int, int] | None) -> None:
        if self._neuron_pinned is None:
            self.session.show_neuron(neuron)

    def _click_neuron(self, neuron: tuple[int, int]) -> None:
        self.show_neuron(*((None,) if neuron == self._neuron_pinned else neuron))
