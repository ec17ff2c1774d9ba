"""The main window builds the app and wires it: the centre (buttons, caption, banner, plots), the
side panel, the docked views inside the network, the status bar, menus and shortcuts.

Each job lives in its own room and the window connects them: the session (`components.session`)
owns training, which happens in `TrainingWorker`'s thread; `SnapshotView` draws what the worker
publishes; `Setups` replaces whole set-ups, one undo away; `WindowFit` keeps the window on its
screen (looks, zoom, presentation mode); `FileMenu` reads and writes files; `window_settings`
remembers what the next launch starts from. The window never touches the trainer.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSizePolicy

from minidl.spec import Spec
from minidl_gui._qt import window_settings
from minidl_gui._qt.actions import add_action
from minidl_gui._qt.central import CentralArea
from minidl_gui._qt.file_menu import FileMenu
from minidl_gui._qt.icon import app_icon
from minidl_gui._qt.run_control import RunControl
from minidl_gui._qt.setup_control import SetupControl
from minidl_gui._qt.side_panel import SidePanel
from minidl_gui._qt.snapshot_view import SnapshotView, Targets
from minidl_gui._qt.view_docks import ViewDocks
from minidl_gui._qt.view_menu import PLOTS, ViewMenu
from minidl_gui._qt.widgets.settings_group import weakly
from minidl_gui._qt.window_fit import LAYOUT_VERSION, SIDE_PANEL_WIDTH, WindowFit
from minidl_gui._qt.worker import TrainingWorker
from minidl_gui.components.defaults import LAUNCH_SPEC
from minidl_gui.components.grid import GRID_RESOLUTION
from minidl_gui.components.lessons import LESSONS, Lesson
from minidl_gui.components.limits import check_live
from minidl_gui.components.look import Look
from minidl_gui.components.session import Session
from minidl_gui.components.snapshot import Snapshot


def _stop_worker(worker: TrainingWorker, *_) -> None:
    if shiboken6.isValid(worker) and not worker.stop(5000):
        worker.wait()


class MainWindow(QMainWindow):
    def __init__(self, spec: Spec | None = None, grid_resolution: int = GRID_RESOLUTION, parent=None) -> None:
        """`spec`: the set-up to start with; by default the one of the last launch (or LAUNCH_SPEC)."""
        super().__init__(parent)
        self.setWindowTitle("minidl — live training")
        self.setWindowIcon(app_icon())
        settings = window_settings.app_settings()
        spec = spec or window_settings.setup(settings, check_live) or LAUNCH_SPEC
        check_live(spec)
        self.session = Session(spec, check=check_live, grid_resolution=grid_resolution)

        self._build_center()
        self._build_side_panel(spec)
        self._build_views()
        self._build_status_bar()
        self.fit = WindowFit(self, self.side_panel, list(self.view_docks.values()), self.plots_splitter, self._paint)
        self.setup = SetupControl(
            self,
            self.session,
            self.panel,
            self.central,
            self.statusBar(),
            self.view_docks,
            self._unpin_neuron,
            self._fit_side_panel,
            self._undo_enabled,
        )
        self.setups = self.setup.setups
        self.central.caption_close.clicked.connect(weakly(self.setup.show_caption, None))
        self.files = FileMenu(
            self,
            self.session,
            self.setups,
            self.banner,
            self.statusBar(),
            self.central_plots,
            self.central.recorded,
            self.recording_label,
        )
        self.run = RunControl(
            self.session,
            self.central,
            self.banner,
            self.run_settings,
            self.request_edit,
            self._unpin_neuron,
            self.fit.refit_soon,
        )
        self._build_shortcuts()
        self._build_menus()
        self.snapshot_view = SnapshotView(self._draw_targets(), self.view_visible)
        self._default_state = self.saveState(LAYOUT_VERSION)  # for Restore defaults
        self._restore(settings)

        self.worker = TrainingWorker(self.session)
        self.worker.snapshot_ready.connect(self._on_snapshot)
        # dropped without close() (del, app.quit(), sys.exit): stop the thread before Qt deletes anything
        self.destroyed.connect(partial(_stop_worker, self.worker))
        self.worker.start()

    # ---- building ---------------------------------------------------------------------------------
    def _build_center(self) -> None:
        central = self.central = CentralArea()
        self.setCentralWidget(central)
        central.play_button.clicked.connect(self.toggle_play)
        central.step_button.clicked.connect(self.step_epoch)
        central.reset_button.clicked.connect(self.reset)

        # short names, used by tests and scripts
        self.play_button, self.step_button, self.reset_button = central.buttons
        self.epoch_big, self.caption, self.caption_bar, self.banner = (
            central.epoch_big,
            central.caption,
            central.caption_bar,
            central.banner,
        )
        self.boundary_plot, self.loss_plot, self.accuracy_plot = (central.plots[n] for n, _ in PLOTS)
        self.log_y, self.curves_panel, self.plots_splitter = central.log_y, central.curves_panel, central.plots_splitter
        self.central_plots = central.plots

    def _build_side_panel(self, spec: Spec) -> None:
        panel = self.panel = SidePanel(spec, self.request_edit, self.set_pace, self.set_stop, SIDE_PANEL_WIDTH)
        paint = self.paint_tools = panel.paint_tools
        paint.mode_changed.connect(self.boundary_plot.set_paint_mode)
        paint.clear_requested.connect(self.session.clear_points)
        paint.test_share_changed.connect(self.session.set_test_share)
        self.boundary_plot.painted.connect(self.session.add_points)
        self.boundary_plot.erased.connect(weakly(self._erase_points, signal_args=3))
        data, training = panel.data_settings, panel.training_settings
        data.show_train.toggled.connect(self.boundary_plot.show_train_points)
        data.show_test.toggled.connect(self.boundary_plot.show_test_points)
        # short names for the controls, used by tests and scripts
        self.layer_editor, self.training_settings = panel.layer_editor, training
        self.run_settings, self.data_settings = panel.run_settings, data
        self.lr_control, self.loss_combo = training.lr_control, training.loss_combo
        self.optimizer_combo, self.batch_spin = training.optimizer_combo, training.batch_spin
        self.dataset_combo, self.noise_spin, self.seed_spin = data.dataset_combo, data.noise_spin, data.seed_spin
        dock = self.side_panel = QDockWidget("Experiment")
        dock.setObjectName("sidePanel")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)  # full height

    def _build_views(self) -> None:
        views = self.views = ViewDocks(
            self, self.session, self.boundary_plot, self.paint_tools, self.central.mistake_banner,
            self.change_units, self._remember_setup, self.request_edit, self.statusBar(),
        )  # fmt: skip
        self.network_view, self.health_view, self.hidden_view = views.network_view, views.health_view, views.hidden_view
        self.view_docks, self.backprop = views.docks, views.backprop

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        for name, stretch in (("epochLabel", 0), ("speedLabel", 0), ("metricsLabel", 1)):
            label = QLabel("Epoch 0" if name == "epochLabel" else "")
            label.setObjectName(name)
            bar.addWidget(label, stretch)
            setattr(self, f"{name[:-5]}_label", label)
        # the metrics take what is left and are cut at the window's edge: never widen a small window
        self.metrics_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.recording_label = QLabel()
        self.recording_label.setObjectName("recordingLabel")
        self.recording_label.setStyleSheet("color: #c0392b; font-weight: 700; padding: 0 12px;")
        self.recording_label.hide()
        bar.addPermanentWidget(self.recording_label)

    def _build_shortcuts(self) -> None:
        for keys, slot in (
            ("Space", self.toggle_play),
            ("Right", self.step_epoch),
            ("S", self.step_epoch),
            ("R", self.reset),
            ("P", weakly(self.paint_tools.toggle, "paint")),
            ("E", weakly(self.paint_tools.toggle, "erase")),
        ):
            QShortcut(QKeySequence(keys), self).activated.connect(slot)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.setObjectName("fileMenu")
        self.files.build_file_menu(file_menu, self.restore_defaults, self.close)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = add_action(edit, "undoSetupAction", "&Undo set-up change", self.undo_setup)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setEnabled(False)
        edit.addSeparator()
        self.files.build_share_actions(edit)
        self._build_view_menu()
        examples = self.menuBar().addMenu("E&xamples")
        examples.setObjectName("examplesMenu")
        self.lesson_actions: list[QAction] = []
        for index, lesson in enumerate(LESSONS):
            action = add_action(examples, f"lessonAction{index}", lesson.name, weakly(self.load_lesson, lesson))
            action.setToolTip(lesson.caption)
            self.lesson_actions.append(action)
        examples.setToolTipsVisible(True)
        examples.addSeparator()
        self.backprop.build_menus(examples, self.view_menu.menu)
        self.views.build_menu(self.view_menu.menu)

    def _build_view_menu(self) -> None:
        self.view_menu = ViewMenu(
            self.menuBar().addMenu("&View"),
            (self.side_panel, *self.view_docks.values()),
            show_plot=lambda name: weakly(self.show_plot, name, signal_args=1),
            present=weakly(self.set_presenting, signal_args=1),
            zoom=lambda steps: weakly(self.zoom, steps),
            choose_look=lambda field, name: weakly(self._choose_look, field, name, signal_args=1),
        )
        # short names, used by tests and scripts
        self.plot_actions, self.look_actions = self.view_menu.plot_actions, self.view_menu.look_actions
        self.presentation_action = self.view_menu.presentation_action

    def _draw_targets(self) -> Targets:
        return Targets(
            boundary=self.boundary_plot,
            loss=self.loss_plot,
            accuracy=self.accuracy_plot,
            paint_tools=self.paint_tools,
            training_settings=self.training_settings,
            epoch_labels=(self.epoch_label, self.epoch_big),
            speed_label=self.speed_label,
            metrics_label=self.metrics_label,
            network=self.network_view,
            health=self.health_view,
            hidden=self.hidden_view,
        )

    # ---- the look, the screen, the settings ----------------------------------------------------------
    @property
    def look(self) -> Look:
        return self.fit.look

    def set_look(self, look: Look) -> None:
        """Apply a look to the whole app: fonts, palette, plots, line widths, controls."""
        self.fit.set_look(look)

    def _paint(self, look: Look) -> None:
        """The window's widgets in `look` (called by `WindowFit.set_look`)."""
        self.central.apply_look(look)
        for view in (self.health_view, self.hidden_view):
            view.apply_look(look)
        self.network_view.apply_look(look, self.boundary_plot.lut)
        self.backprop.apply_look(look, self.boundary_plot.lut)
        for label in (self.epoch_label, self.speed_label, self.metrics_label):
            label.setStyleSheet(f"font-size: {look.pt(12)}pt; padding: 0 12px;")
        self.view_menu.show_look(look)

    def zoom(self, steps: int) -> bool:
        """The interface one step bigger (+1) or smaller (-1), or back to its own size (0); a step
        that would make the window larger than the screen is refused (and said)."""
        return self.fit.zoom(steps)

    def set_presenting(self, on: bool) -> None:
        """Presentation mode (F11): full screen, larger text, thicker lines; off: as before."""
        self.fit.set_presenting(on)

    def _choose_look(self, field: str, name: str, checked: bool) -> None:
        if checked:
            self.set_look(replace(self.look, **{field: name}))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit.resized()

    def show_plot(self, name: str, visible: bool) -> None:
        """Show or hide one of the central plots ("boundary", "loss", "accuracy")."""
        self.central.show_plot(name, visible)
        self.view_menu.show_plot(name, visible)

    def _restore(self, settings) -> None:
        """Geometry, panels, look, run settings and visible plots of the last launch."""
        geometry, state = window_settings.geometry(settings)
        self.fit.fit_to_screen(geometry)
        if state is None or not self.restoreState(state, LAYOUT_VERSION):
            self.fit.default_layout()
        self.set_look(window_settings.look(settings))
        self._set_run(*window_settings.run(settings))
        hidden = window_settings.hidden_plots(settings)
        for name, action in self.plot_actions.items():
            action.setChecked(name not in hidden)

    def restore_defaults(self) -> None:
        """Forget what was remembered: layout, look, run settings; the launch set-up (undoable)."""
        window_settings.forget(window_settings.app_settings())
        self.set_presenting(False)
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self.fit.fit_to_screen(None)
        self.fit.default_layout()
        self.set_look(Look())
        self._set_run(None, True, None)
        for action in self.plot_actions.values():
            action.setChecked(True)
        self.replace_setup(LAUNCH_SPEC)
        self.statusBar().showMessage("Defaults restored (Ctrl+Z brings back your set-up)", 6000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.files.recorder is not None:
            self.files.recorder.close()  # stops grabbing and waits for its encoder: no thread left behind
        if not self.worker.stop(1000):  # a step still running: wait for it rather than kill a live thread
            self.worker.wait()
        self.session.serve_pending_writes()  # a save asked for just before closing is not lost
        window_settings.remember(
            window_settings.app_settings(),
            window=self.fit.geometry_to_remember(),
            look=self.look,
            spec=self.session.spec,
            run=(self.session.pace, *self.session.stop),
            plots={name: action.isChecked() for name, action in self.plot_actions.items()},
        )
        super().closeEvent(event)

    # ---- set-ups: `SetupControl`'s, for the controls, tests and scripts -------------------------------------
    def request_edit(self, **changes) -> str:
        """Edit the spec (`Spec.replace` names); '' if done, else why not (and nothing changed)."""
        return self.setup.request_edit(**changes)

    def change_units(self, linear: int, delta: int) -> str:
        """Add `delta` units to the Linear layer at `linear` (an index into the hidden layers)."""
        return self.setup.change_units(linear, delta)

    def current_spec(self) -> Spec:
        """The experiment the controls show: the session's requested spec."""
        return self.session.spec

    def apply_spec(self, spec: Spec, weights: dict | None = None, fresh_data: bool = False) -> None:
        """Rebuild from `spec` (with `weights`) and show it in every control; `fresh_data`: its own points."""
        self.setup.apply_spec(spec, weights, fresh_data)

    def replace_setup(self, spec: Spec, weights: dict | None = None, lesson: Lesson | None = None, **how) -> None:
        """The one way a whole set-up is replaced (`Setups.replace`: `progress`, `saved`, `points`,
        `undoable`); the one it replaces is one Ctrl+Z away."""
        self.setups.replace(spec, weights, lesson, **how)

    @property
    def lesson(self) -> Lesson | None:
        """The lesson on screen, if any."""
        return self.setups.lesson

    def undo_setup(self) -> bool:
        """Back to the set-up before the last replacement (from its initial weights)."""
        return self.setup.undo()

    def load_lesson(self, lesson: Lesson) -> None:
        """A lesson's set-up (pausing at its last epoch), its caption, and the view it is about."""
        self.setup.load_lesson(lesson)
        self.backprop.set_link_mode(lesson.link_mode)

    def _remember_setup(self, live: bool = False) -> None:
        self.setup.remember(live)

    def set_link_mode(self, mode: str) -> None:
        """The diagram's links show the "weight", the last step's "gradient" ∂L/∂w, or its "update" Δw."""
        self.backprop.set_link_mode(mode)

    def set_point_overlay(self, overlay: str | None) -> None:
        """Size the training points by their own "loss", their "gradient" norm, or not (None)."""
        self.backprop.set_point_overlay(overlay)

    def _undo_enabled(self, can_undo: bool) -> None:
        self.undo_action.setEnabled(can_undo)

    def _fit_side_panel(self) -> None:
        self.fit.fit_side_panel()

    # ---- run control: `RunControl`'s, for the buttons, shortcuts, tests and scripts -----------------------
    @property
    def last_snapshot(self) -> Snapshot | None:
        """The snapshot drawn last."""
        return self.run.last_snapshot

    def toggle_play(self) -> None:
        self.run.toggle_play()

    def step_epoch(self) -> None:
        self.run.step_epoch()

    def reset(self) -> None:
        self.run.reset()

    def stuck_diverged(self) -> bool:
        return self.run.stuck_diverged()

    def set_pace(self, steps_per_second: float | None) -> None:
        """Training speed, one of `PACES` (None: full speed); in slow motion the batch is ringed."""
        self.run.set_pace(steps_per_second)

    def set_stop(self, at_epoch: bool, accuracy: float | None) -> None:
        """Pause at the set-up's last epoch (`at_epoch`) and/or at a test accuracy in percent."""
        self.run.set_stop(at_epoch, accuracy)

    def _set_run(self, pace: float | None, at_epoch: bool, accuracy: float | None) -> None:
        self.set_pace(pace)
        self.set_stop(at_epoch, accuracy)

    def _erase_points(self, x: float, y: float, radius: float) -> None:
        self.session.erase_points((x, y), radius)

    # ---- drawing ------------------------------------------------------------------------------------
    def _on_snapshot(self) -> None:
        snapshot = self.worker.take_snapshot()
        if snapshot is None:
            if self.worker.error:
                self.run.say_error(self.worker.error)
                self.worker.error = None
            return
        self.snapshot_view.draw(snapshot)
        self.backprop.draw(snapshot)
        if self.run.seen(snapshot, self.worker.error):
            self.worker.error = None

    # ---- inside the network: `ViewDocks`' ----------------------------------------------------------------
    def view_visible(self, name: str) -> bool:
        """Whether a view's dock is shown and its tab in front."""
        return self.views.view_visible(name)

    @property
    def pinned_neuron(self) -> tuple[int, int] | None:
        """The neuron whose map the decision-boundary plot shows until `show_neuron(None)`."""
        return self.views.pinned

    def show_neuron(self, layer_index: int | None, unit: int = 0) -> None:
        """Show a neuron's map (diagram column `layer_index`: 0 the inputs, then the hidden layers,
        the last the outputs) large in the decision-boundary plot, until `show_neuron(None)`."""
        self.views.show_neuron(layer_index, unit)

    def _unpin_neuron(self) -> None:
        self.views.unpin()

    # ---- files: the File menu's (`window.files`); a session's two, documented for scripts -----------------
    @property
    def recorder(self):
        """The recording in progress, if any."""
        return self.files.recorder

    def save_session(self, path: str | Path) -> Future:
        """Save everything in one file (written by the worker): opened again, training continues bit for bit."""
        return self.files.save_session(path)

    def open_session(self, path: str | Path) -> bool:
        """Continue a saved session exactly where it stopped; a bad file changes nothing."""
        return self.files.open_session(path)
