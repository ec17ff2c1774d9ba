"""The app never crashes in front of a class: the causes found, each pinned by a test that failed
before its fix, and the crash soak (`tests/soak.py`) run for a few seeds in child processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
import soak
import torch
from PySide6.QtWidgets import QGraphicsScene
from waits import drawn_after_fence, steps_across_fence

from minidl.spec import Spec
from minidl_gui.components.lessons import LESSONS
from minidl_gui.components.probe import Prober

ROOT = Path(__file__).resolve().parent.parent
SMALL = Spec.from_dict(
    {
        "dataset": {"n_train": 200, "n_test": 100},
        "layers": [{"type": "linear", "units": 6}, {"type": "tanh"}, {"type": "linear", "units": 4}, {"type": "relu"}],
    }
)

# The health view alone: a long history, a short one (a reset), then a network of another shape.
# Before the fix the curves removed last were still listed in the scene's BSP index under their
# old, larger bounds, and the next paint read them after they were freed: SIGSEGV, every time.
HEALTH_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from minidl_gui.components.defaults import LAUNCH_SPEC
    from minidl_gui.components.lessons import LESSONS
    from minidl_gui._qt.widgets.health_view import HealthView

    def pump(seconds=0.1):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)

    def history(epochs, linears=4, activations=3):
        rng = np.random.default_rng(epochs)
        return {"epoch": np.arange(epochs, dtype=float),
                "grad_norms": rng.random((epochs, linears)) + 0.1, "health": rng.random((epochs, activations))}

    view = HealthView()
    view.resize(700, 300)
    view.show()
    view.set_spec(LAUNCH_SPEC)
    for epochs in (500, 0, 2):
        view.set_history(history(epochs))
        pump()
    view.set_spec(LESSONS[int(sys.argv[1])].spec)
    pump()
    view.set_history(history(1, 9, 8))
    pump()
    print("survived")
    """
)


def test_the_health_view_survives_a_short_history_then_another_network():
    sigmoid = next(i for i, lesson in enumerate(LESSONS) if "Sigmoid" in lesson.name)
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", HEALTH_SCRIPT, str(sigmoid)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-3000:]}"
    assert done.stdout.strip().endswith("survived")


def test_every_plot_of_the_window_keeps_no_scene_index(window):
    """The cause above, wherever a plot is: every pyqtgraph view of the window lists its items
    plainly, and only those turn the view box's clipping off."""
    views = window.findChildren(pg.GraphicsView)
    assert len(views) >= 5  # the boundary, loss, accuracy, gradient and health-bar plots
    for view in views:
        assert view.scene().itemIndexMethod() == QGraphicsScene.ItemIndexMethod.NoIndex, view.objectName()


def test_a_plot_with_an_index_keeps_pyqtgraph_clipping():
    from PySide6.QtWidgets import QGraphicsItem

    from minidl_gui._qt.widgets.plot_style import Plot, style_plot

    flag = QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape
    plain, ours = pg.PlotWidget(), Plot()
    style_plot(plain.getPlotItem(), "t", "x", "y")
    style_plot(ours.getPlotItem(), "t", "x", "y")
    assert plain.getPlotItem().vb.flags() & flag  # unsafe without clipping: left as pyqtgraph made it
    assert not ours.getPlotItem().vb.flags() & flag


# ---- the worker never stops on a view's computation -----------------------------------------------------
def trainer_for(spec: Spec):
    from minidl.spec import make_trainer

    trainer = make_trainer(spec)
    trainer.step()
    return trainer


WIDE = SMALL.replace(layers=[{"type": "linear", "units": 6}, {"type": "tanh"}, {"type": "linear", "units": 3}])


@pytest.mark.parametrize("case", ["nan", "saturated", "constant", "one unit"])
def test_the_hidden_layer_view_of_a_degenerate_layer_is_a_picture_with_a_note(case):
    spec = WIDE if case != "one unit" else SMALL.replace(layers=[{"type": "linear", "units": 1}, {"type": "tanh"}])
    trainer = trainer_for(spec)
    first = trainer.model[0]
    with torch.no_grad():
        if case == "nan":
            first.weight.fill_(float("nan"))
        elif case == "saturated":  # every tanh at +-1: the SVD of these raised LinAlgError in float32
            first.weight.mul_(1e6)
        elif case == "constant":
            first.weight.zero_()
    view = Prober(spec).probe(trainer, 1).hidden
    assert view is not None and view.points.shape == (spec.dataset.n_train, 2)
    if case == "nan":
        assert "not finite" in view.note and not np.isfinite(view.points).any()
    else:
        assert np.isfinite(view.points).all() and np.isfinite(view.lattice).all()
    if case == "constant":
        assert "constant" in view.note
    if case == "one unit":
        assert view.axes.startswith("unit 1") and (view.points[:, 1] == 0).all()


def test_a_failing_view_is_said_in_the_views_and_training_goes_on(window, qtbot, monkeypatch):
    window.apply_spec(SMALL)
    window.set_stop(False, None)  # trains on, past the set-up's last epoch
    window.view_docks["networkDock"].show()
    window.view_docks["networkDock"].raise_()
    qtbot.waitUntil(lambda: window.view_visible("networkDock"))

    def broken(*_):
        raise np.linalg.LinAlgError("SVD did not converge")

    window.toggle_play()
    assert steps_across_fence(qtbot, window) > 0  # the new spec is built and trains
    monkeypatch.setattr(Prober, "probe", broken)  # every look inside the network fails from now on
    qtbot.waitUntil(lambda: "LinAlgError" in window.last_snapshot.view_problem, timeout=20000)
    assert steps_across_fence(qtbot, window) > 0  # still training
    assert window.session.playing and window.worker.error is None
    qtbot.waitUntil(lambda: "LinAlgError" in window.network_view.problem)
    assert "LinAlgError" in window.hidden_view.axes_label.text()
    monkeypatch.undo()
    qtbot.waitUntil(lambda: window.last_snapshot.view_problem == "" and window.network_view.problem == "")
    window.toggle_play()


# ---- one way to replace a set-up ------------------------------------------------------------------------
def test_change_units_on_an_activation_says_why_and_changes_nothing(window):
    before = window.session.spec
    activation = next(i for i, layer in enumerate(before.layers) if layer.type != "linear")
    message = window.change_units(activation, +1)
    assert "not a Linear layer" in message and before.layers[activation].type in message
    assert "not a layer" in window.change_units(len(before.layers), +1)
    assert window.session.spec == before
    assert window.change_units(0, +1) == ""
    assert window.session.spec.layers[0].units == before.layers[0].units + 1


@pytest.mark.parametrize("how", ["open experiment", "open model", "open session", "paste", "defaults", "undo"])
def test_every_new_set_up_lets_go_of_a_pinned_neuron(window, qtbot, tmp_path, how):
    window.apply_spec(SMALL)
    window.step_epoch()
    drawn_after_fence(qtbot, window)
    (tmp_path / "spec.json").write_text(SMALL.replace(seed=3).to_json())
    assert window.save_session(tmp_path / "s.minidl").result(timeout=20)
    assert window.files.save_model(tmp_path / "m.pt").result(timeout=20)
    text = window.files.copy_setup()
    window.load_lesson(LESSONS[0])  # something to undo
    window.show_neuron(1, 2)  # pinned from the diagram
    qtbot.waitUntil(lambda: window.last_snapshot.neuron == (1, 2))
    assert window.network_view.pinned == (1, 2)
    if how == "open experiment":
        assert window.files.open_experiment(tmp_path / "spec.json")
    elif how == "open model":
        assert window.files.open_experiment(tmp_path / "m.pt")
    elif how == "open session":
        assert window.open_session(tmp_path / "s.minidl")
    elif how == "paste":
        assert window.files.paste_setup(text)
    elif how == "defaults":
        window.restore_defaults()
    else:
        assert window.undo_setup()
    assert window.network_view.pinned is None and window.pinned_neuron is None
    assert drawn_after_fence(qtbot, window).neuron is None
    assert window.lesson is None and not window.caption_bar.isVisible()


# ---- the crash soak ---------------------------------------------------------------------------------------
SOAK_SEEDS = (0, 1)
SOAK_SECONDS = 20


def test_random_lecture_sessions_with_every_view_shown_never_crash(tmp_path):
    """Each seed in its own process for SOAK_SECONDS: no signal, no exception, no worker error."""
    results = soak.soak(list(SOAK_SEEDS), SOAK_SECONDS, jobs=1, folder=tmp_path)
    for result in results:
        detail = "\n".join(result.get("exceptions", [])[:2] + result.get("worker_errors", [])[:2])
        assert result["ok"], f"{soak.summary(result)}\n{detail}\n{result['last_actions']}\n{result['output_tail']}"
        assert result["actions"] >= 50 and result["furthest_steps"] > 0, soak.summary(result)
        assert result["counts"].get("lesson", 0) and result["counts"].get("front_view", 0)


def test_a_trainer_that_cannot_be_built_is_said_in_the_banner(qtbot, monkeypatch):
    """The worker builds the first trainer: where that fails, the window says so instead of staying blank."""
    from minidl_gui import MainWindow
    from minidl_gui.components import training

    def broken(*_, **__):
        raise MemoryError("no room for the network")

    monkeypatch.setattr(training, "make_trainer", broken)
    window = MainWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "internal error" in window.banner.label.text(), timeout=20000)
    assert window.banner.isVisible() and window.worker.isRunning()  # said, and the thread lives on
    monkeypatch.undo()
    window.close()
