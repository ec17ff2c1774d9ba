"""Readable on a small screen (issue 17): with any view's dock in front, alone or tabbed with the
others, in the light look and in presentation mode, every pyqtgraph plot on screen keeps a data
area (its view box) at least DATA_HEIGHT pixels tall, or the layout hid it and says so (the loss
and accuracy curves one at a time behind their tabs, a view behind its dock's tab); and the
layer-health legend never covers the curves' data area.

A process's Qt has one screen, and the rest of the suite runs on a desktop-sized one: the tests
below run on 1024x768 (and 1280x720) in a pytest process of their own, which
`test_on_a_small_screen` starts; elsewhere they are skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, QSizeF
from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsItem, QWidget
from pytestqt.exceptions import TimeoutError as WaitTimeout

from minidl_gui._qt import window_fit
from minidl_gui.components.lessons import LESSONS

DATA_HEIGHT = 120  # pixels of a plot's data area: below, its tick labels crowd each other
SCREENS = {"projector": QSize(1024, 768), "laptop": QSize(1280, 720)}
SCREEN = os.environ.get("MINIDL_TEST_SCREEN")  # set by test_on_a_small_screen for the run inside
HEALTH_LESSON = next(lesson for lesson in LESSONS if lesson.view == "healthDock")  # 9 curves, a 2-line caption
small_screen = pytest.mark.skipif(SCREEN not in SCREENS, reason="on a small screen: test_on_a_small_screen runs it")
LOOKS = pytest.mark.parametrize("presenting", [False, True], ids=["light", "presenting"])
NO_ROOM_FOR_VIEWS = getattr(window_fit, "NO_ROOM_FOR_VIEWS", "(views closed for want of room, said)")


@pytest.mark.skipif(SCREEN is not None, reason="this is the run inside")
@pytest.mark.parametrize("screen", ["projector", "laptop"])
def test_on_a_small_screen(screen):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", __file__],
        env={**os.environ, "MINIDL_TEST_SCREEN": screen},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) == 5, done.stdout[-2000:]  # the run inside ran every test


# ---- what is on screen --------------------------------------------------------------------------------
def on_screen(widget: QWidget) -> bool:
    """Shown and not covered (a dock behind another's tab says it is visible, with nothing of it drawn)."""
    drawn = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget  # a plot: its viewport
    return widget.isVisible() and not drawn.visibleRegion().isEmpty()


def screen_rect(thing: QWidget | QGraphicsItem, view: pg.PlotWidget) -> QRectF:
    """Where a widget, or an item of `view`'s scene, is on the screen (touching rects do not intersect)."""
    if isinstance(thing, QWidget):
        return QRectF(QPointF(thing.mapToGlobal(QPoint(0, 0))), QSizeF(thing.size()))
    rect = view.viewportTransform().mapRect(thing.sceneBoundingRect())
    return rect.translated(QPointF(view.viewport().mapToGlobal(QPoint(0, 0))))


def why_hidden(window, plot: pg.PlotWidget) -> str:
    """How the layout says that `plot` is not on screen ('' : it does not)."""
    tabs = getattr(window.curves_panel, "tabs", None)
    curves = plot in (window.loss_plot, window.accuracy_plot) and tabs is not None and on_screen(tabs)
    if curves and plot.title in [tabs.tabText(i) for i in range(tabs.count())]:
        return f"behind the tab {plot.title!r}"
    for name, dock in window.view_docks.items():
        if dock.isAncestorOf(plot) and not on_screen(dock.widget()):
            return f"{name} is not in front"
    return ""


def shortfalls(window) -> list[str]:
    """Every plot on screen whose data area is too short, or that is hidden with nothing saying so."""
    found = []
    for plot in window.findChildren(pg.PlotWidget):
        if on_screen(plot):
            height = plot.getPlotItem().vb.height()
            if height < DATA_HEIGHT:
                found.append(f"{plot.objectName()}: a data area {height:.0f} px tall in {plot.height()} px")
        elif not why_hidden(window, plot):
            found.append(f"{plot.objectName()}: hidden, and nothing says so")
    return found


def wait_for(qtbot, condition, timeout: int = 5000) -> None:
    """Wait for `condition`; the assertion that follows says what is wrong if it never holds."""
    with contextlib.suppress(WaitTimeout):
        qtbot.waitUntil(condition, timeout=timeout)


def assert_readable(window, qtbot, where: str) -> None:
    wait_for(qtbot, lambda: not shortfalls(window))
    assert not shortfalls(window), (where, shortfalls(window))
    tabs = getattr(window.curves_panel, "tabs", None)
    if tabs is not None and on_screen(tabs):  # one curve at a time: the other, once its tab is chosen, too
        front = tabs.currentIndex()
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            wait_for(qtbot, lambda: on_screen((window.loss_plot, window.accuracy_plot)[tabs.currentIndex()]))
            wait_for(qtbot, lambda: not shortfalls(window))
            assert not shortfalls(window), (where, tabs.tabText(index), shortfalls(window))
        tabs.setCurrentIndex(front)


def set_up(window, qtbot, presenting: bool) -> None:
    """The health lesson (its dock open, its caption shown), in the look asked for, on the small screen."""
    screen = window.screen().size()
    assert screen == SCREENS[SCREEN], screen
    window.load_lesson(HEALTH_LESSON)
    qtbot.waitUntil(lambda: len(window.health_view.curves) == 9, timeout=20000)  # the views have its network
    if presenting:
        window.set_presenting(True)
        qtbot.waitUntil(lambda: window.isFullScreen() and window.size() == screen)
    else:
        qtbot.waitUntil(lambda: window.frameGeometry().height() <= screen.height())


def said(window, docks) -> bool:
    """The status bar names these docks as closed for want of room."""
    message = window.statusBar().currentMessage()
    return message.startswith(NO_ROOM_FOR_VIEWS) and all(dock.windowTitle() in message for dock in docks)


def on_the_screen(window) -> bool:
    return window.screen().availableGeometry().contains(window.frameGeometry())


def bring_to_front(window, qtbot, name: str) -> None:
    """Show a dock and raise it; where the screen has no room for it, it closes again and says so."""
    dock = window.view_docks[name]
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: on_screen(dock.widget()) or (dock.isHidden() and said(window, [dock])))


# ---- the tests run on the small screen ------------------------------------------------------------------
@small_screen
@LOOKS
def test_every_plot_keeps_its_data_area_with_any_view_open(window, qtbot, presenting):
    set_up(window, qtbot, presenting)
    assert_readable(window, qtbot, "the lesson's view")
    for name, dock in window.view_docks.items():  # each view alone, as a lesson opens it
        for other in window.view_docks.values():
            other.setVisible(other is dock)
        bring_to_front(window, qtbot, name)
        assert_readable(window, qtbot, f"{name} alone")
    for dock in window.view_docks.values():  # all of them, tabbed: each in front in turn
        dock.show()
    for name in window.view_docks:
        bring_to_front(window, qtbot, name)
        assert_readable(window, qtbot, f"{name} in front of the others")
    views = getattr(window, "views", None)
    if hasattr(views, "side_by_side"):  # View -> Views side by side: their least widths add up
        views.side_by_side()

        def closed() -> list:
            return [dock for dock in window.view_docks.values() if dock.isHidden()]

        wait_for(qtbot, lambda: on_the_screen(window) and (not closed() or said(window, closed())))
        assert on_the_screen(window), (window.frameGeometry(), window.screen().availableGeometry())
        assert not closed() or said(window, closed()), window.statusBar().currentMessage()
        assert len(closed()) < len(window.view_docks)  # as few as make room
        assert_readable(window, qtbot, "the views side by side")


@small_screen
@LOOKS
def test_the_health_legend_never_covers_the_curves(window, qtbot, presenting):
    set_up(window, qtbot, presenting)
    bring_to_front(window, qtbot, "healthDock")
    health = window.health_view
    gradients, legend = health.gradients, health.legend
    assert len(health.curves) == 9  # 8 hidden layers and the output: the longest legend of the lessons
    qtbot.waitUntil(lambda: on_screen(gradients))
    view_box = gradients.getPlotItem().vb
    wait_for(qtbot, lambda: not screen_rect(legend, gradients).intersects(screen_rect(view_box, gradients)))
    data_area, key = screen_rect(view_box, gradients), screen_rect(legend, gradients)
    assert data_area.height() >= DATA_HEIGHT and key.isValid()
    assert not key.intersects(data_area), (key, data_area)
    assert screen_rect(health, gradients).contains(key)  # whole, not cut at an edge
    assert on_screen(legend)
    for curve in health.curves:  # every curve named, in its colour
        assert curve.name() in legend.text() and curve.opts["pen"].color().name() in legend.text()


@small_screen
def test_presenting_with_a_banner_makes_room_and_says_so(window, qtbot):
    """A banner below the two-line caption with the views tabbed: where a full screen cannot hold
    every plot's data area, views close (the status bar names them) rather than the window growing
    past the screen; presentation mode's end brings them back where the window has room for them."""
    set_up(window, qtbot, presenting=True)
    window.banner.show_message("Training diverged: the loss became NaN. Lower the learning rate.", [("Lower", print)])
    for dock in window.view_docks.values():
        dock.show()
    window.view_docks["healthDock"].raise_()
    screen = window.screen().size()

    def closed() -> list:
        return [dock for dock in window.view_docks.values() if dock.isHidden()]

    def settled() -> bool:  # the views closed are said, or the health view is in sight
        room = said(window, closed()) if closed() else on_screen(window.health_view)
        return window.size() == screen and room

    wait_for(qtbot, settled)
    assert window.size() == screen and window.isFullScreen()
    assert_readable(window, qtbot, "a banner too")
    assert not closed() or said(window, closed()), window.statusBar().currentMessage()
    assert len(closed()) < len(window.view_docks)  # as few as make room
    window.set_presenting(False)  # the views back, as far as the screen has room for them (and says so)
    qtbot.waitUntil(lambda: not window.isFullScreen() and window.frameGeometry().height() <= screen.height())
    qtbot.waitUntil(lambda: not closed() or said(window, closed()))
    assert_readable(window, qtbot, "presentation mode ended")
