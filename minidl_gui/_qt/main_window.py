"""The main window: side panel, controls, plots, status bar. It draws snapshots and sends
requests to the session; training itself happens in `TrainingWorker`'s thread, and the window
never touches the trainer.

It opens inside the screen's free area (down to 1024x768), and remembers its geometry, panels,
look, last set-up and run settings. A set-up replaced by a lesson, *Restore defaults* or an
opened file is one undo (Ctrl+Z) away.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace
from functools import partial

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from minidl.params import SpecError
from minidl.registry import LR
from minidl.spec import Layer, Spec
from minidl.storage.checkpoint import Progress
from minidl.storage.resume import SavedSession
from minidl_gui._qt.file_actions import FileActions
from minidl_gui._qt.icon import app_icon
from minidl_gui._qt.settings import GEOMETRY, LOOK, PLOTS, RUN, SETUP, STATE, app_settings, read_json, write_json
from minidl_gui._qt.theme import apply_to_app
from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot
from minidl_gui._qt.widgets.data_settings import DataSettings
from minidl_gui._qt.widgets.health_view import HealthView
from minidl_gui._qt.widgets.hidden_view import HiddenLayerView
from minidl_gui._qt.widgets.layer_editor import LayerEditor
from minidl_gui._qt.widgets.metric_plot import MetricPlot
from minidl_gui._qt.widgets.network_view import NetworkView
from minidl_gui._qt.widgets.paint_tools import PaintTools
from minidl_gui._qt.widgets.run_settings import RunSettings
from minidl_gui._qt.widgets.settings_group import weakly
from minidl_gui._qt.widgets.training_settings import TrainingSettings
from minidl_gui._qt.worker import TrainingWorker
from minidl_gui.components.defaults import LAUNCH_SPEC
from minidl_gui.components.grid import GRID_RESOLUTION
from minidl_gui.components.lessons import LESSONS, Lesson
from minidl_gui.components.limits import check_live
from minidl_gui.components.look import PALETTE_NAMES, THEMES, Look
from minidl_gui.components.run_options import PACES, STOP_ACCURACY
from minidl_gui.components.session import Session
from minidl_gui.components.snapshot import Snapshot

LABEL_INTERVAL = 0.2  # seconds between updates of the numbers while training: readable, and cheap
LAYOUT_VERSION = 2  # of the saved window layout: raise it when the docks change
DEFAULT_SIZE = (1560, 960)  # where the screen has room for it
COMPACT_HEIGHT = 900  # on a screen less tall, the views inside the network start hidden (View menu)
SIDE_PANEL_WIDTH = 300  # its least width; it scrolls vertically
UNDO_DEPTH = 20  # set-ups kept for Ctrl+Z
FRAME = (8, 36)  # a window manager's border and title bar, outside our geometry (an estimate)
PRESENT_PANEL_WIDTH = 1600  # on a narrower screen, presentation mode starts with the side panel folded


def _blob(value: object) -> QByteArray | None:
    """A remembered geometry or layout, if it is one (a stale or hand-edited settings file may hold text)."""
    return QByteArray(value) if isinstance(value, (QByteArray, bytes, bytearray)) else None


def _stop_worker(worker: TrainingWorker, *_) -> None:
    if shiboken6.isValid(worker) and not worker.stop(5000):
        worker.wait()


class MainWindow(FileActions, QMainWindow):
    save_finished = Signal(object)  # (a worker's write's Future, done; what it wrote), delivered in the GUI thread

    def __init__(self, spec: Spec | None = None, grid_resolution: int = GRID_RESOLUTION, parent=None) -> None:
        """`spec`: the set-up to start with; by default the one of the last launch (or LAUNCH_SPEC)."""
        super().__init__(parent)
        self.setWindowTitle("minidl — live training")
        self.setWindowIcon(app_icon())
        settings = app_settings()
        if spec is None:
            spec = self._remembered_spec(settings)
        check_live(spec)
        self.session = Session(spec, check=check_live, grid_resolution=grid_resolution)
        self.last_snapshot: Snapshot | None = None
        self._data_version = -1
        self._drawn_grid = self._drawn_history = self._drawn_probe = None
        self._shown_status = ""
        self._labels_shown = 0.0
        self._reset_pending = False
        self._undo: list[tuple[Spec, Lesson | None, tuple | None]] = []  # set-ups replaced (and points), newest last
        self.lesson: Lesson | None = None  # the lesson on screen, if any
        self.look = Look()
        self._normal_geometry = None  # before presentation mode (for the settings)...
        self._normal_rect = QRect()  # ...and as it was on screen
        self._panel_before = True  # the side panel's visibility before presentation mode
        self._normal_state = None

        self.setCentralWidget(self._build_center())
        self._build_side_panel(spec)
        self._build_views()
        self._build_status_bar()
        self._build_shortcuts()
        self._build_menu()
        self._default_state = self.saveState(LAYOUT_VERSION)  # for Restore defaults
        self._restore(settings)
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
        self.epoch_big.setObjectName("epochBig")
        controls.addWidget(self.epoch_big)

        self.caption = QLabel()
        self.caption.setObjectName("lessonCaption")
        self.caption.setWordWrap(True)
        self.caption_close = QToolButton()
        self.caption_close.setText("✕")
        self.caption_close.setToolTip("Hide the lesson's caption")
        self.caption_close.setAutoRaise(True)
        self.caption_close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.caption_close.clicked.connect(weakly(self.show_caption, None))
        self.caption_bar = QWidget()
        self.caption_bar.setObjectName("captionBar")
        caption_row = QHBoxLayout(self.caption_bar)
        caption_row.setContentsMargins(10, 4, 4, 4)
        caption_row.addWidget(self.caption, 1)
        caption_row.addWidget(self.caption_close, 0, Qt.AlignmentFlag.AlignTop)
        self.caption_bar.hide()

        self.banner = Banner()
        self.boundary_plot = BoundaryPlot()
        self.loss_plot = MetricPlot("lossPlot", "Loss", "per sample")
        self.accuracy_plot = MetricPlot("accuracyPlot", "Accuracy", "%", percent=True)
        self.log_y = QCheckBox("Log-scale loss")
        self.log_y.setObjectName("logLossCheck")
        self.log_y.toggled.connect(self.loss_plot.set_log_y)

        self.log_y.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        for plot in (self.boundary_plot, self.loss_plot, self.accuracy_plot):
            plot.setMinimumSize(200, 110)  # titles and axes stay readable; the window still fits 1024x768

        right = self.curves_panel = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.loss_plot, 1)
        right_layout.addWidget(self.log_y)
        right_layout.addWidget(self.accuracy_plot, 1)
        splitter = self.plots_splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.boundary_plot)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(controls)
        layout.addWidget(self.caption_bar)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        return center

    def _control_button(self, name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the Play shortcut
        return button

    def _build_side_panel(self, spec: Spec) -> None:
        self.layer_editor = LayerEditor(spec.layers, self.request_edit)
        training = self.training_settings = TrainingSettings(spec, self.request_edit)
        data = self.data_settings = DataSettings(spec, self.request_edit)
        run = self.run_settings = RunSettings(spec, self.request_edit, self.set_pace, self.set_stop)
        paint = self.paint_tools = PaintTools()
        paint.mode_changed.connect(self.boundary_plot.set_paint_mode)
        paint.clear_requested.connect(self.session.clear_points)
        paint.test_share_changed.connect(self.session.set_test_share)
        self.boundary_plot.painted.connect(self.session.add_points)
        self.boundary_plot.erased.connect(weakly(self._erase_points, signal_args=3))
        data.show_train.toggled.connect(self.boundary_plot.show_train_points)
        data.show_test.toggled.connect(self.boundary_plot.show_test_points)
        # short names for the controls, used by tests and scripts
        self.lr_control, self.loss_combo = training.lr_control, training.loss_combo
        self.optimizer_combo, self.batch_spin = training.optimizer_combo, training.batch_spin
        self.dataset_combo, self.noise_spin, self.seed_spin = data.dataset_combo, data.noise_spin, data.seed_spin

        panel = QWidget()
        panel_layout = QVBoxLayout(panel)
        for group in (self.layer_editor, training, run, data, paint):
            panel_layout.addWidget(group)
        panel_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(SIDE_PANEL_WIDTH)
        dock = self.side_panel = QDockWidget("Experiment")
        dock.setObjectName("sidePanel")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)  # full height

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
        if not network and self._neuron_pinned is not None and self.view_docks["networkDock"].isHidden():
            self.show_neuron(None)  # the diagram that pinned it is closed: nothing would take it back
        self.session.want_probe(network or hidden, self.hidden_view.column() if hidden else None)

    def _build_status_bar(self) -> None:
        self.epoch_label = QLabel("Epoch 0")
        self.epoch_label.setObjectName("epochLabel")
        self.speed_label = QLabel("")
        self.speed_label.setObjectName("speedLabel")
        self.metrics_label = QLabel("")
        self.metrics_label.setObjectName("metricsLabel")
        # the metrics take what is left and are cut at the window's edge: never widen a small window
        self.metrics_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = self.statusBar()
        for label, stretch in ((self.epoch_label, 0), (self.speed_label, 0), (self.metrics_label, 1)):
            bar.addWidget(label, stretch)
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
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

    def _build_menu(self) -> None:
        self._build_file_menu()
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(edit, "undoSetupAction", "&Undo set-up change", self.undo_setup)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setEnabled(False)
        edit.addSeparator()
        self._build_share_actions(edit)
        self._build_view_menu()
        self._build_examples_menu()

    def _action(self, menu: QMenu, name: str, text: str, slot, checkable: bool = False) -> QAction:
        action = menu.addAction(text)
        action.setObjectName(name)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_view_menu(self) -> None:
        view = self.menuBar().addMenu("&View")
        view.setObjectName("viewMenu")
        for dock in (self.side_panel, *self.view_docks.values()):
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self.plot_actions: dict[str, QAction] = {}
        self.central_plots = {"boundary": self.boundary_plot, "loss": self.loss_plot, "accuracy": self.accuracy_plot}
        for name, text in (("boundary", "Decision boundary"), ("loss", "Loss curves"), ("accuracy", "Accuracy curves")):
            action = self._action(view, f"{name}PlotAction", text, weakly(self.show_plot, name, signal_args=1), True)
            self.plot_actions[name] = action
            action.setChecked(True)
        view.addSeparator()
        self.presentation_action = self._action(
            view, "presentationAction", "&Presentation mode", self.set_presenting, checkable=True
        )
        self.presentation_action.setShortcut(QKeySequence("F11"))
        bigger = self._action(view, "zoomInAction", "&Bigger", weakly(self.zoom, +1))
        bigger.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        smaller = self._action(view, "zoomOutAction", "&Smaller", weakly(self.zoom, -1))
        smaller.setShortcut(QKeySequence("Ctrl+-"))
        actual = self._action(view, "zoomResetAction", "&Actual size", weakly(self.zoom, 0))
        actual.setShortcut(QKeySequence("Ctrl+0"))
        self.look_actions: dict[tuple[str, str], QAction] = {}
        for title, field, names in (
            ("&Theme", "theme", {name: name.capitalize() for name in THEMES}),
            ("&Colours", "palette", PALETTE_NAMES),
        ):
            submenu = view.addMenu(title)
            group = QActionGroup(submenu)
            for name, text in names.items():
                action = self._action(
                    submenu,
                    f"{field}_{name}",
                    text,
                    weakly(self._choose_look, field, name, signal_args=1),
                    True,
                )
                group.addAction(action)
                self.look_actions[field, name] = action

    def _build_examples_menu(self) -> None:
        menu = self.menuBar().addMenu("E&xamples")
        menu.setObjectName("examplesMenu")
        self.lesson_actions: list[QAction] = []
        for index, lesson in enumerate(LESSONS):
            action = menu.addAction(lesson.name)
            action.setObjectName(f"lessonAction{index}")
            action.setToolTip(lesson.caption)
            action.triggered.connect(weakly(self.load_lesson, lesson))
            self.lesson_actions.append(action)
        menu.setToolTipsVisible(True)

    def apply_spec(self, spec: Spec, weights: dict | None = None, fresh_data: bool = False) -> None:
        """Rebuild from `spec` (with `weights`, if given) and show it in every control; `fresh_data`:
        its own points, not painted or imported ones."""
        if spec.layers != self.session.spec.layers or fresh_data:
            self.show_neuron(None)  # another network: the decision boundary again
        self.session.set_spec(spec, weights, fresh_data=fresh_data)
        self.banner.hide()
        self._show_spec(spec)

    # ---- set-ups: lessons, undo, defaults -----------------------------------------------------------
    def replace_setup(
        self,
        spec: Spec,
        weights: dict | None = None,
        lesson: Lesson | None = None,
        *,
        progress: Progress | None = None,
        saved: SavedSession | None = None,
        points: tuple | None = None,
        undoable: bool = True,
    ) -> None:
        """The one way a whole set-up is replaced: by a lesson, an opened file (`weights` and
        `progress` of a model, or a `saved` session), a pasted set-up, *Restore defaults* or an
        undo (`undoable=False`, with the `points` it brings back). The one it replaces is one
        Ctrl+Z away; a pinned neuron, the banner and the old caption give way to the new set-up,
        which draws its own points, and every control shows it."""
        if undoable:
            self.remember_setup()
        self.show_neuron(None)
        if saved is not None:
            self.session.open_session(saved)
        else:
            self.session.set_spec(spec, weights, progress, fresh_data=True)
        if points is not None:
            self.session.restore_points(points)
        self.banner.hide()
        self._show_spec(spec)
        self.show_caption(lesson)

    def remember_setup(self) -> None:
        """Keep the set-up on screen for Ctrl+Z, before something replaces it."""
        entry = (self.session.spec, self.lesson, self.session.drawn_points())  # painted points come back too
        self._undo = [*self._undo, entry][-UNDO_DEPTH:]
        self.undo_action.setEnabled(True)

    def undo_setup(self) -> bool:
        """Back to the set-up before the last replacement (from its initial weights)."""
        if not self._undo:
            return False
        spec, lesson, points = self._undo.pop()
        self.undo_action.setEnabled(bool(self._undo))
        self.replace_setup(spec, lesson=lesson, points=points, undoable=False)
        self.statusBar().showMessage("The previous set-up is back", 4000)
        return True

    def load_lesson(self, lesson: Lesson) -> None:
        """A lesson's set-up (pausing at its last epoch), its caption, and the view it is about."""
        self.replace_setup(lesson.spec.replace(epochs=lesson.epochs), lesson=lesson)
        if lesson.view is not None:
            dock = self.view_docks[lesson.view]
            dock.show()
            dock.raise_()
        self.statusBar().showMessage("Space plays the lesson; Ctrl+Z brings back the set-up before it", 8000)

    def show_caption(self, lesson: Lesson | None) -> None:
        """The lesson's one-line caption over the plots (None hides it)."""
        self.lesson = lesson
        self.caption.setText(lesson.caption if lesson is not None else "")
        self.caption_bar.setVisible(lesson is not None)

    def restore_defaults(self) -> None:
        """Forget what was remembered: layout, look, run settings; the launch set-up (undoable)."""
        settings = app_settings()
        for key in (GEOMETRY, STATE, LOOK, SETUP, RUN, PLOTS):
            settings.remove(key)
        if self.look.presenting:
            self.set_presenting(False)
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self._fit_to_screen(None)
        self._default_layout()
        self.set_look(Look())
        self._set_run(None, True, None)
        for action in self.plot_actions.values():
            action.setChecked(True)
        self.replace_setup(LAUNCH_SPEC)
        self.statusBar().showMessage("Defaults restored (Ctrl+Z brings back your set-up)", 6000)

    # ---- run: speed and stop -----------------------------------------------------------------------
    def set_pace(self, steps_per_second: float | None) -> None:
        """Training speed, one of `PACES` (None: full speed); in slow motion the batch is ringed."""
        self.session.set_pace(steps_per_second)
        self.run_settings.set_pace(steps_per_second)

    def set_stop(self, at_epoch: bool, accuracy: float | None) -> None:
        """Pause at the set-up's last epoch (`at_epoch`) and/or at a test accuracy in percent."""
        self.session.set_stop(at_epoch, accuracy)
        self.run_settings.set_stop(at_epoch, accuracy)

    def _set_run(self, pace: float | None, at_epoch: bool, accuracy: float | None) -> None:
        self.set_pace(pace)
        self.set_stop(at_epoch, accuracy)

    # ---- look: theme, colours, scale, presentation ------------------------------------------------
    def set_look(self, look: Look) -> None:
        """Apply a look to the whole app: fonts, palette, plots, line widths, controls."""
        self.look = look
        self.statusBar().clearMessage()  # a passing message would be drawn over the rescaled labels
        apply_to_app(look)
        for plot in (self.boundary_plot, self.loss_plot, self.accuracy_plot, self.health_view, self.hidden_view):
            plot.apply_look(look)
        self.network_view.apply_look(look, self.boundary_plot.lut)
        for button in (self.play_button, self.step_button, self.reset_button):
            button.setStyleSheet(f"font-size: {look.pt(14)}pt; font-weight: 600; padding: 4px 10px;")
            button.setMinimumHeight(round(40 * look.zoom))
        self.epoch_big.setStyleSheet(f"font-size: {look.pt(22)}pt; font-weight: 700;")
        for label in (self.epoch_label, self.speed_label, self.metrics_label):
            label.setStyleSheet(f"font-size: {look.pt(12)}pt; padding: 0 12px;")
        background = "#3a3320" if look.theme == "dark" else "#fff4d6"
        self.caption_bar.setStyleSheet(
            f"#captionBar {{ background: {background}; border-left: 5px solid #d08f00; }}"
            f"#lessonCaption {{ font-size: {look.pt(13)}pt; font-weight: 600; color: {look.text}; }}"
        )
        self.side_panel.widget().setMinimumWidth(self._side_panel_width())
        for (field, name), action in self.look_actions.items():
            if action.isChecked() != (getattr(look, field) == name):
                action.blockSignals(True)
                action.setChecked(not action.isChecked())
                action.blockSignals(False)
        if self.presentation_action.isChecked() != look.presenting:
            self.presentation_action.blockSignals(True)
            self.presentation_action.setChecked(look.presenting)
            self.presentation_action.blockSignals(False)
        if not look.presenting and self.isVisible():
            QTimer.singleShot(0, self, self._refit)  # smaller again, or larger within the screen

    def zoom(self, steps: int) -> bool:
        """The interface one step bigger (+1) or smaller (-1), or back to its own size (0); a step
        that would make the window larger than the screen is refused (and said)."""
        before = self.look
        self.set_look(self.look.scaled(steps) if steps else replace(self.look, scale=1.0))
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # the least size at the new scale
        if steps > 0 and self.look != before and not self._least_size_fits():
            self.set_look(before)
            self.statusBar().showMessage("The screen has no room for a larger interface", 4000)
            return False
        if steps > 0 and self.look != before:  # fonts polished later may still need more: checked again then
            QTimer.singleShot(0, self, partial(self._zoom_fits_or_back, before))
        return True

    def _least_size_fits(self) -> bool:
        area, least = self._screen_area(), self.minimumSizeHint()
        return least.width() <= area.width() - FRAME[0] and least.height() <= area.height() - FRAME[1]

    def _zoom_fits_or_back(self, before: Look) -> None:
        """A zoom whose sizes, once every style is applied, need more than the screen: undone."""
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if not self.look.presenting and self.look.zoom > before.zoom and not self._least_size_fits():
            self.set_look(replace(self.look, scale=before.scale))
            self.statusBar().showMessage("The screen has no room for a larger interface", 4000)

    def resizeEvent(self, event) -> None:
        """Whatever grew the window (a layout, a larger least size), it goes back inside the screen."""
        super().resizeEvent(event)
        if not self.look.presenting and not self.isFullScreen() and self.isVisible():
            area = self._screen_area()
            if self.width() > area.width() - FRAME[0] or self.height() > area.height() - FRAME[1]:
                QTimer.singleShot(0, self, self._refit)

    def _choose_look(self, field: str, name: str, checked: bool) -> None:
        if checked:
            self.set_look(replace(self.look, **{field: name}))

    def _erase_points(self, x: float, y: float, radius: float) -> None:
        self.session.erase_points((x, y), radius)

    def set_presenting(self, on: bool) -> None:
        """Presentation mode (F11): full screen, larger text, thicker lines; off: as before."""
        if on == self.look.presenting:
            return
        if on:
            self._normal_geometry, self._normal_rect = self.saveGeometry(), self.geometry()
            self._normal_state = self.saveState(LAYOUT_VERSION)  # remembered as it was, side panel included
            self._panel_before = self.side_panel.isVisible()
            if self._screen_area().width() < PRESENT_PANEL_WIDTH:  # the plots need the room: View brings it back
                self.side_panel.hide()
            self.showFullScreen()  # first: Qt keeps the normal geometry as it is now, not as the bigger look makes it
            self.set_look(replace(self.look, presenting=True))
        else:
            self.set_look(replace(self.look, presenting=False))  # the smaller sizes first: the window fits again
            self.showNormal()
            self.side_panel.setVisible(self._panel_before)
            QTimer.singleShot(0, self, self._restore_normal_geometry)  # once the smaller sizes are laid out

    def _refit(self) -> None:
        """Back inside the screen's free area after a change of sizes (a look, a banner, a panel)."""
        if not self.look.presenting and not self.isFullScreen():
            self._fit_to_screen(None, keep=True)

    def _restore_normal_geometry(self) -> None:
        if not self.look.presenting:
            self.setGeometry(self._normal_rect)
            self._fit_to_screen(None, keep=True)

    def show_plot(self, name: str, visible: bool) -> None:
        """Show or hide one of the central plots ("boundary", "loss", "accuracy")."""
        self.central_plots[name].setVisible(visible)
        if name in self.plot_actions and self.plot_actions[name].isChecked() != visible:
            self.plot_actions[name].setChecked(visible)
        loss, accuracy = (not self.central_plots[n].isHidden() for n in ("loss", "accuracy"))
        self.log_y.setVisible(loss)
        self.curves_panel.setVisible(loss or accuracy)

    # ---- requests ---------------------------------------------------------------------------------
    def request_edit(self, **changes) -> str:
        """Edit the spec (`Spec.replace` names); '' if done, else why not (and nothing changed)."""
        try:
            layers = self.session.spec.layers
            spec = self.session.edit(**changes)
            if spec.layers != layers:
                self.show_neuron(None)  # its neuron may be gone, or be another one now
        except SpecError as error:
            self._show_spec(self.session.spec)
            return str(error)
        self._show_spec(spec)
        return ""

    def change_units(self, linear: int, delta: int) -> str:
        """Add `delta` units to the Linear layer at `linear` (an index into the hidden layers);
        '' if done, else why not (and nothing changed)."""
        layers = list(self.session.spec.layers)
        units = layers[linear].get("units") if 0 <= linear < len(layers) else None
        if units is None:
            kind = f"a {layers[linear].type} layer" if 0 <= linear < len(layers) else "not a layer"
            return f"layer {linear} is {kind}, not a Linear layer: it has no units to change"
        layers[linear] = Layer(layers[linear].type, (("units", units + delta),))
        return self.request_edit(layers=layers)

    def _show_spec(self, spec: Spec) -> None:
        """Every control shows `spec` exactly; nothing is emitted."""
        self.layer_editor.set_layers(spec.layers)
        self.training_settings.set_spec(spec)
        self.run_settings.set_spec(spec)
        self.data_settings.set_spec(spec)
        self._show_playing(self.session.playing)
        QTimer.singleShot(0, self, self._fit_side_panel)  # an optimizer's options may need more room

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
        QTimer.singleShot(0, self, self._refit)  # the banner takes room: the window stays on the screen

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
        self.show_neuron(None)
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
        self.boundary_plot.set_highlight(snapshot.batch)
        if snapshot.data_version != self._data_version:
            self._data_version = snapshot.data_version
            self.boundary_plot.set_dataset(snapshot.spec.dataset.name)
            self.boundary_plot.show_true_boundary(not snapshot.drawn)  # unknown for points of one's own
            self.boundary_plot.set_points(snapshot.x_train, snapshot.y_train, snapshot.x_test, snapshot.y_test)
            self.paint_tools.show_counts(len(snapshot.x_train), len(snapshot.x_test), snapshot.drawn)
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
        if snapshot.view_problem != self.network_view.problem:
            self.network_view.show_problem(snapshot.view_problem)
            self.hidden_view.show_problem(snapshot.view_problem)
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
        if snapshot.note and not snapshot.playing:
            return snapshot.note  # paused by a stop condition: say why, until the next Play
        if math.isnan(snapshot.train_loss):
            return "not trained yet: press Play (Space)"
        return (
            f"train loss {snapshot.train_loss:.4f} · acc {100 * snapshot.train_accuracy:.1f}%    "
            f"test loss {snapshot.test_loss:.4f} · acc {100 * snapshot.test_accuracy:.1f}%"
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.recorder is not None:
            self.recorder.close()  # stops grabbing and waits for its encoder: no thread left behind
        if not self.worker.stop(1000):  # a step still running: wait for it rather than kill a live thread
            self.worker.wait()
        self.session.serve_pending_writes()  # a save asked for just before closing is not lost
        settings = app_settings()
        presenting = self.look.presenting and self._normal_geometry is not None
        settings.setValue(GEOMETRY, self._normal_geometry if presenting else self.saveGeometry())
        settings.setValue(STATE, self._normal_state if presenting else self.saveState(LAYOUT_VERSION))
        write_json(settings, LOOK, self.look.to_dict())
        write_json(settings, SETUP, self.session.spec.to_dict())
        at_epoch, accuracy = self.session.stop
        write_json(settings, RUN, {"pace": self.session.pace, "stop_at_epoch": at_epoch, "stop_accuracy": accuracy})
        write_json(settings, PLOTS, {name: action.isChecked() for name, action in self.plot_actions.items()})
        super().closeEvent(event)

    @staticmethod
    def _remembered_spec(settings) -> Spec:
        """The set-up of the last launch, if it is still one the app can train; else LAUNCH_SPEC."""
        raw = read_json(settings, SETUP)
        if raw is None:
            return LAUNCH_SPEC
        try:
            spec = Spec.from_dict(raw)
            check_live(spec)
        except SpecError:
            return LAUNCH_SPEC
        return spec

    def _restore(self, settings) -> None:
        """Geometry, panels, look, run settings and visible plots of the last launch."""
        geometry, state = (_blob(settings.value(key)) for key in (GEOMETRY, STATE))  # a hand-edited file: anything
        self._fit_to_screen(geometry)
        restored = state is not None and self.restoreState(state, LAYOUT_VERSION)
        if not restored:
            self._default_layout()
        self.set_look(Look.from_dict(read_json(settings, LOOK)))
        run = read_json(settings, RUN)
        run = run if isinstance(run, dict) else {}
        pace = run.get("pace") if run.get("pace") in PACES else None
        accuracy = run.get("stop_accuracy")
        if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool) or STOP_ACCURACY.problem(accuracy):
            accuracy = None
        self._set_run(pace, run.get("stop_at_epoch", True) is not False, accuracy)
        plots = read_json(settings, PLOTS)
        for name, action in self.plot_actions.items():
            action.setChecked(not (isinstance(plots, dict) and plots.get(name) is False))

    def _fit_side_panel(self) -> None:
        scroll = self.side_panel.widget()
        width = self._side_panel_width()
        if scroll.minimumWidth() != width:
            scroll.setMinimumWidth(width)
            self._refit()

    def _side_panel_width(self) -> int:
        """What the side panel's controls need at the current look (never more than 2/5 of the screen)."""
        scroll = self.side_panel.widget()
        needed = scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 16
        return min(max(SIDE_PANEL_WIDTH, needed), self._screen_area().width() * 2 // 5)

    def _default_layout(self) -> None:
        """Panels for this screen: on a small one the views start hidden and the side panel narrow."""
        area = self._screen_area()
        if area.height() < COMPACT_HEIGHT:
            for dock in self.view_docks.values():
                dock.hide()
        panel = self._side_panel_width() if area.width() < 1400 else self.side_panel.sizeHint().width()
        self.resizeDocks([self.side_panel], [panel], Qt.Orientation.Horizontal)
        self.plots_splitter.setSizes([600, 400])  # the decision boundary first

    def _screen_area(self) -> QRect:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, *DEFAULT_SIZE)

    def _fit_to_screen(self, geometry, keep: bool = False) -> None:
        """The remembered geometry, or the default size (or, with `keep`, the present one); either
        way inside the screen's free area."""
        area = self._screen_area()
        if keep:
            pass
        elif geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE[0], DEFAULT_SIZE[1])
            self.move(area.center() - self.rect().center())
        width = min(self.width(), area.width() - FRAME[0])
        height = min(self.height(), area.height() - FRAME[1])
        self.resize(width, height)
        x = min(max(self.x(), area.left()), area.right() - width - FRAME[0] + 1)
        y = min(max(self.y(), area.top()), area.bottom() - height - FRAME[1] + 1)
        self.move(x, y)

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
