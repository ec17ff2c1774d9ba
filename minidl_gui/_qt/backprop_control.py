"""Backpropagation in the window: the backprop view's step-through, the diagram's link modes and
its live gradient check, the loss along the step, the training points sized by their loss, and
*Examples → Break backprop*.

It asks the session for what the shown views need (`Session.want_backprop`) and draws what the
worker computed (`Snapshot.backprop`); it computes no number itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from minidl.backprop import MISTAKES
from minidl.nn.linear import Linear
from minidl.params import SpecError
from minidl.spec import NO_MISTAKE
from minidl_gui._qt.actions import add_action
from minidl_gui._qt.widgets.backprop_view import BackpropView
from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot
from minidl_gui._qt.widgets.network_view import NetworkView
from minidl_gui._qt.widgets.paint_tools import PaintTools
from minidl_gui._qt.widgets.quiet import signals_blocked
from minidl_gui._qt.widgets.settings_group import weakly
from minidl_gui._qt.widgets.step_loss_plot import StepLossPlot
from minidl_gui.components.backprop_views import LINK_MODES, POINT_OVERLAYS, GradientCheck
from minidl_gui.components.look import Look
from minidl_gui.components.session import Session
from minidl_gui.components.snapshot import Snapshot
from minidl_gui.components.weak import weak_call

DOCKS = (("backpropView", "Backprop"), ("stepLossDock", "Loss along the step"))
SIZES_INTERVAL = 1.5  # seconds between two redraws of the points sized by their loss, while training
OVERLAY_NAMES = {None: "none", "loss": "loss", "gradient": "gradient"}  # action names: overlay_<name>


def check_text(check: GradientCheck | None, chosen: bool) -> str:
    """The gradient check's line under the diagram."""
    if check is None:
        if chosen:
            return "Gradient check: waiting for the next look (the entry may be gone with the last edit)"
        return "Gradient check: click a connection (a weight) or a neuron (its bias) in the diagram"
    verdict = "✓ backprop agrees" if check.passes else "✗ MISMATCH: backprop is wrong here"
    return (
        f"Gradient check, {check.what}, on the last minibatch ({check.points} points): "
        f"backprop ∂L/∂w = {check.analytic:.6g} · finite difference = {check.numeric:.6g} · "
        f"relative error {check.relative_error:.1e}  {verdict}"
    )


class BackpropControl(QObject):
    """The backprop views and their requests; the window wires it."""

    def __init__(
        self,
        window: QObject,
        session: Session,
        network: NetworkView,
        boundary: BoundaryPlot,
        paint_tools: PaintTools,
        mistake_banner: Banner,
        remember: Callable[[bool], None],
        request_edit: Callable[..., str],
        view_visible: Callable[[str], bool],
        status: QStatusBar,
    ) -> None:
        """`remember(live)` (keep the set-up for Ctrl+Z), `request_edit(**changes)` and `view_visible(dock)`
        are the window's (held weakly); the pick mode takes the plot from the `paint_tools`."""
        super().__init__(window)
        self._session, self._network, self._boundary, self._banner = session, network, boundary, mistake_banner
        self._remember, self._request_edit = weak_call(remember), weak_call(request_edit)
        self._view_visible, self._status = weak_call(view_visible), status.showMessage
        self.view = BackpropView()
        self.step_loss_plot = StepLossPlot()
        self._check: tuple[int, tuple] | None = None  # (Linear module, index): the entry last clicked
        self._drawn = None
        self._sized_at = 0.0  # when the points were last sized by their loss or gradient...
        self._sized_from = None  # ...and from which picture
        self._mistake_shown = NO_MISTAKE
        self.network_panel = self._build_network_panel()
        network.connection_clicked.connect(self._connection_clicked)
        network.neuron_clicked.connect(self._neuron_clicked)
        self.view.step_changed.connect(self._step_changed)
        self.view.pick_requested.connect(self._pick_requested)
        self.view.batch_requested.connect(self._batch_requested)
        boundary.picked.connect(self._picked)
        self._paint_tools = paint_tools
        paint_tools.mode_changed.connect(self._paint_mode_changed)

    def _build_network_panel(self) -> QWidget:
        """The diagram with its link-mode choice and the gradient check under it."""
        panel = QWidget()
        panel.setObjectName("networkPanel")
        self.link_combo = QComboBox()
        self.link_combo.setObjectName("linkModeCombo")
        for mode, text in LINK_MODES.items():
            self.link_combo.addItem(text, mode)
        self.link_combo.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # Space stays the Play shortcut
        self.link_combo.currentIndexChanged.connect(self._link_chosen)
        self.check_label = QLabel(check_text(None, False))
        self.check_label.setObjectName("gradientCheckLabel")
        self.check_label.setWordWrap(True)
        self.check_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(QLabel("Links show:"))
        row.addWidget(self.link_combo)
        row.addWidget(self.check_label, 1)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._network, 1)
        layout.addLayout(row)
        return panel

    def build_menus(self, examples: QMenu, view: QMenu) -> None:
        """*Examples → Break backprop* and *View → Training points sized by*."""
        broken = examples.addMenu("&Break backprop")
        broken.setObjectName("breakBackpropMenu")
        broken.setToolTipsVisible(True)
        group = QActionGroup(broken)
        self.mistake_actions: dict[str, QAction] = {}
        for name, title in ((NO_MISTAKE, "Correct backprop"), *((m.name, m.title) for m in MISTAKES.values())):
            slot = weakly(self._choose_mistake, name, signal_args=1)
            action = add_action(broken, f"mistake_{name}", title, slot, True, name == NO_MISTAKE)
            action.setToolTip(MISTAKES[name].description if name in MISTAKES else "Backprop as it should be")
            group.addAction(action)
            self.mistake_actions[name] = action
        sized = view.addMenu("Training points sized &by")
        group = QActionGroup(sized)
        self.overlay_actions: dict[str | None, QAction] = {}
        for overlay, text in POINT_OVERLAYS.items():
            name = f"overlay_{OVERLAY_NAMES[overlay]}"
            slot = weakly(self._choose_overlay, overlay, signal_args=1)
            action = add_action(sized, name, text.capitalize(), slot, True, overlay is None)
            group.addAction(action)
            self.overlay_actions[overlay] = action

    def _choose_mistake(self, name: str, checked: bool) -> None:
        if checked:
            self.break_backprop(name)

    def _choose_overlay(self, overlay: str | None, checked: bool) -> None:
        if checked:
            self.set_point_overlay(overlay)

    # ---- requests -------------------------------------------------------------------------------------
    def break_backprop(self, name: str) -> str:
        """Put a mistake of `MISTAKES` into the network being trained (NO_MISTAKE: repair it); the
        weights go on; Ctrl+Z takes it back. '' if done, else why not (and nothing changed)."""
        spec = self._session.spec
        if name == spec.mistake:
            return ""
        try:
            broken = spec.replace(mistake=name)  # refused here (a network it does not fit) before anything is kept
        except SpecError as error:
            self._status(str(error), 8000)
            self._mistake_shown = None  # the menu's check goes back to the mistake that is in
            self._show_mistake(spec.mistake)
            return str(error)
        self._remember(True)
        problem = self._request_edit(mistake=name) or ""
        if problem:
            self._status(problem, 8000)
        elif name != NO_MISTAKE and self._check is None:  # show the mismatch at once, on an entry it concerns
            first = next(i for i, cls in enumerate(broken.layer_classes()) if cls is Linear)
            outputs = broken.widths()[1]
            self.check_entry(first, ("bias", 0) if name == "no_bias_gradient" else (min(1, outputs - 1), 0))
        return problem

    def set_link_mode(self, mode: str) -> None:
        """The diagram's links show the weight, the last step's gradient ∂L/∂w or its update Δw."""
        if mode not in LINK_MODES:
            raise ValueError(f"link mode must be one of {', '.join(LINK_MODES)}, got {mode!r}")
        with signals_blocked(self.link_combo):
            self.link_combo.setCurrentIndex(list(LINK_MODES).index(mode))
        self._network.set_link_mode(mode)
        self.views_changed()

    def set_point_overlay(self, overlay: str | None) -> None:
        """Size the training points by their own loss ("loss"), their gradient's norm ("gradient"), or not."""
        if overlay not in POINT_OVERLAYS:
            raise ValueError(f"point overlay must be one of {list(POINT_OVERLAYS)}, got {overlay!r}")
        self._overlay = overlay
        actions = getattr(self, "overlay_actions", {})
        if overlay in actions and not actions[overlay].isChecked():
            with signals_blocked(actions[overlay]):
                actions[overlay].setChecked(True)
        self._boundary.show_points_by(POINT_OVERLAYS[overlay] if overlay else None)
        self._sized_at, self._sized_from = 0.0, None  # the next picture sizes them
        if overlay is None:
            self._boundary.set_point_weights(None)
        self.views_changed()

    _overlay: str | None = None

    def check_entry(self, module: int, index: tuple) -> None:
        """Check backprop's gradient of this weight (`(out, in)`) or bias (`("bias", unit)`) of the
        Linear layer at `module`, live."""
        self._check = (int(module), tuple(index))
        self._show_checked()
        self.check_label.setText(check_text(None, True))
        self.views_changed()

    def views_changed(self) -> None:
        """Ask the worker for what the shown views need, and only that."""
        visible = self._view_visible
        network, walk = bool(visible("networkDock")), bool(visible("backpropView"))
        self._step_changed(self.view.step if walk else None)  # the diagram's frame, while the steps are shown
        self._session.want_backprop(
            walk=walk,
            link_mode=self._network.link_mode if network else "weight",
            check=self._check if network else None,
            overlay=self._overlay,
            step_loss=bool(visible("stepLossDock")),
        )

    def _link_chosen(self, index: int) -> None:
        self.set_link_mode(self.link_combo.itemData(index))

    def _column_of_linear(self, module: int) -> int | None:
        probe = self._network.probe
        if probe is None:
            return None
        for c, column in enumerate(probe.columns):
            if column.linear == module:
                return c
        return None

    def _connection_clicked(self, hit: tuple[int, int, int]) -> None:
        probe = self._network.probe
        if probe is not None:
            pair, out, into = hit
            self.check_entry(probe.columns[pair + 1].linear, (out, into))

    def _neuron_clicked(self, neuron: tuple[int, int]) -> None:
        probe = self._network.probe
        column, unit = neuron
        if probe is not None and column > 0:
            self.check_entry(probe.columns[column].linear, ("bias", unit))

    def _show_checked(self) -> None:
        if self._check is None:
            self._network.set_checked(None)
            return
        module, index = self._check
        column = self._column_of_linear(module)
        if column is None:
            self._network.set_checked(None)
        elif index[0] == "bias":
            self._network.set_checked(("bias", column, index[1]))
        else:
            self._network.set_checked(("weight", column - 1, index[0], index[1]))

    def _step_changed(self, step) -> None:
        shown = step is not None and self._view_visible("backpropView")
        self._network.set_highlight(step.column if shown else None)

    def _pick_requested(self, on: bool) -> None:
        if on:
            self._paint_tools.set_mode(None)  # painting and picking take turns on the plot
        self._boundary.set_paint_mode("pick" if on else self._paint_tools.mode())
        if on:
            self._status("Click a training point in the decision boundary to walk it through the network", 6000)

    def _paint_mode_changed(self, mode: str | None) -> None:
        if mode is not None:  # painting or erasing now: picking is over
            self.view.set_picking(False)

    def _picked(self, x: float, y: float) -> None:
        self._boundary.set_paint_mode(None)
        self.view.set_picking(False)
        self._session.want_backprop(point=(x, y))

    def _batch_requested(self) -> None:
        self._session.want_backprop(point=None)

    # ---- drawing ----------------------------------------------------------------------------------------
    def draw(self, snapshot: Snapshot) -> None:
        """What the shown backprop views need of this snapshot; the mistake's banner."""
        self._show_mistake(snapshot.spec.mistake)
        picture = snapshot.backprop
        self._size_points(picture, snapshot.playing)
        if picture is self._drawn:
            return
        self._drawn = picture
        visible = self._view_visible
        if picture is None:
            self._boundary.set_walked(None)
            return
        if visible("networkDock"):
            self._network.set_backprop(picture)
            self._show_checked()
            if self._check is not None:
                self.check_label.setText(check_text(picture.check, True))
                bad = picture.check is not None and not picture.check.passes
                self.check_label.setStyleSheet("color: #c0392b; font-weight: 700;" if bad else "")
        if visible("backpropView"):
            self.view.set_walk(picture.walk)
        self._boundary.set_walked(picture.walk.point if picture.walk is not None else None)
        if visible("stepLossDock"):
            self.step_loss_plot.set_data(picture.step_loss)

    def _size_points(self, picture, playing: bool) -> None:
        """The training points sized by the picture's values: redrawing every point is the costly
        part, so while training at most every SIZES_INTERVAL; paused, the latest at once."""
        if self._overlay is None or picture is None or picture is self._sized_from:
            return
        now = time.monotonic()
        if not playing or now - self._sized_at >= SIZES_INTERVAL:
            self._sized_at, self._sized_from = now, picture
            self._boundary.set_point_weights(picture.point_values)

    def _show_mistake(self, mistake: str) -> None:
        if mistake == self._mistake_shown:
            return
        self._mistake_shown = mistake
        action = getattr(self, "mistake_actions", {}).get(mistake)
        if action is not None and not action.isChecked():
            with signals_blocked(action):
                action.setChecked(True)
        if mistake == NO_MISTAKE:
            self._banner.hide()
        else:
            m = MISTAKES[mistake]
            self._banner.show_message(
                f"Backprop is broken on purpose: {m.title}. {m.description}",
                [("Repair backprop", weakly(self.break_backprop, NO_MISTAKE))],
            )

    def apply_look(self, look: Look, lut) -> None:
        self.view.apply_look(look, lut)
        self.step_loss_plot.apply_look(look)
