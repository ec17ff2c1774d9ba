"""Learning rate: a log-scale slider and an exact numeric entry, kept in step, 1e-5 to 10."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QWidget

LR_MIN, LR_MAX = 1e-5, 10.0
TICKS_PER_DECADE = 100


class LearningRateSpin(QDoubleSpinBox):
    """Shows 3 significant digits (`0.001`, `2.5e-05`); arrow keys step by 10^(1/10)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("learningRateSpin")
        self.setDecimals(12)
        self.setRange(LR_MIN, LR_MAX)
        self.setKeyboardTracking(False)  # emit when the typing is done, not for "0.0" on the way
        self.setMinimumWidth(110)

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        if LR_MIN <= value <= LR_MAX:
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(min(LR_MAX, max(LR_MIN, self.value() * 10 ** (steps / 10))))


class LearningRateControl(QWidget):
    lr_changed = Signal(float)

    def __init__(self, lr: float, parent=None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("learningRateSlider")
        self.slider.setRange(round(math.log10(LR_MIN) * TICKS_PER_DECADE), round(math.log10(LR_MAX) * TICKS_PER_DECADE))
        self.slider.setToolTip("Learning rate, log scale from 1e-5 to 10")
        self.spin = LearningRateSpin()
        self.spin.setToolTip("Learning rate: type an exact value (1e-5 to 10)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self._syncing = False
        self.set_lr(lr)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def lr(self) -> float:
        return self.spin.value()

    def set_lr(self, lr: float) -> None:
        """Set both controls without emitting `lr_changed`."""
        self._syncing = True
        self.spin.setValue(lr)
        self.slider.setValue(round(math.log10(lr) * TICKS_PER_DECADE))
        self._syncing = False

    def _from_slider(self, tick: int) -> None:
        if self._syncing:
            return
        lr = float(f"{10 ** (tick / TICKS_PER_DECADE):.3g}")
        self._syncing = True
        self.spin.setValue(lr)
        self._syncing = False
        self.lr_changed.emit(self.spin.value())

    def _from_spin(self, lr: float) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.slider.setValue(round(math.log10(lr) * TICKS_PER_DECADE))
        self._syncing = False
        self.lr_changed.emit(lr)
