import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

SCREENS = Path(__file__).parent / "screens"  # Qt offscreen screens: desktop (1920x1080), projector, laptop


def offscreen_platform(screen: str = "desktop") -> str:
    """QT_QPA_PLATFORM for a headless Qt with one screen of that size (offscreen's own is 800x600)."""
    return f"offscreen:configfile={SCREENS / f'{screen}.json'}"


# before any Qt import: tests never need a screen. MINIDL_TEST_SCREEN names another of SCREENS, for a
# test run in a process of its own on a small screen (see test_fit_small_screen.py).
TEST_SCREEN = os.environ.get("MINIDL_TEST_SCREEN", "desktop")
os.environ["QT_QPA_PLATFORM"] = offscreen_platform(TEST_SCREEN)

torch.set_num_threads(1)  # small networks train fastest on one thread (and two test processes share the cores)

settings.register_profile("default", max_examples=40, deadline=None)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Each test reads and writes the app's remembered settings in a folder of its own."""
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # the framework's tests run without Qt (e.g. on a GPU machine)
        return None

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def window(qtbot):
    """A MainWindow whose training thread is stopped and joined at teardown, whatever the test did."""
    from minidl_gui import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert win.worker.wait(2000), "the training thread did not stop"
    assert win.worker.isFinished()


@pytest.fixture(autouse=True)
def no_dangling_training_threads():
    """A QThread still running at exit aborts the whole pytest process: stop it, then fail the test."""
    yield
    import sys

    if "minidl_gui._qt.worker" not in sys.modules:
        return
    from minidl_gui._qt.worker import TrainingWorker

    dangling = TrainingWorker.running()
    for worker in dangling:
        worker.stop(2000)
    assert not dangling, f"{len(dangling)} training thread(s) left running"
    if "minidl_gui._qt.recorder" in sys.modules:  # a recording's encoder thread, likewise
        from minidl_gui._qt.recorder import Recorder

        recording = Recorder.running()
        for recorder in recording:
            recorder.close()
        assert not recording, f"{len(recording)} recording(s) left running"
