"""The loss along the step: L(θ − η·g) per sample on the training set, for step sizes η from 0 to a
few times the learning rate, g the last step's gradient. Where the curve still falls at the
current lr (the vertical line), a larger step would do better; where it has turned up, the step
overshoots; a curve that leaves the plot says the step diverges.

Every number is the worker's (`StepLoss`): the marker's height at lr is read off the arrays given
by interpolation, never by evaluating the model. The key is in the x axis's text, never over the
curve.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from minidl_gui._qt.widgets.plot_style import Plot, style_plot
from minidl_gui.components.backprop_views import StepLoss
from minidl_gui.components.look import Look

TITLE = "Loss along the step"
LR_COLOR = "#d07000"  # the current learning rate: the diagram's highlight colour
DIVERGES = "not finite: the step diverges"
EMPTY = "press Step to see it"


class StepLossPlot(Plot):
    """η → training loss per sample along the last step's gradient, with lr and L(θ) marked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stepLossPlot")
        plot = self.getPlotItem()
        plot.enableAutoRange(False)
        plot.setMouseEnabled(x=False, y=False)  # a still figure: its range is the data's
        plot.hideButtons()
        plot.setMenuEnabled(False)
        self.curve = pg.PlotDataItem(connect="finite")
        self.lr_line = pg.InfiniteLine(angle=90, movable=False)
        self.start_line = pg.InfiniteLine(angle=0, movable=False)  # L(θ): the loss before the step
        self.marker = pg.ScatterPlotItem(size=11)
        for item in (self.start_line, self.curve, self.lr_line, self.marker):
            plot.addItem(item)
        self.step_loss: StepLoss | None = None
        self.note = EMPTY  # said in the title: why nothing, or not everything, is drawn
        self.loss_at_lr: float | None = None
        self._range: tuple[float, float, float, float] | None = None
        self.look = Look()
        self.apply_look(self.look)
        self.set_data(None)

    def apply_look(self, look: Look) -> None:
        """Colours and sizes of `look`; the key is the x axis's text."""
        self.look = look
        self.setBackground(look.background)
        curve = look.curves[0]
        self.curve.setPen(pg.mkPen(curve, width=look.line(3)))
        self.lr_line.setPen(pg.mkPen(LR_COLOR, width=look.line(2)))
        self.start_line.setPen(pg.mkPen(look.text, width=look.line(1.5), style=Qt.PenStyle.DashLine))
        self.marker.setBrush(pg.mkBrush(LR_COLOR))
        self.marker.setPen(pg.mkPen(look.background, width=1.5))
        self.marker.setSize(11 * look.zoom)
        self._style()

    def _style(self) -> None:
        look = self.look
        lr = f" = {self.step_loss.lr:g}" if self.step_loss is not None else ""
        key = (
            f"step size η &nbsp;&nbsp; <span style='color:{look.curves[0]}; font-weight:600'>━ L(θ − η·g)</span>"
            f" &nbsp;<span style='color:{LR_COLOR}; font-weight:600'>┃ lr{lr}</span>"
            " &nbsp;<span style='font-weight:600'>╍ L(θ)</span>"
        )
        title = TITLE + (f" — {self.note}" if self.note else "")
        color = "#c0392b" if self.note == DIVERGES else None
        style_plot(self.getPlotItem(), title, key, "training loss / sample", look, title_color=color)
        font = QFont()
        font.setPointSizeF(look.pt(16))
        self.setMinimumWidth(min(420, QFontMetrics(font).horizontalAdvance(TITLE) + 80))

    def set_data(self, step_loss: StepLoss | None) -> None:
        """Draw `step_loss` (None: nothing yet, said in the title)."""
        if step_loss is self.step_loss and step_loss is not None:
            return
        old_lr = None if self.step_loss is None else self.step_loss.lr
        self.step_loss = step_loss
        note = EMPTY
        self.loss_at_lr = None
        if step_loss is None or len(step_loss.etas) == 0:
            self.curve.setData([], [])
            self.marker.setData([], [])
            for line in (self.lr_line, self.start_line):
                line.setVisible(False)
        else:
            etas = np.asarray(step_loss.etas, dtype=np.float64)
            losses = np.asarray(step_loss.losses, dtype=np.float64)
            finite = np.isfinite(losses)
            note = "" if finite.all() else DIVERGES
            self.curve.setData(etas, np.where(finite, losses, np.nan))
            self._fit(etas, losses[finite], step_loss.lr)
            order = np.argsort(etas)
            at_lr = float(np.interp(step_loss.lr, etas[order], losses[order]))
            start = float(np.interp(0.0, etas[order], losses[order]))
            self.lr_line.setValue(step_loss.lr)
            self.lr_line.setVisible(True)
            self.start_line.setValue(start if math.isfinite(start) else 0.0)
            self.start_line.setVisible(math.isfinite(start))
            if math.isfinite(at_lr):
                self.loss_at_lr = at_lr
                self.marker.setData([step_loss.lr], [at_lr])
            else:
                self.marker.setData([], [])
        new_lr = None if step_loss is None else step_loss.lr
        if note != self.note or new_lr != old_lr:
            self.note = note
            self._style()  # the axes' text is redrawn only when what it says changes

    def _fit(self, etas: np.ndarray, losses: np.ndarray, lr: float) -> None:
        """The view spans the η given (and lr) and the finite losses, set only when that changes."""
        x_low, x_high = float(min(etas.min(), 0.0)), float(max(etas.max(), lr))
        if losses.size:
            y_low, y_high = float(losses.min()), float(losses.max())
        else:
            y_low, y_high = 0.0, 1.0
        if y_high - y_low < 1e-12 * max(1.0, abs(y_high)):  # a flat curve: a band about it
            pad = max(1e-6, 0.05 * abs(y_high))
            y_low, y_high = y_low - pad, y_high + pad
        if x_high <= x_low:
            x_high = x_low + 1.0
        wanted = (x_low, x_high, y_low, y_high)
        if wanted != self._range:
            self._range = wanted
            self.getPlotItem().setRange(xRange=wanted[:2], yRange=wanted[2:], padding=0.05)
