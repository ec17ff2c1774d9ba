"""What the app remembers between launches (Qt's QSettings, an INI file per user): the window's
geometry and panels, the look, the last set-up, the run's speed and stop condition.

Values other than Qt's own geometry blobs are stored as JSON text: a hand-edited or stale file
is read like any other user file, and anything unusable falls back to the default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from minidl.params import SpecError
from minidl.spec import Spec
from minidl_gui.components.look import Look
from minidl_gui.components.run_options import PACES, STOP_ACCURACY

ORGANIZATION, APPLICATION = "minidl", "minidl-gui"
GEOMETRY, STATE = "window/geometry", "window/state"
LOOK, SETUP, RUN, PLOTS = "look", "setup/spec", "run", "window/plots"
MAX_JSON = 1 << 20  # characters: a set-up is a few hundred


def app_settings() -> QSettings:
    """The user's settings file; tests point it elsewhere with `QSettings.setPath`."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def read_json(settings: QSettings, key: str) -> Any:
    """The JSON value remembered under `key`, or None when absent or unreadable."""
    text = settings.value(key)
    if not isinstance(text, str) or len(text) > MAX_JSON:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def write_json(settings: QSettings, key: str, value: Any) -> None:
    settings.setValue(key, json.dumps(value))


def forget(settings: QSettings) -> None:
    """Everything remembered: the next launch (and *Restore defaults*) starts from the defaults."""
    for key in (GEOMETRY, STATE, LOOK, SETUP, RUN, PLOTS):
        settings.remove(key)


def _blob(value: object) -> QByteArray | None:
    """A remembered geometry or layout, if it is one (a stale or hand-edited settings file may hold text)."""
    return QByteArray(value) if isinstance(value, (QByteArray, bytes, bytearray)) else None


def geometry(settings: QSettings) -> tuple[QByteArray | None, QByteArray | None]:
    """The window's remembered geometry and layout (dock state), where they are Qt's blobs."""
    return _blob(settings.value(GEOMETRY)), _blob(settings.value(STATE))


def look(settings: QSettings) -> Look:
    return Look.from_dict(read_json(settings, LOOK))


def setup(settings: QSettings, check: Callable[[Spec], None]) -> Spec | None:
    """The set-up of the last launch, if it is still one the app can train (`check` passes)."""
    raw = read_json(settings, SETUP)
    if raw is None:
        return None
    try:
        spec = Spec.from_dict(raw)
        check(spec)
    except SpecError:
        return None
    return spec


def run(settings: QSettings) -> tuple[float | None, bool, float | None]:
    """The pace, whether to pause at the set-up's last epoch, and the test accuracy to pause at."""
    remembered = read_json(settings, RUN)
    remembered = remembered if isinstance(remembered, dict) else {}
    pace = remembered.get("pace") if remembered.get("pace") in PACES else None
    accuracy = remembered.get("stop_accuracy")
    if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool) or STOP_ACCURACY.problem(accuracy):
        accuracy = None
    return pace, remembered.get("stop_at_epoch", True) is not False, accuracy


def hidden_plots(settings: QSettings) -> set[str]:
    """The central plots the user had hidden."""
    plots = read_json(settings, PLOTS)
    return {name for name, shown in plots.items() if shown is False} if isinstance(plots, dict) else set()


def remember(
    settings: QSettings,
    *,
    window: tuple[QByteArray, QByteArray],
    look: Look,
    spec: Spec,
    run: tuple[float | None, bool, float | None],
    plots: dict[str, bool],
) -> None:
    """What the next launch starts from: the window's geometry and layout, look, set-up, run, plots."""
    settings.setValue(GEOMETRY, window[0])
    settings.setValue(STATE, window[1])
    write_json(settings, LOOK, look.to_dict())
    write_json(settings, SETUP, spec.to_dict())
    pace, at_epoch, accuracy = run
    write_json(settings, RUN, {"pace": pace, "stop_at_epoch": at_epoch, "stop_accuracy": accuracy})
    write_json(settings, PLOTS, plots)
