"""Layer health: the gradient norm of every Linear layer over the epochs (log scale), and beside it
the fraction of saturated (Tanh, Sigmoid) or dead (ReLU-like) units of every activation layer.

Put 8 Sigmoid layers beside 8 ReLU layers and the gradient of the first layers vanishes here.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from minidl.registry import LAYERS
from minidl.spec import Spec
from minidl.train import health_kind
from minidl_gui._qt.widgets.plot_style import TEXT, Plot, style_plot
from minidl_gui.components.look import Look
from minidl_gui.components.probe import columns

KIND_COLORS = {"saturated": "#d95f02", "dead": "#7570b3"}  # the bars: stuck near an asymptote, or never positive
LABELS = {  # title, x, y: short enough for a 1024-pixel screen
    "gradients": ("Gradient norms", "epoch", "‖∇W‖ (log)"),
    "bars": ("Saturated / dead", "activation layer", "% of units"),
}
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#1f78b4")


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
        self.legend = plot.addLegend(offset=(-4, 4), labelTextColor=TEXT, labelTextSize="9pt", colCount=3)
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
        layout.addWidget(self.gradients, 3)
        layout.addWidget(self.bars, 2)
        self.curves: list[pg.PlotDataItem] = []
        self._spec: Spec | None = None
        self._drawn = None
        self.look = Look()

    def apply_look(self, look: Look) -> None:
        self.look = look
        for widget, labels in ((self.gradients, LABELS["gradients"]), (self.bars, LABELS["bars"])):
            widget.setBackground(look.background)
            style_plot(widget.getPlotItem(), *labels, look)
        self.legend.setLabelTextColor(look.text)  # readable in the dark theme too
        self.legend.setBrush(pg.mkBrush(look.background + "c0"))  # and over the curves it covers
        for i, curve in enumerate(self.curves):
            curve.setPen(pg.mkPen(PALETTE[i % len(PALETTE)], width=look.line(2.5)))

    def set_spec(self, spec: Spec) -> None:
        """Name the curves and bars after `spec`'s layers (when its shape changes)."""
        if self._spec is not None and spec.layers == self._spec.layers:
            return
        self._spec = spec
        plot = self.gradients.getPlotItem()
        for curve in self.curves:
            plot.removeItem(curve)
            self.legend.removeItem(curve)
        linear_columns = columns(spec)[1:]
        self.curves = [
            plot.plot(
                name=column.title.split(" (")[0], pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=self.look.line(2.5))
            )
            for i, column in enumerate(linear_columns)
        ]
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
