"""Layer health: the gradient norm of every Linear layer over the epochs (log scale), and beside it
the fraction of saturated (Tanh, Sigmoid) or dead (ReLU-like) units of every activation layer.

Put 8 Sigmoid layers beside 8 ReLU layers and the gradient of the first layers vanishes here.

The curves' legend is a label beside the plot, outside its data area: it never covers a curve.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from minidl.registry import LAYERS
from minidl.spec import Spec
from minidl.train import health_kind
from minidl_gui._qt.widgets.plot_style import Plot, least_height, style_plot
from minidl_gui.components.look import Look
from minidl_gui.components.probe import columns

KIND_COLORS = {"saturated": "#d95f02", "dead": "#7570b3"}  # the bars: stuck near an asymptote, or never positive
LABELS = {  # title, x, y: short enough for a 1024-pixel screen
    "gradients": ("Gradient norms", "epoch", "‖∇W‖ (log)"),
    "bars": ("Saturated / dead", "activation layer", "% of units"),
}
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#1f78b4")
LEGEND_PT = 10  # the legend's font size in points, before the look's zoom


class HealthView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("healthView")
        self.gradients = Plot()
        self.gradients.setObjectName("gradientPlot")
        self.gradients.setBackground("w")
        plot = self.gradients.getPlotItem()
        style_plot(plot, *LABELS["gradients"])
        plot.setLogMode(y=True)
        plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = QLabel()  # beside the plot, not over its curves
        self.legend.setObjectName("gradientLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.curve_names: list[str] = []
        self.bars = Plot()
        self.bars.setObjectName("healthBars")
        self.bars.setBackground("w")
        bar_plot = self.bars.getPlotItem()
        style_plot(bar_plot, *LABELS["bars"])
        bar_plot.setYRange(0, 100, padding=0.02)
        bar_plot.setMouseEnabled(x=False, y=False)
        self.bar_item = pg.BarGraphItem(x=[], height=[], width=0.6, brush=KIND_COLORS["saturated"])
        bar_plot.addItem(self.bar_item)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.gradients, 3)
        layout.addWidget(self.legend)
        layout.addSpacing(6)
        layout.addWidget(self.bars, 2)
        self.curves: list[pg.PlotDataItem] = []
        self._spec: Spec | None = None
        self._drawn = None
        self.look = Look()
        self._show_legend()

    def apply_look(self, look: Look) -> None:
        self.look = look
        for widget, labels in ((self.gradients, LABELS["gradients"]), (self.bars, LABELS["bars"])):
            widget.setBackground(look.background)
            style_plot(widget.getPlotItem(), *labels, look)
        self.legend.setStyleSheet(  # on the plot's background, as if part of it
            f"QLabel {{ background: {look.background}; color: {look.text}; font-size: {look.pt(LEGEND_PT)}pt;"
            f" padding: 0 {round(6 * look.zoom)}px; }}"
        )
        for i, curve in enumerate(self.curves):
            curve.setPen(pg.mkPen(PALETTE[i % len(PALETTE)], width=look.line(2.5)))
        self._show_legend()

    def legend_rows(self) -> int:
        """Names a column of the legend holds: as many as the plot's least height has room for, so
        that the legend never makes the view taller than its plots need."""
        font = QFont()
        font.setPointSizeF(self.look.pt(LEGEND_PT))
        return max(1, (least_height(self.gradients) - 8) // QFontMetrics(font).lineSpacing())

    def _show_legend(self) -> None:
        """The curves' names in their colours, in as few columns as the plot's height allows."""
        entries = [
            f"<span style='color:{PALETTE[i % len(PALETTE)]}; font-weight:700'>━</span>&nbsp;{html.escape(name)}"
            for i, name in enumerate(self.curve_names)
        ]
        rows = math.ceil(len(entries) / math.ceil(len(entries) / self.legend_rows())) if entries else 1  # even
        columns = [entries[start : start + rows] for start in range(0, len(entries), rows)]
        cells = "".join(f"<td style='padding-right:8px'>{'<br>'.join(column)}</td>" for column in columns)
        self.legend.setText(f"<table cellspacing='0'><tr>{cells}</tr></table>" if entries else "")
        self.legend.setVisible(bool(entries))

    def set_spec(self, spec: Spec) -> None:
        """Name the curves and bars after `spec`'s layers (when its shape changes)."""
        if self._spec is not None and spec.layers == self._spec.layers:
            return
        self._spec = spec
        plot = self.gradients.getPlotItem()
        for curve in self.curves:
            plot.removeItem(curve)
        self.curve_names = [column.title.split(" (")[0] for column in columns(spec)[1:]]
        self.curves = [
            plot.plot(name=name, pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=self.look.line(2.5)))
            for i, name in enumerate(self.curve_names)
        ]
        self._show_legend()
        names, brushes = [], []
        for i, layer in enumerate(spec.layers):
            kind = health_kind(LAYERS[layer.type].build)
            if kind:
                names.append(f"{i}: {layer.type}, {kind}")
                brushes.append(pg.mkBrush(KIND_COLORS[kind]))
        self.bar_names = names
        ticks = [(k, name.split(":")[0]) for k, name in enumerate(names)]  # the index; the rest in the tooltip
        self.bars.getPlotItem().getAxis("bottom").setTicks([ticks])
        self.bars.setToolTip("\n".join(names) + "\n\norange: saturated (Tanh, Sigmoid) · purple: dead (ReLU-like)")
        self.bars.getPlotItem().setXRange(-0.6, max(len(names), 1) - 0.4, padding=0)
        self.bar_item.setOpts(x=np.arange(len(names)), height=np.zeros(len(names)), brushes=brushes)

    def set_history(self, history: dict[str, np.ndarray]) -> None:
        """Draw the records (the same arrays as the metric plots' history)."""
        if history is self._drawn:
            return
        self._drawn = history
        epochs, norms, health = history["epoch"], history["grad_norms"], history["health"]
        for i, curve in enumerate(self.curves):
            if norms.ndim == 2 and i < norms.shape[1]:
                curve.setData(epochs, np.maximum(norms[:, i], 1e-12))
            else:
                curve.setData([], [])
        if health.ndim == 2 and len(health) and health.shape[1] == len(self.bar_names):
            self.bar_item.setOpts(x=np.arange(health.shape[1]), height=100.0 * np.nan_to_num(health[-1]))
