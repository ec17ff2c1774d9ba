"""The set-up in the window: an edit from a control (checked by the session, shown back in the
controls it changed), and whole replacements (lessons, files, pasted text, defaults, undo)
through the one path, `Setups.replace`, after which every control shows the new set-up."""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QStatusBar

from minidl.params import SpecError
from minidl.spec import Layer, Spec
from minidl_gui._qt.central import CentralArea
from minidl_gui._qt.side_panel import SidePanel
from minidl_gui.components.lessons import Lesson
from minidl_gui.components.run_options import LIVE_FIELDS
from minidl_gui.components.session import Session
from minidl_gui.components.setups import Setups
from minidl_gui.components.weak import weak_call


class SetupControl(QObject):
    """Edits and replacements of the set-up, and what the window shows of them."""

    def __init__(
        self,
        window: QObject,
        session: Session,
        panel: SidePanel,
        central: CentralArea,
        status: QStatusBar,
        view_docks: dict[str, QDockWidget],
        unpin: Callable[[], None],
        fit_side_panel: Callable[[], None],
        undo_enabled: Callable[[bool], None],
    ) -> None:
        """`unpin()`, `fit_side_panel()` and `undo_enabled(can_undo)` are the window's (held weakly)."""
        super().__init__(window)
        self._session, self._panel, self._central, self._status = session, panel, central, status
        self._view_docks = view_docks
        self._unpin, self._fit_side_panel = weak_call(unpin), weak_call(fit_side_panel)
        self._undo_enabled = weak_call(undo_enabled)
        self.setups = Setups(session, self._show_setup)

    # ---- edits ------------------------------------------------------------------------------------------
    def request_edit(self, **changes) -> str:
        """Edit the spec (`Spec.replace` names); '' if done, else why not (and nothing changed)."""
        layers = self._session.spec.layers
        try:
            spec = self._session.edit(**changes)
        except SpecError as error:
            self.show_spec(self._session.spec, changes)
            return str(error)
        if spec.layers != layers:
            self._unpin()  # its neuron may be gone, or be another one now
        self.show_spec(spec, changes)
        return ""

    def change_units(self, linear: int, delta: int) -> str:
        """Add `delta` units to the Linear layer at `linear` (an index into the hidden layers);
        '' if done, else why not (and nothing changed)."""
        layers = list(self._session.spec.layers)
        units = layers[linear].get("units") if 0 <= linear < len(layers) else None
        if units is None:
            kind = f"a {layers[linear].type} layer" if 0 <= linear < len(layers) else "not a layer"
            return f"layer {linear} is {kind}, not a Linear layer: it has no units to change"
        layers[linear] = Layer(layers[linear].type, (("units", units + delta),))
        return self.request_edit(layers=layers)

    def show_spec(self, spec: Spec, changed: Collection[str] | None = None) -> None:
        """The controls show `spec` (those of the `changed` field names, or all); nothing is emitted."""
        self._panel.show_spec(spec, changed)
        self._central.show_playing(self._session.playing)
        if changed is None or not set(changed) <= set(LIVE_FIELDS):
            QTimer.singleShot(0, self, self._fit_panel)  # an optimizer's options may need more room

    def _fit_panel(self) -> None:
        self._fit_side_panel()

    def apply_spec(self, spec: Spec, weights: dict | None = None, fresh_data: bool = False) -> None:
        """Rebuild from `spec` (with `weights`, if given) and show it in every control; `fresh_data`:
        its own points, not painted or imported ones."""
        if spec.layers != self._session.spec.layers or fresh_data:
            self._unpin()  # another network: the decision boundary again
        self._session.set_spec(spec, weights, fresh_data=fresh_data)
        self._central.banner.hide()
        self.show_spec(spec)

    # ---- whole set-ups -------------------------------------------------------------------------------
    def _show_setup(self, spec: Spec, lesson: Lesson | None) -> None:
        """A new set-up is on its way: a pinned neuron, the banner and the old caption give way, and
        every control shows it."""
        self._unpin()
        self._central.banner.hide()
        self.show_spec(spec)
        self.show_caption(lesson)
        self._undo_enabled(self.setups.can_undo)

    def remember(self, live: bool = False) -> None:
        """Keep the set-up on screen for Ctrl+Z, before something replaces it (`live`: by a live edit)."""
        self.setups.remember(live)
        self._undo_enabled(True)

    def undo(self) -> bool:
        """Back to the set-up before the last replacement (from its initial weights)."""
        if not self.setups.undo():
            return False
        self._status.showMessage("The previous set-up is back", 4000)
        return True

    def load_lesson(self, lesson: Lesson) -> None:
        """A lesson's set-up (pausing at its last epoch), its caption, and the view it is about."""
        self.setups.replace(lesson.spec.replace(epochs=lesson.epochs), lesson=lesson)
        if lesson.view is not None:
            dock = self._view_docks[lesson.view]
            dock.show()
            dock.raise_()
        self._status.showMessage("Space plays the lesson; Ctrl+Z brings back the set-up before it", 8000)

    def show_caption(self, lesson: Lesson | None) -> None:
        """The lesson's one-line caption over the plots (None hides it)."""
        self.setups.lesson = lesson
        self._central.show_caption(lesson.caption if lesson is not None else None)
