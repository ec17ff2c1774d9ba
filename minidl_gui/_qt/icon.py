"""The app icon, painted in code: a disk-shaped decision boundary on the heatmap's colours."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QRadialGradient


def icon_pixmap(size: int = 256) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    center = QPointF(size / 2, size / 2)
    gradient = QRadialGradient(center, size * 0.62)
    gradient.setColorAt(0.0, QColor("#b2182b"))
    gradient.setColorAt(0.55, QColor("#f7f7f7"))
    gradient.setColorAt(1.0, QColor("#2166ac"))
    painter.setBrush(gradient)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(QRectF(0, 0, size, size), size * 0.18, size * 0.18)
    pen = QPen(QColor("#111111"), size * 0.035, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    radius = size * 0.32
    painter.drawEllipse(center, radius, radius)
    painter.end()
    return pixmap


def app_icon() -> QIcon:
    return QIcon(icon_pixmap())
