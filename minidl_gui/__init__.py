"""minidl-gui: a desktop app that trains minidl networks live."""

from minidl_gui.main_window import MainWindow

__all__ = ["MainWindow"]
