"""Backpropagation in the window: the step-through, the diagram's link modes, the live gradient
check, Break backprop (and Ctrl+Z), points sized by their loss, and the loss along the step.
Every number the window shows is the worker's (`Snapshot.backprop`)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel, QPushButton
from waits import drawn_after_fence, epochs_trained

from minidl.backprop import MISTAKES
from minidl.spec import Spec
from minidl_gui.components.lessons import LESSONS

SMALL = Spec.from_dict(
    {
        "dataset": {"n_train": 200, "n_test": 100},
        "layers": [{"type": "linear", "units": 6}, {"type": "tanh"}, {"type": "linear", "units": 4}, {"type": "tanh"}],
    }
)


def show(window, qtbot, dock):
    window.view_docks[dock].show()
    window.view_docks[dock].raise_()
    qtbot.waitUntil(lambda: window.view_visible(dock))


def stepped(window, qtbot, spec=SMALL, dock="networkDock"):
    """`spec` trained one epoch, `dock` in front, and a snapshot drawn after it."""
    window.apply_spec(spec)
    show(window, qtbot, dock)
    window.step_epoch()
    qtbot.waitUntil(lambda: window.last_snapshot is not None and window.last_snapshot.epoch >= 1, timeout=20000)
    return drawn_after_fence(qtbot, window)


def picture_after_fence(window, qtbot, condition=lambda picture: True):
    def ready():
        snapshot = drawn_after_fence(qtbot, window)
        return snapshot.backprop is not None and condition(snapshot.backprop)

    qtbot.waitUntil(ready, timeout=20000)
    return window.last_snapshot.backprop


def test_the_step_through_walks_the_point_and_frames_the_diagram(window, qtbot):
    show(window, qtbot, "networkDock")  # the diagram, for the frame
    stepped(window, qtbot, dock="backpropView")
    view = window.backprop.view
    qtbot.waitUntil(lambda: view.steps and window.last_snapshot.backprop.walk is not None)
    walk = window.last_snapshot.backprop.walk
    assert len(view.steps) == 2 * len(SMALL.layers) + 2 + 2  # + the output Linear, forward and back
    next_button = view.findChild(QPushButton, "backpropNext")
    for _ in range(2):
        qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
    assert view.step_index == 2
    step = view.steps[2]
    assert step.kind == "forward" and step.stage.name == "Linear(6, 4)"
    assert window.network_view.highlight == step.column == 2
    shown = {label: grid.values for label, grid in view.rows()}
    assert any(np.array_equal(values, walk.stages[2].weight) for values in shown.values()), list(shown)
    rings = window.boundary_plot.walked_rings
    assert all(ring.isVisible() for ring in rings)
    np.testing.assert_array_equal(window.boundary_plot.walked, walk.point)
    assert (rings[1].pos().x(), rings[1].pos().y()) == pytest.approx(tuple(walk.point))


def test_a_picked_point_is_the_one_walked(window, qtbot):
    stepped(window, qtbot, dock="backpropView")
    x_train = window.last_snapshot.x_train
    target = x_train[17]
    pick = window.backprop.view.findChild(QPushButton, "backpropPick")
    qtbot.mouseClick(pick, Qt.MouseButton.LeftButton)
    assert window.boundary_plot.paint_mode == "pick"
    where = window.boundary_plot.widget_point(*target).toPoint()
    qtbot.mouseClick(window.boundary_plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    walk = picture_after_fence(window, qtbot, lambda p: p.walk is not None and p.walk.source == "picked").walk
    nearest = int(np.argmin(((x_train - target) ** 2).sum(1)))
    assert walk.index == nearest and window.boundary_plot.paint_mode is None


@pytest.mark.parametrize("mode", ["gradient", "update"])
def test_the_links_show_the_last_steps_gradient_or_update(window, qtbot, mode):
    stepped(window, qtbot)
    window.set_link_mode(mode)
    window.step_epoch()  # an update is recorded from the next step on
    picture = picture_after_fence(window, qtbot, lambda p: p.link_mode == mode and p.links is not None)
    view = window.network_view
    links, maps, caption = view._shown_values()
    assert links is picture.links and maps is picture.deltas
    assert "δ" in caption and view.caption.startswith("links: " + ("gradient" if mode == "gradient" else "last"))
    trainer_links = [window.session.trainer.model[i].grad_weight.numpy() for i in (0, 2, 4)]
    if mode == "gradient":
        for shown, actual in zip(picture.links, trainer_links):
            assert shown.shape == actual.shape
    window.set_link_mode("weight")
    qtbot.waitUntil(lambda: "links:" not in view.caption and view._shown_values()[0] is view.probe.weights)


def connection_point(view, pair, out, into):
    left, right = view.neuron_rect(pair, into), view.neuron_rect(pair + 1, out)
    return QPointF((left.right() + right.left()) / 2, (left.center().y() + right.center().y()) / 2)


def test_the_gradient_check_agrees_then_catches_a_broken_backprop_and_ctrl_z_repairs(window, qtbot):
    stepped(window, qtbot)
    view = window.network_view
    pairs = view.drawn_connections(0)
    out, into = (int(v) for v in pairs[0])
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=connection_point(view, 0, out, into).toPoint())
    label = window.findChild(QLabel, "gradientCheckLabel")
    check = picture_after_fence(window, qtbot, lambda p: p.check is not None).check
    assert check.module == 0 and check.index == (out, into) and check.passes
    qtbot.waitUntil(lambda: "✓" in label.text())
    epoch = window.last_snapshot.epoch

    window.findChild(type(window.undo_action), "mistake_no_activation_derivative").trigger()
    assert window.session.spec.mistake == "no_activation_derivative"
    banner = window.central.mistake_banner
    qtbot.waitUntil(lambda: banner.isVisible() and MISTAKES["no_activation_derivative"].title in banner.label.text())
    picture = picture_after_fence(window, qtbot, lambda p: p.check is not None and not p.check.passes)
    assert picture.check.relative_error > 1e-4
    qtbot.waitUntil(lambda: "MISMATCH" in label.text())
    assert window.last_snapshot.epoch == epoch  # put in live: the network was not rebuilt

    window.undo_action.trigger()
    assert window.session.spec.mistake == "none"
    qtbot.waitUntil(lambda: not banner.isVisible())
    picture_after_fence(window, qtbot, lambda p: p.check is not None and p.check.passes)
    assert window.last_snapshot.epoch == epoch  # and taken out live
    assert window.findChild(type(window.undo_action), "mistake_none").isChecked()


def test_every_mistake_of_the_menu_is_said_in_the_banner(window, qtbot):
    stepped(window, qtbot)
    for name, mistake in MISTAKES.items():
        window.backprop.break_backprop(name)
        qtbot.waitUntil(lambda m=mistake: m.title in window.central.mistake_banner.label.text())
    window.backprop.break_backprop("none")
    qtbot.waitUntil(lambda: not window.central.mistake_banner.isVisible())


def test_a_mistake_the_network_cannot_have_is_refused_and_said(window, qtbot):
    relu = SMALL.replace(layers=[{"type": "linear", "units": 4}, {"type": "relu"}])
    stepped(window, qtbot, spec=relu)
    problem = window.backprop.break_backprop("tanh_as_sigmoid")
    assert "Tanh" in problem and window.session.spec.mistake == "none"


@pytest.mark.parametrize("overlay", ["loss", "gradient"])
def test_points_sized_by_their_loss_or_gradient(window, qtbot, overlay):
    stepped(window, qtbot)
    window.set_point_overlay(overlay)
    picture = picture_after_fence(window, qtbot, lambda p: p.overlay == overlay and p.point_values is not None)
    values = picture.point_values
    assert values.shape == (len(window.last_snapshot.x_train),) and values.max() == pytest.approx(1.0)
    weights = window.boundary_plot.overlay.train_weights
    y = window.last_snapshot.y_train
    qtbot.waitUntil(lambda: window.boundary_plot.overlay.train_weights is not None)
    weights = window.boundary_plot.overlay.train_weights
    np.testing.assert_array_equal(np.concatenate(weights), np.concatenate([values[y == k] for k in (0, 1)]))
    assert "dot size" in window.boundary_plot.getPlotItem().titleLabel.text
    window.set_point_overlay(None)
    assert window.boundary_plot.overlay.train_weights is None
    with pytest.raises(ValueError, match="point overlay"):
        window.set_point_overlay("size")


def test_the_loss_along_the_step_is_drawn_with_the_current_lr(window, qtbot):
    stepped(window, qtbot, dock="stepLossDock")
    picture = picture_after_fence(window, qtbot, lambda p: p.step_loss is not None)
    plot = window.findChild(type(window.backprop.step_loss_plot), "stepLossPlot")
    x, y = plot.curve.getData()
    np.testing.assert_allclose(x, picture.step_loss.etas)
    np.testing.assert_allclose(y, picture.step_loss.losses)
    assert picture.step_loss.lr == window.session.spec.optimizer.lr
    assert picture.step_loss.etas[-1] > picture.step_loss.lr


def test_nothing_is_computed_for_views_not_shown(window, qtbot):
    window.apply_spec(SMALL)
    for dock in window.view_docks.values():
        dock.hide()
    window.step_epoch()
    snapshot = drawn_after_fence(qtbot, window)
    assert snapshot.backprop is None
    assert window.session.trainer.record_update is False


def test_the_dead_relu_lesson_opens_the_diagram_on_gradients(window, qtbot):
    (lesson,) = [x for x in LESSONS if x.expect == "dead-units"]
    window.load_lesson(lesson)
    assert window.network_view.link_mode == "gradient"
    assert window.backprop.link_combo.currentData() == "gradient"
    window.load_lesson(LESSONS[0])
    assert window.network_view.link_mode == "weight"


def test_gradients_of_another_network_shape_wait_instead_of_failing(window, qtbot):
    """A picture made before a layer grew meets the new network's look inside (found by the soak)."""
    from minidl.build import make_trainer
    from minidl_gui.components.probe import Prober

    stepped(window, qtbot)
    window.set_link_mode("gradient")
    old = picture_after_fence(window, qtbot, lambda p: p.deltas is not None)
    wider = SMALL.replace(layers=[{"type": "linear", "units": 7}, {"type": "tanh"}, *SMALL.to_dict()["layers"][2:]])
    view = window.network_view
    window.views.docks["networkDock"].hide()  # nothing newer reaches the diagram meanwhile
    view.set_probe(Prober(wider).probe(make_trainer(wider), None), wider)
    view.set_backprop(old)
    assert view.neuron_counts() == wider.widths()
    assert "waiting for the gradients" in view.caption


def test_a_view_behind_another_tab_asks_for_nothing(window, qtbot):
    """Qt keeps a dock whose tab is behind another `isVisible()`: the views follow visibilityChanged."""
    window.apply_spec(SMALL)
    docks = window.view_docks
    for dock in docks.values():
        dock.show()
    show(window, qtbot, "networkDock")
    qtbot.waitUntil(lambda: not window.view_visible("backpropView"))
    assert docks["backpropView"].isVisible()  # Qt's own word, which the views must not trust
    assert window.session.want_backprop().walk is False
    show(window, qtbot, "backpropView")
    assert window.session.want_backprop().walk is True and not window.view_visible("networkDock")


def test_ctrl_z_after_a_lesson_that_differs_only_in_lr_rebuilds(window, qtbot):
    """Only a live edit (a mistake put in) is undone live: a lesson's replacement is rebuilt."""
    (lesson,) = [x for x in LESSONS if x.expect == "overshoots"]
    window.load_lesson(lesson)
    window.step_epoch()
    qtbot.waitUntil(lambda: window.last_snapshot.status == "diverged", timeout=20000)
    window.undo_action.trigger()
    snapshot = drawn_after_fence(qtbot, window)
    assert snapshot.status == "ready" and snapshot.steps == 0
    assert snapshot.spec.optimizer.lr == window.session.spec.optimizer.lr != lesson.spec.optimizer.lr


def test_a_refused_mistake_leaves_the_menu_and_the_undo_as_they_were(window, qtbot):
    relu = SMALL.replace(layers=[{"type": "linear", "units": 4}, {"type": "relu"}])
    stepped(window, qtbot, spec=relu)
    can_undo = window.undo_action.isEnabled()
    window.backprop.mistake_actions["tanh_as_sigmoid"].trigger()
    assert window.backprop.mistake_actions["none"].isChecked()
    assert window.undo_action.isEnabled() == can_undo and window.session.spec.mistake == "none"
    assert "Tanh" in window.statusBar().currentMessage()


def test_a_mistake_on_a_diverged_network_is_taken_out_by_starting_again():
    from minidl_gui.components.session import Session

    session = Session(SMALL.replace(mistake="dw_wrong_sign"))
    session.play()
    while session.playing:
        session.advance(0.05)
    assert session.trainer.diverged
    session.edit(mistake="none")
    session.advance(0.0)
    assert not session.trainer.diverged and session.trainer.steps == 0
    assert session.snapshot().spec.mistake == "none"


def test_the_walk_follows_new_points_while_paused():
    from minidl_gui.components.session import Session

    session = Session(SMALL)
    session.want_backprop(walk=True)
    epochs_trained(session)
    first = session.snapshot().backprop.walk
    moved = np.full((5, 2), 0.9), np.array([1, 1, 0, 0, 1]), np.full((3, 2), 0.1), np.array([0, 1, 0])
    session.restore_points(moved)
    session.advance(0.0)
    walk = session.snapshot().backprop.walk
    assert walk is not first and np.allclose(walk.point, 0.9)


def test_mse_factor_2_belongs_to_mse():
    from minidl.params import SpecError

    with pytest.raises(SpecError, match="mse"):
        SMALL.replace(loss="cross_entropy", mistake="mse_factor_2")
