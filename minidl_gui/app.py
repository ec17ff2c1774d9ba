"""Entry point of `minidl-gui` and `python -m minidl_gui`.

Qt is imported only once the display has been checked, so a missing display or a missing
PySide6 gets one line that says what to do, not a core dump or a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import sys

INSTALL_HINT = 'minidl-gui needs PySide6 and pyqtgraph: pip install "PySide6-Essentials>=6.8,!=6.9.1,<6.12" pyqtgraph'


def _x_server_answers(display: str) -> bool:
    """Whether an X server listens at `display` (":0", "host:10.0", "unix:1")."""
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?", display)
    if not match:
        return False
    host, number = match["host"], int(match["number"])
    try:
        if host in ("", "unix") and sys.platform.startswith("linux"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2.0)
                for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
                    try:
                        sock.connect(address)
                        return True
                    except OSError:
                        continue
                return False
        with socket.create_connection((host or "localhost", 6000 + number), timeout=2.0):
            return True
    except OSError:
        return False


def display_problem() -> str:
    """Why Qt could not open a window here, or '' (Qt itself would abort with a core dump)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return ""
    display, wayland = os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")
    if not display and not wayland:
        return (
            "minidl-gui: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
            "Run it from a desktop session, or under a virtual display: xvfb-run minidl-gui.\n"
            "For a screenshot without any display: python -m minidl_gui.screenshot"
        )
    if display and not wayland and not _x_server_answers(display):
        return (
            f"minidl-gui: no X server answers at DISPLAY={display} (it may have been closed).\n"
            "Unset DISPLAY or point it at a running X server, or run: xvfb-run minidl-gui"
        )
    return ""


def main(argv: list[str] | None = None) -> int:
    args = (sys.argv if argv is None else argv)[1:]
    if any(arg.endswith("-desktop-entry") for arg in args):  # before Qt: needs no display
        from minidl_gui import desktop_entry

        return desktop_entry.main(args)
    if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("pyqtgraph") is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from minidl.train import DEFAULT_THREADS, set_threads
    from minidl_gui._qt.main_window import MainWindow
    from minidl_gui._qt.worker import TrainingWorker

    set_threads(DEFAULT_THREADS)  # small tensors: one thread is fastest and leaves a core to the GUI
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("minidl")  # Qt's X11 WM_CLASS class: the desktop file's StartupWMClass
    app.setDesktopFileName("minidl-gui")  # minidl-gui.desktop: Wayland's app_id
    app.aboutToQuit.connect(TrainingWorker.stop_all)
    font = QFont(app.font())
    font.setPointSize(max(12, font.pointSize()))  # readable from the back of a lecture hall
    app.setFont(font)
    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
