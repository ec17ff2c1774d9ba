"""Run control in the window: play and pause, one epoch, reset; the pace and the stop condition;
a divergence (or an internal error) said in the banner with the way out.

It only asks the session; what is playing is what the last snapshot says.
"""

from __future__ import annotations

from collections.abc import Callable

from minidl.registry import LR
from minidl_gui._qt.central import CentralArea
from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.run_settings import RunSettings
from minidl_gui.components.session import Session
from minidl_gui.components.snapshot import Snapshot
from minidl_gui.components.weak import weak_call


class RunControl:
    """The run buttons' and shortcuts' requests, and what the window says about the run."""

    def __init__(
        self,
        session: Session,
        central: CentralArea,
        banner: Banner,
        run_settings: RunSettings,
        request_edit: Callable[..., str],
        before_reset: Callable[[], None],
        refit_soon: Callable[[], None],
    ) -> None:
        """`request_edit(**changes)`, `before_reset()` and `refit_soon()` are the window's (held weakly)."""
        self._session, self._central, self._banner, self._run_settings = session, central, banner, run_settings
        self._request_edit, self._before_reset = weak_call(request_edit), weak_call(before_reset)
        self._refit_soon = weak_call(refit_soon)
        self.last_snapshot: Snapshot | None = None
        self._reset_pending = False
        self._shown_status = ""

    def toggle_play(self) -> None:
        if self._session.playing:
            self._session.pause()
            self._central.show_playing(False)
        elif self.stuck_diverged():
            self._show_divergence(self.last_snapshot)  # nothing can train: say why again, with the way out
        else:
            self._banner.hide()
            self._session.play()
            self._central.show_playing(True)

    def stuck_diverged(self) -> bool:
        """Whether the network shown has diverged and no reset or edit on its way will replace it."""
        snapshot = self.last_snapshot
        if snapshot is None or snapshot.status != "diverged":
            return False
        return not self._reset_pending and self._session.spec == snapshot.spec

    def step_epoch(self) -> None:
        self._session.step_epoch()

    def reset(self) -> None:
        self._banner.hide()
        self._before_reset()
        self._reset_pending = True
        self._session.reset()
        self._central.show_playing(False)

    def reset_with_smaller_lr(self) -> None:
        """The way out of a divergence: a tenth of the learning rate, from the initial weights."""
        self._request_edit(lr=max(LR.low, float(f"{self._session.spec.optimizer.lr / 10:.3g}")))
        self.reset()

    def set_pace(self, steps_per_second: float | None) -> None:
        self._session.set_pace(steps_per_second)
        self._run_settings.set_pace(steps_per_second)

    def set_stop(self, at_epoch: bool, accuracy: float | None) -> None:
        self._session.set_stop(at_epoch, accuracy)
        self._run_settings.set_stop(at_epoch, accuracy)

    def seen(self, snapshot: Snapshot, worker_error: str | None) -> bool:
        """A snapshot was drawn: the play button follows it, and a new divergence or a worker's
        error is said in the banner. True if it said the error."""
        self.last_snapshot = snapshot
        if snapshot.status != "diverged":
            self._reset_pending = False
        self._central.show_playing(snapshot.playing)
        said = False
        if snapshot.status == "diverged" and self._shown_status != "diverged":
            self._show_divergence(snapshot)
        elif worker_error:
            self.say_error(worker_error)
            said = True
        self._shown_status = snapshot.status
        return said

    def say_error(self, worker_error: str) -> None:
        """The worker's own failure, in the banner, with the way out."""
        self._banner.show_message("Training stopped on an internal error.\n" + worker_error, [("Reset", self.reset)])

    def _show_divergence(self, snapshot: Snapshot) -> None:
        self._banner.show_message(
            snapshot.message, [("Reset with lr ÷ 10", self.reset_with_smaller_lr), ("Reset (R)", self.reset)]
        )
        self._refit_soon()  # the banner takes room: the window stays on the screen
