"""The views inside the network, each in a dock of its own (tabbed together at first): the
diagram, layer health, a hidden layer, backprop step by step and the loss along the step; what
the shown ones ask the worker for; and the neuron whose map the decision boundary shows."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStatusBar

from minidl_gui._qt.actions import add_action
from minidl_gui._qt.backprop_control import DOCKS, BackpropControl
from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot
from minidl_gui._qt.widgets.health_view import HealthView
from minidl_gui._qt.widgets.hidden_view import HiddenLayerView
from minidl_gui._qt.widgets.network_view import NetworkView
from minidl_gui._qt.widgets.paint_tools import PaintTools
from minidl_gui._qt.widgets.settings_group import weakly
from minidl_gui.components.session import Session

VIEWS = (("networkDock", "Network"), ("healthDock", "Layer health"), ("hiddenDock", "Hidden layer"), *DOCKS)
DOCK_HEIGHT = 280  # the docks' first height: the plots keep most of the window


class ViewDocks(QObject):
    """The docked views and what they want; the window holds it and delegates to it."""

    def __init__(
        self,
        window: QMainWindow,
        session: Session,
        boundary: BoundaryPlot,
        paint_tools: PaintTools,
        mistake_banner: Banner,
        change_units: Callable[[int, int], str],
        remember: Callable[[], None],
        request_edit: Callable[..., str],
        status: QStatusBar,
    ) -> None:
        """`change_units`, `remember` and `request_edit` are the window's (held weakly)."""
        super().__init__(window)
        self._session = session
        self.network_view = NetworkView(boundary.lut, change_units)
        self.health_view = HealthView()
        self.hidden_view = HiddenLayerView()
        self.backprop = BackpropControl(
            self,
            session,
            self.network_view,
            boundary,
            paint_tools,
            mistake_banner,
            remember,
            request_edit,
            self.view_visible,
            status,
        )
        widgets = (
            self.backprop.network_panel,
            self.health_view,
            self.hidden_view,
            self.backprop.view,
            self.backprop.step_loss_plot,
        )
        self.docks: dict[str, QDockWidget] = {}
        for (name, title), widget in zip(VIEWS, widgets):
            dock = QDockWidget(title)
            dock.setObjectName(name)
            dock.setWidget(widget)
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            dock.visibilityChanged.connect(weakly(self._visibility, name, signal_args=1))
            self.docks[name] = dock
        docks = list(self.docks.values())
        for first, second in itertools.pairwise(docks):
            window.tabifyDockWidget(first, second)
        docks[0].raise_()
        window.resizeDocks(docks[:1], [DOCK_HEIGHT], Qt.Orientation.Vertical)
        self._in_front = dict.fromkeys(self.docks, False)  # as each dock's visibilityChanged last said
        self.pinned: tuple[int, int] | None = None  # the neuron whose map the decision boundary shows
        self.network_view.neuron_hovered.connect(self._hover_neuron)
        self.network_view.neuron_clicked.connect(self._click_neuron)
        self.hidden_view.column_changed.connect(self.views_changed)

    def side_by_side(self, names: list[str] | None = None) -> None:
        """These docks (all by default) shown side by side below the plots, each in sight at once.
        (`splitDockWidget` on docks tabbed together only adds another tab, as Qt documents.)"""
        window, docks = self.parent(), [self.docks[name] for name in (names or self.docks)]  # (no reference kept)
        for dock in docks:
            window.removeDockWidget(dock)
        for dock in docks:
            window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock, Qt.Orientation.Horizontal)
            dock.show()

    def tabbed(self) -> None:
        """Every dock shown, tabbed together below the plots, the diagram in front."""
        window, docks = self.parent(), list(self.docks.values())
        for dock in docks:
            dock.show()
        for first, second in itertools.pairwise(docks):
            window.tabifyDockWidget(first, second)
        docks[0].raise_()

    def build_menu(self, menu) -> None:
        """*View → Views side by side* and *View → Views as tabs*."""
        add_action(menu, "viewsSideBySideAction", "Views side &by side", weakly(self.side_by_side))
        add_action(menu, "viewsTabbedAction", "Views as &tabs", weakly(self.tabbed))

    def view_visible(self, name: str) -> bool:
        """Whether a view's dock is shown and its tab in front. A dock whose tab is behind another
        stays `isVisible()` for Qt: only its `visibilityChanged` says it is out of sight."""
        return self.docks[name].isVisible() and self._in_front[name]

    def _visibility(self, name: str, visible: bool) -> None:
        self._in_front[name] = visible
        self.views_changed()

    def views_changed(self, *_) -> None:
        """Ask the worker for what the shown views need, and only that."""
        network, hidden = self.view_visible("networkDock"), self.view_visible("hiddenDock")
        if not network and self.pinned is not None and self.docks["networkDock"].isHidden():
            self.show_neuron(None)  # the diagram that pinned it is closed: nothing would take it back
        self._session.want_probe(network or hidden, self.hidden_view.column() if hidden else None)
        self.backprop.views_changed()

    def show_neuron(self, layer_index: int | None, unit: int = 0) -> None:
        """Show a neuron's map (diagram column `layer_index`: 0 the inputs, then the hidden layers,
        the last the outputs) large in the decision-boundary plot, until `show_neuron(None)`."""
        neuron = None if layer_index is None else (int(layer_index), int(unit))
        self.pinned = neuron
        self.network_view.show_pinned(neuron)
        self._session.show_neuron(neuron)

    def unpin(self) -> None:
        self.show_neuron(None)

    def _hover_neuron(self, neuron: tuple[int, int] | None) -> None:
        if self.pinned is None:
            self._session.show_neuron(neuron)

    def _click_neuron(self, neuron: tuple[int, int]) -> None:
        self.show_neuron(*((None,) if neuron == self.pinned else neuron))
