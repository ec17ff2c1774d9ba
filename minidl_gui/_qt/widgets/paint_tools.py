"""Your own points: paint them on the decision-boundary plot (P), erase them (E), clear them, and
the share of them kept for testing. Training goes on, live, on the edited points."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGridLayout, QGroupBox, QLabel

from minidl.data import TEST_SHARE
from minidl_gui._qt.widgets.fields import Field, control_button


class PaintTools(QGroupBox):
    mode_changed = Signal(object)  # "paint", "erase" or None
    clear_requested = Signal()
    test_share_changed = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__("Your points", parent)
        self.paint_button = control_button(
            "paintButton",
            "Paint (P)",
            "Paint points on the plot: left button class 1 (red), right button class 0 (blue); drag for a trail",
        )
        self.erase_button = control_button(
            "eraseButton", "Erase (E)", "Erase the points under the pointer: click or drag on the plot"
        )
        for button in (self.paint_button, self.erase_button):
            button.setCheckable(True)
            button.toggled.connect(self._toggled)
        self.clear_button = control_button(
            "clearPointsButton", "Clear all", "Remove every point, to paint a data set of your own"
        )
        self.clear_button.clicked.connect(self.clear_requested)
        self.test_share = Field(TEST_SHARE)
        self.test_share.set_value(TEST_SHARE.default)
        self.test_share.edited.connect(lambda value: self.test_share_changed.emit(float(value)))
        self.state = QLabel()
        self.state.setObjectName("pointsLabel")
        self.state.setWordWrap(True)
        buttons = QGridLayout()
        buttons.addWidget(self.paint_button, 0, 0)
        buttons.addWidget(self.erase_button, 0, 1)
        buttons.addWidget(self.clear_button, 1, 0)
        form = QFormLayout(self)
        form.addRow(buttons)
        form.addRow("Test share", self.test_share)
        form.addRow(self.state)

    def mode(self) -> str | None:
        return "paint" if self.paint_button.isChecked() else "erase" if self.erase_button.isChecked() else None

    def set_mode(self, mode: str | None) -> None:
        """Paint, erase or neither (the two buttons are exclusive; a second press turns off)."""
        self.paint_button.setChecked(mode == "paint")
        self.erase_button.setChecked(mode == "erase")

    def toggle(self, mode: str) -> None:
        self.set_mode(None if self.mode() == mode else mode)

    def _toggled(self, checked: bool) -> None:
        if checked:  # the other one off
            other = self.erase_button if self.sender() is self.paint_button else self.paint_button
            other.blockSignals(True)
            other.setChecked(False)
            other.blockSignals(False)
        self.mode_changed.emit(self.mode())

    def show_counts(self, train: int, test: int, drawn: bool) -> None:
        what = "painted or imported" if drawn else "from the data set"
        self.state.setText(f"{train:,} train and {test:,} test points, {what}")
