"""One look for every plot: dark text and large ticks, readable on a projector; the rule that
keeps redraws cheap; and the one plot class (`Plot`) whose scene is safe to change.

The rule: what changes at every frame (heatmap, curves, points) is drawn by plain Qt items
(`QGraphicsPixmapItem`, `QGraphicsPathItem`), which Qt paints without calling back into Python.
Each call back into Python from the GUI thread takes the interpreter lock from the training
thread, and on a small machine those hand-overs, not the drawing, are what slowed training
(measured by `benchmarks/gui_live.py`). pyqtgraph keeps what it is best at: axes, ticks, titles.
"""

from __future__ import annotations

import math
import weakref

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsView

from minidl_gui.components.look import Look

DEFAULT_LOOK = Look()
TEXT = DEFAULT_LOOK.text
LEAST_DATA_HEIGHT = 120  # pixels of a plot's data area (its view box): below, tick labels crowd each other


def style_plot(
    plot: pg.PlotItem, title: str, x_label: str, y_label: str, look: Look = DEFAULT_LOOK, title_color: str | None = None
) -> None:
    """Title, axes and labels in `look`'s colours and sizes (called again when the look changes)."""
    plot.setTitle(title, size=f"{look.pt(16)}pt", color=title_color or look.text)
    tick_font = QFont()
    tick_font.setPointSizeF(look.pt(12))
    for name, label in (("bottom", x_label), ("left", y_label)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(look.text))
        axis.setTextPen(pg.mkPen(look.text))
        axis.setTickFont(tick_font)
        axis.enableAutoSIPrefix(False)
        axis.setStyle(tickLength=6)  # outward: an axis that reached into the plot was repainted with it
        plot.setLabel(name, label, **{"font-size": f"{look.pt(13)}pt", "color": look.text})
        axis.enableAutoSIPrefix(False)  # again: pyqtgraph works a prefix out at every label change (0.5 -> 500 m)
        axis.autoSIPrefixScale = 1.0
    for axis in ("left", "bottom", "right", "top"):
        cache(plot.getAxis(axis))
    for item in (plot, plot.vb):  # containers: nothing of their own to paint, so Qt never asks them
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
    # Clipping to the view box would ask its (Python) shape() at every paint; what is drawn in it
    # stays inside its range by construction. Safe only in a `Plot`, whose scene keeps no index
    # (see there); anywhere else the view box keeps pyqtgraph's clipping.
    scene = plot.scene()
    indexed = scene is None or scene.itemIndexMethod() != QGraphicsScene.ItemIndexMethod.NoIndex
    plot.vb.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, indexed)


def least_height(widget: pg.PlotWidget, data: int = LEAST_DATA_HEIGHT) -> int:
    """The height `widget` needs for a data area `data` pixels tall: its title and axes as they
    are laid out now (their fonts, and the tick labels' height once drawn), plus `data`."""
    plot, least = widget.getPlotItem(), Qt.SizeHint.MinimumSize
    around = plot.effectiveSizeHint(least).height() - plot.vb.effectiveSizeHint(least).height()
    if widget.isVisible() and plot.vb.height() > 0:  # as laid out: an axis grown since counts before its hint
        around = max(around, plot.geometry().height() - plot.vb.height())
    return math.ceil(around) + data + 2 * widget.frameWidth()


_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # plot -> (its own least width, the one set here)


def keep_data_area(widget: pg.PlotWidget) -> None:
    """Never let `widget` be laid out with a data area below LEAST_DATA_HEIGHT, nor narrower than
    its title and axes (a plot item wider than its view is cut at the view's edge). Its least
    size follows them: checked again whenever its view box resizes, as it does when an axis grows
    for larger tick labels. Any pyqtgraph plot, once or again; a least width set by the plot's own
    code (a title's width) is kept where it is the larger."""
    watched = widget in _KEPT
    _keep_least_size(widget)
    if not watched:
        ref = weakref.ref(widget)
        widget.getPlotItem().vb.sigResized.connect(lambda *_: (kept := ref()) is not None and _keep_least_size(kept))


def _keep_least_size(widget: pg.PlotWidget) -> None:
    items = math.ceil(widget.getPlotItem().effectiveSizeHint(Qt.SizeHint.MinimumSize).width())
    own, kept = _KEPT.get(widget, (0, None))
    if widget.minimumWidth() != kept:  # set since by the plot's own code
        own = widget.minimumWidth()
    width = max(own, items + 2 * widget.frameWidth())
    _KEPT[widget] = (own, width)
    widget.setMinimumSize(width, least_height(widget))


def cache(item: QGraphicsItem) -> None:
    """Draw `item` once into a pixmap and blit it until it changes (an axis's text)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class Plot(pg.PlotWidget):
    """Every plot of the app: a PlotWidget whose scene keeps no spatial (BSP) index.

    Why: Qt's BSP index drops an item from the tree cells of its bounding rect *as the item reports
    it when told of a change*, and pyqtgraph's curves forget their cached bounds before telling
    (`PlotCurveItem.updateData`: `invalidateBounds()`, then `prepareGeometryChange()`). A curve
    whose data shrinks (500 epochs, then 2 after a reset) stays listed in the cells of its old
    bounds; once it is removed and deleted (a network of another shape), the next paint reads the
    freed item and the process dies with a segmentation fault. Stock pyqtgraph hides this because
    its view box clips its children (clipped children are kept out of the tree); `style_plot`
    turns that clipping off. Without an index a scene lists its items plainly, a removed item is
    forgotten whatever its bounds, and a plot's few dozen items cost nothing to walk.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)


class StillPlot(Plot):
    """A plot whose views move only when it is resized or restyled (the decision boundary),
    painted by Qt alone: no call into Python on the way, so the training thread trains on while
    the heatmap is painted. pyqtgraph defers a view box's new matrix to just before each paint
    (its `GraphicsView.paintEvent` calls `prepareForPaint`, in Python); here the matrix is made
    at once, whenever a view box named in `keep_current` is resized or changes its range."""

    paintEvent = QGraphicsView.paintEvent  # Qt's own

    def keep_current(self, *view_boxes: pg.ViewBox) -> None:
        for view_box in view_boxes:
            view_box.sigResized.connect(self._prepare)
            view_box.sigRangeChanged.connect(self._prepare)
        self._prepare()

    def _prepare(self, *_) -> None:
        self.scene().prepareForPaint()


class PixelPath:
    """A path given in data coordinates, drawn by a plain `QGraphicsPathItem` in the view box's
    pixels: the pen's width is in pixels and the item's bounds are tight (a cosmetic pen in data
    coordinates would make Qt count its width in data units and repaint the whole plot)."""

    def __init__(self, view_box: pg.ViewBox, pen: QPen, z: float = 0.0) -> None:
        self.view_box = view_box
        self.item = QGraphicsPathItem(view_box)
        self.item.setPen(pen)
        self.item.setZValue(z)
        self.data_path = QPainterPath()
        view_box.sigTransformChanged.connect(self._map)

    def set_path(self, path: QPainterPath) -> None:
        self.data_path = path
        self._map()

    def _map(self, *_) -> None:
        self.item.setPath(self.view_box.childGroup.transform().map(self.data_path))

    def setVisible(self, visible: bool) -> None:
        self.item.setVisible(visible)


def pen(color: str | QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    return QPen(QColor(color), width, style, Qt.PenCapStyle.FlatCap, Qt.PenJoinStyle.RoundJoin)
