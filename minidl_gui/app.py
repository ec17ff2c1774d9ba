"""Entry point of `minidl-gui` and `python -m minidl_gui`."""

from __future__ import annotations

import os
import sys

import torch
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from minidl_gui.main_window import MainWindow


def display_problem() -> str:
    """Why Qt could not open a window here, or '' (Qt itself would abort with a core dump)."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            return (
                "minidl-gui: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
                "Run it from a desktop session, or under a virtual display: xvfb-run minidl-gui.\n"
                "For a screenshot without any display: python -m minidl_gui.screenshot"
            )
    return ""


def main(argv: list[str] | None = None) -> int:
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    torch.set_num_threads(1)  # small tensors: one thread is fastest and leaves a core to the GUI
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("minidl")
    font = QFont(app.font())
    font.setPointSize(max(12, font.pointSize()))  # readable from the back of a lecture hall
    app.setFont(font)
    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
