"""A menu entry with an object name (for tests and scripts), wired to its slot."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu


def add_action(
    menu: QMenu, name: str, text: str, slot: Callable, checkable: bool = False, checked: bool = False
) -> QAction:
    """`checked`: the check mark it starts with, set before the slot is connected."""
    action = menu.addAction(text)
    action.setObjectName(name)
    action.setCheckable(checkable)
    action.setChecked(checkable and checked)
    (action.toggled if checkable else action.triggered).connect(slot)
    return action
