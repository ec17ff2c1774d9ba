"""What the app remembers between launches (Qt's QSettings, an INI file per user): the window's
geometry and panels, the look, the last set-up, the run's speed and stop condition.

Values other than Qt's own geometry blobs are stored as JSON text: a hand-edited or stale file
is read like any other user file, and anything unusable falls back to the default.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings

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
