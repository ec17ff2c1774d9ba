"""Make the README's screenshot and icon: the app mid-training, saved as PNG.

    python -m minidl_gui.screenshot [--out assets/screenshot.png] [--seconds 8]

Runs offscreen when there is no display, so it works on a headless machine too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("assets/screenshot.png"))
    parser.add_argument("--icon", type=Path, default=Path("assets/icon.png"))
    parser.add_argument("--seconds", type=float, default=8.0, help="training time before the shot")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import torch
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from minidl_gui.icon import icon_pixmap
    from minidl_gui.main_window import MainWindow

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    font = QFont(app.font())
    font.setPointSize(12)
    app.setFont(font)
    window = MainWindow()
    window.show()
    window.toggle_play()
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    icon_pixmap(256).save(str(args.icon))
    snapshot = window.last_snapshot
    window.close()
    epoch = snapshot.epoch if snapshot else 0
    print(f"saved {args.out} (epoch {epoch}) and {args.icon}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
