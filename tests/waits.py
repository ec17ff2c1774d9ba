"""Waiting for the worker by what it has done, never by the clock.

`Session.fence()` puts a marker in the request queue; a snapshot built after the worker applied it
proves that every request made before is done, and that a playing session trained on. So a test
that claims "nothing else happened" (a pause holds, an epoch ends exactly) first shows, on the same
path, the change that would have happened: a fence crossed while playing adds steps.
"""

from __future__ import annotations


def drawn_after_fence(qtbot, window, timeout: int = 20000):
    """The first snapshot the window has drawn since the worker applied a new fence."""
    number = window.session.fence()

    def drawn() -> bool:
        snapshot = window.last_snapshot
        return snapshot is not None and snapshot.fence >= number

    qtbot.waitUntil(drawn, timeout=timeout)
    return window.last_snapshot


def steps_across_fence(qtbot, window) -> int:
    """Training steps taken between asking for a fence and drawing the snapshot after it."""
    before = window.session.trainer.steps
    return drawn_after_fence(qtbot, window).steps - before


def epochs_trained(session, epochs: int = 1) -> None:
    """Train a Qt-free session `epochs` epochs, driving its worker side here (no thread): done when
    it has stopped playing, which proves each asked-for epoch ran."""
    for _ in range(epochs):
        session.step_epoch()
        while session.playing:
            session.advance(0.05)
