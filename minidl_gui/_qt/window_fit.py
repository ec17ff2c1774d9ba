"""The window on its screen: inside the free area whatever grows it, the look (theme, colours,
scale), zoom steps that the screen has room for, and presentation mode (F11) and back.

It opens inside the screen's free area (down to 1024x768); a banner, a larger look or a wider
side panel never push it past the screen; presentation mode is full screen with fonts and lines
x1.5, and its end restores the exact geometry and panels. Every plot, in the centre or in a
view's dock, keeps a readable data area (`keep_data_areas`): the least sizes say so, and where
they are more than the screen holds, the views close (and say so) rather than the window
growing past the screen.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QSplitter

from minidl_gui._qt.theme import apply_to_app
from minidl_gui._qt.widgets.plot_style import keep_data_area
from minidl_gui.components.look import Look
from minidl_gui.components.weak import weak_call

LAYOUT_VERSION = 2  # of the saved window layout: raise it when the docks change
DEFAULT_SIZE = (1560, 960)  # where the screen has room for it
COMPACT_HEIGHT = 900  # on a screen less tall, the views inside the network start hidden (View menu)
SIDE_PANEL_WIDTH = 300  # its least width; it scrolls vertically
FRAME = (8, 36)  # a window manager's border and title bar, outside our geometry (an estimate)
PRESENT_PANEL_WIDTH = 1600  # on a narrower screen, presentation mode starts with the side panel folded
NO_ROOM = "The screen has no room for a larger interface"
NO_ROOM_FOR_VIEWS = "The screen has no room at this size for"  # ... the views closed to make room


class WindowFit:
    """Keeps `window` on its screen; applies looks through `paint(look)` (a method of the window's)."""

    def __init__(
        self,
        window: QMainWindow,
        side_panel: QDockWidget,
        view_docks: list[QDockWidget],
        plots_splitter: QSplitter,
        paint: Callable[[Look], None],
    ) -> None:
        self._window_ref = weakref.ref(window)  # the window owns this: held weakly, no cycle to collect
        self._side_panel, self._view_docks, self._splitter = side_panel, view_docks, plots_splitter
        self._paint = weak_call(paint)
        self.look = Look()
        self._normal_geometry: QByteArray | None = None  # before presentation mode (for the settings)...
        self._normal_rect = QRect()  # ...and as it was on screen
        self._normal_state: QByteArray | None = None
        self._panel_before = True  # the side panel's visibility before presentation mode
        self._closed_for_room: list[QDockWidget] = []  # views closed in presentation mode for want of room
        self._made_room: list[QDockWidget] = []  # views closed for want of room (the last message names them)
        for dock in view_docks:  # a view's plots made since the last look keep their data area too
            dock.visibilityChanged.connect(weak_call(self._view_shown))

    @property
    def _window(self) -> QMainWindow:
        return self._window_ref()

    # ---- the screen ------------------------------------------------------------------------------------
    def screen_area(self) -> QRect:
        screen = self._window.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, *DEFAULT_SIZE)

    def fit_to_screen(self, geometry: QByteArray | None, keep: bool = False) -> None:
        """The remembered geometry, or the default size (or, with `keep`, the present one); either
        way inside the screen's free area."""
        window, area = self._window, self.screen_area()
        if not keep and (geometry is None or not window.restoreGeometry(geometry)):
            window.resize(*DEFAULT_SIZE)
            window.move(area.center() - window.rect().center())
        width = min(window.width(), area.width() - FRAME[0])
        height = min(window.height(), area.height() - FRAME[1])
        window.resize(width, height)
        x = min(max(window.x(), area.left()), area.right() - width - FRAME[0] + 1)
        y = min(max(window.y(), area.top()), area.bottom() - height - FRAME[1] + 1)
        window.move(x, y)

    def refit(self) -> None:
        """Back inside the screen's free area after a change of sizes (a look, a banner, a panel)."""
        window = self._window
        if not self.look.presenting and not window.isFullScreen():
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # the least size as it is now, not before
            self.fit_to_screen(None, keep=True)
            if window.isVisible() and not self._fits(window.size()):  # held larger by its least size
                QTimer.singleShot(0, window, self._make_room)  # after a zoom's own second look, which may undo it

    def refit_soon(self) -> None:
        QTimer.singleShot(0, self._window, self.refit)

    def resized(self) -> None:
        """Whatever grew the window (a layout, a larger least size), it goes back inside the screen."""
        window = self._window
        if not window.isVisible() or self._fits(window.size()):
            return
        if self.look.presenting:  # full screen: where its least size is more, views make room
            QTimer.singleShot(0, window, self._make_room)
        elif not window.isFullScreen():
            self.refit_soon()

    def _room(self) -> QSize:
        """What the window may take: all the screen in presentation mode, else its free area less a frame."""
        area = self.screen_area().size()
        return area if self.look.presenting else area - QSize(*FRAME)

    def _fits(self, size: QSize) -> bool:
        room = self._room()
        return size.width() <= room.width() and size.height() <= room.height()

    def _make_room(self) -> None:
        """A window whose least size is more than the screen holds (a banner below a two-line
        caption with the views tabbed, on a 720-pixel screen) would grow past it, cut at its edge:
        views docked below the plots close instead, as few as make room (the widest where views side
        by side make it too wide), and the status bar says which. Those closed in presentation mode
        come back when it ends."""
        window = self._window
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        docked = [dock for dock in self._view_docks if dock.isVisible() and not dock.isFloating()]
        closed = []
        while docked and not self._fits(least := window.minimumSizeHint()):
            wide = least.width() > self._room().width()  # views side by side add their widths
            dock = max(docked, key=lambda d: d.minimumSizeHint().width() if wide else d.minimumSizeHint().height())
            dock.hide()  # the one needing the most first (tabbed views need the height of the tallest)
            docked.remove(dock)
            closed.append(dock)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # the smaller least size
        if closed:  # said with those closed a moment before and still closed
            self._made_room = [dock for dock in self._made_room if dock.isHidden() and dock not in closed] + closed
            names = ", ".join(dock.windowTitle() for dock in self._made_room)
            again = "it" if len(self._made_room) == 1 else "them"
            message = f"{NO_ROOM_FOR_VIEWS} {names}: closed (the View menu opens {again} again)"
            window.statusBar().showMessage(message, 8000)
            if self.look.presenting:
                self._closed_for_room += closed
        if self.look.presenting:
            window.showFullScreen()  # a window grown past the screen is no longer full screen...
            if window.size() != window.screen().size():
                window.setGeometry(window.screen().geometry())  # ...nor, told so again, of the screen's size
        elif not window.isFullScreen():
            self.fit_to_screen(None, keep=True)

    def side_panel_width(self) -> int:
        """What the side panel's controls need at the current look (never more than 2/5 of the screen)."""
        scroll = self._side_panel.widget()
        needed = scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 16
        return min(max(SIDE_PANEL_WIDTH, needed), self.screen_area().width() * 2 // 5)

    def fit_side_panel(self) -> None:
        scroll = self._side_panel.widget()
        width = self.side_panel_width()
        if scroll.minimumWidth() != width:
            scroll.setMinimumWidth(width)
            self.refit()

    def default_layout(self) -> None:
        """Panels for this screen: on a small one the views start hidden and the side panel narrow."""
        area = self.screen_area()
        if area.height() < COMPACT_HEIGHT:
            for dock in self._view_docks:
                dock.hide()
        panel = self.side_panel_width() if area.width() < 1400 else self._side_panel.sizeHint().width()
        self._window.resizeDocks([self._side_panel], [panel], Qt.Orientation.Horizontal)
        self._splitter.setSizes([600, 400])  # the decision boundary first

    # ---- the look --------------------------------------------------------------------------------------
    def set_look(self, look: Look) -> None:
        """Apply a look to the whole app: fonts, palette, plots, line widths, controls."""
        self.look = look
        self._window.statusBar().clearMessage()  # a passing message would be drawn over the rescaled labels
        apply_to_app(look)
        self._paint(look)
        self.keep_data_areas()
        self._side_panel.widget().setMinimumWidth(self.side_panel_width())
        if not look.presenting and self._window.isVisible():
            self.refit_soon()  # smaller again, or larger within the screen

    def _view_shown(self, visible: bool) -> None:
        window = self._window
        if visible and window is not None and shiboken6.isValid(window):  # not while the window is deleted
            self.keep_data_areas()

    def keep_data_areas(self) -> None:
        """Every pyqtgraph plot of the window, in the centre or in any view's dock, keeps a data
        area of LEAST_DATA_HEIGHT (its least height follows its fonts); a dock is never made
        taller than what leaves the centre's plots theirs, nor shorter than its own plots need."""
        for plot in self._window.findChildren(pg.PlotWidget):
            keep_data_area(plot)

    def zoom(self, steps: int) -> bool:
        """The interface one step bigger (+1) or smaller (-1), or back to its own size (0); a step
        that would make the window larger than the screen is refused (and said)."""
        before = self.look
        self.set_look(self.look.scaled(steps) if steps else replace(self.look, scale=1.0))
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # the least size at the new scale
        if steps > 0 and self.look != before and not self._least_size_fits():
            self.set_look(before)
            self._window.statusBar().showMessage(NO_ROOM, 4000)
            return False
        if steps > 0 and self.look != before:  # fonts polished later may still need more: checked again then
            QTimer.singleShot(0, self._window, partial(self._zoom_fits_or_back, before))
        return True

    def _least_size_fits(self) -> bool:
        area, least = self.screen_area(), self._window.minimumSizeHint()
        return least.width() <= area.width() - FRAME[0] and least.height() <= area.height() - FRAME[1]

    def _zoom_fits_or_back(self, before: Look) -> None:
        """A zoom whose sizes, once every style is applied, need more than the screen: undone."""
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if not self.look.presenting and self.look.zoom > before.zoom and not self._least_size_fits():
            self.set_look(replace(self.look, scale=before.scale))
            self._window.statusBar().showMessage(NO_ROOM, 4000)

    # ---- presentation mode -------------------------------------------------------------------------------
    def set_presenting(self, on: bool) -> None:
        """Presentation mode (F11): full screen, larger text, thicker lines; off: as before."""
        if on == self.look.presenting:
            return
        window = self._window
        if on:
            self._normal_geometry, self._normal_rect = window.saveGeometry(), window.geometry()
            self._normal_state = window.saveState(LAYOUT_VERSION)  # remembered as it was, side panel included
            self._panel_before = self._side_panel.isVisible()
            if self.screen_area().width() < PRESENT_PANEL_WIDTH:  # the plots need the room: View brings it back
                self._side_panel.hide()
            window.showFullScreen()  # first: Qt keeps the normal geometry as it is now, not as the bigger look makes it
            self.set_look(replace(self.look, presenting=True))
        else:
            self.set_look(replace(self.look, presenting=False))  # the smaller sizes first: the window fits again
            window.showNormal()
            self._side_panel.setVisible(self._panel_before)
            for dock in self._closed_for_room:
                dock.show()
            self._closed_for_room = []
            QTimer.singleShot(0, window, self._restore_normal_geometry)  # once the smaller sizes are laid out

    def _restore_normal_geometry(self) -> None:
        if not self.look.presenting:
            # the side panel's least width again, now that its controls have their smaller fonts
            # (measured by `set_look` it was still the presentation's: the window would outgrow the screen)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self._side_panel.widget().setMinimumWidth(self.side_panel_width())
            self._window.setGeometry(self._normal_rect)
            self.refit()

    def geometry_to_remember(self) -> tuple[QByteArray, QByteArray]:
        """The window's geometry and layout as they are outside presentation mode."""
        if self.look.presenting and self._normal_geometry is not None:
            return self._normal_geometry, self._normal_state
        return self._window.saveGeometry(), self._window.saveState(LAYOUT_VERSION)
