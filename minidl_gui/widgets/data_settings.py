"""Data settings: dataset, label noise, seed with Regenerate, and which points to show."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QPushButton, QSpinBox

from minidl.data import DATASETS
from minidl.spec import Spec
from minidl_gui.widgets.quiet import signals_blocked


class DataSettings(QGroupBox):
    changed = Signal()  # dataset, noise or seed: new data, the model is rebuilt

    def __init__(self, spec: Spec, parent=None) -> None:
        super().__init__("Data", parent)
        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("datasetCombo")
        self.dataset_combo.addItems(list(DATASETS))
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setObjectName("noiseSpin")
        self.noise_spin.setRange(0.0, 0.5)
        self.noise_spin.setSingleStep(0.05)
        self.noise_spin.setToolTip("Fraction of labels flipped at random")
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed for data, initial weights and batch order")
        self.regenerate_button = QPushButton("Regenerate data")
        self.regenerate_button.setObjectName("regenerateButton")
        self.regenerate_button.setToolTip("Draw new data (next seed)")
        self.regenerate_button.clicked.connect(lambda: self.seed_spin.setValue(self.seed_spin.value() + 1))
        self.show_train = QCheckBox("Show train points (filled)")
        self.show_train.setObjectName("showTrainCheck")
        self.show_train.setChecked(True)
        self.show_test = QCheckBox("Show test points (hollow)")
        self.show_test.setObjectName("showTestCheck")
        self.show_test.setChecked(True)
        form = QFormLayout(self)
        form.addRow("Dataset", self.dataset_combo)
        form.addRow("Label noise", self.noise_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow(self.regenerate_button)
        form.addRow(self.show_train)
        form.addRow(self.show_test)
        self.set_spec(spec)
        self.dataset_combo.currentIndexChanged.connect(self.changed)
        self.noise_spin.valueChanged.connect(self.changed)
        self.seed_spin.valueChanged.connect(self.changed)

    def set_spec(self, spec: Spec) -> None:
        """Show `spec`'s data settings without emitting anything."""
        with signals_blocked(self.dataset_combo, self.noise_spin, self.seed_spin):
            self.dataset_combo.setCurrentText(spec.dataset.name)
            self.noise_spin.setValue(spec.dataset.noise)
            self.seed_spin.setValue(spec.seed)

    def apply_to(self, raw: dict) -> None:
        raw["dataset"].update(name=self.dataset_combo.currentText(), noise=round(self.noise_spin.value(), 4))
        raw["seed"] = self.seed_spin.value()
