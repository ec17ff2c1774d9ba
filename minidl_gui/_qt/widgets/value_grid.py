"""A vector or a matrix of one backprop step, as a grid of cells coloured about zero.

Small arrays (at most `NUMBERS_UP_TO` per side) are written out, one number per cell, so a class
can follow z = W·x + b by hand; larger ones become a heat strip (a vector) or a heat grid (a
matrix) that stays a few lines tall, each value in its cell's tooltip. The grid computes nothing:
it shows the array it is given, coloured by the app's diverging colormap.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from minidl_gui.components.backprop_views import NUMBERS_UP_TO
from minidl_gui.components.look import Look

NEUTRAL = "#9a9a9a"  # a NaN's cell: neither side of zero
HEAT_HEIGHT = 150  # pixels a heat grid of many rows stays within
HEAT_CELL = (3, 24)  # a heat cell's width in pixels, at least and at most
NUMBER_PT = 12  # the numbers' size, before the look's zoom


def number(value: float, digits: int = 4) -> str:
    """`value` to `digits` significant digits, with a true minus sign (readable from the back)."""
    return format(value, f".{digits}g").replace("-", "−")


def default_lut(look: Look) -> np.ndarray:
    """The lookup table the decision boundary uses for `look` (its colormap, 256 RGBA rows)."""
    return pg.colormap.get(look.colormap).getLookupTable(nPts=256, alpha=True)


class ValueGrid(QWidget):
    """One array drawn as cells; `values` is exactly what it shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("valueGrid")
        self.values: np.ndarray = np.zeros(0)
        self.label = ""
        self.look = Look()
        self.lut = default_lut(self.look)
        self._table = np.zeros((0, 0))  # the values as rows × columns (a vector is one row)
        self._font = QFont()
        self._least_width = 0.0
        self._apply_font()

    # ---- what is shown -----------------------------------------------------------------------------
    def set_values(self, values: np.ndarray, label: str) -> None:
        """Show `values` (0-, 1- or 2-D) named `label` in the tooltips."""
        values = np.asarray(values)
        if values.ndim > 2:
            raise ValueError(f"ValueGrid shows a vector or a matrix, got shape {values.shape}")
        self.values, self.label = values, label
        self._table = values.reshape(1, -1) if values.ndim < 2 else values
        self._relayout()

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) as drawn: a vector is one row."""
        return self._table.shape  # type: ignore[return-value]

    @property
    def writes_numbers(self) -> bool:
        """Whether each cell carries its number (small arrays) or only its colour (a heat grid)."""
        rows, columns = self.shape
        return 0 < rows <= NUMBERS_UP_TO and 0 < columns <= NUMBERS_UP_TO

    def apply_look(self, look: Look, lut: np.ndarray) -> None:
        """Colours of `lut` (the app's colormap, index 128 ≈ zero) and sizes of `look`."""
        self.look, self.lut = look, np.asarray(lut)
        self._apply_font()
        self._relayout()

    def _apply_font(self) -> None:
        self._font = QFont(self.font())
        self._font.setPointSizeF(self.look.pt(NUMBER_PT))
        self._font.setStyleHint(QFont.StyleHint.SansSerif)
        self._metrics = QFontMetricsF(self._font)

    # ---- geometry ----------------------------------------------------------------------------------
    def _line(self) -> float:
        return math.ceil(self._metrics.height() + 4 * self.look.zoom)

    def natural_cell_width(self) -> float:
        """The width a number cell needs: the widest number shown, or a typical one if wider."""
        texts = [number(float(v)) for v in self._table.ravel()] + ["−0.0000"]
        return math.ceil(max(self._metrics.horizontalAdvance(t) for t in texts) + 10 * self.look.zoom)

    def set_least_cell_width(self, width: float) -> None:
        """Number cells at least `width` wide: the grids of one step line their columns up."""
        if width != self._least_width:
            self._least_width = width
            self._relayout()

    def cell_size(self) -> tuple[float, float]:
        """A cell's width and height in pixels, as drawn now."""
        rows, columns = self.shape
        if rows == 0 or columns == 0:
            return 0.0, 0.0
        line = self._line()
        if self.writes_numbers:
            return max(self.natural_cell_width(), self._least_width), line
        height = line if rows == 1 else min(line, HEAT_HEIGHT / rows)  # many rows: thin ones, within HEAT_HEIGHT
        widest = HEAT_CELL[1] if rows == 1 else min(HEAT_CELL[1], 4 * height)
        width = max(min(HEAT_CELL[0], self.width() / columns), min(widest, math.floor(self.width() / columns)))
        return width, height

    def _relayout(self) -> None:
        rows = self.shape[0]
        line = self._line()
        if self.writes_numbers:
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        else:
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        height = line if rows <= 1 else self.cell_size()[1] * rows
        self.setFixedHeight(int(height))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        rows, columns = self.shape
        if self.writes_numbers:
            width, height = self.cell_size()
            return QSize(int(width * columns) + 1, int(height * rows) + 1)
        height = self._line() if rows <= 1 else min(self._line(), HEAT_HEIGHT / rows)
        return QSize(int(columns * min(HEAT_CELL[1], 16)), int(height * max(rows, 1)))

    def minimumSizeHint(self) -> QSize:
        if self.writes_numbers:
            return self.sizeHint()
        return QSize(min(int(self.shape[1] * HEAT_CELL[0]), 600), self.sizeHint().height())

    def cell_rect(self, index: tuple[int, ...]) -> QRectF:
        """Where the cell of `index` (as in `values`) is drawn, in this widget's pixels."""
        row, column = (0, index[0]) if len(index) == 1 else index if index else (0, 0)
        width, height = self.cell_size()
        return QRectF(column * width, row * height, width, height)

    def value_at(self, position: QPointF) -> tuple[tuple[int, ...], float] | None:
        """The index (as in `values`) and the value of the cell under `position`, or None."""
        rows, columns = self.shape
        width, height = self.cell_size()
        if rows == 0 or columns == 0 or position.x() < 0 or position.y() < 0:
            return None
        row, column = int(position.y() // height), int(position.x() // width)
        if row >= rows or column >= columns:
            return None
        index = (row, column) if self.values.ndim == 2 else (column,) if self.values.ndim == 1 else ()
        return index, float(self._table[row, column])

    def tooltip_at(self, position: QPointF) -> str | None:
        """The tooltip of the cell under `position`: `label[i, j] = value`."""
        found = self.value_at(position)
        if found is None:
            return None
        index, value = found
        where = f"[{', '.join(str(i) for i in index)}]" if index else ""
        return f"{self.label}{where} = {number(value, 6)}"

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(QPointF(event.pos()))
            if text is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.update()  # heat cells follow the width

    # ---- painting ----------------------------------------------------------------------------------
    def colors(self) -> np.ndarray:
        """(rows, columns, 4) RGBA of the cells: the lut about zero, scaled to the largest |value|."""
        table = self._table.astype(np.float64, copy=False)
        finite = np.isfinite(table)
        peak = float(np.abs(table[finite]).max()) if finite.any() else 0.0
        scaled = np.clip(table / (peak if peak > 0 else 1.0), -1.0, 1.0)
        levels = np.rint(127.5 + 127.5 * np.nan_to_num(scaled, nan=0.0)).astype(np.int64)
        rgba = self.lut[np.clip(levels, 0, len(self.lut) - 1)].copy()
        rgba[np.isnan(table)] = QColor(NEUTRAL).getRgb()
        return rgba

    def paintEvent(self, event) -> None:
        rows, columns = self.shape
        if rows == 0 or columns == 0:
            return
        painter = QPainter(self)
        width, height = self.cell_size()
        gap = 1.0 if min(width, height) >= 10 else 0.0  # cells apart, unless too small to spare a pixel
        colors = self.colors()
        writes = self.writes_numbers
        if not writes:  # a heat grid: every cell at once, as one image scaled into place (1024² cells stay cheap)
            rgba = np.ascontiguousarray(colors.astype(np.uint8))
            image = QImage(rgba.data, columns, rows, 4 * columns, QImage.Format.Format_RGBA8888)
            painter.drawImage(QRectF(0, 0, columns * width, rows * height), image)
            painter.end()
            return
        painter.setFont(self._font)
        for r in range(rows):
            for c in range(columns):
                red, green, blue, alpha = (int(v) for v in colors[r, c])
                cell = QRectF(c * width, r * height, width - gap, height - gap)
                painter.fillRect(cell, QColor(red, green, blue, alpha))
                if writes:
                    dark = 0.299 * red + 0.587 * green + 0.114 * blue < 140
                    painter.setPen(QColor("#ffffff" if dark else "#111111"))
                    value = float(self._table[r, c])
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, number(value))
        painter.end()
