"""Where the app remembers its window between launches (Qt's QSettings, an INI file per user)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION, APPLICATION = "minidl", "minidl-gui"


def app_settings() -> QSettings:
    """The user's settings file; tests point it elsewhere with `QSettings.setPath`."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
