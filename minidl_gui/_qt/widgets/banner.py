"""A non-modal banner across the top of the plots: it never blocks a live lecture.

It never resizes the window: its text is capped in length and its label takes whatever width
the window gives it. It may offer a way out as buttons (e.g. "Reset with lr ÷ 10").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy

MAX_CHARS = 600  # a few lines; a message longer than that is cut, never the window widened


COLOURS = {"alarm": ("#fde2e1", "#c0392b", "#7b1d12"), "notice": ("#fff1d0", "#d08f00", "#5c3d00")}


class Banner(QFrame):
    def __init__(self, parent=None, name: str = "divergenceBanner", colours: str = "alarm") -> None:
        """`colours`: "alarm" (a divergence, an error) or "notice" (a state chosen on purpose)."""
        super().__init__(parent)
        self.setObjectName(name)
        background, border, text = COLOURS[colours]
        self.setStyleSheet(
            f"#{name} {{ background: {background}; border: 2px solid {border}; border-radius: 6px; }}"
            f"#{name} QLabel {{ color: {text}; font-weight: 600; }}"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setObjectName("bannerDismissButton")
        self.dismiss.clicked.connect(self.hide)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(12, 8, 12, 8)
        self._layout.addWidget(self.label, 1)
        self._layout.addWidget(self.dismiss)
        self.action_buttons: list[QPushButton] = []
        self.hide()

    def show_message(self, text: str, actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        if len(text) > MAX_CHARS:
            text = text[: MAX_CHARS - 1] + "…"
        self.label.setText(text)
        for button in self.action_buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self.action_buttons = []
        for i, (caption, callback) in enumerate(actions):
            button = QPushButton(caption)
            button.setObjectName(f"bannerAction{i}")
            button.clicked.connect(callback)
            self._layout.insertWidget(1 + i, button)
            self.action_buttons.append(button)
        self.show()
