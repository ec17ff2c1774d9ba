"""The desktop app, driven as a user would, offscreen."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QListWidget, QPushButton
from waits import drawn_after_fence, steps_across_fence

import minidl
from minidl.spec import Layer
from minidl_gui._qt.worker import FRAME_RATE


def choose(combo, name: str) -> None:
    """Pick a registry entry in a combo by its name, as a user picks its display text."""
    index = combo.findData(name)
    assert index >= 0, name
    combo.setCurrentIndex(index)


def epoch_of(window) -> int:
    return window.last_snapshot.epoch if window.last_snapshot else 0


def wait_snapshot(qtbot, window, condition, timeout=20000):
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=timeout)


def model_of(window):
    return window.session.trainer.model


def test_launch_has_the_named_widgets(window, qtbot):
    for name, kind in [
        ("playButton", QPushButton),
        ("stepButton", QPushButton),
        ("resetButton", QPushButton),
        ("learningRateSpin", QDoubleSpinBox),
        ("layerList", QListWidget),
        ("addLinearButton", QPushButton),
        ("addTanhButton", QPushButton),
        ("addReluButton", QPushButton),
        ("addGeluButton", QPushButton),
        ("addSoftplusButton", QPushButton),
        ("removeLayerButton", QPushButton),
        ("lossPlot", pg.PlotWidget),
        ("boundaryPlot", pg.PlotWidget),
        ("epochLabel", QLabel),
    ]:
        widget = window.findChild(kind, name)
        assert widget is not None, name
    assert window.findChild(QListWidget, "layerList").count() == 6  # the report's hidden layers
    assert "Space" in window.findChild(QPushButton, "playButton").toolTip()
    wait_snapshot(qtbot, window, lambda s: True)
    assert "0" in window.findChild(QLabel, "epochLabel").text()


def test_play_trains_and_the_heatmap_changes_then_pause_stops(window, qtbot):
    wait_snapshot(qtbot, window, lambda s: True)
    before = window.boundary_plot.grid.copy()
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 3)
    assert not np.array_equal(before, window.boundary_plot.grid)
    assert len(window.loss_plot.epochs) >= 3
    assert steps_across_fence(qtbot, window) > 0  # while playing, the worker trains across a fence...
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    wait_snapshot(qtbot, window, lambda s: not s.playing)
    # the numbers update a few times a second while playing, and at once when paused
    qtbot.waitUntil(lambda: window.epoch_label.text() == f"Epoch {epoch_of(window)}")
    steps = window.session.trainer.steps
    assert steps_across_fence(qtbot, window) == 0  # ...and once paused, not a step more
    assert window.session.trainer.steps == steps


def test_step_advances_exactly_one_epoch(window, qtbot):
    qtbot.mouseClick(window.step_button, Qt.MouseButton.LeftButton)
    wait_snapshot(qtbot, window, lambda s: s.epoch == 1 and not s.playing)
    after = drawn_after_fence(qtbot, window)  # the worker has looked again: nothing more was trained
    assert after.epoch == 1 and after.step_in_epoch == 0
    assert window.session.trainer.epoch == 1 and window.session.trainer.step_in_epoch == 0
    qtbot.mouseClick(window.step_button, Qt.MouseButton.LeftButton)  # the same path does train when asked
    wait_snapshot(qtbot, window, lambda s: s.epoch == 2 and not s.playing)
    assert drawn_after_fence(qtbot, window).epoch == 2


def test_keyboard_shortcuts(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_Right)
    wait_snapshot(qtbot, window, lambda s: s.epoch == 1 and not s.playing)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 3)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_snapshot(qtbot, window, lambda s: not s.playing)
    qtbot.keyClick(window, Qt.Key.Key_R)
    wait_snapshot(qtbot, window, lambda s: s.epoch == 0)


def test_reset_returns_to_the_initial_weights(window, qtbot):
    initial = [p.clone() for p, _ in model_of(window).param()]
    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 2)
    qtbot.mouseClick(window.reset_button, Qt.MouseButton.LeftButton)
    wait_snapshot(qtbot, window, lambda s: s.epoch == 0 and not s.playing)
    for (p, _), q in zip(model_of(window).param(), initial):
        assert (p == q).all()


def test_layer_edits_change_the_model_that_trains(window, qtbot):
    editor = window.layer_editor
    editor.list.setCurrentRow(5)  # the last Tanh
    qtbot.mouseClick(window.findChild(QPushButton, "addReluButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(model_of(window)[6], minidl.ReLU))
    editor.units.setValue(25)
    qtbot.mouseClick(window.findChild(QPushButton, "addLinearButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(model_of(window)) == 9)
    editor.list.setCurrentRow(7)
    editor.units.setValue(7)  # edit the selected Linear's units
    qtbot.waitUntil(lambda: model_of(window)[7].out_dim == 7)
    assert model_of(window)[8].in_dim == 7  # the output layer follows
    qtbot.mouseClick(window.findChild(QPushButton, "removeLayerButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(model_of(window)) == 8)
    editor.list.setCurrentRow(6)  # the ReLU
    qtbot.mouseClick(window.findChild(QPushButton, "moveUpButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(model_of(window)[5], minidl.ReLU))
    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 1 and s.spec.layers[5].type == "relu")


def test_impossible_layer_edit_is_refused_with_a_reason(window, qtbot):
    editor = window.layer_editor
    assert editor.remove_selected()
    assert not editor.add(Layer("linear", (("units", 0),)))
    assert editor.error.isVisible() and "units" in editor.error.text()
    assert editor.list.count() == 5


def test_lr_change_mid_training_applies_without_reset(window, qtbot):
    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 2)
    trainer = window.session.trainer
    window.findChild(QDoubleSpinBox, "learningRateSpin").setValue(0.005)
    qtbot.waitUntil(lambda: trainer.lr == 0.005)
    assert window.session.trainer is trainer  # same model, same epoch count going on
    epoch = trainer.epoch
    wait_snapshot(qtbot, window, lambda s: s.epoch > epoch and s.lr == 0.005)


def test_huge_lr_shows_the_banner_and_pauses(window, qtbot):
    window.lr_control.set_lr(10.0)
    window.session.set_lr(10.0)
    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.status == "diverged" and not s.playing)
    qtbot.waitUntil(lambda: window.banner.isVisible())
    assert "diverged" in window.banner.label.text() and "smaller learning rate" in window.banner.label.text()
    window.lr_control.set_lr(0.01)
    window.session.set_lr(0.01)
    window.reset()
    wait_snapshot(qtbot, window, lambda s: s.status == "ready")
    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 1 and s.status == "ready")


def test_dataset_change_rebuilds_and_redraws(window, qtbot):
    choose(window.dataset_combo, "xor")
    wait_snapshot(qtbot, window, lambda s: s.spec.dataset.name == "xor")
    assert window.boundary_plot.boundary_curves() == 2


def test_closing_while_training_stops_the_thread(qtbot):
    from minidl_gui import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    # one epoch of 4,000 steps (batch 1): close stops it at a step boundary, not at the epoch's end
    window.apply_spec(window.session.spec.replace(n_train=4000, batch_size=1))
    window.step_epoch()
    qtbot.waitUntil(lambda: window.session.trainer.steps > 50, timeout=20000)
    window.close()
    assert window.worker.isFinished()
    trainer = window.session.trainer
    assert trainer.epoch == 0 and 50 < trainer.steps < 4000


def test_snapshots_are_rate_limited_and_coalesced(window, qtbot):
    notifications = []
    # stamped as emitted, in the worker's thread: the GUI thread's own delays do not blur the count
    window.worker.snapshot_ready.connect(
        lambda: notifications.append(time.perf_counter()), Qt.ConnectionType.DirectConnection
    )
    window.toggle_play()
    qtbot.waitUntil(lambda: len(notifications) >= 20, timeout=20000)
    window.toggle_play()
    count, span = len(notifications), notifications[-1] - notifications[0]
    # publish slots are at least a frame apart; an emit follows its slot by the snapshot's build time,
    # so the first may come late by that much (a few milliseconds; three frames allowed)
    assert count - 1 <= span * FRAME_RATE + 3, (count, span)
    assert window.last_snapshot.epoch >= 1


def test_dangling_worker_is_detected(qtbot):
    from minidl_gui._qt.worker import TrainingWorker
    from minidl_gui.components.session import Session

    worker = TrainingWorker(Session())
    worker.start()
    qtbot.waitUntil(worker.isRunning)
    assert worker in TrainingWorker.running()
    assert worker.stop()
    assert worker not in TrainingWorker.running()


class Emitter(QObject):
    ping = Signal(int)


@pytest.mark.parametrize("count", [100_000])
def test_many_signal_emits_survive(qtbot, count):
    """PySide6 6.12.0 on Python 3.11 leaks a reference to True per emit and dies in a few thousand."""
    emitter, received = Emitter(), []
    emitter.ping.connect(received.append)
    for i in range(count):
        emitter.ping.emit(i)
    assert len(received) == count and received[-1] == count - 1


def test_app_without_a_display_explains_instead_of_crashing(monkeypatch):
    from minidl_gui import app

    monkeypatch.setattr(app.sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert "no display found" in app.display_problem()
    assert app.main([]) == 1
    monkeypatch.setenv("DISPLAY", ":97")  # a stale DISPLAY: nothing listens there
    assert "no X server answers at DISPLAY=:97" in app.display_problem()
    monkeypatch.setattr(app, "_x_server_answers", lambda display: True)
    assert app.display_problem() == ""


def test_save_and_open_experiment_restores_every_control(window, qtbot, tmp_path):
    from minidl.spec import Spec

    window.layer_editor.list.setCurrentRow(0)
    window.layer_editor.remove_selected()
    choose(window.dataset_combo, "moons")
    window.optimizer_combo.setCurrentText("Adam")
    window.lr_control.spin.setValue(0.003)
    assert window.session.spec.optimizer.lr == 0.003
    path = tmp_path / "experiment.json"
    assert window.files.save_experiment(path)
    saved = Spec.from_json(path.read_text())
    assert saved.dataset.name == "moons" and saved.optimizer.type == "adam" and len(saved.layers) == 5

    window.apply_spec(Spec())  # back to the defaults
    assert window.dataset_combo.currentData() == "disk"
    assert window.files.open_experiment(path)
    assert window.current_spec() == saved
    wait_snapshot(qtbot, window, lambda s: s.spec == saved)

    bad = tmp_path / "bad.json"
    bad.write_text('{"layers": [{"type": "linear", "units": 0}]}')
    assert not window.files.open_experiment(bad)
    assert window.banner.isVisible() and "layers[0].units" in window.banner.label.text()
    assert window.current_spec() == saved  # nothing the user made is lost


def test_opening_a_spec_keeps_the_options_no_control_shows(window, qtbot, tmp_path):
    from minidl.spec import Spec

    spec = Spec.from_dict(
        {
            "optimizer": {"type": "sgd", "lr": 0.02, "momentum": 0.5, "nesterov": True, "weight_decay": 0.001},
            "lr_decay": 0.99,
        }
    )
    path = tmp_path / "custom.json"
    path.write_text(spec.to_json())
    assert window.files.open_experiment(path)
    assert window.optimizer_combo.currentText() == "SGD"
    options = window.training_settings.option_fields
    assert options["momentum"].value() == 0.5 and options["nesterov"].value() is True
    assert options["weight_decay"].value() == 0.001
    assert window.current_spec() == spec  # momentum 0.5, nesterov, weight decay and lr_decay survive
    window.batch_spin.setValue(20)
    assert window.current_spec() == spec.replace(batch_size=20)
    window.optimizer_combo.setCurrentText("Adam")
    assert window.current_spec().optimizer.type == "adam" and window.current_spec().optimizer.lr == 0.02
    assert set(window.training_settings.option_fields) == {"betas", "eps", "weight_decay"}


def test_save_and_open_a_trained_model(window, qtbot, tmp_path):
    import torch

    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 3)
    path = tmp_path / "model.pt"
    future = window.files.save_model(path)
    qtbot.waitUntil(future.done)
    assert "Saved the model at epoch" in future.result()
    window.toggle_play()
    saved = torch.load(path, weights_only=True)["state"]

    window.reset()
    wait_snapshot(qtbot, window, lambda s: s.epoch == 0)
    assert not torch.equal(model_of(window)[0].weight, saved["0.weight"])
    assert window.files.open_experiment(path)
    qtbot.waitUntil(lambda: torch.equal(model_of(window)[0].weight, saved["0.weight"]))
    for key, value in model_of(window).state_dict().items():
        assert torch.equal(value, saved[key])

    broken = tmp_path / "broken.pt"
    broken.write_bytes(path.read_bytes()[:100])
    assert not window.files.open_experiment(broken)
    assert "is not a readable minidl model file" in window.banner.label.text()


def test_a_network_too_big_for_live_training_is_refused_with_the_reason(window):
    editor = window.layer_editor
    editor.units.setValue(1024)
    editor.list.setCurrentRow(5)
    assert editor.add(Layer.make("linear", units=1024))
    assert not editor.add(Layer.make("linear", units=1024))  # 25*1024 + 1024*1024 + ... > 250,000
    assert "Too big to train live" in editor.error.text() and editor.error.isVisible()
    assert len(editor.layers()) == 7


def test_every_registry_entry_has_its_control(window):
    from minidl.registry import DATASETS, INITS, LAYERS, LOSSES, OPTIMIZERS
    from minidl_gui._qt.widgets.layer_editor import pascal

    for name, entry in LAYERS.items():
        button = window.findChild(QPushButton, f"add{pascal(name)}Button")
        assert (button is not None) == entry.editor, name
    for combo_name, registry in (
        ("lossCombo", LOSSES),
        ("optimizerCombo", OPTIMIZERS),
        ("datasetCombo", DATASETS),
        ("initCombo", INITS),
    ):
        combo = window.findChild(QComboBox, combo_name)
        assert [combo.itemData(i) for i in range(combo.count())] == list(registry), combo_name
        assert [combo.itemText(i) for i in range(combo.count())] == [e.display for e in registry.values()]


def test_adding_a_gelu_and_a_softplus_trains_them(window, qtbot):
    editor = window.layer_editor
    editor.list.setCurrentRow(1)
    qtbot.mouseClick(window.findChild(QPushButton, "addGeluButton"), Qt.MouseButton.LeftButton)
    editor.option_fields["beta"].set_value(2.0)
    qtbot.mouseClick(window.findChild(QPushButton, "addSoftplusButton"), Qt.MouseButton.LeftButton)
    assert [layer.type for layer in window.session.spec.layers][:4] == ["linear", "tanh", "gelu", "softplus"]
    assert window.session.spec.layers[3].beta == 2.0 and "beta 2" in editor.list.item(3).text()
    window.toggle_play()
    wait_snapshot(qtbot, window, lambda s: s.epoch >= 1 and s.spec.layers[2].type == "gelu")
    assert isinstance(model_of(window)[2], minidl.GELU) and model_of(window)[3].beta == 2.0


def test_the_file_menus_save_entries_ask_where_and_write_there(window, qtbot, tmp_path, monkeypatch):
    """Each File-menu save or export: its dialog proposes the usual name, and the file is written where chosen."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QFileDialog

    proposed = []

    def choose(parent, title, name, filters):
        proposed.append(name)
        return str(tmp_path / name), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    names = ("saveAction", "saveModelAction", "saveSessionAction", "exportPointsAction", "exportHistoryAction")
    for name in names:
        window.findChild(QAction, name).trigger()
    assert proposed == ["experiment.json", "model.pt", "session.minidl", "points.csv", "history.csv"]
    written = [tmp_path / name for name in proposed]
    qtbot.waitUntil(lambda: all(path.exists() and path.stat().st_size > 0 for path in written), timeout=20000)
    assert window.files.open_experiment(tmp_path / "experiment.json")
