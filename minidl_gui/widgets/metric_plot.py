"""Train and test curves of one metric over epochs (loss or accuracy)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from minidl_gui.widgets.plot_style import TEXT, style_plot

TRAIN_COLOR, TEST_COLOR = "#1b7837", "#762a83"


class MetricPlot(pg.PlotWidget):
    def __init__(self, name: str, title: str, y_label: str, legend_corner: str = "top", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setBackground("w")
        plot = self.getPlotItem()
        style_plot(plot, title, "epoch", y_label)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.addLegend(
            offset=(-10, 10) if legend_corner == "top" else (-10, -10), labelTextSize="12pt", labelTextColor=TEXT
        )
        self.train_curve = plot.plot(name="train", pen=pg.mkPen(TRAIN_COLOR, width=3))
        self.test_curve = plot.plot(name="test", pen=pg.mkPen(TEST_COLOR, width=3, style=Qt.PenStyle.DashLine))

    def set_data(self, epochs: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
        if self.getPlotItem().ctrl.logYCheck.isChecked():  # log axes cannot show zero or below
            train, test = np.maximum(train, 1e-12), np.maximum(test, 1e-12)
        self.train_curve.setData(epochs, train)
        self.test_curve.setData(epochs, test)

    def set_log_y(self, log: bool) -> None:
        self.getPlotItem().setLogMode(y=log)
