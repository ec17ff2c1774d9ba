"""Helpers of the hostile-file tests: calls that might block (a FIFO opened for reading waits for a
writer) run in a thread and fail the test instead of hanging the suite; refusals are checked to be
one plain line."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

WRITE_NONBLOCK = os.O_WRONLY | os.O_NONBLOCK
PYTORCH_ADVICE = ("weights_only", "Re-running", "Traceback", "Errno", "enforce fail", "inline_container")
QUICK_S = 5.0  # a refused file is refused at once; this is only the bound that proves nothing blocks


def assert_plain(message: str, path, *fragments: str) -> None:
    """One short line that names `path` once, says `fragments`, and none of PyTorch's internals."""
    assert "\n" not in message, message
    assert message.count(str(path)) == 1, f"the file should be named once: {message!r}"
    assert len(message) - len(str(path)) < 300, f"{len(message)} characters: {message[:400]!r}"
    for word in PYTORCH_ADVICE:
        assert word not in message, f"{word!r} in {message!r}"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def unblock_fifo(path: Path) -> None:
    """Give a reader stuck on the FIFO `path` an end of file (if nobody reads it, nothing happens)."""
    try:
        fd = os.open(path, WRITE_NONBLOCK)
    except OSError:
        return
    os.close(fd)


def within(seconds: float, call, fifo: Path | None = None):
    """`call()`'s result or exception, run in a thread; fails the test if it takes `seconds`."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if fifo is not None:
            unblock_fifo(fifo)
            thread.join(5)
        pytest.fail(f"still reading after {seconds} s: it blocked")
    assert time.monotonic() - started < seconds
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
