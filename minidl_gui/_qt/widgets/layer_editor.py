"""Edit the hidden layers: add any layer type of the registry, remove, move, change options.

One "+" button per layer type in `minidl.registry.LAYERS` and one field per layer option
(units, slope, ...) come from the registry. The input and output widths come from the data and
are shown, not edited. Every edit is a request: the session checks it (spec and live limits)
and an edit that would make an impossible network is refused with the reason under the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGridLayout, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout

from minidl.data import CLASSES, INPUT_DIM
from minidl.registry import LAYERS
from minidl.spec import Layer
from minidl_gui._qt.widgets.fields import Field, camel, control_button
from minidl_gui._qt.widgets.quiet import signals_blocked
from minidl_gui._qt.widgets.settings_group import Request, SettingsGroup

BUTTON_COLUMNS = 2


def pascal(name: str) -> str:
    text = camel(name)
    return text[:1].upper() + text[1:]


class LayerEditor(SettingsGroup):
    def __init__(self, layers: tuple[Layer, ...], request: Request, parent=None) -> None:
        super().__init__("Network (hidden layers)", request, parent)
        self.error.setObjectName("layerError")
        self.input_label = QLabel(f"Input: {INPUT_DIM} (x, y)")
        self.input_label.setObjectName("inputWidthLabel")
        self.output_label = QLabel(f"Output: {CLASSES} (classes)")
        self.output_label.setObjectName("outputWidthLabel")
        self.list = QListWidget()
        self.list.setObjectName("layerList")
        self.list.setMinimumHeight(150)

        self.option_fields: dict[str, Field] = {}  # one per option name across the layer types
        options = QFormLayout()
        for entry in LAYERS.values():
            for param in entry.params:
                if entry.editor and param.name not in self.option_fields:
                    field = self.option_fields[param.name] = Field(param)
                    field.set_value(param.default)
                    field.setToolTip(f"{param.doc[:1].upper()}{param.doc[1:]} of a new layer, or of the selected one")
                    field.edited.connect(lambda value, name=param.name: self._option_edited(name, value))
                    options.addRow(param.title, field)
        self.units = self.option_fields["units"].controls[0]  # short name, used by tests and scripts

        self.add_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for entry in (e for e in LAYERS.values() if e.editor):
            button = control_button(
                f"add{pascal(entry.name)}Button", f"+ {entry.display}", f"Add {entry.display}: {entry.doc}"
            )
            button.clicked.connect(lambda _=False, name=entry.name: self.add_new(name))
            grid.addWidget(button, len(self.add_buttons) // BUTTON_COLUMNS, len(self.add_buttons) % BUTTON_COLUMNS)
            self.add_buttons[entry.name] = button
        self.remove = control_button("removeLayerButton", "Remove", "Remove the selected layer")
        self.remove.clicked.connect(self.remove_selected)
        self.up = control_button("moveUpButton", "Move up", "Move the selected layer up")
        self.up.clicked.connect(lambda: self.move_selected(-1))
        self.down = control_button("moveDownButton", "Move down", "Move the selected layer down")
        self.down.clicked.connect(lambda: self.move_selected(1))
        edit_row = QHBoxLayout()
        for b in (self.up, self.down, self.remove):
            edit_row.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(self.input_label)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.output_label)
        layout.addLayout(options)
        layout.addLayout(grid)
        layout.addLayout(edit_row)
        layout.addWidget(self.error)

        self._layers: tuple[Layer, ...] = ()
        self.set_layers(layers)
        self.list.currentRowChanged.connect(self._selection_changed)

    # ---- the model ------------------------------------------------------------------------------
    def layers(self) -> tuple[Layer, ...]:
        return self._layers

    def set_layers(self, layers: tuple[Layer, ...], select: int | None = None) -> None:
        """Show `layers`, emitting nothing; keeps the selection unless `select` is given."""
        self._layers = tuple(layers)
        self._refresh(self.list.currentRow() if select is None else select)

    def _try(self, layers: list[Layer], select: int) -> bool:
        """Request `layers`; once accepted the window has shown them here: only the selection moves."""
        if not self.request(layers=layers):
            return False
        if self._layers != tuple(layers):  # a request that does not show the spec back (a script's)
            self.set_layers(tuple(layers), select)
        elif self._layers:
            self.list.setCurrentRow(max(0, min(select, len(self._layers) - 1)))
        return True

    # ---- edits ------------------------------------------------------------------------------------
    def new_layer(self, kind: str) -> Layer:
        """A layer of type `kind` with the options shown in the fields."""
        entry = LAYERS[kind]
        return Layer(kind, tuple((p.name, self.option_fields[p.name].value()) for p in entry.params))

    def add_new(self, kind: str) -> bool:
        return self.add(self.new_layer(kind))

    def add(self, layer: Layer) -> bool:
        row = self.list.currentRow()
        at = row + 1 if row >= 0 else len(self._layers)
        return self._try([*self._layers[:at], layer, *self._layers[at:]], at)

    def remove_selected(self) -> bool:
        row = self.list.currentRow()
        if row < 0:
            self.show_problem("Select a layer to remove.")
            return False
        return self._try([*self._layers[:row], *self._layers[row + 1 :]], min(row, len(self._layers) - 2))

    def move_selected(self, offset: int) -> bool:
        row = self.list.currentRow()
        target = row + offset
        if row < 0 or not 0 <= target < len(self._layers):
            return False
        layers = list(self._layers)
        layers[row], layers[target] = layers[target], layers[row]
        return self._try(layers, target)

    def _option_edited(self, name: str, value) -> None:
        """An option field changed: it edits the selected layer if that layer has the option."""
        row = self.list.currentRow()
        if not 0 <= row < len(self._layers):
            return
        selected = self._layers[row]
        if name in dict(selected.options) and selected.get(name) != value:
            options = tuple((k, value if k == name else v) for k, v in selected.options)
            layers = list(self._layers)
            layers[row] = Layer(selected.type, options)
            self._try(layers, row)

    def _selection_changed(self, row: int) -> None:
        if 0 <= row < len(self._layers):
            for name, value in self._layers[row].options:
                if name in self.option_fields:
                    self.option_fields[name].set_value(value)
        self.remove.setEnabled(row >= 0)
        self.up.setEnabled(row > 0)
        self.down.setEnabled(0 <= row < len(self._layers) - 1)

    def _refresh(self, select: int) -> None:
        with signals_blocked(self.list):
            self.list.clear()
            for layer in self._layers:
                self.list.addItem(layer.describe())
                self.list.item(self.list.count() - 1).setData(Qt.ItemDataRole.UserRole, layer.type)
            if self._layers:
                self.list.setCurrentRow(max(0, min(select, len(self._layers) - 1)))
        self._selection_changed(self.list.currentRow())
