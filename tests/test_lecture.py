"""Ready for the lecture hall: small screens, presentation mode, looks, speed and stop, lessons,
hidden panels, remembered settings, and the shortcuts after an edit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from conftest import offscreen_platform
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from minidl_gui import MainWindow
from minidl_gui.components.defaults import LAUNCH_SPEC
from minidl_gui.components.lessons import LESSONS
from minidl_gui.components.look import PRESENTATION, Look
from minidl_gui.components.run_options import SLOW_MOTION

SMALL = LAUNCH_SPEC.replace(n_train=200, n_test=100)

FIT_SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile, time
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from minidl_gui import MainWindow
    from minidl_gui.components.lessons import LESSONS

    def settle(seconds=0.4):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def inside(outer, inner):
        return outer.contains(inner)

    def report(window):
        area = window.screen().availableGeometry()
        hint = window.minimumSizeHint()
        parts = {
            "boundary": window.boundary_plot, "loss": window.loss_plot, "accuracy": window.accuracy_plot,
            "epoch": window.epoch_big, "play": window.play_button, "step": window.step_button,
            "reset": window.reset_button, "status": window.statusBar(), "panel": window.side_panel,
        }
        shown = {}
        for name, widget in parts.items():
            top_left = widget.mapTo(window, widget.rect().topLeft())
            rect = widget.rect().translated(top_left)
            shown[name] = {
                "visible": widget.isVisible(),
                "behind_tab": name in window.central.plots and not widget.isVisible()
                and window.curves_panel.tabs.isVisible() and window.curves_panel.isVisible(),
                "inside": window.rect().contains(rect),
                "width": widget.width(), "wanted": widget.minimumSizeHint().width(),
            }
        titles = {name: plot.width() >= plot.minimumWidth() for name, plot in
                  (("loss", window.loss_plot), ("accuracy", window.accuracy_plot)) if plot.isVisible()}
        return {
            "frame_inside": inside(area, window.geometry()),
            "hint_fits": hint.width() <= area.width() and hint.height() <= area.height(),
            "size": [window.width(), window.height()], "area": [area.width(), area.height()],
            "shown": shown, "titles": titles, "full": window.isFullScreen(),
            "font": app.font().pointSizeF(),
        }

    window = MainWindow()
    window.show()
    settle()
    result = {"launch": report(window)}
    window.load_lesson(LESSONS[int(sys.argv[1])])  # a lesson with a view open below the plots
    settle()
    result["lesson"] = report(window)
    window.set_presenting(True)
    settle()
    result["presenting"] = report(window)
    window.set_presenting(False)
    settle()
    result["back"] = report(window)
    for _ in range(8):  # Ctrl+= again and again: only as far as the screen allows
        window.zoom(+1)
        settle(0.1)
    settle()
    result["zoomed"] = report(window)
    window.zoom(0)
    settle()
    result["unzoomed"] = report(window)
    window.close()
    print(json.dumps(result))
    """
)


def whole(part: dict) -> bool:
    """Shown inside the window and not squeezed below its least width, or one of the two curves
    behind its tab (the tab bar says it is there)."""
    return part["behind_tab"] or (part["visible"] and part["inside"] and part["width"] >= part["wanted"])


@pytest.mark.parametrize("screen", ["projector", "laptop"])
def test_the_window_fits_small_screens(screen, tmp_path):
    """1024x768 and 1280x720: inside the screen's free area, every control and plot whole (or, for the
    loss and accuracy curves, one behind a tab where there is no room for both), also with a
    lesson's view open, in presentation mode and back."""
    health = next(i for i, lesson in enumerate(LESSONS) if lesson.view == "healthDock")
    env = {**os.environ, "QT_QPA_PLATFORM": offscreen_platform(screen)}
    done = subprocess.run(
        [sys.executable, "-c", FIT_SCRIPT, str(health)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for stage in ("launch", "lesson", "back"):
        r = result[stage]
        assert r["frame_inside"] and r["hint_fits"], (stage, r["size"], r["area"])
        for name, part in r["shown"].items():
            assert whole(part), (stage, name, part)  # nothing squeezed below its least size
        assert not (r["shown"]["loss"]["behind_tab"] and r["shown"]["accuracy"]["behind_tab"]), stage
        assert all(r["titles"].values()), (stage, r["titles"])
    presenting = result["presenting"]
    assert presenting["full"] and presenting["size"] == presenting["area"]
    assert presenting["font"] == pytest.approx(result["launch"]["font"] * PRESENTATION, abs=0.11)
    for name in ("boundary", "loss", "accuracy", "epoch", "play", "step", "reset"):
        assert whole(presenting["shown"][name]), (name, presenting["shown"][name])
    assert result["back"]["size"] == result["lesson"]["size"]
    assert result["back"]["font"] == result["launch"]["font"]
    for stage in ("zoomed", "unzoomed"):
        r = result[stage]
        assert r["frame_inside"] and r["hint_fits"], (stage, r["size"], r["area"])
    assert result["zoomed"]["font"] > result["launch"]["font"]  # some steps were taken
    unzoomed, launch = result["unzoomed"], result["launch"]
    assert unzoomed["size"] == launch["size"] and unzoomed["font"] == launch["font"]


def test_presentation_mode_changes_sizes_and_comes_back(window, qtbot):
    font, geometry = QApplication.font().pointSizeF(), window.geometry()
    pen_width = window.loss_plot.bodies[0].item.pen().widthF()
    title_width = window.loss_plot.minimumWidth()
    window.presentation_action.trigger()  # what F11 does
    qtbot.waitUntil(window.isFullScreen)
    assert window.look.presenting
    assert QApplication.font().pointSizeF() == pytest.approx(font * PRESENTATION, abs=0.11)
    assert window.loss_plot.bodies[0].item.pen().widthF() == pytest.approx(pen_width * PRESENTATION)
    assert window.loss_plot.minimumWidth() > title_width
    assert window.epoch_big.font().pointSizeF() > 22
    window.presentation_action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert QApplication.font().pointSizeF() == pytest.approx(font)
    assert window.loss_plot.bodies[0].item.pen().widthF() == pytest.approx(pen_width)
    qtbot.waitUntil(lambda: window.geometry() == geometry)


def test_ctrl_plus_and_minus_scale_the_interface(window, qtbot):
    font = QApplication.font().pointSizeF()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.look.scale == pytest.approx(1.1)
    assert QApplication.font().pointSizeF() == pytest.approx(font * 1.1, abs=0.11)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.look.scale == pytest.approx(0.9)
    assert QApplication.font().pointSizeF() == pytest.approx(font * 0.9, abs=0.11)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.look.scale == 1.0


def test_dark_theme_and_colour_blind_palette(window, qtbot):
    window.look_actions["theme", "dark"].trigger()
    assert window.look.theme == "dark"
    assert QApplication.palette().window().color().lightness() < 80
    assert window.boundary_plot.backgroundBrush().color().lightness() < 80
    window.look_actions["palette", "colorblind"].trigger()
    expected = pg.colormap.get("CET-CBD1").getLookupTable(nPts=256, alpha=True)
    assert np.array_equal(window.boundary_plot.lut, expected)
    assert window.loss_plot.bodies[0].item.pen().color().name() == Look(palette="colorblind").curves[0]
    window.look_actions["theme", "light"].trigger()
    assert QApplication.palette().window().color().lightness() > 200


def test_space_plays_after_editing_the_learning_rate(window, qtbot):
    """Enter commits the typed value and gives the keyboard back: Space plays, the field keeps its text."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    spin = window.lr_control.spin
    qtbot.mouseClick(spin.lineEdit(), Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() in (spin, spin.lineEdit())
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "0.05")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert window.session.spec.optimizer.lr == 0.05
    assert QApplication.focusWidget() not in (spin, spin.lineEdit())
    qtbot.waitUntil(
        window.isActiveWindow
    )  # a busy machine may hand activation round late: Space goes to the active window
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Space)
    assert window.session.playing, (
        f"not playing; active: {window.isActiveWindow()}, worker error: {window.worker.error}"
    )
    assert spin.text() == "0.05"
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Space)
    assert not window.session.playing


def test_space_plays_after_clicking_a_check_box_or_combo(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    check = window.data_settings.show_test
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    assert not check.isChecked()
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Space)
    assert window.session.playing and not check.isChecked()  # Space played; it did not toggle the box
    window.toggle_play()


def test_slow_motion_rings_the_batch(window, qtbot):
    window.apply_spec(SMALL)
    window.set_pace(3.0)
    assert window.run_settings.speed_label.text().endswith("slow motion")
    window.toggle_play()
    qtbot.waitUntil(lambda: window.last_snapshot is not None and window.last_snapshot.steps >= 2, timeout=5000)
    snapshot = window.last_snapshot
    assert snapshot.batch is not None and snapshot.batch.shape == (SMALL.batch_size, 2)
    qtbot.waitUntil(lambda: len(window.boundary_plot.overlay.highlight) == SMALL.batch_size)
    ringed = window.boundary_plot.overlay.highlight
    points = window.session.trainer.data.x_train.double().numpy()
    distance = np.abs(ringed[:, None, :] - points[None, :, :]).max(axis=2).min(axis=1)
    assert (distance < 1e-6).all()  # they are training points
    qtbot.wait(1000)
    assert window.last_snapshot.steps <= 2 + 3 * 2  # at most ~3 a second (generous: a slow machine lags)
    window.set_pace(None)
    qtbot.waitUntil(lambda: window.last_snapshot.batch is None)
    qtbot.waitUntil(lambda: len(window.boundary_plot.overlay.highlight) == 0)
    assert SLOW_MOTION >= 3.0
    window.toggle_play()


def test_pause_at_the_set_ups_epoch_and_at_a_test_accuracy(window, qtbot):
    window.apply_spec(SMALL)
    window.run_settings.epochs_spin.setValue(3)  # as typed: a live edit, no rebuild
    assert window.session.spec.epochs == 3
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.session.playing and window.last_snapshot.epoch == 3, timeout=10000)
    qtbot.waitUntil(lambda: "Paused at epoch 3" in window.metrics_label.text())
    window.toggle_play()  # past the stop: it goes on
    qtbot.waitUntil(lambda: window.last_snapshot.epoch >= 5, timeout=10000)
    window.toggle_play()
    window.reset()
    window.run_settings.stop_epoch_check.setChecked(False)
    window.run_settings.accuracy_spin.setValue(80.0)
    window.run_settings.stop_accuracy_check.setChecked(True)
    assert window.session.stop == (False, 80.0)
    window.toggle_play()
    qtbot.waitUntil(lambda: "reached 80%" in window.metrics_label.text(), timeout=30000)
    assert not window.session.playing and not window.last_snapshot.playing
    assert window.last_snapshot.test_accuracy >= 0.8


def test_any_plot_can_be_hidden_and_brought_back(window, qtbot):
    window.plot_actions["loss"].trigger()
    assert window.loss_plot.isHidden() and not window.curves_panel.isHidden() and window.log_y.isHidden()
    window.plot_actions["accuracy"].trigger()
    assert window.curves_panel.isHidden()
    window.plot_actions["boundary"].trigger()
    assert window.boundary_plot.isHidden()
    for action in window.plot_actions.values():
        action.trigger()
    assert not any(plot.isHidden() for plot in window.central_plots.values()) and not window.curves_panel.isHidden()
    window.side_panel.toggleViewAction().trigger()
    assert window.side_panel.isHidden()


def test_reset_clears_the_plots_ranges(window, qtbot):
    window.apply_spec(SMALL)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.last_snapshot is not None and window.last_snapshot.epoch >= 25, timeout=20000)
    window.toggle_play()
    assert window.loss_plot.getPlotItem().vb.viewRange()[0][1] > 20
    window.reset()
    qtbot.waitUntil(lambda: window.last_snapshot.epoch == 0 and len(window.last_snapshot.history["epoch"]) == 0)
    qtbot.waitUntil(lambda: window.loss_plot.getPlotItem().vb.viewRange()[0][1] < 11)
    assert window.accuracy_plot.getPlotItem().vb.viewRange()[0][1] < 11


def test_every_example_loads_with_its_caption_and_view_and_is_one_undo_away(window, qtbot):
    mine = SMALL.replace(lr=0.05)
    window.apply_spec(mine)
    for index, lesson in enumerate(LESSONS):
        window.lesson_actions[index].trigger()
        assert window.session.spec == lesson.spec.replace(epochs=lesson.epochs)
        assert window.caption.text() == lesson.caption and window.caption_bar.isVisible()
        if lesson.view is not None:
            assert window.view_visible(lesson.view)
    qtbot.waitUntil(lambda: window.last_snapshot.spec == window.session.spec, timeout=10000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for _ in LESSONS:
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.spec == mine
    assert not window.caption_bar.isVisible() and not window.undo_action.isEnabled()


def test_a_lesson_pauses_at_its_epoch_having_learned(window, qtbot):
    """In the app, as in the engine's test: XOR with a hidden layer learns and pauses at its epoch."""
    lesson = next(lesson for lesson in LESSONS if lesson.name == "XOR with one hidden layer")
    window.load_lesson(lesson)
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.session.playing and window.last_snapshot.epoch == lesson.epochs, timeout=60000)
    assert window.last_snapshot.test_accuracy >= 0.9


def test_the_diverging_lesson_shows_the_way_out(window, qtbot):
    lesson = next(lesson for lesson in LESSONS if lesson.expect == "diverges")
    window.load_lesson(lesson)
    window.toggle_play()
    qtbot.waitUntil(
        lambda: window.last_snapshot is not None and window.last_snapshot.status == "diverged", timeout=20000
    )
    qtbot.waitUntil(window.banner.isVisible)
    assert "diverged" in window.metrics_label.text()


def test_settings_persist_across_two_windows(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    base_font = QApplication.font().pointSizeF()
    spec = SMALL.replace(lr=0.05, layers=[{"type": "linear", "units": 7}, {"type": "relu"}], epochs=42)
    first.apply_spec(spec)
    first.set_look(Look(theme="dark", palette="colorblind", scale=1.25))
    first.set_pace(10.0)
    first.set_stop(False, 90.0)
    first.show_plot("accuracy", False)
    first.view_docks["healthDock"].hide()
    first.resize(1200, 800)
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    try:
        assert second.session.spec == spec
        assert second.look == Look(theme="dark", palette="colorblind", scale=1.25)
        assert second.session.pace == 10.0 and second.run_settings.pace() == 10.0
        assert second.session.stop == (False, 90.0) and second.run_settings.stop() == (False, 90.0)
        assert second.accuracy_plot.isHidden() and not second.plot_actions["accuracy"].isChecked()
        assert second.view_docks["healthDock"].isHidden()
        assert (second.width(), second.height()) == (1200, 800)
        second.restore_defaults()
        assert second.session.spec == LAUNCH_SPEC and second.look == Look()
        assert second.session.pace is None and second.session.stop == (True, None)
        assert not second.accuracy_plot.isHidden()
        assert QApplication.font().pointSizeF() == pytest.approx(base_font)
        second.undo_setup()  # the set-up is one undo away
        assert second.session.spec == spec
    finally:
        second.close()


def test_a_remembered_set_up_the_app_cannot_use_falls_back_to_the_default(qtbot, isolated_settings):
    from minidl_gui._qt.window_settings import SETUP, app_settings, write_json

    write_json(app_settings(), SETUP, {"layers": "nonsense"})
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        assert window.session.spec == LAUNCH_SPEC
    finally:
        window.close()


def test_a_hand_edited_settings_file_never_stops_the_app_from_starting(qtbot, isolated_settings):
    from minidl_gui._qt.window_settings import GEOMETRY, LOOK, RUN, STATE, app_settings

    settings = app_settings()
    settings.setValue(GEOMETRY, "hello")
    settings.setValue(STATE, ["1", "2"])
    settings.setValue(LOOK, '{"theme": [], "palette": {}, "scale": ' + "9" * 400 + "}")
    settings.setValue(RUN, '{"pace": "fast", "stop_accuracy": "high"}')
    settings.sync()
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        assert window.look == Look() and window.session.pace is None and window.session.stop == (True, None)
    finally:
        window.close()


def test_undo_after_a_lesson_brings_back_painted_points(window, qtbot):
    import numpy as np

    window.apply_spec(SMALL)
    window.session.clear_points()
    window.session.add_points(np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]), 1)
    painted = window.session.drawn_points()
    window.load_lesson(LESSONS[0])  # the disk again, seed 0: the lesson draws its own points all the same
    qtbot.waitUntil(lambda: window.last_snapshot.spec == window.session.spec and not window.last_snapshot.drawn)
    assert len(window.last_snapshot.x_train) == LESSONS[0].spec.dataset.n_train
    window.undo_setup()
    qtbot.waitUntil(
        lambda: window.last_snapshot.drawn and len(window.last_snapshot.x_train) + len(window.last_snapshot.x_test) == 3
    )
    assert all(np.array_equal(a, b) for a, b in zip(window.session.drawn_points(), painted))
