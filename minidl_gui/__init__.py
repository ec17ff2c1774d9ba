"""minidl-gui: a desktop app that trains minidl networks live.

`MainWindow` is imported on first use, so `minidl-gui` can say what to install when Qt is missing.
"""

from __future__ import annotations

__all__ = ["MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from minidl_gui._qt.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'minidl_gui' has no attribute {name!r}")
