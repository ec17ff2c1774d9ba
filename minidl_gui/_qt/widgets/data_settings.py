"""Data settings: dataset, points, label noise, seed with Regenerate, and which points to show."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtWidgets import QCheckBox, QFormLayout, QPushButton

from minidl.registry import DATASETS
from minidl.spec import FIELDS, Spec
from minidl_gui._qt.widgets.fields import Field
from minidl_gui._qt.widgets.settings_group import Request, SettingsGroup
from minidl_gui.components.limits import points_range

ROWS = ("dataset", "n_train", "n_test", "noise", "seed")


class DataSettings(SettingsGroup):
    def __init__(self, spec: Spec, request: Request, parent=None) -> None:
        super().__init__("Data", request, parent)
        self.fields: dict[str, Field] = {}
        form = QFormLayout(self)
        for name in ROWS:
            field = self.fields[name] = Field(FIELDS[name], DATASETS if name == "dataset" else None)
            field.edited.connect(lambda value, name=name: self.request(**{name: value}))
            form.addRow(FIELDS[name].title, field)
        for name in ("n_train", "n_test"):  # the app draws fewer points than a spec allows
            self.fields[name].controls[0].setRange(*points_range())
        seed = FIELDS["seed"]
        self.regenerate_button = QPushButton("Regenerate data")
        self.regenerate_button.setObjectName("regenerateButton")
        self.regenerate_button.setToolTip("Draw new data: the next seed")
        self.regenerate_button.clicked.connect(lambda: self.request(seed=self._next_seed(seed.low, seed.high)))
        self.show_train = QCheckBox("Show train points (filled)")
        self.show_train.setObjectName("showTrainCheck")
        self.show_train.setChecked(True)
        self.show_test = QCheckBox("Show test points (hollow)")
        self.show_test.setObjectName("showTestCheck")
        self.show_test.setChecked(True)
        form.addRow(self.regenerate_button)
        form.addRow(self.show_train)
        form.addRow(self.show_test)
        form.addRow(self.error)
        # short names, used by tests and scripts
        self.dataset_combo = self.fields["dataset"].controls[0]
        self.noise_spin = self.fields["noise"].controls[0]
        self.seed_spin = self.fields["seed"].controls[0]
        self.set_spec(spec)

    def _next_seed(self, low: int, high: int) -> int:
        seed = self.fields["seed"].value()
        return low if seed >= high else seed + 1  # wraps at the top of the range

    def shows(self, names: Collection[str]) -> bool:
        """Whether any of these spec fields is one of this group's."""
        return any(name in self.fields for name in names)

    def set_spec(self, spec: Spec) -> None:
        """Show `spec`'s data settings exactly, without emitting anything."""
        for name, field in self.fields.items():
            field.set_value(
                spec.seed if name == "seed" else getattr(spec.dataset, "name" if name == "dataset" else name)
            )
