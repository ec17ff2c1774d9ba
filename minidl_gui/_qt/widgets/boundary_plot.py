"""The decision boundary: the model's class-1 score as a live heatmap over [0,1]^2, with the
true boundary and the data points on top.

Everything inside the plot is a plain Qt item (see `plot_style`): the heatmap is a pixmap set
from the grid through the colormap's lookup table; the points are drawn once per data set (and
per size of the plot) into two transparent layers at the screen's resolution, each class in one
call, never an object per point; the true boundary is one dashed path.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPixmapItem

from minidl.registry import DATASETS
from minidl_gui._qt.widgets.plot_style import StillPlot, cache, pen, style_plot
from minidl_gui.components.grid import GRID_RESOLUTION
from minidl_gui.components.look import Look

CLASSES = 2
PAINT_SPACING = 0.02  # a drag paints a point every this much of the plane
ERASER = 0.04  # radius of the eraser, in data units
MARKER = 7.0  # train dot diameter in pixels on a 600-pixel plot; markers scale with the plot
SIZE_STEPS = 6  # sizes a weighed training point may take (one drawing call each)


def true_boundary(dataset: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Curves of the dataset's true class boundary as (xs, ys) arrays, from `minidl.data`."""
    return [(curve[:, 0].numpy(), curve[:, 1].numpy()) for curve in DATASETS[dataset].boundary()]


def _polygon(points: np.ndarray):
    """A QPolygonF over an (n, 2) array, filled through numpy (no object per point)."""
    polygon = pg.functions.create_qpolygonf(len(points))
    if len(points):
        pg.functions.ndarray_from_qpolygonf(polygon)[:] = points
    return polygon


def _dot(color: str, diameter: float) -> QPen:
    """A pen whose point is a round dot of `diameter` pixels: a whole class in one drawPoints."""
    return QPen(QColor(color), diameter, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)


class Overlay(QGraphicsPixmapItem):
    """Train points, test points and the true boundary, drawn into one transparent pixmap at the
    plot's pixel size and shown 1:1 over [0,1]^2: one blit per frame, whatever the data size.
    Drawn again only when the data, the plot's size or what is shown changes."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(10)
        self.look = Look()
        self.highlight = np.zeros((0, 2))  # points to ring (the minibatch of the last step, in slow motion)
        self.train_weights: list[np.ndarray] | None = None  # per class, in [0, 1]: a point's size (its loss...)
        self.train: list[np.ndarray] = [np.zeros((0, 2))] * CLASSES  # per class
        self.test: list[np.ndarray] = [np.zeros((0, 2))] * CLASSES
        self.boundary: list[np.ndarray] = []  # curves, (n, 2)
        self.show = {"train": True, "test": True, "boundary": True}
        self.size: tuple[int, int, float] | None = None  # plot width, height (pixels), pixel ratio
        self._rings: tuple[tuple, QImage] | None = None  # the test points' layer and what it was drawn for

    def _test_rings(self, like: QImage, pixels, diameter: float) -> QImage:
        """The test points as rings (a dot with its middle punched out), drawn again only when the
        points, the size or the look change: a training point's new size redraws the dots alone."""
        key = (self.size, self.look, like.size().toTuple())
        kept = self._rings
        if kept is not None and kept[0][1:] == key and all(a is b for a, b in zip(kept[0][0], self.test)):
            return kept[1]  # the same arrays (held by the key, so never another's reused id) and the same look
        rings = QImage(like.size(), QImage.Format.Format_ARGB32_Premultiplied)
        rings.setDevicePixelRatio(like.devicePixelRatio())
        rings.fill(Qt.GlobalColor.transparent)
        ring_painter = QPainter(rings)
        ring_painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for color, points in zip(self.look.classes, self.test):
            polygon = _polygon(pixels(points))
            ring_painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            ring_painter.setPen(_dot(color, diameter + 1.0))
            ring_painter.drawPoints(polygon)
            ring_painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOut)
            ring_painter.setPen(_dot("black", diameter - 3.0))
            ring_painter.drawPoints(polygon)
        ring_painter.end()
        self._rings = ((tuple(self.test), *key), rings)
        return rings

    def render(self) -> None:
        if self.size is None:
            return
        width, height, ratio = self.size
        scale = max(0.5, min(width, height) / 600.0)
        diameter = min(14.0, max(3.0, MARKER * scale)) * self.look.zoom**0.5
        pad = math.ceil(diameter / 2 + 3)
        image = QImage(
            round((width + 2 * pad) * ratio),
            round((height + 2 * pad) * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)

        def pixels(points: np.ndarray) -> np.ndarray:
            return np.column_stack([pad + points[:, 0] * width, pad + (1.0 - points[:, 1]) * height])

        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.show["train"]:  # dots with a white rim; sized by their weight where weighed
            weights = self.train_weights
            for label, (color, points) in enumerate(zip(self.look.classes, self.train)):
                if weights is None or len(weights[label]) != len(points):
                    groups = [(1.0, points)]
                else:
                    bucket = np.minimum((np.nan_to_num(weights[label]) * SIZE_STEPS).astype(int), SIZE_STEPS - 1)
                    groups = [(0.4 + 2.2 * b / (SIZE_STEPS - 1), points[bucket == b]) for b in range(SIZE_STEPS)]
                for scale, chosen in groups:
                    polygon = _polygon(pixels(chosen))
                    painter.setPen(_dot("white", diameter * scale + 2.4))
                    painter.drawPoints(polygon)
                    painter.setPen(_dot(color, diameter * scale))
                    painter.drawPoints(polygon)
        if self.show["test"]:  # rings, on a layer of their own, kept while the test points stay
            painter.drawImage(0, 0, self._test_rings(image, pixels, diameter))
        if len(self.highlight):  # a ring around each point of the minibatch just used
            painter.setPen(QPen(QColor("#ffb000"), 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for x, y in pixels(self.highlight).tolist():
                painter.drawEllipse(QPointF(x, y), diameter, diameter)
        if self.show["boundary"]:
            boundary = "#111111" if self.look.theme == "light" else "#f0f0f0"
            painter.setPen(pen(boundary, self.look.line(3), Qt.PenStyle.DashLine))
            for curve in self.boundary:
                painter.drawPolyline(_polygon(pixels(curve)))
        painter.end()
        self.setPixmap(QPixmap.fromImage(image))
        # image pixel (u, v) -> data (x, y): x = (u - pad) / width, y = 1 - (v - pad) / height
        self.setTransform(QTransform(1.0 / width, 0.0, 0.0, -1.0 / height, -pad / width, 1.0 + pad / height))


class BoundaryPlot(StillPlot):
    """The decision boundary; in paint mode a click adds a point (left button class 1, right button
    class 0), a drag paints a trail of them, and in erase mode a click or drag removes the points
    under the brush. The plot only says where (`painted`, `erased`): the session owns the points."""

    painted = Signal(object, int)  # (k, 2) array of points in [0,1]^2, their class
    erased = Signal(float, float, float)  # centre x, y and radius, in data units
    picked = Signal(float, float)  # in pick mode: where the user clicked, in data units

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.paint_mode: str | None = None  # "paint", "erase" or None
        self._last_painted: np.ndarray | None = None
        self._paint_class = 1
        self.setObjectName("boundaryPlot")
        self.look = Look()
        self.setBackground(self.look.background)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)  # the grid's cells blend smoothly
        plot = self.getPlotItem()
        plot.setAspectLocked(True)  # the disk is drawn round
        plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        colormap = pg.colormap.get(self.look.colormap)
        self.lut = colormap.getLookupTable(nPts=256, alpha=True)  # (256, 4) RGBA
        self.neuron: tuple[int, int] | None = None  # whose map the heatmap shows; None: the class-1 score
        self.points_by: str | None = None  # what a training point's size shows ("each point's loss"), if any
        self.image = QGraphicsPixmapItem()
        self.image.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.grid: np.ndarray | None = None
        self.set_grid(np.full((GRID_RESOLUTION, GRID_RESOLUTION), 0.5, dtype=np.float32))
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=colormap, interactive=False, width=18, colorMapMenu=False
        )
        plot.layout.addItem(self.colorbar, 2, 5)  # right of the plot, as ColorBarItem.setImageItem puts it
        plot.layout.setColumnFixedWidth(4, 5)
        cache(self.colorbar.axis)
        self.keep_current(plot.vb, self.colorbar.vb)
        self._title = None
        self.overlay = Overlay()
        plot.addItem(self.overlay, ignoreBounds=True)
        self.walked: np.ndarray | None = None  # the point the backprop view walks through the network
        self.walked_rings = [self._ring(color, width) for color, width in (("white", 6.0), ("#e6007e", 3.5))]
        self._dataset: str | None = None
        self._render_pending = False
        self._style()
        plot.vb.sigTransformChanged.connect(self._schedule_render)
        plot.vb.sigResized.connect(self._schedule_render)

    def set_grid(self, grid: np.ndarray) -> None:
        """Show the class-1 scores `grid` (rows are y, in [0, 1]) in the colormap."""
        rows, columns = grid.shape
        if self.grid is None or self.grid.shape != grid.shape:  # pixels -> [0, 1]^2
            self.image.setTransform(QTransform.fromScale(1.0 / columns, 1.0 / rows))
        self.grid = grid
        levels = np.nan_to_num(grid * 255.0 + 0.5, nan=128.0)  # a diverged network: neutral, not garbage
        rgba = np.ascontiguousarray(self.lut[np.clip(levels, 0, 255).astype(np.uint8)])
        image = QImage(rgba.data, columns, rows, 4 * columns, QImage.Format.Format_RGBA8888)
        self.image.setPixmap(QPixmap.fromImage(image))  # copies the pixels

    def show_neuron_title(self, neuron: tuple[int, int] | None, title: str | None) -> None:
        """Say what the heatmap shows: the decision boundary, or a neuron's map."""
        self.neuron, self._title = neuron, title
        self._style()

    def show_points_by(self, what: str | None) -> None:
        """Say in the title what the training points' sizes show (None: nothing, all alike)."""
        if what != self.points_by:
            self.points_by = what
            self._style()

    def _style(self) -> None:
        look, plot = self.look, self.getPlotItem()
        if self.neuron is None:
            sized = f" · dot size: {self.points_by}" if self.points_by else ""
            style_plot(plot, "Decision boundary" + sized, "x", "y", look)
            tip = "Colour: the network's probability of class 1 at each point of the plane"
        else:
            style_plot(plot, f"Neuron: {self._title}", "x", "y", look, title_color="#d07000")
            tip = "Colour: the neuron's value over the plane, scaled to [0, 1] (0.5 = zero)"
        self.setToolTip(tip)  # the colour bar has no title: a narrow window keeps its numbers whole
        axis = self.colorbar.axis
        axis.setTextPen(pg.mkPen(look.text))
        axis.setPen(pg.mkPen(look.text))
        font = QFont()
        font.setPointSizeF(look.pt(11))
        axis.setTickFont(font)
        axis.setWidth(QFontMetrics(font).horizontalAdvance("0.0") + 14)
        title = QFont()
        title.setPointSizeF(look.pt(16))
        left = QFontMetrics(font).horizontalAdvance("0.0") + QFontMetrics(font).height() + 20  # ticks and "y"
        colorbar = 18 + QFontMetrics(font).horizontalAdvance("0.0") + 24
        # the title whole (a neuron's longer one may be cut while it is shown: it never widens the window)
        self.setMinimumWidth(QFontMetrics(title).horizontalAdvance("Decision boundary") + left + colorbar)

    def apply_look(self, look: Look) -> None:
        """Colours, sizes and the colormap of `look`; the heatmap and the points are drawn again."""
        self.look = self.overlay.look = look
        self.setBackground(look.background)
        colormap = pg.colormap.get(look.colormap)
        self.lut = colormap.getLookupTable(nPts=256, alpha=True)
        self.colorbar.setColorMap(colormap)
        self._style()
        if self.grid is not None:
            self.set_grid(self.grid)
        self.overlay.render()

    # ---- painting ----------------------------------------------------------------------------------
    def set_paint_mode(self, mode: str | None) -> None:
        """ "paint", "erase", "pick" (a click picks a point for the backprop view) or None (the plot
        is only looked at)."""
        self.paint_mode = mode
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if mode else Qt.CursorShape.ArrowCursor)

    def data_point(self, position: QPointF) -> np.ndarray:
        """The data coordinates of a point of this widget (pixels)."""
        point = self.getPlotItem().vb.mapSceneToView(self.mapToScene(position.toPoint()))
        return np.array([point.x(), point.y()])

    def widget_point(self, x: float, y: float) -> QPointF:
        """Where the data point (x, y) is in this widget (pixels): for tests and scripts."""
        scene = self.getPlotItem().vb.mapViewToScene(QPointF(x, y))
        return QPointF(self.mapFromScene(scene))

    def mousePressEvent(self, event) -> None:
        if self.paint_mode is None:
            return super().mousePressEvent(event)
        if self.paint_mode == "pick":
            point = self.data_point(event.position())
            if ((point >= 0) & (point <= 1)).all():
                self.picked.emit(float(point[0]), float(point[1]))
            event.accept()
            return None
        self._paint_class = 0 if event.button() == Qt.MouseButton.RightButton else 1
        self._last_painted = None
        self._paint_at(self.data_point(event.position()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self.paint_mode is None or not event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            return super().mouseMoveEvent(event)
        self._paint_at(self.data_point(event.position()))
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self.paint_mode is None:
            return super().mouseReleaseEvent(event)
        self._last_painted = None
        event.accept()

    def _paint_at(self, point: np.ndarray) -> None:
        if not ((point >= 0) & (point <= 1)).all():
            return
        if self.paint_mode == "erase":
            self.erased.emit(float(point[0]), float(point[1]), ERASER)
        elif self._last_painted is None or np.hypot(*(point - self._last_painted)) >= PAINT_SPACING:
            self._last_painted = point
            self.painted.emit(point.reshape(1, 2), self._paint_class)

    def set_highlight(self, points: np.ndarray | None) -> None:
        """Ring these points (the minibatch of the last step), or none."""
        if points is None and not len(self.overlay.highlight):
            return  # at every frame at full speed: nothing to do, nothing allocated
        points = np.zeros((0, 2)) if points is None else np.asarray(points, dtype=float)
        if len(points) or len(self.overlay.highlight):
            self.overlay.highlight = points
            self.overlay.render()

    def set_dataset(self, dataset: str) -> None:
        if dataset == self._dataset:
            return
        self._dataset = dataset
        self.overlay.boundary = [np.column_stack(curve) for curve in true_boundary(dataset)]
        self.overlay.render()

    def boundary_curves(self) -> int:
        """How many separate curves the true boundary has (0 where it has no closed form)."""
        return len(self.overlay.boundary)

    def set_points(self, x_train, y_train, x_test, y_test) -> None:
        def by_class(x, y) -> list[np.ndarray]:
            x, y = np.asarray(x, dtype=float), np.asarray(y)
            return [x[y == label] for label in range(CLASSES)]

        self.overlay.train, self.overlay.test = by_class(x_train, y_train), by_class(x_test, y_test)
        self._train_labels = np.asarray(y_train)
        self.overlay.render()

    def set_point_weights(self, weights: np.ndarray | None) -> None:
        """Size the training points by `weights` (one in [0, 1] per training point, in the order of
        `set_points`: their loss or gradient norm), or all alike (None)."""
        labels = getattr(self, "_train_labels", None)
        if weights is None or labels is None or len(weights) != len(labels):
            if self.overlay.train_weights is None:
                return
            self.overlay.train_weights = None
        else:
            self.overlay.train_weights = [np.asarray(weights)[labels == label] for label in range(CLASSES)]
        self.overlay.render()

    def _ring(self, color: str, width: float) -> QGraphicsEllipseItem:
        """A ring of fixed pixel size over a data point: a Qt item moved, never the points redrawn."""
        radius = 2.2 * MARKER
        ring = QGraphicsEllipseItem(-radius, -radius, 2 * radius, 2 * radius)
        ring.setPen(QPen(QColor(color), width))
        ring.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        ring.setZValue(11)
        ring.hide()
        self.getPlotItem().addItem(ring, ignoreBounds=True)
        return ring

    def set_walked(self, point: np.ndarray | None) -> None:
        """Mark the point the backprop view walks through the network (None: no mark)."""
        if point is None:
            self.walked = None
            for ring in self.walked_rings:
                ring.hide()
            return
        self.walked = np.asarray(point, dtype=float)
        for ring in self.walked_rings:
            ring.setPos(float(self.walked[0]), float(self.walked[1]))
            ring.show()

    def _schedule_render(self, *_) -> None:
        if not self._render_pending:  # resizing emits many signals: draw once, after them
            self._render_pending = True
            QTimer.singleShot(0, self, self._render_points)  # with a context: never after the plot is gone

    def _render_points(self) -> None:
        self._render_pending = False
        corners = self.getPlotItem().vb.mapViewToDevice(QRectF(0.0, 0.0, 1.0, 1.0))
        if corners is None:
            return
        rect = corners.boundingRect()
        size = (round(rect.width()), round(rect.height()), self.devicePixelRatioF())
        if size != self.overlay.size and size[0] >= 2 and size[1] >= 2:
            self.overlay.size = size
            self.overlay.render()

    def _show(self, part: str, visible: bool) -> None:
        if self.overlay.show[part] != visible:
            self.overlay.show[part] = visible
            self.overlay.render()

    def show_test_points(self, visible: bool) -> None:
        self._show("test", visible)

    def show_train_points(self, visible: bool) -> None:
        self._show("train", visible)

    def show_true_boundary(self, visible: bool) -> None:
        self._show("boundary", visible)
