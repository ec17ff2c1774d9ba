"""A `Look` applied to the whole application: its font (scaled) and its palette (light or dark).

Set on the QApplication, not on one window, so that menus, combo-box lists, tooltips and
dialogs (separate windows to Qt) follow it too.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from minidl_gui.components.look import Look

_base_point_size: float | None = None  # the application's font size before any look: scaled from it


def _dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, "#23272e"),
        (roles.WindowText, "#e8e8e8"),
        (roles.Base, "#1a1d22"),
        (roles.AlternateBase, "#2b3038"),
        (roles.ToolTipBase, "#2b3038"),
        (roles.ToolTipText, "#e8e8e8"),
        (roles.PlaceholderText, "#8a8f98"),
        (roles.Text, "#e8e8e8"),
        (roles.Button, "#2f343c"),
        (roles.ButtonText, "#e8e8e8"),
        (roles.BrightText, "#ff6b6b"),
        (roles.Light, "#3a404a"),
        (roles.Midlight, "#333842"),
        (roles.Mid, "#262a31"),
        (roles.Dark, "#16191d"),
        (roles.Shadow, "#000000"),
        (roles.Highlight, "#3d7fd9"),
        (roles.HighlightedText, "#ffffff"),
        (roles.Link, "#6fb1ff"),
    ):
        palette.setColor(role, QColor(color))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7b8089"))
    return palette


def apply_to_app(look: Look) -> None:
    """The application's font and palette for `look`."""
    global _base_point_size
    app = QApplication.instance()
    if app is None:
        return
    if _base_point_size is None:
        _base_point_size = app.font().pointSizeF()
    font = QFont(app.font())
    font.setPointSizeF(round(_base_point_size * look.zoom, 1))
    app.setFont(font)
    app.setPalette(_dark_palette() if look.theme == "dark" else app.style().standardPalette())
