import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import: tests never need a screen

import pytest
from hypothesis import settings

settings.register_profile("default", max_examples=40, deadline=None)
settings.load_profile("default")


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
