"""One look for every plot: dark text and large ticks, readable on a projector."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

TEXT = "#222222"


def style_plot(plot: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    plot.setTitle(title, size="16pt", color=TEXT)
    tick_font = QFont()
    tick_font.setPointSize(12)
    for name, label in (("bottom", x_label), ("left", y_label)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(TEXT))
        axis.setTextPen(pg.mkPen(TEXT))
        axis.setTickFont(tick_font)
        axis.enableAutoSIPrefix(False)
        plot.setLabel(name, label, **{"font-size": "13pt", "color": TEXT})
