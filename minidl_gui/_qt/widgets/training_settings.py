"""Training settings: learning rate (live), its decay, loss, optimizer and its options, batch
size and initial weights (these rebuild). Every control is derived from the spec's fields and
the registries."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtWidgets import QFormLayout, QWidget

from minidl.registry import INITS, LOSSES, OPTIMIZERS
from minidl.spec import FIELDS, OPTIMIZER_OPTIONS, Spec
from minidl_gui._qt.widgets.fields import Field
from minidl_gui._qt.widgets.lr_control import LearningRateControl
from minidl_gui._qt.widgets.settings_group import Request, SettingsGroup

ROWS = (("lr_decay", None), ("loss", LOSSES), ("optimizer", OPTIMIZERS))
AFTER_OPTIONS = (("batch_size", None), ("init", INITS))


class TrainingSettings(SettingsGroup):
    def __init__(self, spec: Spec, request: Request, parent=None) -> None:
        super().__init__("Training", request, parent)
        self.lr_control = LearningRateControl(spec.optimizer.lr)
        self.lr_control.lr_changed.connect(lambda lr: self.request(lr=lr))
        self.fields: dict[str, Field] = {}
        form = self.form = QFormLayout(self)
        form.addRow("Learning rate", self.lr_control)
        for name, registry in (*ROWS, *AFTER_OPTIONS):
            field = self.fields[name] = Field(FIELDS[name], registry)
            field.edited.connect(lambda value, name=name: self.request(**{name: value}))
        for name, _ in ROWS:
            form.addRow(FIELDS[name].title, self.fields[name])
        self.options = QWidget()  # the optimizer's own options, rebuilt when its type changes
        self.option_fields: dict[str, Field] = {}
        self._options_type = ""
        form.addRow(self.options)
        for name, _ in AFTER_OPTIONS:
            form.addRow(FIELDS[name].title, self.fields[name])
        form.addRow(self.error)
        # short names, used by tests and scripts
        self.loss_combo = self.fields["loss"].controls[0]
        self.optimizer_combo = self.fields["optimizer"].controls[0]
        self.batch_spin = self.fields["batch_size"].controls[0]
        self.set_spec(spec)

    def _build_options(self, kind: str) -> None:
        self.options.deleteLater()
        self.options = QWidget()
        form = QFormLayout(self.options)
        form.setContentsMargins(0, 0, 0, 0)
        self.option_fields = {}
        for param in OPTIMIZERS[kind].params:
            if param.name == "lr":  # it has its own control above
                continue
            field = self.option_fields[param.name] = Field(param)
            field.edited.connect(lambda value, name=param.name: self.request(**{name: value}))
            form.addRow(param.title if param.kind is not bool else "", field)
        self.form.insertRow(len(ROWS) + 1, self.options)
        self._options_type = kind

    def shows(self, names: Collection[str]) -> bool:
        """Whether any of these spec fields is one of this group's."""
        return any(name == "lr" or name in self.fields or name in OPTIMIZER_OPTIONS for name in names)

    def set_spec(self, spec: Spec, names: Collection[str] | None = None) -> None:
        """Show `spec`'s settings exactly (or only the fields `names`), without emitting anything."""
        if names is None or "lr" in names:
            self.lr_control.set_lr(spec.optimizer.lr)
        for name, field in self.fields.items():
            if names is None or name in names:
                field.set_value(spec.optimizer.type if name == "optimizer" else getattr(spec, name))
        if spec.optimizer.type != self._options_type:
            self._build_options(spec.optimizer.type)
            names = None  # new option fields: all of them show the spec
        for name, field in self.option_fields.items():
            if names is None or name in names:
                field.set_value(spec.optimizer.get(name))

    def show_current_lr(self, current: float, base: float) -> None:
        self.lr_control.show_current(current, base)
