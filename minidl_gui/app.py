"""Entry point of `minidl-gui` and `python -m minidl_gui`."""

from __future__ import annotations

import sys

import torch
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from minidl_gui.main_window import MainWindow


def main(argv: list[str] | None = None) -> int:
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
