"""Learning rate: a log-scale slider and an exact numeric entry, kept in step, over the range of
`minidl.registry.LR`; beside them, read-only, the current rate when a decay lowers it."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from minidl.registry import LR
from minidl_gui._qt.widgets.fields import NumberSpin, format_number, keep_shortcuts
from minidl_gui._qt.widgets.quiet import signals_blocked

TICKS_PER_DECADE = 100


class LearningRateSpin(NumberSpin):
    def __init__(self, parent=None) -> None:
        super().__init__(LR, parent)
        self.setObjectName("learningRateSpin")


class LearningRateControl(QWidget):
    lr_changed = Signal(float)

    def __init__(self, lr: float, parent=None) -> None:
        super().__init__(parent)
        self.slider = keep_shortcuts(QSlider(Qt.Orientation.Horizontal))
        self.slider.setObjectName("learningRateSlider")
        self.slider.setRange(self._tick(LR.low), self._tick(LR.high))
        self.slider.setToolTip(f"Learning rate, log scale from {LR.low:g} to {LR.high:g}")
        self.spin = LearningRateSpin()
        self.spin.setToolTip(f"Learning rate: type an exact value ({LR.low:g} to {LR.high:g}); Enter applies it")
        self.current = QLabel()
        self.current.setObjectName("currentLrLabel")
        self.current.setToolTip("The learning rate in use now, after the decay of every epoch")
        self.current.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.current)
        self.set_lr(lr)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    @staticmethod
    def _tick(lr: float) -> int:
        return round(math.log10(lr) * TICKS_PER_DECADE)

    def lr(self) -> float:
        return self.spin.value()

    def set_lr(self, lr: float) -> None:
        """Show the base learning rate in both controls without emitting `lr_changed`."""
        with signals_blocked(self.spin, self.slider):
            self.spin.setValue(lr)
            self.slider.setValue(self._tick(lr))

    def show_current(self, current: float, base: float) -> None:
        """The rate in use now; shown only where it differs from the base (a decay is running)."""
        differs = not math.isclose(current, base, rel_tol=1e-9)
        if differs:
            self.current.setText(f"now {format_number(float(f'{current:.4g}'))} (decayed)")
        self.current.setVisible(differs)

    def _from_slider(self, tick: int) -> None:
        lr = min(LR.high, max(LR.low, float(f"{10 ** (tick / TICKS_PER_DECADE):.3g}")))
        with signals_blocked(self.spin):
            self.spin.setValue(lr)
        self.lr_changed.emit(lr)

    def _from_spin(self, lr: float) -> None:
        with signals_blocked(self.slider):
            self.slider.setValue(self._tick(lr))
        self.lr_changed.emit(lr)
