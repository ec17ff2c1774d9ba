"""Train and test curves of one metric over epochs (loss or accuracy).

The curves and the grid are plain Qt items (see `plot_style`); the legend is in the title. The
axes move in steps, not at every epoch: the x range grows along 1-2-5 numbers and the y
range snaps to round values, so a class can read them while training runs, and the axes (text,
the expensive part of a redraw) are redrawn only when a step is taken.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainterPath, QPen

from minidl_gui._qt.widgets.plot_style import PixelPath, StillPlot, pen, style_plot
from minidl_gui.components.look import Look

TAIL_POINTS = 40  # epochs drawn as a tail before the tail joins the body (one full redraw)
LADDER = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def _path(x: np.ndarray, y: np.ndarray) -> QPainterPath:
    return pg.arrayToQPath(x, y, connect="finite") if x.size > 1 else QPainterPath()


def round_up(value: float, ladder: tuple[float, ...] = LADDER) -> float:
    """The smallest `m * 10**k` (m on the ladder) at or above `value`."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    return next(m * scale for m in ladder if m * scale >= value * (1 - 1e-12))


class MetricPlot(StillPlot):
    def __init__(
        self,
        name: str,
        title: str,
        y_label: str,
        percent: bool = False,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.percent = percent  # y in [0, 100]: the top is always 100
        self.title, self.y_label = title, y_label
        plot = self.getPlotItem()
        plot.enableAutoRange(False)
        # Plain Qt items (see plot_style): the grid, then each curve as a body and a tail. A new
        # epoch only extends the tail, so Qt repaints the few pixels it covers, not the plot.
        self.grid_lines = PixelPath(plot.vb, pen(QColor(0, 0, 0, 48), 1), z=-1)
        self.bodies = [PixelPath(plot.vb, QPen(), z=1 + i) for i in range(2)]
        self.tails = [PixelPath(plot.vb, QPen(), z=1 + i) for i in range(2)]
        self.apply_look(Look())
        self._body_epochs = np.zeros(0)  # the epochs the bodies draw
        plot.vb.sigResized.connect(self._draw_grid)
        self.keep_current(plot.vb)  # its range moves only by `_fit`'s setRange and by resizes
        self.epochs = self.train = self.test = np.zeros(0)
        self._range: tuple[float, float, float, float] | None = None
        self._log = False

    def apply_look(self, look: Look) -> None:
        """Colours and sizes of `look`; the legend is beside the x axis's name."""
        self.look = look
        self.setBackground(look.background)
        train, test = look.curves
        key = (  # the legend, beside the x axis's name: outside the curves' area, so never redrawn with them
            f"epoch &nbsp;&nbsp; <span style='color:{train}; font-weight:600'>━ train</span>"
            f" &nbsp;<span style='color:{test}; font-weight:600'>╍ test</span>"
        )
        style_plot(self.getPlotItem(), self.title, key, self.y_label, look)
        self.setMinimumWidth(self._title_width(look))  # a narrow window squeezes other things, never the title
        self.grid_lines.item.setPen(pen(QColor(*look.grid), 1))
        pens = (pen(train, look.line(3)), pen(test, look.line(3), Qt.PenStyle.DashLine))
        for curves in (self.bodies, self.tails):
            for curve, curve_pen in zip(curves, pens):
                curve.item.setPen(curve_pen)

    def _title_width(self, look: Look) -> int:
        """Pixels the title and the key below need, with the y axis beside them."""
        title, small = QFont(), QFont()
        title.setPointSizeF(look.pt(16))
        small.setPointSizeF(look.pt(13))
        key = QFontMetrics(small).horizontalAdvance("epoch    ━ train  ╍ test")
        axis = QFontMetrics(small).horizontalAdvance("100") + QFontMetrics(small).height() + 16
        return max(QFontMetrics(title).horizontalAdvance(self.title), key) + axis

    def set_data(self, epochs: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
        self.epochs, self.train, self.test = epochs, train, test
        if self._log:  # the view is in log10 units; log axes cannot show zero or below
            train, test = np.log10(np.maximum(train, 1e-12)), np.log10(np.maximum(test, 1e-12))
        self._fit(epochs, np.concatenate([train, test]))
        start = self._body_epochs.size
        extends = 0 < start <= epochs.size and np.array_equal(epochs[:start], self._body_epochs)
        if extends and epochs.size - start <= TAIL_POINTS:  # the same curve, longer: redraw the tail only
            for tail, values in zip(self.tails, (train, test)):
                tail.set_path(_path(epochs[start - 1 :], values[start - 1 :]))
            return
        self._body_epochs = epochs.copy()
        for body, tail, values in zip(self.bodies, self.tails, (train, test)):
            body.set_path(_path(epochs, values))
            tail.set_path(QPainterPath())

    def _fit(self, epochs: np.ndarray, values: np.ndarray) -> None:
        """Set the view to the rounded range of the data, only when that range changes."""
        x_max = max(10.0, round_up(float(epochs[-1]))) if epochs.size else 10.0
        values = values[np.isfinite(values)]
        if self._log:  # values are log10 already
            low = math.floor(values.min()) if values.size else -2.0
            high = math.ceil(values.max()) if values.size else 0.0
            y_range = (low, max(high, low + 1))
        elif self.percent:
            low = 10.0 * math.floor(values.min() / 10.0) if values.size else 0.0
            y_range = (min(low, 90.0), 100.0)
        else:
            y_range = (0.0, round_up(float(values.max())) if values.size else 1.0)
        wanted = (0.0, x_max, *y_range)
        if wanted != self._range:
            self._range = wanted
            self.getPlotItem().setRange(xRange=wanted[:2], yRange=wanted[2:], padding=0.02)
            self._draw_grid()

    def _draw_grid(self, *_) -> None:
        """Grid lines at the axes' major ticks, as one path."""
        if self._range is None:
            return
        x0, x1, y0, y1 = self._range
        plot = self.getPlotItem()
        path = QPainterPath()
        bottom, left = plot.getAxis("bottom"), plot.getAxis("left")
        for x in bottom.tickValues(x0, x1, max(1.0, bottom.geometry().width()))[0][1]:
            path.moveTo(x, y0)
            path.lineTo(x, y1)
        for y in left.tickValues(y0, y1, max(1.0, left.geometry().height()))[0][1]:
            path.moveTo(x0, y)
            path.lineTo(x1, y)
        self.grid_lines.set_path(path)

    def set_log_y(self, log: bool) -> None:
        self._log = log
        self._range = None
        self._body_epochs = np.zeros(0)
        self.getPlotItem().setLogMode(y=log)
        self.set_data(self.epochs, self.train, self.test)
