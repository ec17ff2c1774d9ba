"""Edit the hidden layers: add Linear/activations, remove, move, change a Linear's units.

The input and output widths come from the data and are shown, not edited. Every edit is checked
against `Spec` before it is accepted; an edit that would make an impossible network is refused
and the reason is shown under the list.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from minidl.spec import MAX_LAYERS, MAX_UNITS, Spec, SpecError
from minidl_gui.widgets.quiet import signals_blocked

MAX_LIVE_PARAMETERS = 250_000  # keeps a step and a heatmap well under a frame's time budget
NAMES = {"linear": "Linear", "tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU"}


def layer_text(layer: dict) -> str:
    if layer["type"] == "linear":
        return f"Linear  ({layer['units']} units)"
    if layer["type"] == "leaky_relu":
        return f"LeakyReLU  (slope {layer.get('slope', 0.01):g})"
    return NAMES.get(layer["type"], layer["type"])


class LayerEditor(QWidget):
    layers_changed = Signal(list)  # list of spec layer dicts

    def __init__(self, layers: list[dict], parent=None) -> None:
        super().__init__(parent)
        self.input_label = QLabel("Input: 2 (x, y)")
        self.input_label.setObjectName("inputWidthLabel")
        self.output_label = QLabel("Output: 2 (classes)")
        self.output_label.setObjectName("outputWidthLabel")
        self.list = QListWidget()
        self.list.setObjectName("layerList")
        self.list.setMinimumHeight(170)
        self.units = QSpinBox()
        self.units.setObjectName("unitsSpin")
        self.units.setRange(1, MAX_UNITS)
        self.units.setValue(25)
        self.units.setToolTip("Units of a new Linear layer, or of the selected one")
        self.error = QLabel()
        self.error.setObjectName("layerError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b03a2e; font-weight: 600;")
        self.error.hide()

        def button(name: str, text: str, tip: str, slot) -> QPushButton:
            b = QPushButton(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.add_linear = button(
            "addLinearButton",
            "+ Linear",
            "Add a Linear layer after the selection",
            lambda: self.add({"type": "linear", "units": self.units.value()}),
        )
        self.add_tanh = button("addTanhButton", "+ Tanh", "Add a Tanh activation", lambda: self.add({"type": "tanh"}))
        self.add_relu = button("addReluButton", "+ ReLU", "Add a ReLU activation", lambda: self.add({"type": "relu"}))
        self.add_sigmoid = button(
            "addSigmoidButton", "+ Sigmoid", "Add a Sigmoid activation", lambda: self.add({"type": "sigmoid"})
        )
        self.add_leaky = button(
            "addLeakyReluButton",
            "+ LeakyReLU",
            "Add a LeakyReLU (slope 0.01)",
            lambda: self.add({"type": "leaky_relu", "slope": 0.01}),
        )
        self.remove = button("removeLayerButton", "Remove", "Remove the selected layer", self.remove_selected)
        self.up = button("moveUpButton", "Move up", "Move the selected layer up", lambda: self.move_selected(-1))
        self.down = button("moveDownButton", "Move down", "Move the selected layer down", lambda: self.move_selected(1))

        grid = QGridLayout()
        for i, b in enumerate((self.add_linear, self.add_tanh, self.add_relu, self.add_sigmoid, self.add_leaky)):
            grid.addWidget(b, i // 3, i % 3)
        units_row = QHBoxLayout()
        units_row.addWidget(QLabel("Units"))
        units_row.addWidget(self.units, 1)
        edit_row = QHBoxLayout()
        for b in (self.up, self.down, self.remove):
            edit_row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.input_label)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.output_label)
        layout.addLayout(units_row)
        layout.addLayout(grid)
        layout.addLayout(edit_row)
        layout.addWidget(self.error)

        self._layers: list[dict] = []
        self.set_layers(layers)
        self.list.currentRowChanged.connect(self._selection_changed)
        self.units.valueChanged.connect(self._units_edited)

    # ---- the model ------------------------------------------------------------------------------
    def layers(self) -> list[dict]:
        return [dict(layer) for layer in self._layers]

    def set_layers(self, layers: list[dict]) -> None:
        """Show `layers` without emitting `layers_changed`."""
        self._layers = [dict(layer) for layer in layers]
        self._refresh(self.list.currentRow())

    def _try(self, layers: list[dict], select: int) -> bool:
        problem = self.problem(layers)
        if problem:
            self.error.setText(problem)
            self.error.show()
            return False
        self.error.hide()
        self._layers = layers
        self._refresh(select)
        self.layers_changed.emit(self.layers())
        return True

    @staticmethod
    def problem(layers: list[dict]) -> str:
        """Why these layers make no valid network for live training, or '' if they do."""
        if len(layers) > MAX_LAYERS:
            return f"At most {MAX_LAYERS} layers."
        try:
            Spec.from_dict({"layers": layers})
        except SpecError as error:
            return f"Can't build this network: {error}"
        widths = [2] + [layer["units"] for layer in layers if layer["type"] == "linear"] + [2]
        parameters = sum((i + 1) * o for i, o in itertools.pairwise(widths))
        if parameters > MAX_LIVE_PARAMETERS:
            return (
                f"Too big to train live: {parameters:,} parameters "
                f"(the app trains up to {MAX_LIVE_PARAMETERS:,}); use fewer units or layers."
            )
        return ""

    # ---- edits ------------------------------------------------------------------------------------
    def add(self, layer: dict) -> bool:
        row = self.list.currentRow()
        at = row + 1 if row >= 0 else len(self._layers)
        return self._try([*self._layers[:at], layer, *self._layers[at:]], at)

    def remove_selected(self) -> bool:
        row = self.list.currentRow()
        if row < 0:
            self.error.setText("Select a layer to remove.")
            self.error.show()
            return False
        return self._try(self._layers[:row] + self._layers[row + 1 :], min(row, len(self._layers) - 2))

    def move_selected(self, offset: int) -> bool:
        row = self.list.currentRow()
        target = row + offset
        if row < 0 or not 0 <= target < len(self._layers):
            return False
        layers = list(self._layers)
        layers[row], layers[target] = layers[target], layers[row]
        return self._try(layers, target)

    def _units_edited(self, units: int) -> None:
        row = self.list.currentRow()
        selected = self._layers[row] if 0 <= row < len(self._layers) else None
        if selected and selected["type"] == "linear" and selected["units"] != units:
            layers = self.layers()
            layers[row]["units"] = units
            self._try(layers, row)

    def _selection_changed(self, row: int) -> None:
        linear = 0 <= row < len(self._layers) and self._layers[row]["type"] == "linear"
        if linear:
            with signals_blocked(self.units):
                self.units.setValue(self._layers[row]["units"])
        self.remove.setEnabled(row >= 0)
        self.up.setEnabled(row > 0)
        self.down.setEnabled(0 <= row < len(self._layers) - 1)

    def _refresh(self, select: int) -> None:
        with signals_blocked(self.list):
            self.list.clear()
            for layer in self._layers:
                item = QListWidgetItem(layer_text(layer))
                item.setData(Qt.ItemDataRole.UserRole, layer)
                self.list.addItem(item)
            if self._layers:
                self.list.setCurrentRow(max(0, min(select, len(self._layers) - 1)))
        self._selection_changed(self.list.currentRow())
