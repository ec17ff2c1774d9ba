"""The step-through of one training point's forward and backward pass, for a lecture.

Each step is one module forward, the loss, one module backward, or the update, with the report's
equation for it in large text and the numbers it uses and makes beside it (`ValueGrid`s). Every
number comes from the worker's `Walk`; this view only lays them out. A new walk with the same
steps (training goes on while one steps through) keeps the step shown and renews its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from minidl.backprop import MISTAKES
from minidl.spec import NO_MISTAKE
from minidl_gui._qt.widgets.value_grid import ValueGrid, default_lut
from minidl_gui.components.backprop_views import Stage, Step, Walk
from minidl_gui.components.look import Look

HINT = "Open this view while training, or press Step"
SOURCES = {"picked": "picked", "batch": "the first point of the last minibatch"}
FUNCTIONS = {"Tanh": "tanh", "Sigmoid": "σ", "Softplus": "softplus", "Identity": "id"}  # g's name in an equation
LOSSES = {
    "mse": ("MSE", "L = Σₖ (ŷₖ − tₖ)²      ∂L/∂ŷ = 2(ŷ − t)"),
    "cross_entropy": ("cross-entropy", "L = −Σₖ tₖ log softmax(ŷ)ₖ      ∂L/∂ŷ = softmax(ŷ) − t"),
}
RED = {"light": "#c0392b", "dark": "#ff7b6b"}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Row:
    """One array of a step: its symbol, what it is (the label's tooltip) and the walk's array."""

    symbol: str
    about: str
    values: np.ndarray


def function_name(stage: Stage) -> str:
    """g's name for an activation stage: `tanh`, `σ`, `ReLU`."""
    return FUNCTIONS.get(stage.name, stage.name)


def step_where(walk: Walk, step: Step) -> str:
    """`forward · layer 1, Tanh`: the kind of step and which module it is."""
    if step.stage is not None:
        return f"{step.kind} · layer {step.stage.column}, {step.stage.name}"
    if step.kind == "loss":
        return f"loss · {LOSSES.get(walk.loss_name, (walk.loss_name, ''))[0]}"
    return "update · every Linear layer"


def step_content(walk: Walk, step: Step) -> tuple[str, list[Row], str]:
    """The equation, the rows and a note (or '') of one step: what the view shows of it."""
    stage = step.stage
    if step.kind == "loss":
        equation = LOSSES.get(walk.loss_name, (walk.loss_name, "L = loss(ŷ, t)      ∂L/∂ŷ"))[1]
        rows = [
            Row("ŷ", "the network's output (prediction)", walk.prediction),
            Row("t", "the target: the point's class, one-hot", walk.target),
            Row("L", "this point's loss", np.array([walk.loss])),
            Row("∂L/∂ŷ", "the loss's gradient: where backprop starts", walk.grad_prediction),
        ]
        return equation, rows, ""
    if step.kind == "update":
        return _update(walk)
    assert stage is not None
    if step.kind == "forward" and stage.is_linear:
        rows = [Row("x", "the layer's input", stage.input), Row("W", "its weights (out × in)", stage.weight)]
        if stage.bias is not None:
            rows.append(Row("b", "its biases", stage.bias))
        rows.append(Row("z", "its output", stage.output))
        return ("z = W·x + b" if stage.bias is not None else "z = W·x"), rows, ""
    g = function_name(stage)
    if step.kind == "forward":
        rows = [Row("z", "the activation's input", stage.input), Row("a", "its output", stage.output)]
        return f"a = {g}(z)", rows, ""
    if not stage.is_linear:
        rows = [
            Row("∂L/∂a", "the gradient arriving from the layer above", stage.grad_output),
            Row("δ = ∂L/∂z", "the gradient passed on, through g′", stage.grad_input),
        ]
        return f"δ = ∂L/∂a ⊙ {g}′(z)", rows, ""
    rows = [
        Row("δ", "∂L/∂z, arriving from above", stage.grad_output),
        Row("x", "the layer's input, kept from the forward pass", stage.input),
        Row("dW", "∂L/∂W = δ·xᵀ (out × in)", stage.grad_weight),
    ]
    if stage.grad_bias is not None:
        rows.append(Row("db", "∂L/∂b = δ", stage.grad_bias))
    rows.append(Row("dx", "∂L/∂x = Wᵀ·δ, passed on to the layer below", stage.grad_input))
    bias = "      db = δ" if stage.grad_bias is not None else ""
    return f"dW = δ·xᵀ{bias}      dx = Wᵀ·δ", rows, ""


def _update(walk: Walk) -> tuple[str, list[Row], str]:
    rows = []
    for stage in walk.stages:
        if not stage.is_linear:
            continue
        k = str(stage.column).translate(SUBSCRIPTS)
        where = f"layer {stage.column}, {stage.name}"
        rows += [
            Row(f"W{k}", f"{where}: its weights", stage.weight),
            Row(f"dW{k}", f"{where}: ∂L/∂W of this point", stage.grad_weight),
            Row(f"W{k} − lr·dW{k}", f"{where}: its weights after the step", stage.updated_weight),
        ]
        if stage.bias is not None:
            rows += [
                Row(f"b{k}", f"{where}: its biases", stage.bias),
                Row(f"db{k}", f"{where}: ∂L/∂b of this point", stage.grad_bias),
                Row(f"b{k} − lr·db{k}", f"{where}: its biases after the step", stage.updated_bias),
            ]
    note = ""
    if not walk.plain_step:
        note = (
            f"The optimizer ({walk.optimizer}, with its options) takes a step of its own (momentum, moments or "
            "weight decay); shown is the plain gradient step of this one point."
        )
    return f"w ← w − lr·dw      (lr = {walk.lr:g})", rows, note


def _font(points: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


def _shrinkable(label: QLabel) -> QLabel:
    """A label that never widens the window: cut at the right when the dock is narrow."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(20)
    return label


class BackpropView(QWidget):
    """One point's walk, step by step: Back / Next, the equation, the numbers."""

    step_changed = Signal(object)  # the Step shown (None: no walk)
    pick_requested = Signal(bool)  # pick a point on the decision boundary (True) or stop picking
    batch_requested = Signal()  # walk the first point of the last minibatch again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backpropPanel")
        self.look = Look()
        self.lut = default_lut(self.look)
        self.walk: Walk | None = None
        self.steps: list[Step] = []
        self.step_index = 0
        self._shown: tuple | None = None  # (kind, module) of the step last emitted
        self._rows: list[tuple[QLabel, ValueGrid]] = []

        self.header = _shrinkable(QLabel(HINT))
        self.header.setObjectName("backpropHeader")
        self.pick = QPushButton("Pick a point")
        self.pick.setObjectName("backpropPick")
        self.pick.setCheckable(True)
        self.pick.setToolTip("Click a point on the decision boundary: the nearest training point is walked")
        self.pick.toggled.connect(self.pick_requested)
        self.batch = QPushButton("First of last batch")
        self.batch.setObjectName("backpropBatch")
        self.batch.setToolTip("Walk the first point of the last step's minibatch")
        self.batch.clicked.connect(self.batch_requested)
        self.back_button = QPushButton("◀ Back")
        self.back_button.setObjectName("backpropBack")
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("backpropNext")
        self.next_button.clicked.connect(self.next)
        self.step_label = _shrinkable(QLabel(""))
        self.step_label.setObjectName("backpropStepLabel")
        self.equation = _shrinkable(QLabel(""))
        self.equation.setObjectName("backpropEquation")
        self.equation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = _shrinkable(QLabel(""))
        self.note.setObjectName("backpropNote")
        self.note.setWordWrap(True)
        self.mistake = QLabel("")
        self.mistake.setObjectName("backpropMistake")
        self.mistake.setMinimumWidth(20)  # its whole text where there is room, never a wider window
        self.scroll = QScrollArea()
        self.scroll.setObjectName("backpropRows")
        self.scroll.setWidgetResizable(True)
        self.scroll.setMinimumSize(120, 40)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        steps = QHBoxLayout()  # the step first: it is what a lecture moves along
        steps.addWidget(self.back_button)
        steps.addWidget(self.next_button)
        steps.addSpacing(8)
        steps.addWidget(self.step_label, 1)
        steps.addWidget(self.pick)
        steps.addWidget(self.batch)
        point = QHBoxLayout()  # which point; a broken backprop said beside it, before the point is cut
        point.addWidget(self.header, 1)
        point.addWidget(self.mistake)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(steps)
        layout.addLayout(point)
        layout.addWidget(self.equation)
        layout.addWidget(self.note)
        layout.addWidget(self.scroll, 1)
        self.apply_look(self.look, self.lut)
        self._show()

    # ---- the walk and the step -----------------------------------------------------------------------
    def set_walk(self, walk: Walk | None) -> None:
        """Show `walk` (None: the hint). The step shown is kept when the new walk has as many steps."""
        if walk is self.walk:
            return
        steps = walk.steps() if walk is not None else []
        if len(steps) != len(self.steps):
            self.step_index = 0
        self.walk, self.steps = walk, steps
        self._show()

    def set_step(self, index: int) -> None:
        """Show step `index` (clamped to the walk's steps)."""
        self.step_index = max(0, min(len(self.steps) - 1, int(index))) if self.steps else 0
        self._show()

    def next(self) -> None:
        """One step on (none past the update)."""
        self.set_step(self.step_index + 1)

    def back(self) -> None:
        """One step back (none before the first)."""
        self.set_step(self.step_index - 1)

    @property
    def step(self) -> Step | None:
        """The Step shown (None: no walk)."""
        return self.steps[self.step_index] if self.steps else None

    def set_picking(self, picking: bool) -> None:
        """Check or uncheck Pick a point without asking for it again (the window ends a pick)."""
        self.pick.blockSignals(True)
        self.pick.setChecked(picking)
        self.pick.blockSignals(False)

    def rows(self) -> list[tuple[str, ValueGrid]]:
        """The rows shown now: each label's text and its grid."""
        return [(label.text(), grid) for label, grid in self._rows]

    # ---- drawing -----------------------------------------------------------------------------------
    def _show(self) -> None:
        walk, step = self.walk, self.step
        self.back_button.setEnabled(step is not None and self.step_index > 0)
        self.next_button.setEnabled(step is not None and self.step_index < len(self.steps) - 1)
        if walk is None or step is None:
            self.header.setText(HINT)
            self.header.setToolTip("")
            self.step_label.setText("")
            self.step_label.setToolTip("")
            self.equation.setText("")
            self.mistake.setText("")
            self.mistake.setVisible(False)
            self._set_note("")
            self._set_rows([])
        else:
            x, y = walk.point
            self.header.setText(
                f"Point ({x:.2f}, {y:.2f}), class {walk.label} — {SOURCES.get(walk.source, walk.source)}"
            )
            self.header.setToolTip(f"{self.header.text()} (training point {walk.index})")
            self.step_label.setText(f"Step {self.step_index + 1} of {len(self.steps)} · {step_where(walk, step)}")
            self.step_label.setToolTip(self.step_label.text())  # whole, where a narrow dock cuts it
            equation, rows, note = step_content(walk, step)
            self.equation.setText(equation)
            broken = walk.mistake != NO_MISTAKE
            mistake = MISTAKES.get(walk.mistake)
            title = mistake.title if mistake is not None else walk.mistake
            self.mistake.setText(f"Backprop is broken: {title}" if broken else "")
            self.mistake.setVisible(broken)
            self.mistake.setToolTip(mistake.description if broken and mistake is not None else "")
            self._set_note(note)
            self._set_rows(rows)
        shown = None if step is None else (step.kind, step.module)
        if shown != self._shown:
            self._shown = shown
            self.step_changed.emit(step)

    def _set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _set_rows(self, rows: list[Row]) -> None:
        """The grids renewed in place when the rows are the same ones (a live walk), else made anew."""
        if [label.text() for label, _ in self._rows] != [row.symbol for row in rows]:
            self._rows = []
            content = QWidget()
            content.setObjectName("backpropRowsContent")
            grid = QGridLayout(content)
            grid.setContentsMargins(0, 2, 0, 2)
            grid.setHorizontalSpacing(10)
            grid.setVerticalSpacing(5)
            grid.setColumnStretch(2, 1)
            for r, row in enumerate(rows):
                label = QLabel(row.symbol)
                label.setFont(_font(self.look.pt(15), bold=True))
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
                values = ValueGrid()
                values.apply_look(self.look, self.lut)
                grid.addWidget(label, r, 0)
                grid.addWidget(values, r, 1, 1, 2)
                self._rows.append((label, values))
            grid.setRowStretch(len(rows), 1)
            old = self.scroll.takeWidget()
            if old is not None:
                old.deleteLater()
            self.scroll.setWidget(content)
        for (label, values), row in zip(self._rows, rows):
            label.setToolTip(row.about)
            values.set_values(row.values, row.symbol)
        numbers = [values for _, values in self._rows if values.writes_numbers]
        width = max((values.natural_cell_width() for values in numbers), default=0.0)
        for values in numbers:  # one cell width for the step: its grids' columns line up
            values.set_least_cell_width(width)
        for _, values in self._rows:
            alignment = Qt.AlignmentFlag.AlignTop  # a heat strip fills the width; numbers keep theirs
            if values.writes_numbers:
                alignment |= Qt.AlignmentFlag.AlignLeft
            self.scroll.widget().layout().setAlignment(values, alignment)

    def apply_look(self, look: Look, lut: np.ndarray) -> None:
        """Sizes of `look` (large: it is read from the back of a hall) and the colours of `lut`."""
        self.look, self.lut = look, lut
        self.header.setFont(_font(look.pt(12)))
        self.step_label.setFont(_font(look.pt(13), bold=True))
        self.equation.setFont(_font(look.pt(20)))
        self.note.setFont(_font(look.pt(11)))
        self.mistake.setFont(_font(look.pt(13), bold=True))
        self.mistake.setStyleSheet(f"color: {RED.get(look.theme, RED['light'])};")
        for button in (self.pick, self.batch, self.back_button, self.next_button):
            button.setFont(_font(look.pt(12)))
        for label, values in self._rows:
            label.setFont(_font(look.pt(15), bold=True))
            values.apply_look(look, lut)
