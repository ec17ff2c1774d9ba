"""The View menu: the docks, the central plots, presentation mode, zoom, theme and colours.

Its check marks follow the window (a look set from code, a plot hidden by a lesson) without
emitting anything back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu

from minidl_gui._qt.actions import add_action
from minidl_gui._qt.widgets.quiet import signals_blocked
from minidl_gui.components.look import PALETTE_NAMES, THEMES, Look

PLOTS = (("boundary", "Decision boundary"), ("loss", "Loss curves"), ("accuracy", "Accuracy curves"))
ZOOMS = (
    ("zoomInAction", "&Bigger", +1, ("Ctrl+=", "Ctrl++")),
    ("zoomOutAction", "&Smaller", -1, ("Ctrl+-",)),
    ("zoomResetAction", "&Actual size", 0, ("Ctrl+0",)),
)


class ViewMenu:
    """Builds the View menu into `menu`; the slots are the window's (held weakly by the caller)."""

    def __init__(
        self,
        menu: QMenu,
        docks: Iterable[QDockWidget],
        show_plot: Callable[[str], Callable],
        present: Callable,
        zoom: Callable[[int], Callable],
        choose_look: Callable[[str, str], Callable],
    ) -> None:
        """`show_plot(name)`, `zoom(steps)` and `choose_look(field, name)` make the slots of those actions."""
        menu.setObjectName("viewMenu")
        self.menu = menu
        for dock in docks:
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        self.plot_actions: dict[str, QAction] = {}
        for name, text in PLOTS:
            self.plot_actions[name] = add_action(menu, f"{name}PlotAction", text, show_plot(name), True, True)
        menu.addSeparator()
        self.presentation_action = add_action(menu, "presentationAction", "&Presentation mode", present, True)
        self.presentation_action.setShortcut(QKeySequence("F11"))
        for name, text, steps, keys in ZOOMS:
            add_action(menu, name, text, zoom(steps)).setShortcuts([QKeySequence(k) for k in keys])
        self.look_actions: dict[tuple[str, str], QAction] = {}
        for title, field, names in (
            ("&Theme", "theme", {name: name.capitalize() for name in THEMES}),
            ("&Colours", "palette", PALETTE_NAMES),
        ):
            submenu = menu.addMenu(title)
            group = QActionGroup(submenu)
            for name, text in names.items():
                action = add_action(submenu, f"{field}_{name}", text, choose_look(field, name), True)
                group.addAction(action)
                self.look_actions[field, name] = action

    def show_look(self, look: Look) -> None:
        """Check marks as `look` has them; nothing is emitted."""
        for (field, name), action in self.look_actions.items():
            with signals_blocked(action):
                action.setChecked(getattr(look, field) == name)
        with signals_blocked(self.presentation_action):
            self.presentation_action.setChecked(look.presenting)

    def show_plot(self, name: str, visible: bool) -> None:
        """The plot's check mark (which, checked or unchecked, shows or hides the plot)."""
        if self.plot_actions[name].isChecked() != visible:
            self.plot_actions[name].setChecked(visible)
