"""Set-ups and their undo, free of Qt: the one path by which a whole set-up is replaced.

A lesson, an opened file (a spec, a model's weights and progress, a saved session), a pasted
set-up, *Restore defaults* and an undo all go through `Setups.replace`: the set-up it replaces
(with its lesson and any painted points) is one `undo()` away, the session rebuilds at its next
step boundary, and `on_replaced(spec, lesson)` lets the window show the new one everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from minidl.spec import Spec
from minidl.storage.resume import SavedSession
from minidl.train import Progress
from minidl_gui.components.lessons import Lesson
from minidl_gui.components.run_options import live_values
from minidl_gui.components.session import Session
from minidl_gui.components.training import without_live_fields
from minidl_gui.components.weak import weak_call

UNDO_DEPTH = 20  # set-ups kept for Ctrl+Z


@dataclass(frozen=True)
class Setup:
    """A set-up as it was on screen: what Ctrl+Z brings back (from its initial weights)."""

    spec: Spec
    lesson: Lesson | None
    points: tuple[np.ndarray, ...] | None  # painted or imported points, if any
    live: bool = False  # what replaced it was a live edit (a backprop mistake): an undo is live too


class Setups:
    """The set-up on screen (its lesson) and the ones it replaced, newest last."""

    def __init__(self, session: Session, on_replaced: Callable[[Spec, Lesson | None], None]) -> None:
        self._session = session
        self._on_replaced = weak_call(on_replaced)  # the window's method: held weakly, no cycle
        self._undo: list[Setup] = []
        self.lesson: Lesson | None = None  # the lesson on screen, if any

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def remember(self, live: bool = False) -> None:
        """Keep the set-up on screen for `undo`, before something replaces it (`live`: a live edit,
        such as a backprop mistake put in, whose undo goes on training the same network)."""
        setup = Setup(self._session.spec, self.lesson, self._session.drawn_points(), live)
        self._undo = [*self._undo, setup][-UNDO_DEPTH:]

    def replace(
        self,
        spec: Spec,
        weights: dict | None = None,
        lesson: Lesson | None = None,
        *,
        progress: Progress | None = None,
        saved: SavedSession | None = None,
        points: tuple | None = None,
        undoable: bool = True,
    ) -> None:
        """Train `spec` (with a model's `weights` and `progress`, or continue a `saved` session),
        drawing its own points (or the `points` an undo brings back); the one it replaces is one
        undo away unless `undoable` is False."""
        if undoable:
            self.remember()
        if saved is not None:
            self._session.open_session(saved)
        else:
            self._session.set_spec(spec, weights, progress, fresh_data=True)
        if points is not None:
            self._session.restore_points(points)
        self.lesson = lesson
        self._on_replaced(spec, lesson)

    def undo(self) -> bool:
        """Back to the set-up before the last replacement; False if there is none. A set-up that
        was left by a live edit (a backprop mistake put in) comes back live: the network
        goes on training from where it is (the worker rebuilds it if it has diverged meanwhile)."""
        if not self._undo:
            return False
        setup = self._undo.pop()
        current = self._session.spec
        same_points = setup.points is self._session.drawn_points()
        if setup.live and same_points and without_live_fields(setup.spec) == without_live_fields(current):
            spec = setup.spec
            self._session.edit(**live_values(spec))
            self.lesson = setup.lesson
            self._on_replaced(spec, setup.lesson)
            return True
        self.replace(setup.spec, lesson=setup.lesson, points=setup.points, undoable=False)
        return True
