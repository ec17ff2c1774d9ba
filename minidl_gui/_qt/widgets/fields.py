"""A control for any `Param`: its kind, range, tooltip and objectName all come from the Param.

int -> `IntSpin` (`batchSizeSpin`), float -> `NumberSpin` (`noiseSpin`), bool -> QCheckBox
(`nesterovCheck`), a choice -> QComboBox of the registry's display names (`lossCombo`), a pair
of floats -> two NumberSpins (`betasSpin0`, `betasSpin1`). A value set from code is shown
exactly as it is (never clamped or rounded) and emits nothing; a user's edit emits `edited`.

The window's one-key shortcuts (Space plays) must work after any edit: a number field gives its
focus back on Enter or Escape, and a click on a combo box, check box or slider does not take it
(Tab still reaches them from the keyboard).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QPushButton, QSpinBox, QWidget

from minidl.params import Param, Registry
from minidl_gui._qt.widgets.quiet import signals_blocked

INT_MAX = 2**31 - 1  # QSpinBox holds a C int


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def format_number(value: float) -> str:
    """Exact for the values people type: `0.001`, `2.5e-05`, `0.125`."""
    return f"{value:.12g}"


COMMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)


def keep_shortcuts(widget: QWidget) -> QWidget:
    """A control that a mouse click does not give the keyboard focus (see the module's docstring)."""
    widget.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return widget


def control_button(name: str, text: str, tip: str) -> QPushButton:
    """A push button with its objectName (for tests and scripts) and tooltip, that leaves the keyboard
    to the window."""
    button = keep_shortcuts(QPushButton(text))
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


class ReturnsFocus:
    """Enter (or Escape) commits what was typed and gives the keyboard back to the window."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in COMMIT_KEYS:
            if event.key() == Qt.Key.Key_Escape:
                self.interpretText()
            self.clearFocus()


class IntSpin(ReturnsFocus, QSpinBox):
    pass


class NumberSpin(ReturnsFocus, QDoubleSpinBox):
    """A float `Param`: its range, shown exactly; arrows step x10^(1/10) for a scale (a range open
    at 0, e.g. a learning rate) or by a twentieth of the range otherwise."""

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(parent)
        self.param = param
        self.setDecimals(17)  # Qt rounds values to this many decimals: keep them exact
        low = param.low if param.low is not None else -1e12
        high = param.high if param.high is not None else 1e12
        self.setRange(low, high)
        self.setKeyboardTracking(False)  # emit when the typing is done, not for "0.0" on the way
        self.scale_like = param.low == 0.0 and param.low_open
        if not self.scale_like:
            self.setSingleStep((high - low) / 20 if param.high is not None else 0.1)
        self.setMinimumWidth(110)

    def textFromValue(self, value: float) -> str:
        return format_number(value)

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
        if math.isfinite(value) and self.param.contains(value):
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        if not self.scale_like:
            return super().stepBy(steps)
        value = float(f"{self.value() * 10 ** (steps / 10):.3g}")
        self.setValue(min(self.maximum(), max(self.minimum(), value)))


class Field(QWidget):
    """One control for one `Param`; `edited(value)` when the user changes it."""

    edited = Signal(object)

    def __init__(self, param: Param, registry: Registry | None = None, parent=None) -> None:
        super().__init__(parent)
        self.param = param
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        name = camel(param.name)
        tip = (param.doc[:1].upper() + param.doc[1:] + ": " if param.doc else "") + param.range_text()
        self.controls: list[QWidget] = []
        if param.choices is not None:
            combo = QComboBox()
            combo.setObjectName(f"{name}Combo")
            for choice in param.choices:
                entry = registry.get(choice) if registry is not None else None
                combo.addItem(entry.display if entry else choice, choice)
                if entry and entry.doc:
                    combo.setItemData(combo.count() - 1, entry.doc, 3)  # Qt.ToolTipRole
            combo.currentIndexChanged.connect(lambda _: self.edited.emit(self.value()))
            self.controls.append(keep_shortcuts(combo))
        elif param.kind is bool:
            check = QCheckBox(param.doc[:1].upper() + param.doc[1:] if param.doc else param.name)
            check.setObjectName(f"{name}Check")
            check.toggled.connect(lambda _: self.edited.emit(self.value()))
            self.controls.append(keep_shortcuts(check))
        elif param.kind is int:
            spin = IntSpin()
            spin.setObjectName(f"{name}Spin")
            spin.setRange(
                int(param.low) if param.low is not None else -INT_MAX, int(min(param.high or INT_MAX, INT_MAX))
            )
            spin.setKeyboardTracking(False)
            spin.setGroupSeparatorShown(True)
            spin.valueChanged.connect(lambda _: self.edited.emit(self.value()))
            self.controls.append(spin)
        else:
            for i in range(param.size or 1):
                spin = NumberSpin(param)
                spin.setObjectName(f"{name}Spin" + (str(i) if param.size else ""))
                spin.valueChanged.connect(lambda _: self.edited.emit(self.value()))
                self.controls.append(spin)
        for control in self.controls:
            control.setToolTip(tip)
            layout.addWidget(control, 1)

    def value(self) -> Any:
        values = [self._read(control) for control in self.controls]
        return tuple(values) if self.param.size else values[0]

    @staticmethod
    def _read(control: QWidget) -> Any:
        if isinstance(control, QComboBox):
            return control.currentData()
        if isinstance(control, QCheckBox):
            return control.isChecked()
        return control.value()

    def set_value(self, value: Any) -> None:
        """Show `value` without emitting `edited`; it must be within the Param's range."""
        values = value if self.param.size else (value,)
        with signals_blocked(*self.controls):
            for control, v in zip(self.controls, values):
                if isinstance(control, QComboBox):
                    control.setCurrentIndex(control.findData(v))
                elif isinstance(control, QCheckBox):
                    control.setChecked(bool(v))
                else:
                    control.setValue(v)
