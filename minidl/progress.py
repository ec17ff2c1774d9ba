"""A one-line progress bar for the terminal (no dependency), redrawn in place on a TTY."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class ProgressBar:
    """`update(done, text)` redraws `[#####.....] done/total text ETA`; silent when disabled.

    On a terminal it redraws at most 10 times a second; into a file or pipe it writes a line
    every tenth of the way, so logs stay short.
    """

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(1, total)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_tenth = -1

    def update(self, done: int, text: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        tenth = done * 10 // self.total
        if self.tty:
            if now - self._last_draw < 0.1 and done < self.total:
                return
        elif tenth == self._last_tenth and done < self.total:
            return
        self._last_draw, self._last_tenth = now, tenth
        elapsed = now - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        filled = done * 24 // self.total
        line = (
            f"{self.label}[{'#' * filled}{'.' * (24 - filled)}] {done}/{self.total} {text}  "
            f"{format_seconds(elapsed)} elapsed, ETA {format_seconds(eta)}"
        )
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
