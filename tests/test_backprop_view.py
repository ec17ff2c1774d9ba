"""The backprop step-through, its value grids and the loss along the step, on real walks.

Every walk here is the worker's own (a Session trained one epoch, Qt-free); the widgets must show
exactly its arrays, never numbers of their own.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QGraphicsScene, QToolTip
from waits import epochs_trained

from minidl.backprop import MISTAKES
from minidl_gui._qt.widgets.backprop_view import HINT, BackpropView
from minidl_gui._qt.widgets.plot_style import Plot
from minidl_gui._qt.widgets.step_loss_plot import DIVERGES, StepLossPlot
from minidl_gui._qt.widgets.value_grid import HEAT_HEIGHT, NEUTRAL, ValueGrid, number
from minidl_gui.components.backprop_views import NUMBERS_UP_TO, StepLoss
from minidl_gui.components.defaults import LAUNCH_SPEC
from minidl_gui.components.look import Look
from minidl_gui.components.session import Session


@functools.cache
def trained(units: int = 6, epochs: int = 1, **changes):
    """(walk, step_loss) of a 2-units-units-2 Tanh net after `epochs` epochs, as the worker makes them."""
    spec = LAUNCH_SPEC.replace(
        layers=[{"type": "linear", "units": units}, {"type": "tanh"}] * 2, n_train=200, n_test=50, **changes
    )
    session = Session(spec)
    session.want_backprop(walk=True, step_loss=True)
    epochs_trained(session, epochs)
    picture = session.snapshot().backprop
    assert picture is not None and picture.walk is not None and picture.step_loss is not None, picture
    return picture.walk, picture.step_loss


@functools.cache
def lut() -> np.ndarray:
    from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot

    return BoundaryPlot().lut


@pytest.fixture
def view(qtbot):
    widget = BackpropView()
    qtbot.addWidget(widget)
    widget.apply_look(Look(), lut())
    widget.resize(1000, 300)
    widget.show()
    return widget


def expected_rows(walk, step):
    """What each step must show, written out from the walk's fields."""
    s = step.stage
    if step.kind == "loss":
        return [
            ("ŷ", walk.prediction),
            ("t", walk.target),
            ("L", np.array([walk.loss])),
            ("∂L/∂ŷ", walk.grad_prediction),
        ]
    if step.kind == "update":
        rows = []
        for t in walk.stages:
            if t.is_linear:
                k = "₀₁₂₃₄₅₆₇₈₉"[t.column]
                rows += [(f"W{k}", t.weight), (f"dW{k}", t.grad_weight), (f"W{k} − lr·dW{k}", t.updated_weight)]
                rows += [(f"b{k}", t.bias), (f"db{k}", t.grad_bias), (f"b{k} − lr·db{k}", t.updated_bias)]
        return rows
    if step.kind == "forward" and s.is_linear:
        return [("x", s.input), ("W", s.weight), ("b", s.bias), ("z", s.output)]
    if step.kind == "forward":
        return [("z", s.input), ("a", s.output)]
    if not s.is_linear:
        return [("∂L/∂a", s.grad_output), ("δ = ∂L/∂z", s.grad_input)]
    return [("δ", s.grad_output), ("x", s.input), ("dW", s.grad_weight), ("db", s.grad_bias), ("dx", s.grad_input)]


def shown(view):
    return [(label, grid.values) for label, grid in view.rows()]


def test_the_steps_are_forward_loss_backward_update(view):
    walk, _ = trained()
    view.set_walk(walk)
    modules = len(walk.stages)
    assert modules == 5 and len(view.steps) == 2 * modules + 2
    assert [s.kind for s in view.steps] == ["forward"] * modules + ["loss"] + ["backward"] * modules + ["update"]
    assert [s.module for s in view.steps[modules + 1 : -1]] == list(reversed(range(modules)))
    assert view.step_index == 0 and view.findChild(type(view.step_label), "backpropStepLabel").text() == (
        "Step 1 of 12 · forward · layer 1, Linear(2, 6)"
    )
    assert view.header.text() == (
        f"Point ({walk.point[0]:.2f}, {walk.point[1]:.2f}), class {walk.label} — the first point of the last minibatch"
    )


def test_next_and_back_move_emit_and_stop_at_the_ends(view, qtbot):
    walk, _ = trained()
    view.set_walk(walk)
    assert not view.back_button.isEnabled() and view.next_button.isEnabled()
    with qtbot.assertNotEmitted(view.step_changed):
        view.back()
    assert view.step_index == 0
    with qtbot.waitSignal(view.step_changed) as emitted:
        qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.step_index == 1 and emitted.args[0] is view.steps[1]
    assert emitted.args[0].kind == "forward" and emitted.args[0].stage.name == "Tanh"
    assert view.step_label.text() == "Step 2 of 12 · forward · layer 1, Tanh"
    assert view.equation.text() == "a = tanh(z)"
    with qtbot.waitSignal(view.step_changed) as emitted:
        view.set_step(99)
    assert view.step_index == 11 and emitted.args[0].kind == "update"
    assert not view.next_button.isEnabled() and view.back_button.isEnabled()
    with qtbot.assertNotEmitted(view.step_changed):
        view.next()
    assert view.step_index == 11
    with qtbot.waitSignal(view.step_changed) as emitted:
        qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    assert view.step_index == 10 and emitted.args[0] is view.steps[10]
    assert emitted.args[0].kind == "backward" and emitted.args[0].column == 1


def test_every_step_shows_exactly_the_walks_arrays(view):
    walk, _ = trained()
    view.set_walk(walk)
    equations = []
    for i, step in enumerate(walk.steps()):
        view.set_step(i)
        rows = shown(view)
        wanted = expected_rows(walk, step)
        assert [label for label, _ in rows] == [label for label, _ in wanted], step
        for (label, values), (_, array) in zip(rows, wanted):
            assert np.array_equal(values, array), (i, label)
        equations.append(view.equation.text())
    assert equations[0] == "z = W·x + b" and equations[1] == "a = tanh(z)"
    assert equations[5].startswith("L = Σₖ (ŷₖ − tₖ)²") and "∂L/∂ŷ = 2(ŷ − t)" in equations[5]
    assert equations[6].split() == ["dW", "=", "δ·xᵀ", "db", "=", "δ", "dx", "=", "Wᵀ·δ"]
    assert equations[7] == "δ = ∂L/∂a ⊙ tanh′(z)"
    assert equations[11] == f"w ← w − lr·dw      (lr = {walk.lr:g})" and walk.lr == 0.01
    assert view.note.isHidden() and view.mistake.isHidden()  # plain SGD, correct backprop


def test_small_layers_are_written_as_numbers_and_large_ones_as_strips(view):
    walk, _ = trained()
    view.set_walk(walk)
    view.set_step(0)  # Linear(2, 6): x, W (6 × 2), b, z
    assert all(grid.writes_numbers for _, grid in view.rows())
    big, _ = trained(units=25)
    view.set_walk(big)
    assert view.step_index == 0  # as many steps: the step is kept
    assert [grid.writes_numbers for _, grid in view.rows()] == [True, False, False, False]  # x has 2 entries
    view.set_step(8)  # backward through Linear(25, 25)
    rows = dict(view.rows())
    assert view.step_label.text() == "Step 9 of 12 · backward · layer 2, Linear(25, 25)"
    assert not any(grid.writes_numbers for grid in rows.values())
    assert rows["dW"].shape == (25, 25) and rows["δ"].shape == (1, 25)
    assert 25 <= rows["dW"].height() <= HEAT_HEIGHT and rows["δ"].height() < 40
    assert NUMBERS_UP_TO == 8


def test_a_cell_tells_its_value_on_hover(view, qtbot):
    walk, _ = trained()
    view.set_walk(walk)
    grid = dict(view.rows())["W"]
    weight = walk.stages[0].weight
    centre = grid.cell_rect((4, 1)).center()
    assert grid.value_at(centre) == ((4, 1), weight[4, 1])
    assert grid.value_at(QPointF(grid.cell_rect((5, 1)).right() + 1, 1.0)) is None  # right of the last column
    assert grid.value_at(QPointF(-1.0, 2.0)) is None
    text = f"W[4, 1] = {number(weight[4, 1], 6)}"
    assert grid.tooltip_at(centre) == text
    point = centre.toPoint()
    QApplication.sendEvent(grid, QHelpEvent(QEvent.Type.ToolTip, point, grid.mapToGlobal(point)))
    qtbot.waitUntil(lambda: QToolTip.text() == text)
    x_grid = dict(view.rows())["x"]
    assert x_grid.tooltip_at(x_grid.cell_rect((1,)).center()) == f"x[1] = {number(walk.stages[0].input[1], 6)}"


def test_cells_are_coloured_about_zero_and_nan_is_grey(qtbot):
    grid = ValueGrid()
    qtbot.addWidget(grid)
    table = lut()
    grid.apply_look(Look(), table)
    grid.set_values(np.array([2.0, np.nan, -2.0, 0.0]), "v")
    grid.show()
    qtbot.waitExposed(grid)
    colors = grid.colors()[0]
    assert tuple(colors[0]) == tuple(table[255]) and tuple(colors[2]) == tuple(table[0])
    assert tuple(colors[3]) == tuple(table[128]) and QColor(*colors[1]).name() == NEUTRAL
    image = grid.grab().toImage()
    corner = grid.cell_rect((1,)).topLeft().toPoint() + QPoint(2, 2)
    assert image.pixelColor(corner).name() == NEUTRAL  # painted so
    assert grid.tooltip_at(grid.cell_rect((1,)).center()) == "v[1] = nan"
    with pytest.raises(ValueError, match="vector or a matrix"):
        grid.set_values(np.zeros((2, 2, 2)), "bad")


def test_a_broken_backprop_says_so_on_every_step(view):
    walk, _ = trained(mistake="no_activation_derivative")
    assert walk.mistake == "no_activation_derivative"
    view.set_walk(walk)
    text = f"Backprop is broken: {MISTAKES['no_activation_derivative'].title}"
    for i in range(len(view.steps)):
        view.set_step(i)
        assert not view.mistake.isHidden() and view.mistake.text() == text
    assert "#c0392b" in view.mistake.styleSheet()


def test_a_live_walk_keeps_the_step_and_renews_its_numbers(view, qtbot):
    first, _ = trained(epochs=1)
    second, _ = trained(epochs=2)
    view.set_walk(first)
    view.set_step(6)
    grids = [grid for _, grid in view.rows()]
    with qtbot.assertNotEmitted(view.step_changed):
        view.set_walk(second)
    assert view.step_index == 6 and [grid for _, grid in view.rows()] == grids  # renewed in place
    assert np.array_equal(dict(view.rows())["dW"].values, second.stages[4].grad_weight)
    assert not np.array_equal(first.stages[4].grad_weight, second.stages[4].grad_weight)
    other = LAUNCH_SPEC.replace(layers=[{"type": "linear", "units": 3}, {"type": "relu"}], n_train=60, n_test=20)
    session = Session(other)
    session.want_backprop(walk=True)
    epochs_trained(session)
    walk = session.snapshot().backprop.walk
    with qtbot.waitSignal(view.step_changed) as emitted:
        view.set_walk(walk)
    assert len(view.steps) == 8 and view.step_index == 0 and emitted.args[0] is view.steps[0]
    view.set_step(1)
    assert view.equation.text() == "a = ReLU(z)"
    with qtbot.waitSignal(view.step_changed) as emitted:
        view.set_walk(None)
    assert emitted.args[0] is None and view.header.text() == HINT and view.rows() == []
    assert not view.next_button.isEnabled() and not view.back_button.isEnabled()


def test_pick_and_batch_ask_the_window(view, qtbot):
    pick = view.findChild(type(view.pick), "backpropPick")
    with qtbot.waitSignal(view.pick_requested) as asked:
        qtbot.mouseClick(pick, Qt.MouseButton.LeftButton)
    assert asked.args == [True] and pick.isChecked()
    with qtbot.assertNotEmitted(view.pick_requested):
        view.set_picking(False)
    assert not pick.isChecked()
    with qtbot.waitSignal(view.batch_requested):
        qtbot.mouseClick(view.findChild(type(view.batch), "backpropBatch"), Qt.MouseButton.LeftButton)


def test_other_losses_and_optimizers_are_said(view):
    walk, _ = trained(loss="cross_entropy", optimizer="adam")
    view.set_walk(walk)
    view.set_step(5)
    assert view.equation.text().startswith("L = −Σₖ tₖ log softmax(ŷ)ₖ") and "softmax(ŷ) − t" in view.equation.text()
    assert view.step_label.text() == "Step 6 of 12 · loss · cross-entropy"
    assert np.array_equal(dict(view.rows())["∂L/∂ŷ"].values, walk.grad_prediction)
    view.set_step(11)
    assert not view.note.isHidden() and "adam" in view.note.text() and "plain gradient step" in view.note.text()


@pytest.mark.parametrize("look", [Look(), Look(scale=1.25, presenting=True)], ids=["plain", "presenting"])
def test_it_fits_a_short_dock(qtbot, look):
    widget = BackpropView()
    qtbot.addWidget(widget)
    widget.apply_look(look, lut())
    big, _ = trained(units=25)
    widget.set_walk(big)
    widget.set_step(8)
    hint = widget.minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 260, hint
    widget.resize(1000, 260)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.scroll.viewport().height() >= 40)
    for child in (widget.equation, widget.next_button, widget.batch, widget.step_label):
        assert widget.rect().contains(child.geometry()) or child.parentWidget() is not widget, child.objectName()
    assert widget.grab().size().toTuple() == (1000, 260)


def test_the_loss_along_the_step_draws_the_arrays_given(qtbot):
    plot = StepLossPlot()
    qtbot.addWidget(plot)
    assert isinstance(plot, Plot) and plot.scene().itemIndexMethod() == QGraphicsScene.ItemIndexMethod.NoIndex
    _, step_loss = trained()
    plot.set_data(step_loss)
    x, y = plot.curve.getData()
    assert np.array_equal(x, step_loss.etas) and np.array_equal(y, step_loss.losses)
    assert plot.lr_line.value() == step_loss.lr == 0.01 and plot.lr_line.isVisible()
    assert plot.start_line.value() == step_loss.losses[0] and step_loss.etas[0] == 0.0
    after = int(np.searchsorted(step_loss.etas, step_loss.lr))
    neighbours = sorted(step_loss.losses[max(after - 1, 0) : after + 1])
    assert neighbours[0] <= plot.loss_at_lr <= neighbours[-1]
    marker_x, marker_y = plot.marker.getData()
    assert list(marker_x) == [step_loss.lr] and list(marker_y) == [plot.loss_at_lr]
    (x0, x1), (y0, y1) = plot.getPlotItem().vb.viewRange()
    assert x0 <= 0.0 and x1 >= step_loss.etas.max() and y0 <= step_loss.losses.min() and y1 >= step_loss.losses.max()
    assert plot.note == "" and "Loss along the step" in plot.getPlotItem().titleLabel.text
    plot.apply_look(Look(theme="dark"))
    assert np.array_equal(plot.curve.getData()[1], step_loss.losses)


def test_a_diverging_step_is_said_not_drawn(qtbot):
    plot = StepLossPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 350)
    plot.show()
    etas = np.linspace(0.0, 4.0, 5)
    plot.set_data(StepLoss(etas, np.array([1.0, 0.5, 2.0, np.inf, np.nan]), 1.0))
    assert plot.note == DIVERGES and DIVERGES in plot.getPlotItem().titleLabel.text
    assert np.array_equal(plot.curve.getData()[1][:3], [1.0, 0.5, 2.0]) and plot.loss_at_lr == 0.5
    (_, _), (y0, y1) = plot.getPlotItem().vb.viewRange()
    assert y0 <= 0.5 and 2.0 <= y1 < 3.0  # fitted to the finite part
    plot.set_data(StepLoss(etas, np.full(5, np.nan), 1.0))
    assert plot.loss_at_lr is None and plot.note == DIVERGES
    plot.set_data(None)
    assert len(plot.curve.getData()[0] if plot.curve.getData()[0] is not None else []) == 0
    assert not plot.lr_line.isVisible() and plot.note != DIVERGES
    qtbot.waitExposed(plot)


def test_a_heat_grid_of_many_rows_stays_within_its_height(qtbot):
    from minidl_gui._qt.widgets.value_grid import HEAT_HEIGHT, ValueGrid

    grid = ValueGrid()
    qtbot.addWidget(grid)
    grid.set_values(np.linspace(-1, 1, 600 * 600).reshape(600, 600), "W")
    assert not grid.writes_numbers and grid.sizeHint().height() <= HEAT_HEIGHT + 1
    grid.resize(700, grid.sizeHint().height())
    assert grid.grab().width() == 700  # painted as one image: every cell, however many
