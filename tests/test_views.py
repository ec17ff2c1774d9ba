"""The views inside the network: the diagram, the neuron maps, layer health, a hidden layer's view."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QToolButton

from minidl.spec import Spec
from minidl_gui._qt.widgets.network_view import MAX_CONNECTIONS
from minidl_gui.components.grid import grid_points

SMALL = Spec.from_dict(
    {
        "dataset": {"n_train": 200, "n_test": 100},
        "layers": [{"type": "linear", "units": 6}, {"type": "tanh"}, {"type": "linear", "units": 4}, {"type": "relu"}],
    }
)


def drawn(qtbot, window, condition, timeout=20000):
    """Wait until the worker has caught up with the requested spec and the snapshot satisfies `condition`."""

    def ready():
        s = window.last_snapshot
        return s is not None and s.spec == window.session.spec and condition(s)

    qtbot.waitUntil(ready, timeout=timeout)


def open_small(window, qtbot, spec=SMALL):
    window.apply_spec(spec)
    window.view_docks["networkDock"].raise_()
    qtbot.waitUntil(lambda: window.view_visible("networkDock"))
    window.step_epoch()
    drawn(qtbot, window, lambda s: s.epoch >= 1 and s.probe is not None and not s.playing)
    qtbot.waitUntil(lambda: window.network_view.neuron_counts() == window.session.spec.widths())


def expected_connections(spec):
    widths = spec.widths()
    return [min(MAX_CONNECTIONS, a * b) for a, b in itertools.pairwise(widths)]


def test_the_diagram_follows_the_architecture(window, qtbot):
    open_small(window, qtbot)
    view = window.network_view
    assert view.neuron_counts() == [2, 6, 4, 2]
    assert [view.connection_count(i) for i in range(3)] == expected_connections(SMALL)
    # an edit from the side panel: one more Linear layer of 5 units after the ReLU
    window.layer_editor.list.setCurrentRow(3)
    window.layer_editor.units.setValue(5)
    window.layer_editor.add_buttons["linear"].click()
    window.step_epoch()
    drawn(qtbot, window, lambda s: s.probe is not None and len(s.probe.columns) == 5 and not s.playing)
    qtbot.waitUntil(lambda: view.neuron_counts() == [2, 6, 4, 5, 2])
    assert [view.connection_count(i) for i in range(4)] == expected_connections(window.session.spec)
    # the diagram's own − / + buttons: the same edit, validated alike
    minus = view.findChild(QToolButton, "unitsMinus1")
    plus = view.findChild(QToolButton, "unitsPlus2")
    assert minus in view.unit_buttons() and plus in view.unit_buttons()
    minus.click()
    plus.click()
    assert [layer.units for layer in window.session.spec.layers if layer.type == "linear"] == [5, 5, 5]
    assert window.layer_editor.list.item(0).text().startswith("Linear  (5 units)")  # the panel shows it too
    window.step_epoch()
    drawn(qtbot, window, lambda s: s.probe is not None and s.spec.widths() == [2, 5, 5, 5, 2] and not s.playing)
    qtbot.waitUntil(lambda: view.neuron_counts() == [2, 5, 5, 5, 2])
    # removing a layer
    window.layer_editor.list.setCurrentRow(4)
    window.layer_editor.remove.click()
    window.step_epoch()
    drawn(qtbot, window, lambda s: s.probe is not None and len(s.probe.columns) == 4 and not s.playing)
    qtbot.waitUntil(lambda: view.neuron_counts() == window.session.spec.widths())


def test_minus_refuses_what_the_panel_refuses(window, qtbot):
    open_small(window, qtbot, SMALL.replace(layers=[{"type": "linear", "units": 1}, {"type": "tanh"}]))
    before = window.session.spec
    assert not window.network_view.change_units(1, -1)  # 0 units: refused, nothing changes
    assert window.session.spec == before


def test_a_wide_network_draws_the_strongest_connections_and_says_so(window, qtbot):
    wide = SMALL.replace(layers=[{"type": "linear", "units": 32}, {"type": "tanh"}] * 8)
    open_small(window, qtbot, wide)
    view = window.network_view
    assert view.neuron_counts() == [2] + [32] * 8 + [2]
    assert view.connection_count(1) == MAX_CONNECTIONS < 32 * 32
    assert f"the {MAX_CONNECTIONS} strongest of 1024" in view.caption
    drawn_weights = [abs(window.last_snapshot.probe.weights[1][o, i]) for o, i in view.drawn_connections(1)]
    weakest_drawn = min(drawn_weights)
    assert (np.abs(window.last_snapshot.probe.weights[1]) > weakest_drawn).sum() < MAX_CONNECTIONS


def test_wider_layers_are_dots_and_the_diagram_still_draws(window, qtbot):
    open_small(window, qtbot, SMALL.replace(layers=[{"type": "linear", "units": 40}, {"type": "relu"}]))
    view = window.network_view
    assert view.neuron_counts() == [2, 40, 2]
    assert view.picture() is not None and view.connection_count(0) == 80 and view.connection_count(1) == 80
    image = view.picture()
    centre = view.neuron_rect(1, 0).center()
    assert image.pixelColor(int(centre.x()), int(centre.y())).name() != "#ffffff"  # a dot is drawn there


def test_show_neuron_puts_its_map_in_the_big_plot_and_back(window, qtbot):
    open_small(window, qtbot)
    window.show_neuron(2, 1)  # the second unit of the second hidden layer (after its ReLU)
    drawn(qtbot, window, lambda s: s.neuron == (2, 1))
    qtbot.waitUntil(lambda: window.boundary_plot.neuron == (2, 1))
    assert "hidden 2 (relu), unit 2" in window.boundary_plot.getPlotItem().titleLabel.text
    model = window.session.trainer.model  # the test may look; the window never does
    points = grid_points(window.last_snapshot.grid.shape[0])
    values = model.layer_outputs(points)[3][:, 1]
    expected = (values / values.abs().max().clamp_min(1e-12) + 1) / 2
    np.testing.assert_allclose(window.boundary_plot.grid.reshape(-1), expected.numpy(), atol=1e-5)
    window.show_neuron(None)
    drawn(qtbot, window, lambda s: s.neuron is None)
    qtbot.waitUntil(lambda: window.boundary_plot.neuron is None)
    assert "Decision boundary" in window.boundary_plot.getPlotItem().titleLabel.text


def test_hovering_a_neuron_shows_it_until_the_pointer_leaves(window, qtbot):
    open_small(window, qtbot)
    view = window.network_view
    rect = view.neuron_rect(1, 2)
    qtbot.mouseMove(view, QPoint(int(rect.center().x()), int(rect.center().y())))
    qtbot.waitUntil(lambda: window.session.neuron_shown == (1, 2))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    assert window.network_view.pinned == (1, 2)
    view.leaveEvent(None)  # the pointer leaves: a clicked neuron stays
    assert window.session.neuron_shown == (1, 2)
    window.show_neuron(None)
    assert window.session.neuron_shown is None and view.pinned is None


def test_the_gradient_plot_has_a_curve_per_linear_layer(window, qtbot):
    window.apply_spec(SMALL)
    window.view_docks["healthDock"].raise_()
    qtbot.waitUntil(lambda: window.view_visible("healthDock"))
    for _ in range(3):
        window.step_epoch()
    drawn(qtbot, window, lambda s: s.epoch == 3 and not s.playing)
    health = window.health_view
    qtbot.waitUntil(lambda: all(c.getData()[0] is not None and len(c.getData()[0]) == 3 for c in health.curves))
    assert len(health.curves) == 3  # two hidden Linear layers and the output layer
    record = window.last_snapshot.history
    for i, curve in enumerate(health.curves):
        np.testing.assert_allclose(curve.getData()[1], np.log10(record["grad_norms"][:, i]), rtol=1e-6)
    assert health.bar_names == ["1: tanh, saturated", "3: relu, dead"]
    heights = health.bar_item.opts["height"]
    np.testing.assert_allclose(heights, 100 * record["health"][-1])


def test_the_hidden_layer_view_follows_the_selector(window, qtbot):
    spec = SMALL.replace(layers=[{"type": "linear", "units": 6}, {"type": "tanh"}, {"type": "linear", "units": 2}])
    window.apply_spec(spec)
    window.view_docks["hiddenDock"].raise_()
    qtbot.waitUntil(lambda: window.view_visible("hiddenDock"))
    combo = window.hidden_view.combo
    window.step_epoch()
    drawn(qtbot, window, lambda s: s.probe is not None and s.probe.hidden is not None and s.probe.hidden.column == 1)
    assert [combo.itemData(i) for i in range(combo.count())] == [1, 2]
    shown = window.hidden_view.shown
    assert shown.axes == "principal components 1 and 2" and shown.points.shape == (200, 2)
    combo.setCurrentIndex(1)  # the 2-unit layer: its own units are the axes
    window.step_epoch()

    def final(s):  # the look inside taken after the epoch, of the chosen layer
        return not s.playing and s.probe is not None and s.probe.steps == s.steps and s.probe.hidden.column == 2

    drawn(qtbot, window, final)

    def current() -> bool:  # the view shows the look taken at the trainer's present step
        probe = window.last_snapshot.probe
        return probe.steps == window.session.trainer.steps and window.hidden_view.shown is probe.hidden

    qtbot.waitUntil(current)
    shown = window.hidden_view.shown
    assert shown.axes == "units 1 and 2"
    model = window.session.trainer.model
    by_hand = model.layer_outputs(window.session.trainer.data.x_train)[2]
    np.testing.assert_allclose(shown.points, by_hand.numpy(), atol=1e-5)
    assert shown.lattice.shape[-1] == 2 and np.isfinite(shown.lattice).all()


def test_views_hide_from_the_view_menu_and_the_layout_is_remembered(qtbot):
    from minidl_gui import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    menu = next(a.menu() for a in first.menuBar().actions() if a.text() == "&View")
    actions = {a.text(): a for a in menu.actions()}
    assert {"Experiment", "Network", "Layer health", "Hidden layer"} <= set(actions)
    actions["Network"].trigger()  # hide it
    qtbot.waitUntil(lambda: not first.view_docks["networkDock"].isVisible())
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert not second.view_docks["networkDock"].isVisible()
    assert second.view_docks["healthDock"].isVisible() or second.view_docks["hiddenDock"].isVisible()
    second.close()
    assert torch.get_num_threads() == 1


def test_views_side_by_side_are_all_in_sight_and_tabbed_again_one(window, qtbot):
    """View → Views side by side: every dock drawn at once (Qt's splitDockWidget would only tab them)."""
    from PySide6.QtGui import QAction

    window.resize(1400, 900)
    window.findChild(QAction, "viewsSideBySideAction").trigger()
    names = list(window.view_docks)
    qtbot.waitUntil(lambda: all(window.view_visible(name) for name in names))
    assert all(not window.view_docks[name].visibleRegion().isEmpty() for name in names)
    window.findChild(QAction, "viewsTabbedAction").trigger()
    qtbot.waitUntil(lambda: [window.view_visible(name) for name in names].count(True) == 1)
    assert window.view_visible("networkDock")
