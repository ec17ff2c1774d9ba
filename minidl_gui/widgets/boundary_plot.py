"""The decision boundary: the model's class-1 score as a live heatmap over [0,1]^2, with the
true boundary and the data points on top."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from minidl.data import DISK_CENTER, DISK_RADIUS, RING_RADII
from minidl_gui.session import GRID_RESOLUTION
from minidl_gui.widgets.plot_style import TEXT, style_plot

CLASS_COLORS = ("#0b2c5e", "#6b0012")  # darker than the colormap's ends, so points stand out
COLORMAP = "CET-D1"  # blue - white - red, perceptually uniform


def circle(radius: float, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 2.0 * math.pi, n)
    return DISK_CENTER[0] + radius * np.cos(t), DISK_CENTER[1] + radius * np.sin(t)


def true_boundary(dataset: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Curves of the true class boundary, where it has a closed form."""
    if dataset == "disk":
        return [circle(DISK_RADIUS)]
    if dataset == "ring":
        return [circle(r) for r in RING_RADII]
    if dataset == "xor":
        return [(np.array([0.5, 0.5]), np.array([0.0, 1.0])), (np.array([0.0, 1.0]), np.array([0.5, 0.5]))]
    return []


class BoundaryPlot(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("boundaryPlot")
        self.setBackground("w")
        plot = self.getPlotItem()
        style_plot(plot, "Decision boundary", "x", "y")
        plot.setAspectLocked(True)  # the disk is drawn round
        plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.set_grid(np.full((GRID_RESOLUTION, GRID_RESOLUTION), 0.5, dtype=np.float32))
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=pg.colormap.get(COLORMAP),
            interactive=False,
            width=18,
            colorMapMenu=False,
        )
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.colorbar.axis.setTextPen(pg.mkPen(TEXT))
        self.colorbar.axis.setLabel("P(class 1)", **{"font-size": "13pt", "color": TEXT})
        self.boundary_items: list[pg.PlotDataItem] = []
        self.train_points = pg.ScatterPlotItem(size=7, pxMode=True)
        self.test_points = pg.ScatterPlotItem(size=8, pxMode=True)
        plot.addItem(self.train_points)
        plot.addItem(self.test_points)
        self._dataset = None

    def set_grid(self, grid: np.ndarray) -> None:
        resize = self.image.image is None or self.image.image.shape != grid.shape
        self.image.setImage(grid, autoLevels=False, levels=(0.0, 1.0))
        if resize:  # the rect maps pixels to [0,1]^2, so it depends on the grid's shape
            self.image.setRect(QRectF(0.0, 0.0, 1.0, 1.0))

    def set_dataset(self, dataset: str) -> None:
        if dataset == self._dataset:
            return
        self._dataset = dataset
        plot = self.getPlotItem()
        for item in self.boundary_items:
            plot.removeItem(item)
        self.boundary_items = []
        for xs, ys in true_boundary(dataset):
            item = pg.PlotDataItem(xs, ys, pen=pg.mkPen("#111111", width=3, style=pg.QtCore.Qt.PenStyle.DashLine))
            plot.addItem(item)
            self.boundary_items.append(item)

    def set_points(self, x_train, y_train, x_test, y_test) -> None:
        filled = [pg.mkBrush(CLASS_COLORS[int(c)]) for c in y_train]
        self.train_points.setData(pos=np.asarray(x_train), brush=filled, pen=pg.mkPen("w", width=1.2), symbol="o")
        pens = {c: pg.mkPen(CLASS_COLORS[c], width=2.0) for c in (0, 1)}
        self.test_points.setData(
            pos=np.asarray(x_test), pen=[pens[int(c)] for c in y_test], brush=pg.mkBrush(None), symbol="o"
        )

    def show_test_points(self, visible: bool) -> None:
        self.test_points.setVisible(visible)

    def show_train_points(self, visible: bool) -> None:
        self.train_points.setVisible(visible)
