"""Training settings: learning rate (live), loss, optimizer and batch size (these rebuild)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QSpinBox

from minidl.spec import Spec
from minidl_gui.widgets.lr_control import LR_MAX, LR_MIN, LearningRateControl
from minidl_gui.widgets.quiet import signals_blocked

OPTIMIZERS = {"SGD": ("sgd", 0.0), "SGD + momentum": ("sgd", 0.9), "Adam": ("adam", 0.0)}
LOSSES = {"MSE (summed)": "mse", "Cross-entropy": "cross_entropy"}


def optimizer_choice(spec: Spec) -> str:
    """The combo entry that describes a spec's optimizer (any momentum counts as 'SGD + momentum')."""
    if spec.optimizer.type == "adam":
        return "Adam"
    return "SGD + momentum" if spec.optimizer.momentum else "SGD"


class TrainingSettings(QGroupBox):
    changed = Signal()  # loss, optimizer or batch size: the model is rebuilt
    lr_changed = Signal(float)  # applied live, no rebuild

    def __init__(self, spec: Spec, parent=None) -> None:
        super().__init__("Training", parent)
        self.lr_control = LearningRateControl(spec.optimizer.lr)
        self.loss_combo = QComboBox()
        self.loss_combo.setObjectName("lossCombo")
        self.loss_combo.addItems(list(LOSSES))
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.setObjectName("optimizerCombo")
        self.optimizer_combo.addItems(list(OPTIMIZERS))
        self.batch_spin = QSpinBox()
        self.batch_spin.setObjectName("batchSizeSpin")
        self.batch_spin.setRange(1, 1000)
        form = QFormLayout(self)
        form.addRow("Learning rate", self.lr_control)
        form.addRow("Loss", self.loss_combo)
        form.addRow("Optimizer", self.optimizer_combo)
        form.addRow("Batch size", self.batch_spin)
        self.set_spec(spec)
        self.lr_control.lr_changed.connect(self.lr_changed)
        self.loss_combo.currentIndexChanged.connect(self.changed)
        self.optimizer_combo.currentIndexChanged.connect(self.changed)
        self.batch_spin.valueChanged.connect(self.changed)

    def set_spec(self, spec: Spec) -> None:
        """Show `spec`'s settings without emitting anything."""
        with signals_blocked(self.loss_combo, self.optimizer_combo, self.batch_spin):
            self.lr_control.set_lr(min(max(spec.optimizer.lr, LR_MIN), LR_MAX))
            self.loss_combo.setCurrentIndex(list(LOSSES.values()).index(spec.loss))
            self.optimizer_combo.setCurrentText(optimizer_choice(spec))
            self.batch_spin.setValue(spec.batch_size)

    def apply_to(self, spec: Spec, raw: dict) -> None:
        """Write the settings into `raw` (a spec dict); an unchanged optimizer keeps its other options."""
        choice = self.optimizer_combo.currentText()
        if choice != optimizer_choice(spec):
            kind, momentum = OPTIMIZERS[choice]
            raw["optimizer"] = {"type": kind, **({"momentum": momentum} if kind == "sgd" else {})}
        raw["optimizer"]["lr"] = self.lr_control.lr()
        raw["loss"] = LOSSES[self.loss_combo.currentText()]
        raw["batch_size"] = self.batch_spin.value()
