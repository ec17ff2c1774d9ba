"""A group of controls that edit the spec through one `request(**changes) -> problem` callable.

The group never decides what is valid: the session does (the spec's ranges and the app's
limits). A refused edit shows its reason under the group; the window then shows the spec as
it is, so the controls never drift from what is trained.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtWidgets import QGroupBox, QLabel

from minidl_gui.components.weak import weak_callable

Request = Callable[..., str]  # request(**changes) -> '' when accepted, else why not


def weak_request(request: Request) -> Callable[[], Request | None]:
    """`request` held weakly when it is a method: the window owns the widget that holds it (see
    `minidl_gui.components.weak`). Call the result to get the request, or None once it is gone."""
    return weak_callable(request)


def weakly(method: Callable, *args, signal_args: int = 0) -> Callable:
    """A slot that calls `method(*args, *first signal_args of the signal's)` while its object lives.

    A lambda or `partial` over the window, connected to a signal of something the window owns (an
    action, a shortcut, a child widget), is a reference cycle through Qt that Python cannot see:
    a window dropped without `close()` would never be freed."""
    target = weakref.WeakMethod(method)

    def slot(*received):
        bound = target()
        if bound is not None:
            bound(*args, *received[:signal_args])

    return slot


class SettingsGroup(QGroupBox):
    def __init__(self, title: str, request: Request, parent=None) -> None:
        super().__init__(title, parent)
        self._request = weak_request(request)
        self.error = QLabel()
        self.error.setObjectName(f"{type(self).__name__[:1].lower()}{type(self).__name__[1:]}Error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b03a2e; font-weight: 600;")
        self.error.hide()

    def request(self, **changes) -> bool:
        request = self._request()
        if request is None:  # the window is gone
            return False
        problem = request(**changes)
        self.show_problem(problem)
        return not problem

    def show_problem(self, problem: str) -> None:
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
