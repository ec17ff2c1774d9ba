"""The decision boundary: the model's class-1 score as a live heatmap over [0,1]^2, with the
true boundary and the data points on top.

Drawing is cheap by construction: the image keeps fixed levels and lookup table and only its
pixels change; the points are four scatter items (train/test x class), each with one brush
and one pen, set once per data set, never an object per point.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from minidl.registry import DATASETS
from minidl_gui.grid import GRID_RESOLUTION
from minidl_gui.widgets.plot_style import TEXT, style_plot

CLASS_COLORS = ("#0b2c5e", "#6b0012")  # darker than the colormap's ends, so points stand out
COLORMAP = "CET-D1"  # blue - white - red, perceptually uniform


def true_boundary(dataset: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Curves of the dataset's true class boundary as (xs, ys) arrays, from `minidl.data`."""
    return [(curve[:, 0].numpy(), curve[:, 1].numpy()) for curve in DATASETS[dataset].boundary()]


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
        colormap = pg.colormap.get(COLORMAP)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(colormap.getLookupTable(nPts=256))
        self.image.setLevels((0.0, 1.0))
        self.set_grid(np.full((GRID_RESOLUTION, GRID_RESOLUTION), 0.5, dtype=np.float32))
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=colormap, interactive=False, width=18, colorMapMenu=False
        )
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.colorbar.axis.setTextPen(pg.mkPen(TEXT))
        self.colorbar.axis.setLabel("P(class 1)", **{"font-size": "13pt", "color": TEXT})
        self.boundary_items: list[pg.PlotDataItem] = []
        self.train_points = [self._scatter(7, pg.mkBrush(c), pg.mkPen("w", width=1.2)) for c in CLASS_COLORS]
        self.test_points = [self._scatter(8, pg.mkBrush(None), pg.mkPen(c, width=2.0)) for c in CLASS_COLORS]
        self._dataset: str | None = None

    def _scatter(self, size: float, brush, pen) -> pg.ScatterPlotItem:
        item = pg.ScatterPlotItem(size=size, pxMode=True, brush=brush, pen=pen, symbol="o")
        self.getPlotItem().addItem(item)
        return item

    def set_grid(self, grid: np.ndarray) -> None:
        resize = self.image.image is None or self.image.image.shape != grid.shape
        self.image.setImage(grid, autoLevels=False)
        if resize:  # the rect maps pixels to [0,1]^2, so it depends on the grid's shape
            self.image.setRect(QRectF(0.0, 0.0, 1.0, 1.0))

    def set_dataset(self, dataset: str) -> None:
        if dataset == self._dataset:
            return
        self._dataset = dataset
        plot = self.getPlotItem()
        for item in self.boundary_items:
            plot.removeItem(item)
        pen = pg.mkPen("#111111", width=3, style=Qt.PenStyle.DashLine)
        self.boundary_items = [pg.PlotDataItem(xs, ys, pen=pen) for xs, ys in true_boundary(dataset)]
        for item in self.boundary_items:
            plot.addItem(item)

    def set_points(self, x_train, y_train, x_test, y_test) -> None:
        for items, x, y in ((self.train_points, x_train, y_train), (self.test_points, x_test, y_test)):
            x, y = np.asarray(x), np.asarray(y)
            for label, item in enumerate(items):
                item.setData(pos=x[y == label])

    def show_train_points(self, visible: bool) -> None:
        for item in self.train_points:
            item.setVisible(visible)

    def show_test_points(self, visible: bool) -> None:
        for item in self.test_points:
            item.setVisible(visible)
