"""The network diagram: inputs, every hidden neuron and the outputs as columns, each neuron with a
thumbnail of its value over [0,1]^2, every connection coloured by the sign of its weight and as
wide as its magnitude. Hover a neuron (or click to keep it) to see its map large in the decision
boundary plot; hover a connection for its weight, a neuron for its bias; − / + change a hidden
layer's units (the same edit as the side panel's).

The diagram is drawn into a pixmap when a new look inside arrives (a few times a second) and
blitted in between. Up to 32 neurons a column every neuron carries its map; above that they are
drawn as dots. At most `MAX_CONNECTIONS` connections are drawn between two columns: the
strongest, as a caption says.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolButton, QToolTip, QWidget

from minidl.spec import Spec
from minidl_gui._qt.widgets.settings_group import weak_request
from minidl_gui.components.backprop_views import LINK_MODES, BackpropPicture
from minidl_gui.components.look import Look
from minidl_gui.components.probe import Probe

POSITIVE, NEGATIVE = QColor("#b2182b"), QColor("#2166ac")  # the heatmap's red and blue
MAX_CONNECTIONS = 400
MAX_MAPS = 32  # neurons a column drawn with their map; more are drawn as dots
WIDTH_STEPS = 6


def _dot(color: QColor, diameter: float) -> QPen:
    return QPen(color, diameter, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)


def _polygon(points: np.ndarray):
    polygon = pg.functions.create_qpolygonf(len(points))
    if len(points):
        pg.functions.ndarray_from_qpolygonf(polygon)[:] = points
    return polygon


def _tint(color: QColor, strength: float, background: QColor) -> QColor:
    """`color` mixed with the background: `strength` 1 is the color, 0 the background (opaque, unlike
    an alpha)."""
    mix = zip(
        (color.redF(), color.greenF(), color.blueF()), (background.redF(), background.greenF(), background.blueF())
    )
    return QColor.fromRgbF(*(b + strength * (c - b) for c, b in mix))


def _same_shapes(arrays: list[np.ndarray], like: list[np.ndarray]) -> bool:
    return len(arrays) == len(like) and all(a.shape == b.shape for a, b in zip(arrays, like))


def shown_values(
    probe: Probe, picture: BackpropPicture | None, link_mode: str
) -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """The links' and the maps' values in `link_mode` (the picture's where it fits the probe's
    network, the weights and values otherwise), and the caption that says which."""
    if link_mode == "weight" or picture is None or picture.link_mode != link_mode:
        waiting = "" if link_mode == "weight" else " (waiting for the gradients)"
        return probe.weights, probe.maps, f"links: {LINK_MODES['weight']}; maps: each neuron's value{waiting}"
    links = picture.links if picture.links is not None else probe.weights
    maps = picture.deltas if picture.deltas is not None else probe.maps
    if not (_same_shapes(links, probe.weights) and _same_shapes(maps, probe.maps)):  # another network's
        return probe.weights, probe.maps, f"links: {LINK_MODES['weight']} (waiting for the gradients)"
    text = f"links: {LINK_MODES[link_mode]}; maps: δ = ∂L/∂z over the plane"
    if picture.links is None:
        text = f"links: weight w ({picture.note}); maps: δ = ∂L/∂z"
    return links, maps, text


def paint_marks(painter: QPainter, rects, boxes, column: int | None, checked: tuple | None) -> None:
    """Frame the `column` a backprop step computes, and mark the `checked` weight or bias."""
    if column is not None and 0 <= column < len(rects) and rects[column]:
        band = rects[column][0].united(rects[column][-1]).adjusted(-6, -6, 6, 6)
        painter.setPen(QPen(QColor("#e6007e"), 3, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(band, 6, 6)
    if checked is not None and checked[0] == "weight":
        _, pair, out, into = checked
        if pair + 1 < len(boxes) and out < len(boxes[pair + 1]) and into < len(boxes[pair]):
            left, right = boxes[pair][into], boxes[pair + 1][out]
            painter.setPen(QPen(QColor("#f0a000"), 5))
            painter.drawLine(
                QPointF(left[0] + left[2], left[1] + left[3] / 2), QPointF(right[0], right[1] + right[3] / 2)
            )
    elif checked is not None and checked[0] == "bias":
        _, column, unit = checked
        if column < len(rects) and unit < len(rects[column]):
            painter.setPen(QPen(QColor("#f0a000"), 3, Qt.PenStyle.DotLine))
            painter.drawEllipse(rects[column][unit].adjusted(-5, -5, 5, 5))


class NetworkView(QWidget):
    neuron_hovered = Signal(object)  # (column, unit) or None: show that neuron's map, or the boundary again
    neuron_clicked = Signal(object)  # (column, unit): keep it shown until a second click
    connection_clicked = Signal(object)  # (pair, out unit, in unit): check that weight's gradient

    def __init__(self, lut: np.ndarray, change_units: Callable[[int, int], str], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("networkView")
        self.setMouseTracking(True)
        self.setMinimumSize(320, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._lut = lut
        self._change_units = weak_request(change_units)  # (Linear layer index, delta) -> '' or why not
        self.probe: Probe | None = None
        self.spec: Spec | None = None
        self._pixmap: QPixmap | None = None
        self._rects: list[list[QRectF]] = []  # per column, per neuron
        self._boxes: list[np.ndarray] = []  # per column: (units, 4) x, y, width, height
        self._centres: list[np.ndarray] = []  # per column: (units, 2)
        self._lines: list[tuple[np.ndarray, np.ndarray]] = []  # per pair: (segments (k, 4), (out, in) indices)
        self._hovered: tuple[int, int] | None = None
        self.pinned: tuple[int, int] | None = None
        self._buttons: list[tuple[QToolButton, QToolButton]] = []
        self._caption = ""
        self._dirty = True  # the picture is drawn again at the next paint (or when asked for)
        self.problem = ""  # why the last look inside could not be computed (training goes on)
        self.look = Look()
        self._step = 1.0  # pixels between two columns
        self._signs = {True: POSITIVE, False: NEGATIVE}
        self.backprop: BackpropPicture | None = None  # gradients or updates for the links, δ for the maps
        self.link_mode = "weight"
        self.highlight: int | None = None  # the column the backprop view's step computes
        self.checked: tuple | None = None  # ("weight", pair, out, in) or ("bias", column, unit) being checked

    def apply_look(self, look: Look, lut: np.ndarray) -> None:
        """Colours of `look` (and its colormap's `lut`, the big heatmap's); drawn again."""
        self.look, self._lut = look, lut
        # a weight's sign in the colormap's own ends (red/blue, or blue/yellow when colour-blind safe)
        self._signs = {True: QColor(*(int(v) for v in lut[235][:3])), False: QColor(*(int(v) for v in lut[20][:3]))}
        self._invalidate()
        self.update()

    # ---- data --------------------------------------------------------------------------------------
    def set_probe(self, probe: Probe | None, spec: Spec) -> None:
        if probe is self.probe and spec == self.spec:
            return
        shape_changed = self.spec is None or spec.layers != self.spec.layers
        self.probe, self.spec = probe, spec
        if shape_changed:
            self._make_buttons()
        self._invalidate()
        self.update()

    def set_link_mode(self, mode: str) -> None:
        """What the links (and maps) show: "weight" (w, and each neuron's value), "gradient" (∂L/∂w
        of the last step, and δ), or "update" (the last Δw, and δ)."""
        if mode != self.link_mode:
            self.link_mode = mode
            self._invalidate()
            self.update()

    def set_backprop(self, picture: BackpropPicture | None) -> None:
        """The gradients, updates and δ maps to draw in a mode other than "weight"."""
        if picture is not self.backprop:
            self.backprop = picture
            if self.link_mode != "weight":
                self._invalidate()
                self.update()

    def set_highlight(self, column: int | None) -> None:
        """Frame the column (and the links into it) that a backprop step computes; None: none."""
        if column != self.highlight:
            self.highlight = column
            self.update()

    def set_checked(self, checked: tuple | None) -> None:
        if checked != self.checked:
            self.checked = checked
            self.update()

    def _shown_values(self) -> tuple[list[np.ndarray], list[np.ndarray], str]:
        """The links' and the maps' values in the current mode, and the caption that says which."""
        return shown_values(self.probe, self.backprop, self.link_mode)

    def _make_buttons(self) -> None:
        for minus, plus in self._buttons:
            minus.deleteLater()
            plus.deleteLater()
        self._buttons = []
        if self.probe is None:
            return
        for index, column in enumerate(self.probe.columns[1:-1], start=1):
            pair = []
            for sign, text in ((-1, "−"), (1, "+")):
                button = QToolButton(self)
                button.setText(text)
                button.setObjectName(f"units{'Minus' if sign < 0 else 'Plus'}{index}")
                button.setToolTip(f"{'One unit less' if sign < 0 else 'One unit more'} in {column.title}")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.clicked.connect(lambda _=False, c=index, d=sign: self.change_units(c, d))
                button.show()
                pair.append(button)
            self._buttons.append((pair[0], pair[1]))

    def change_units(self, column: int, delta: int) -> bool:
        """Add `delta` units to the Linear layer of hidden `column`: the side panel's edit, validated alike."""
        change = self._change_units()
        if change is None or self.probe is None:
            return False
        problem = change(self.probe.columns[column].linear, delta)
        if problem:
            QToolTip.showText(self.mapToGlobal(self.rect().center()), problem, self)
        return not problem

    # ---- geometry and drawing ----------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        self._invalidate()
        super().resizeEvent(event)

    def _layout(self) -> None:
        probe = self.probe
        self._rects, self._boxes, self._centres = [], [], []
        if probe is None:
            return
        count = len(probe.maps)
        width, height = self.width(), self.height()
        line = self.fontMetrics().height()  # titles, buttons and caption grow with the interface's scale
        button = round(line * 1.2)
        top, bottom = line + button + 6.0, line + 4.0
        step = self._step = width / count
        for c, maps in enumerate(probe.maps):
            units = len(maps)
            size = min(48.0, (height - top - bottom) / max(units, 1) * 0.8, step * 0.45)
            size = max(size, 3.0)
            gap = (height - top - bottom - units * size) / max(units, 1)
            x = step * (c + 0.5) - size / 2
            ys = top + gap / 2 + np.arange(units) * (size + gap)
            boxes = np.column_stack([np.full(units, x), ys, np.full(units, size), np.full(units, size)])
            self._boxes.append(boxes)
            self._centres.append(boxes[:, :2] + size / 2)
            self._rects.append([QRectF(*box) for box in boxes.tolist()])
        for c, (minus, plus) in enumerate(self._buttons, start=1):
            center = step * (c + 0.5)
            minus.setGeometry(int(center - button - 1), line + 2, button, button)
            plus.setGeometry(int(center + 1), line + 2, button, button)

    def _invalidate(self) -> None:
        """Lay out now (the pointer and the buttons need it), draw at the next paint: a new look
        inside and its gradients arriving together are drawn once."""
        self._layout()
        self._dirty = True
        self.update()

    def _fresh(self) -> None:
        if self._dirty:
            self._render()

    @property
    def caption(self) -> str:
        """What the diagram says under it (the link mode, connections left out)."""
        self._fresh()
        return self._caption

    def _render(self) -> None:
        self._dirty = False
        self._layout()
        if self.width() < 2 or self.height() < 2:
            return
        ratio = self.devicePixelRatioF()
        image = QImage(
            round(self.width() * ratio), round(self.height() * ratio), QImage.Format.Format_ARGB32_Premultiplied
        )
        image.setDevicePixelRatio(ratio)
        image.fill(QColor(self.look.background))
        painter = QPainter(image)
        try:
            self._paint_diagram(painter)
        finally:
            painter.end()
        self._pixmap = QPixmap.fromImage(image)

    def _paint_diagram(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._lines = []
        captions = []
        probe = self.probe
        if probe is None:
            painter.setPen(QColor(self.look.text))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Press Play or Step to look inside")
        else:
            links, shown_maps, mode_caption = self._shown_values()
            if self.link_mode != "weight":  # the usual picture needs no caption
                captions.append(mode_caption)
            for c, weights in enumerate(links):
                weights = np.nan_to_num(weights, nan=0.0, posinf=0.0, neginf=0.0)
                shown = self._draw_connections(painter, c, weights)
                if shown < weights.size:
                    captions.append(f"{probe.columns[c + 1].title}: the {shown} strongest of {weights.size}")
            font = QFont(self.font())
            font.setPointSizeF(max(8.0, font.pointSizeF() * 0.85))
            painter.setFont(font)
            for index, (column, maps, rects) in enumerate(zip(probe.columns, shown_maps, self._rects)):
                maps = np.nan_to_num(maps, nan=0.5)  # a diverged network: neutral, not garbage
                painter.setPen(QColor(self.look.text))
                line, step = self.fontMetrics().height(), self._step
                title_rect = QRectF(rects[0].center().x() - step / 2, 1, step, line) if rects else QRectF()
                painter.drawText(title_rect, Qt.AlignmentFlag.AlignCenter, f"{column.title}: {len(maps)}")
                with_maps = len(maps) <= MAX_MAPS and rects and rects[0].width() >= 8
                if with_maps:  # every map of the column through the colormap at once
                    rgba = np.ascontiguousarray(
                        self._lut[np.clip(maps[:, ::-1] * 255.0 + 0.5, 0, 255).astype(np.uint8)]
                    )
                if with_maps:
                    rows, columns = rgba.shape[1:3]
                    painter.setPen(QPen(QColor("#333333"), 1))
                    for unit, rect in enumerate(rects):
                        image = QImage(rgba[unit].data, columns, rows, 4 * columns, QImage.Format.Format_RGBA8888)
                        painter.drawImage(rect, image)
                        painter.drawRect(rect)
                elif rects:  # dots coloured by the neuron's mean value, a colour's dots in one call
                    levels = np.clip(maps.mean((1, 2)) * 255.0 + 0.5, 0, 255).astype(np.uint8) // 8 * 8
                    centres = self._centres[index]
                    diameter = max(2.0, rects[0].width())
                    for level in np.unique(levels):
                        painter.setPen(_dot(QColor(*(int(c) for c in self._lut[level][:3])), diameter))
                        painter.drawPoints(_polygon(centres[levels == level]))
        self._caption = "; ".join(captions)
        if self._caption:
            painter.setPen(QColor(self.look.text))
            line = self.fontMetrics().height()
            painter.drawText(
                QRectF(4, self.height() - line - 2, self.width() - 8, line),
                Qt.AlignmentFlag.AlignLeft,
                self._caption,
            )

    def _draw_connections(self, painter: QPainter, c: int, weights: np.ndarray) -> int:
        """Draw the strongest connections from column c to c+1, grouped into a few paths."""
        left, right = self._rects[c], self._rects[c + 1]
        if not left or not right:
            self._lines.append((np.zeros((0, 4)), np.zeros((0, 2), dtype=int)))
            return 0
        magnitude = np.abs(weights)
        flat = magnitude.reshape(-1)
        if flat.size > MAX_CONNECTIONS:  # the strongest, found in linear time
            order = np.argpartition(flat, flat.size - MAX_CONNECTIONS)[-MAX_CONNECTIONS:]
        else:
            order = np.arange(flat.size)
        outs, ins = np.unravel_index(order, weights.shape)
        start = np.column_stack([self._boxes[c][:, 0] + self._boxes[c][:, 2], self._centres[c][:, 1]])[ins]
        end = np.column_stack([self._boxes[c + 1][:, 0], self._centres[c + 1][:, 1]])[outs]
        segments = np.hstack([start, end])
        self._lines.append((segments, np.stack([outs, ins], 1)))
        drawn = magnitude[outs, ins]
        peak = max(float(drawn.max()), 1e-12)
        floor = float(drawn.min()) if len(order) < flat.size else 0.0  # only the strongest: spread them out
        strength = (drawn - floor) / max(peak - floor, 1e-12)
        steps = np.minimum((strength * WIDTH_STEPS).astype(int), WIDTH_STEPS - 1)
        positive = weights[outs, ins] > 0
        # Opaque tints, weakest first, without antialiasing: translucent or antialiased lines cost
        # the raster engine 10 to 100 times more, and this is drawn with the interpreter lock held.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for step in range(WIDTH_STEPS):
            strength = (step + 1) / WIDTH_STEPS
            for sign, color in self._signs.items():
                chosen = segments[(positive == sign) & (steps == step)]
                if len(chosen):  # the strong stand out: width grows with the square of the strength
                    tint = _tint(color, 0.12 + 0.88 * strength, QColor(self.look.background))
                    painter.setPen(QPen(tint, self.look.line(0.4 + 3.6 * strength**2)))
                    painter.drawLines([QLineF(*row) for row in chosen.tolist()])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        return len(order)

    def show_problem(self, text: str) -> None:
        """Say over the diagram why it could not be renewed ('' clears it)."""
        if text != self.problem:
            self.problem = text
            self.update()

    def paintEvent(self, event) -> None:
        self._fresh()
        painter = QPainter(self)
        if self._pixmap is not None:
            painter.drawPixmap(0, 0, self._pixmap)
        if self.problem:
            painter.setPen(QColor("#c0392b"))
            line = self.fontMetrics().height()
            painter.drawText(QRectF(4, 2, self.width() - 8, 2 * line), Qt.TextFlag.TextWordWrap, self.problem)
        self._paint_marks(painter)
        shown = self.pinned or self._hovered
        if shown is not None and shown[0] < len(self._rects) and shown[1] < len(self._rects[shown[0]]):
            painter.setPen(QPen(QColor("#f0a000"), 3))
            painter.drawRect(self._rects[shown[0]][shown[1]].adjusted(-2, -2, 2, 2))
        painter.end()

    def _paint_marks(self, painter: QPainter) -> None:
        """The backprop step's column, and the weight or bias whose gradient is checked."""
        paint_marks(painter, self._rects, self._boxes, self.highlight, self.checked)

    # ---- the pointer -------------------------------------------------------------------------------
    def neuron_at(self, point: QPointF) -> tuple[int, int] | None:
        for c, rects in enumerate(self._rects):
            for unit, rect in enumerate(rects):
                if rect.adjusted(-2, -2, 2, 2).contains(point):
                    return c, unit
        return None

    def connection_at(self, point: QPointF) -> tuple[int, int, int] | None:
        """(pair, out, in) of the connection within 3 pixels of `point`, or None."""
        self._fresh()
        best, found = 3.0, None
        for c, (segments, indices) in enumerate(self._lines):
            if not len(segments) or not segments[0, 0] <= point.x() <= segments[0, 2]:
                continue
            x0, y0, x1, y1 = segments.T
            t = np.clip((point.x() - x0) / np.maximum(x1 - x0, 1e-9), 0, 1)
            distance = np.abs(y0 + t * (y1 - y0) - point.y())
            k = int(np.argmin(distance))
            if distance[k] < best:
                best, found = float(distance[k]), (c, int(indices[k, 0]), int(indices[k, 1]))
        return found

    def mouseMoveEvent(self, event) -> None:
        point = event.position()
        neuron = self.neuron_at(point)
        probe = self.probe
        if neuron is not None and probe is not None:
            c, unit = neuron
            text = f"{probe.columns[c].title}, unit {unit + 1}"
            if c > 0:
                text += f": bias {probe.biases[c - 1][unit]:.4g}"
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        elif probe is not None and (hit := self.connection_at(point)) is not None:
            c, out, into = hit
            weight = probe.weights[c][out, into]
            source, target = probe.columns[c].title, probe.columns[c + 1].title
            text = f"weight {weight:.4g}: {source} unit {into + 1} → {target} unit {out + 1}"
            links = self._shown_values()[0]
            if links is not probe.weights:
                text += f"\n{LINK_MODES[self.link_mode]}: {links[c][out, into]:.4g}"
            text += "\nclick: check its gradient"
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        if neuron != self._hovered:
            self._hovered = neuron
            if self.pinned is None:
                self.neuron_hovered.emit(neuron)
            self.update()

    def leaveEvent(self, event) -> None:
        if self._hovered is not None:
            self._hovered = None
            if self.pinned is None:
                self.neuron_hovered.emit(None)
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        neuron = self.neuron_at(event.position())
        if neuron is not None:
            self.neuron_clicked.emit(neuron)
        elif (hit := self.connection_at(event.position())) is not None:
            self.connection_clicked.emit(hit)

    def show_pinned(self, neuron: tuple[int, int] | None) -> None:
        self.pinned = neuron
        self.update()

    def connection_count(self, pair: int) -> int:
        """Connections drawn between column `pair` and the next (for tests)."""
        self._fresh()
        return len(self._lines[pair][0]) if pair < len(self._lines) else 0

    def neuron_rect(self, column: int, unit: int) -> QRectF:
        """Where a neuron is drawn (its map, or its dot), in the widget's coordinates."""
        return QRectF(self._rects[column][unit])

    def drawn_connections(self, pair: int) -> np.ndarray:
        """The connections drawn between column `pair` and the next, `(k, 2)` (out unit, in unit)."""
        self._fresh()
        return self._lines[pair][1].copy() if pair < len(self._lines) else np.zeros((0, 2), dtype=int)

    def picture(self) -> QImage | None:
        """The diagram as last rendered (hover rings and the pinned neuron's frame aside)."""
        self._fresh()
        return self._pixmap.toImage() if self._pixmap is not None else None

    def unit_buttons(self) -> list[QToolButton]:
        """The − / + buttons of the hidden layers, left to right."""
        return [button for pair in self._buttons for button in pair]

    def neuron_counts(self) -> list[int]:
        return [len(rects) for rects in self._rects]
