"""How training runs: its speed (slow motion to watch SGD walk, up to full speed) and when it
pauses on its own (at the set-up's last epoch, at a test accuracy). The speeds are the session's
`PACES`; the epoch is the spec's `epochs`, the accuracy `STOP_ACCURACY`: nothing is defined here."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QSlider

from minidl.spec import FIELDS, Spec
from minidl_gui._qt.widgets.fields import Field, keep_shortcuts
from minidl_gui._qt.widgets.quiet import signals_blocked
from minidl_gui._qt.widgets.settings_group import Request, SettingsGroup, weak_request
from minidl_gui.components.run_options import PACES, SLOW_MOTION, STOP_ACCURACY


def pace_text(pace: float | None) -> str:
    if pace is None:
        return "Full speed"
    text = f"{pace:,.0f} step{'s' if pace != 1 else ''}/s"
    return text + " · slow motion" if pace <= SLOW_MOTION else text


class RunSettings(SettingsGroup):
    """`on_pace(steps_per_second or None)` and `on_stop(at_epoch, accuracy or None)` reach the session."""

    def __init__(
        self,
        spec: Spec,
        request: Request,
        on_pace: Callable[[float | None], None],
        on_stop: Callable[[bool, float | None], None],
        parent=None,
    ) -> None:
        super().__init__("Run", request, parent)
        self._on_pace, self._on_stop = weak_request(on_pace), weak_request(on_stop)  # the window: held weakly
        self.speed_slider = keep_shortcuts(QSlider(Qt.Orientation.Horizontal))
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, len(PACES) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setToolTip(
            "Training speed in minibatch steps a second. In slow motion the points of each step's batch "
            "are ringed on the plot: watch SGD walk."
        )
        self.speed_label = QLabel()
        self.speed_label.setObjectName("paceLabel")

        self.stop_epoch_check = keep_shortcuts(QCheckBox("Pause at epoch"))
        self.stop_epoch_check.setObjectName("stopAtEpochCheck")
        self.stop_epoch_check.setToolTip("Pause when this epoch ends (the set-up's epochs, saved with it)")
        self.epochs_field = Field(FIELDS["epochs"])
        self.epochs_field.edited.connect(lambda value: self.request(epochs=value))
        self.stop_accuracy_check = keep_shortcuts(QCheckBox("Pause at test %"))
        self.stop_accuracy_check.setObjectName("stopAtAccuracyCheck")
        self.stop_accuracy_check.setToolTip(
            "Pause the first time the test accuracy reaches this percentage, after Play"
        )
        self.accuracy_field = Field(STOP_ACCURACY)
        self.accuracy_field.set_value(STOP_ACCURACY.default)
        self.stop_epoch_check.setChecked(True)

        form = QFormLayout(self)
        form.addRow("Speed", self.speed_slider)
        form.addRow("", self.speed_label)
        form.addRow(self.stop_epoch_check, self.epochs_field)
        form.addRow(self.stop_accuracy_check, self.accuracy_field)
        form.addRow(self.error)
        self.set_pace(None)
        self.set_spec(spec)
        self.speed_slider.valueChanged.connect(self._pace_changed)
        for signal in (self.stop_epoch_check.toggled, self.stop_accuracy_check.toggled, self.accuracy_field.edited):
            signal.connect(self._stop_changed)
        # short names, used by tests and scripts
        self.epochs_spin = self.epochs_field.controls[0]
        self.accuracy_spin = self.accuracy_field.controls[0]

    def set_spec(self, spec: Spec) -> None:
        self.epochs_field.set_value(spec.epochs)

    def pace(self) -> float | None:
        return PACES[self.speed_slider.value()]

    def set_pace(self, pace: float | None) -> None:
        """Show `pace` (one of PACES) without emitting."""
        with signals_blocked(self.speed_slider):
            self.speed_slider.setValue(PACES.index(pace))
        self.speed_label.setText(pace_text(pace))

    def stop(self) -> tuple[bool, float | None]:
        accuracy = self.accuracy_field.value() if self.stop_accuracy_check.isChecked() else None
        return self.stop_epoch_check.isChecked(), accuracy

    def set_stop(self, at_epoch: bool, accuracy: float | None) -> None:
        """Show a stop condition without emitting."""
        with signals_blocked(self.stop_epoch_check, self.stop_accuracy_check):
            self.stop_epoch_check.setChecked(at_epoch)
            self.stop_accuracy_check.setChecked(accuracy is not None)
        if accuracy is not None:
            self.accuracy_field.set_value(accuracy)

    def _pace_changed(self, index: int) -> None:
        self.speed_label.setText(pace_text(PACES[index]))
        on_pace = self._on_pace()
        if on_pace is not None:
            on_pace(PACES[index])

    def _stop_changed(self, *_) -> None:
        on_stop = self._on_stop()
        if on_stop is not None:
            on_stop(*self.stop())
