"""Your data and your sessions, in the app: painting, CSV import/export, sessions saved and
continued exactly, a set-up as text, plots and history exported, recordings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from waits import drawn_after_fence

from minidl.storage.resume import read_session, restore_trainer
from minidl_gui.components.defaults import LAUNCH_SPEC
from minidl_gui.components.setup_text import setup_text

SMALL = LAUNCH_SPEC.replace(n_train=200, n_test=100, batch_size=20)


def settled(window, qtbot, condition, timeout=10000):
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=timeout)


def all_points(snapshot):
    x = np.concatenate([snapshot.x_train, snapshot.x_test])
    y = np.concatenate([snapshot.y_train, snapshot.y_test])
    return x, y


def near(x, point, tolerance=0.02):
    return np.hypot(*(x - np.asarray(point)).T) < tolerance


def test_painting_adds_points_of_the_right_class_where_clicked_and_training_uses_them(window, qtbot):
    window.apply_spec(SMALL)
    settled(window, qtbot, lambda s: s.spec == SMALL)
    window.paint_tools.clear_button.click()
    settled(window, qtbot, lambda s: len(s.x_train) + len(s.x_test) == 0)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_P)  # paint mode
    assert window.paint_tools.mode() == "paint" and window.boundary_plot.paint_mode == "paint"
    plot = window.boundary_plot
    clicks = [((0.3, 0.7), Qt.MouseButton.LeftButton, 1), ((0.8, 0.2), Qt.MouseButton.RightButton, 0)]
    for _ in range(3):  # enough points for both splits (each goes to test with probability 0.2)
        for (x, y), button, _label in clicks:
            qtbot.mouseClick(plot.viewport(), button, pos=plot.widget_point(x, y).toPoint())
    settled(window, qtbot, lambda s: len(s.x_train) + len(s.x_test) == 6)
    x, labels = all_points(window.last_snapshot)
    for (px, py), _button, label in clicks:
        at = near(x, (px, py))
        assert at.sum() == 3 and (labels[at] == label).all()
    assert window.last_snapshot.drawn and window.boundary_plot.boundary_curves() > 0
    assert not window.boundary_plot.overlay.show["boundary"]  # the disk's outline means nothing for one's own points
    # a drag paints a trail
    start, end = plot.widget_point(0.1, 0.1).toPoint(), plot.widget_point(0.5, 0.1).toPoint()
    qtbot.mousePress(plot.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 11):
        point = start + (end - start) * step / 10
        qtbot.mouseMove(plot.viewport(), pos=point)
    qtbot.mouseRelease(plot.viewport(), Qt.MouseButton.LeftButton, pos=end)
    settled(window, qtbot, lambda s: len(s.x_train) + len(s.x_test) > 10)
    x, labels = all_points(window.last_snapshot)
    trail = (np.abs(x[:, 1] - 0.1) < 0.02) & (x[:, 0] < 0.52)
    assert trail.sum() >= 8 and (labels[trail] == 1).all()
    # training goes on, live, on exactly these points
    window.toggle_play()
    settled(window, qtbot, lambda s: s.epoch >= 2)
    window.toggle_play()
    data = window.session.trainer.data
    shown = window.last_snapshot
    assert np.array_equal(data.x_train.numpy(), shown.x_train.astype(np.float32))  # the spec trains in float32
    assert np.array_equal(data.y_test.numpy(), shown.y_test)
    # erase
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert window.paint_tools.mode() == "erase"
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.widget_point(0.3, 0.7).toPoint())
    settled(window, qtbot, lambda s: not near(all_points(s)[0], (0.3, 0.7)).any())
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert window.paint_tools.mode() is None and plot.paint_mode is None


def test_csv_export_and_import_round_trip_and_a_bad_file_changes_nothing(window, qtbot, tmp_path):
    window.apply_spec(SMALL)
    settled(window, qtbot, lambda s: s.spec == SMALL)
    before = window.last_snapshot
    path = tmp_path / "points.csv"
    assert window.files.export_points(path)
    assert path.read_text().splitlines()[0] == "x,y,label,split"
    window.apply_spec(SMALL.replace(dataset="xor"))
    settled(window, qtbot, lambda s: s.spec.dataset.name == "xor")
    assert window.files.import_points(path)
    settled(window, qtbot, lambda s: s.drawn)
    after = window.last_snapshot
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(after, name), getattr(before, name)), name  # exactly, split included

    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,label\n0.1,0.2,1\n0.3,0.4,2\n")
    version = window.last_snapshot.data_version
    assert not window.files.import_points(bad)
    assert (
        window.banner.isVisible() and "line 3" in window.banner.label.text() and "0 or 1" in window.banner.label.text()
    )
    assert drawn_after_fence(qtbot, window).data_version == version  # the worker looked: no new points came
    assert np.array_equal(window.session.points()[0], after.x_train)


def test_a_session_reopens_exactly_and_continues_as_if_never_stopped(window, qtbot, tmp_path):
    spec = SMALL.replace(optimizer="adam", lr=0.01, lr_decay=0.9)
    window.apply_spec(spec)
    window.session.add_points(np.array([[0.05, 0.95], [0.06, 0.94]]), 1)  # drawn points travel too
    window.toggle_play()
    settled(window, qtbot, lambda s: s.epoch >= 3)
    window.toggle_play()
    settled(window, qtbot, lambda s: not s.playing)
    epoch = window.last_snapshot.epoch
    window.step_button.click()  # one more epoch, then save
    settled(window, qtbot, lambda s: s.epoch == epoch + 1 and not s.playing)
    path = tmp_path / "lesson.minidl"
    future = window.save_session(path)
    qtbot.waitUntil(future.done)
    assert future.exception() is None, future.exception()
    trainer = window.session.trainer
    saved_weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    saved_epoch, saved_history = trainer.epoch, [r.as_dict() for r in trainer.history]

    reference = restore_trainer(read_session(path))  # the same file, continued headless
    assert reference.run(2)

    window.apply_spec(LAUNCH_SPEC)  # something else in between
    settled(window, qtbot, lambda s: s.spec == LAUNCH_SPEC)
    assert window.open_session(path)
    settled(window, qtbot, lambda s: s.spec == spec.replace() and s.epoch == saved_epoch)
    restored = window.session.trainer
    assert all(torch.equal(restored.model.state_dict()[k], v) for k, v in saved_weights.items())
    assert [r.as_dict() for r in restored.history] == saved_history
    assert (window.last_snapshot.drawn and near(window.session.points()[0], (0.05, 0.95), 0.02).any()) or near(
        window.session.points()[2], (0.05, 0.95), 0.02
    ).any()
    assert window.current_spec() == spec
    for _ in range(2):
        window.step_button.click()
        settled(window, qtbot, lambda s, e=window.last_snapshot.epoch: s.epoch == e + 1 and not s.playing)
    continued = window.session.trainer
    assert continued.epoch == reference.epoch
    assert all(torch.equal(continued.model.state_dict()[k], v) for k, v in reference.model.state_dict().items())
    assert [r.as_dict() for r in continued.history] == [r.as_dict() for r in reference.history]


def test_a_bad_or_truncated_session_says_why_and_changes_nothing(window, qtbot, tmp_path):
    window.apply_spec(SMALL)
    window.toggle_play()
    settled(window, qtbot, lambda s: s.epoch >= 1)
    window.toggle_play()
    path = tmp_path / "good.minidl"
    future = window.save_session(path)
    qtbot.waitUntil(future.done)
    data = path.read_bytes()
    cut = tmp_path / "cut.minidl"
    cut.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.minidl"
    garbage.write_bytes(b"not a session at all")
    settled(window, qtbot, lambda s: not s.playing)
    before = window.last_snapshot
    for bad in (cut, garbage, tmp_path / "missing.minidl", tmp_path):
        window.banner.hide()
        assert not window.open_session(bad)
        assert window.banner.isVisible() and str(bad.name) in window.banner.label.text()
    after = drawn_after_fence(qtbot, window)  # every request made is applied: none of them was a session
    assert window.session.spec == SMALL and after.steps == before.steps and after.spec == before.spec


def test_copy_and_paste_a_set_up_round_trip(window, qtbot):
    spec = SMALL.replace(dataset="spiral", layers=[{"type": "linear", "units": 12}, {"type": "relu"}], lr=0.003)
    window.apply_spec(spec)
    text = window.files.copy_setup()
    assert QGuiApplication.clipboard().text() == text == setup_text(spec)
    assert len(text) < 300 and "\n" not in text
    window.apply_spec(LAUNCH_SPEC)
    assert window.files.paste_setup()  # from the clipboard
    assert window.session.spec == spec
    window.undo_setup()
    assert window.session.spec == LAUNCH_SPEC
    assert window.files.paste_setup(f"  `{text}`\n")  # as pasted from a chat
    assert window.session.spec == spec
    assert not window.files.paste_setup('minidl-setup {"layers": 3}')
    assert "layers" in window.banner.label.text() and window.session.spec == spec
    assert window.findChild(type(window.undo_action), "copySetupAction") is not None
    assert window.findChild(type(window.undo_action), "pasteSetupAction") is not None


def test_plots_export_as_png_and_svg_and_the_history_as_csv(window, qtbot, tmp_path):
    window.apply_spec(SMALL)
    window.toggle_play()
    settled(window, qtbot, lambda s: s.epoch >= 3)
    window.toggle_play()
    for name in ("boundary", "loss", "accuracy"):
        png, svg = tmp_path / f"{name}.png", tmp_path / f"{name}.svg"
        assert window.files.export_plot(name, png) and window.files.export_plot(name, svg)
        image = QImage(str(png))
        assert not image.isNull() and image.width() >= 1200
        assert "<svg" in svg.read_text()[:2000]
    assert not window.files.export_plot("loss", tmp_path / "loss.jpeg")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.{e}" for n in ("boundary", "loss", "accuracy") for e in ("png", "svg")
    )  # nothing left behind
    history = tmp_path / "history.csv"
    future = window.files.export_history(history)
    qtbot.waitUntil(future.done)
    assert future.exception() is None
    rows = history.read_text().splitlines()
    assert rows[0].startswith("epoch,train_loss") and len(rows) - 1 == window.session.trainer.epoch


def test_a_short_recording_makes_a_gif_with_the_expected_frames(window, qtbot, tmp_path):
    from PIL import Image

    window.apply_spec(SMALL)
    path = tmp_path / "clip.gif"
    assert window.files.start_recording(path, fps=10)
    assert window.recording_label.isVisible()
    window.toggle_play()
    qtbot.waitUntil(lambda: window.recorder.frames >= 12, timeout=20000)  # 1.2 s of frames at 10 fps
    frames = window.recorder.frames
    window.files.stop_recording()
    window.toggle_play()
    qtbot.waitUntil(lambda: window.recorder is None, timeout=20000)
    assert not window.recording_label.isVisible()
    with Image.open(path) as gif:
        assert abs(gif.n_frames - frames) <= 1 and frames >= 8


@pytest.mark.parametrize("suffix", [".avi"])
def test_recording_to_an_unknown_format_says_so(window, tmp_path, suffix):
    assert not window.files.start_recording(tmp_path / f"clip{suffix}")
    assert window.banner.isVisible() and window.recorder is None


def test_a_trained_model_opens_with_its_epoch_and_metrics(window, qtbot, tmp_path):
    window.apply_spec(SMALL)
    window.toggle_play()
    settled(window, qtbot, lambda s: s.epoch >= 3)
    window.toggle_play()
    settled(window, qtbot, lambda s: not s.playing)
    future = window.files.save_model(tmp_path / "model.pt")
    qtbot.waitUntil(future.done)
    trained = window.session.trainer
    epoch, record = trained.epoch, trained.last_record
    window.apply_spec(LAUNCH_SPEC)
    settled(window, qtbot, lambda s: s.spec == LAUNCH_SPEC and s.epoch == 0)
    assert window.files.open_experiment(tmp_path / "model.pt")
    settled(window, qtbot, lambda s: s.spec == SMALL and s.epoch == epoch)
    qtbot.waitUntil(lambda: f"Epoch {epoch}" == window.epoch_label.text())
    assert f"acc {100 * record.test_accuracy:.1f}%" in window.metrics_label.text()
    assert window.last_snapshot.test_loss == record.test_loss


def test_a_save_asked_for_just_before_closing_is_written(qtbot, tmp_path):
    from minidl_gui import MainWindow

    window = MainWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    future = window.save_session(tmp_path / "last.minidl")
    window.close()  # at once: the worker may not have reached a step boundary
    assert future.done() and future.exception() is None
    assert read_session(tmp_path / "last.minidl").spec == SMALL


def test_a_pinned_neuron_gives_way_to_a_new_set_up(window, qtbot):
    from minidl_gui.components.lessons import LESSONS

    window.apply_spec(SMALL)
    window.view_docks["networkDock"].show()
    window.view_docks["networkDock"].raise_()
    window.step_button.click()
    settled(window, qtbot, lambda s: s.epoch >= 1 and s.probe is not None)
    window.show_neuron(2, 3)
    settled(window, qtbot, lambda s: s.neuron == (2, 3))
    window.load_lesson(LESSONS[0])
    settled(window, qtbot, lambda s: s.neuron is None and s.spec == window.session.spec)
    assert window.boundary_plot.neuron is None
