"""Calls that might block (a FIFO opened for reading waits for a writer): run them in a thread and
fail the test, instead of hanging the whole suite, when they do."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

WRITE_NONBLOCK = os.O_WRONLY | os.O_NONBLOCK


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
