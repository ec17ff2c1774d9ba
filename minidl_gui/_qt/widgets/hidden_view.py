"""A hidden layer's view of the plane: the data and a lattice of [0,1]^2 drawn in that layer's
space (its two units, or the first two principal components of its activations over the data),
live, so one sees the layer bend the plane until the classes come apart."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from minidl.spec import Spec
from minidl_gui.components.look import Look
from minidl_gui.components.probe import HiddenView, columns

_WRAP = Qt.TextFlag.TextWordWrap


class PlaneView(QWidget):
    """The lattice and the points in the layer's coordinates, fitted to the widget; drawn by a few
    calls (a polyline per lattice line, the points of a class in one call), twice a second."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view: HiddenView | None = None
        self.look = Look()
        self.setMinimumSize(200, 160)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        look = self.look
        painter.fillRect(self.rect(), QColor(look.background))
        view = self.view
        if view is None or not np.isfinite(view.points).all():
            painter.setPen(QColor(look.text))
            text = view.note if view is not None and view.note else "Press Play or Step to see a hidden layer"
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | _WRAP, text)
            painter.end()
            return
        if view.note:  # a degenerate but drawable picture (constant units): drawn, and said why
            painter.setPen(QColor(look.text))
            painter.drawText(self.rect().adjusted(8, 4, -8, -4), Qt.AlignmentFlag.AlignTop | _WRAP, view.note)
        everything = np.concatenate([view.points, view.lattice.reshape(-1, 2)])
        low, high = everything.min(0), everything.max(0)
        span = np.maximum(high - low, 1e-9)
        margin = 12.0
        scale = min((self.width() - 2 * margin) / span[0], (self.height() - 2 * margin) / span[1])
        offset = np.array([self.width(), self.height()]) / 2 - scale * (low + high) / 2 * np.array([1, -1])

        def pixels(xy: np.ndarray) -> np.ndarray:
            return xy * np.array([scale, -scale]) + offset

        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#9a9a9a"), look.line(1)))
        for line in view.lattice:
            painter.drawPolyline(_polygon(pixels(line)))
        for label, color in enumerate(look.classes):
            dot = QColor(color) if look.theme == "light" else QColor(color).lighter(220)
            painter.setPen(QPen(dot, look.line(4.0), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPoints(_polygon(pixels(view.points[view.labels == label])))
        painter.end()


def _polygon(points: np.ndarray):
    polygon = pg.functions.create_qpolygonf(len(points))
    if len(points):
        pg.functions.ndarray_from_qpolygonf(polygon)[:] = points
    return polygon


class HiddenLayerView(QWidget):
    column_changed = Signal(object)  # the diagram column chosen, or None

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenLayerView")
        self.combo = QComboBox()
        self.combo.setObjectName("hiddenLayerCombo")
        self.combo.setToolTip("The hidden layer whose view of the plane is drawn")
        self.combo.currentIndexChanged.connect(lambda _: self.column_changed.emit(self.combo.currentData()))
        self.axes_label = QLabel("")
        self.plane = PlaneView()
        self.plane.setToolTip("The grid lines of [0,1]² and the training points, as this layer sees them")
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.axes_label, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plane, 1)
        self._spec: Spec | None = None
        self.shown: HiddenView | None = None
        self._problem = ""

    def column(self) -> int | None:
        return self.combo.currentData()

    def apply_look(self, look: Look) -> None:
        self.plane.look = look
        self.plane.update()

    def set_spec(self, spec: Spec) -> None:
        """List `spec`'s hidden layers (keeping the choice when it still exists)."""
        if self._spec is not None and spec.layers == self._spec.layers:
            return
        self._spec = spec
        chosen = self.combo.currentData()
        hidden = [(i, c.title) for i, c in enumerate(columns(spec)) if c.title.startswith("hidden")]
        self.combo.blockSignals(True)
        self.combo.clear()
        for index, title in hidden:
            self.combo.addItem(title, index)
        keep = self.combo.findData(chosen)
        self.combo.setCurrentIndex(keep if keep >= 0 else 0 if hidden else -1)
        self.combo.blockSignals(False)
        self.column_changed.emit(self.combo.currentData())

    def show_problem(self, text: str) -> None:
        """Why the view could not be renewed ('' : the axes again)."""
        self._problem = text
        self._label()

    def _label(self) -> None:
        view = self.shown
        text = f"axes: {view.axes}" if view is not None and view.axes else ""
        if view is None and self.combo.count() == 0:
            text = "no hidden layer"
        self.axes_label.setStyleSheet("color: #c0392b;" if self._problem else "")
        self.axes_label.setText(self._problem or text)

    def set_view(self, view: HiddenView | None) -> None:
        if view is self.shown:
            return
        self.shown = self.plane.view = view
        self._label()
        self.plane.update()
