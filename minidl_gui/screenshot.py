"""Make the README's screenshots and the icon: the app mid-training, saved as PNG.

    python -m minidl_gui.screenshot [--out-dir assets] [--seconds 8]

Writes `screenshot.png` (the window, the network diagram below the plots), `layer-health.png`
(8 Sigmoid layers: the gradient vanishing towards the input), `hidden-layer.png` (a hidden layer
untangling the spiral), `your-points.png` (a painted data set), `backprop-step.png` (one point
walked back through the network), `backprop-broken.png` (a forgotten
derivative caught by the gradient check), `icon.png`, and the lecture-hall
shots on a 1024x768 screen:
`lecture-1024x768.png` (a lesson from the Examples menu) and `presentation.png` (F11). Runs
offscreen on a screen of the size wanted (made with Qt's offscreen `configfile`), so it works on
a headless machine and gives the same pictures everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LECTURE_SCREEN = (1024, 768)


def settle(app, seconds: float) -> None:
    """Let the app run (train, draw) for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def offscreen(width: int, height: int, folder: str) -> None:
    """Qt's headless platform with one screen of this size (its own is 800x600)."""
    screen = Path(folder) / "screen.json"
    size = {"x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    screen.write_text(json.dumps({"screens": [{"name": f"{width}x{height}", **size}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=Path("assets"))
    parser.add_argument("--seconds", type=float, default=8.0, help="training time before each shot")
    parser.add_argument("--lecture", action="store_true", help=argparse.SUPPRESS)  # the 1024x768 shots
    args = parser.parse_args(argv)
    remembered = tempfile.TemporaryDirectory()  # the default layout and screen, not the ones a user left
    offscreen(*(LECTURE_SCREEN if args.lecture else (1920, 1200)), remembered.name)

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from minidl.train import DEFAULT_THREADS, set_threads
    from minidl_gui._qt.icon import icon_pixmap
    from minidl_gui._qt.main_window import LAUNCH_SPEC, MainWindow

    set_threads(DEFAULT_THREADS)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, remembered.name)
    font = QFont(app.font())
    font.setPointSize(12)
    app.setFont(font)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.lecture:
        return lecture_shots(app, args, remembered)

    def train(window: MainWindow, seconds: float) -> None:
        window.toggle_play()
        settle(app, seconds)
        if window.session.playing:  # it may have paused at its last epoch already
            window.toggle_play()
        settle(app, 0.5)

    shots = []
    window = MainWindow()
    window.resize(1560, 1100)
    window.show()
    window.resizeDocks([window.view_docks["networkDock"]], [420], Qt.Orientation.Vertical)
    train(window, args.seconds)
    window.grab().save(str(args.out_dir / "screenshot.png"))
    shots.append(f"screenshot.png (epoch {window.last_snapshot.epoch})")
    window.close()

    sigmoids = LAUNCH_SPEC.replace(layers=[{"type": "linear", "units": 8}, {"type": "sigmoid"}] * 8)
    window = MainWindow(sigmoids)
    window.resize(1560, 1100)
    window.show()
    window.view_docks["healthDock"].raise_()
    window.resizeDocks([window.view_docks["healthDock"]], [380], Qt.Orientation.Vertical)
    train(window, args.seconds / 2)
    window.view_docks["healthDock"].grab().save(str(args.out_dir / "layer-health.png"))
    shots.append(f"layer-health.png (epoch {window.last_snapshot.epoch})")
    window.close()

    spiral = LAUNCH_SPEC.replace(
        dataset="spiral",
        layers=[{"type": "linear", "units": 24}, {"type": "tanh"}] * 3,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.01,
        batch_size=50,
    )
    window = MainWindow(spiral)
    window.resize(1560, 1100)
    window.show()
    window.view_docks["hiddenDock"].raise_()
    window.resizeDocks([window.view_docks["hiddenDock"]], [420], Qt.Orientation.Vertical)
    for _ in range(100):  # the first snapshot lists the hidden layers
        app.processEvents()
        time.sleep(0.01)
    window.hidden_view.combo.setCurrentIndex(window.hidden_view.combo.count() - 1)  # the last: the most untangled
    train(window, args.seconds * 1.5)
    window.view_docks["hiddenDock"].grab().save(str(args.out_dir / "hidden-layer.png"))
    shots.append(f"hidden-layer.png (epoch {window.last_snapshot.epoch})")
    window.close()

    painted = LAUNCH_SPEC.replace(layers=[{"type": "linear", "units": 24}, {"type": "tanh"}] * 3, optimizer="adam")
    window = MainWindow(painted.replace(lr=0.01, loss="cross_entropy"))
    window.resize(1560, 1100)
    window.show()
    window.session.clear_points()  # a data set of one's own, painted: a smile
    angle = np.linspace(0.15 * np.pi, 0.85 * np.pi, 40)
    smile = np.column_stack([0.5 + 0.3 * np.cos(angle + np.pi), 0.55 + 0.3 * np.sin(angle + np.pi)])
    jitter = 0.04 * np.random.default_rng(1).standard_normal((2, 12, 2))
    features = np.concatenate([smile, jitter[0] + (0.35, 0.7), jitter[1] + (0.65, 0.7)])
    face = np.random.default_rng(2).uniform(0.05, 0.95, (160, 2))
    distance = np.hypot(*(face[:, None, :] - features[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    window.session.add_points(features, 1)
    window.session.add_points(face[distance > 0.08], 0)
    window.paint_tools.set_mode("paint")
    train(window, args.seconds)
    window.grab().save(str(args.out_dir / "your-points.png"))
    shots.append(f"your-points.png (epoch {window.last_snapshot.epoch})")
    window.close()

    shots += backprop_shots(app, args, train)
    icon_pixmap(256).save(str(args.out_dir / "icon.png"))
    remembered.cleanup()
    print("saved " + ", ".join(shots) + f" and icon.png in {args.out_dir}")
    command = [sys.executable, "-m", "minidl_gui.screenshot", "--lecture", "--out-dir", str(args.out_dir)]
    return subprocess.call([*command, "--seconds", str(args.seconds)])  # another screen: another process


def backprop_shots(app, args, train) -> list[str]:
    """The backprop view mid-step-through, and a broken backprop caught by the gradient check (the
    lessons of the same names)."""
    from PySide6.QtCore import Qt

    from minidl_gui._qt.main_window import MainWindow
    from minidl_gui.components.lessons import LESSONS

    shots = []
    window = MainWindow()
    window.resize(1560, 1100)
    window.show()
    window.load_lesson(next(lesson for lesson in LESSONS if lesson.view == "backpropView"))
    window.resizeDocks([window.view_docks["backpropView"]], [460], Qt.Orientation.Vertical)
    train(window, args.seconds / 2)
    settle(app, 1.0)
    view = window.backprop.view
    backward = next(i for i, step in enumerate(view.steps) if step.kind == "backward" and step.stage.weight is not None)
    view.set_step(backward + 2)  # back through the output layer and its Tanh, to the second hidden Linear
    settle(app, 0.5)
    window.grab().save(str(args.out_dir / "backprop-step.png"))
    shots.append(f"backprop-step.png (epoch {window.last_snapshot.epoch}, step {view.step_index + 1})")
    window.close()

    window = MainWindow()
    window.resize(1560, 1100)
    window.show()
    window.load_lesson(next(lesson for lesson in LESSONS if lesson.expect == "broken-backprop"))
    window.resizeDocks([window.view_docks["networkDock"]], [420], Qt.Orientation.Vertical)
    window.backprop.check_entry(0, (1, 0))
    train(window, args.seconds / 2)
    settle(app, 1.5)
    window.grab().save(str(args.out_dir / "backprop-broken.png"))
    shots.append(f"backprop-broken.png (epoch {window.last_snapshot.epoch})")
    window.close()
    return shots


def lecture_shots(app, args, remembered) -> int:
    """A lesson on a 1024x768 projector, then the same in presentation mode (F11)."""
    from minidl_gui._qt.main_window import MainWindow
    from minidl_gui.components.lessons import LESSONS

    window = MainWindow()
    window.show()
    window.load_lesson(next(lesson for lesson in LESSONS if lesson.name == "XOR with one hidden layer"))
    window.toggle_play()
    settle(app, args.seconds)
    window.grab().save(str(args.out_dir / "lecture-1024x768.png"))
    epoch = window.last_snapshot.epoch
    window.set_presenting(True)
    settle(app, 1.0)
    window.grab().save(str(args.out_dir / "presentation.png"))
    window.close()
    remembered.cleanup()
    print(f"saved lecture-1024x768.png (epoch {epoch}) and presentation.png in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
