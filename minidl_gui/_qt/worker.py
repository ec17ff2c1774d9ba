"""The training thread: runs `Session.advance` in a loop and publishes coalesced snapshots."""

from __future__ import annotations

import atexit
import threading
import time
import traceback
from typing import ClassVar

from PySide6.QtCore import QThread, Signal

from minidl_gui.components.session import Session
from minidl_gui.components.snapshot import Snapshot

FRAME_RATE = 32.0  # snapshots a second: a little over 30, so that the plots redraw at least 30 times


class TrainingWorker(QThread):
    """Trains in its own thread; the GUI thread never trains.

    While playing it trains until the next publish slot, so it never sleeps while there is work.
    At most `max_fps` snapshots a second are published, and at most one notification is ever
    waiting in the Qt event queue: a fast trainer replaces the pending snapshot instead of
    queueing another, and the window draws whatever is newest when it gets to it.

    A worker has no Qt parent and is held here from `start()` until `stop()` has joined it, so a
    window dropped without `close()` never destroys a running thread (which aborts the process);
    every worker still running is stopped at interpreter exit.
    """

    snapshot_ready = Signal()
    _alive: ClassVar[set[TrainingWorker]] = set()

    def __init__(self, session: Session, max_fps: float = FRAME_RATE) -> None:
        super().__init__()
        self.session = session
        self.min_interval = 1.0 / max_fps
        self._quit = threading.Event()
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._notified = False
        self.error: str | None = None

    def start(self, *args) -> None:
        TrainingWorker._alive.add(self)
        super().start(*args)

    def run(self) -> None:  # the worker thread
        session = self.session
        next_publish = time.perf_counter()  # publish slots at least a frame apart: max_fps a second at most
        dirty = True
        while not self._quit.is_set():
            try:
                dirty |= session.advance(budget_s=max(0.0, next_publish - time.perf_counter()))
                now = time.perf_counter()
                if dirty and now >= next_publish:
                    self._publish(session.snapshot())
                    dirty = False
                    # the next slot: never sooner than a frame from now, also after a late one
                    next_publish = max(next_publish, now) + self.min_interval
                elif not session.playing:  # nothing to train: sleep until a request (or the publish slot)
                    session.wait_for_request(max(0.0, next_publish - now) if dirty else 0.25)
            except Exception:  # never let a bug kill the thread silently: pause and say so
                first = self.error is None
                self.error = traceback.format_exc(limit=4)
                session.pause()
                dirty = True
                if first:
                    self.snapshot_ready.emit()  # said even where no snapshot can be made (no trainer could be built)
                time.sleep(0.05)

    def _publish(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._latest = snapshot
            notify = not self._notified
            self._notified = True
        if notify:
            self.snapshot_ready.emit()

    def take_snapshot(self) -> Snapshot | None:
        """The newest snapshot (GUI thread); re-arms the notification."""
        with self._lock:
            self._notified = False
            return self._latest

    @classmethod
    def running(cls) -> list[TrainingWorker]:
        """Workers whose thread is still running (tests use this to catch dangling threads)."""
        return [worker for worker in list(cls._alive) if worker.isRunning()]

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Ask the loop to end at the next step boundary and join the thread."""
        self._quit.set()
        self.session.interrupt()
        stopped = self.wait(timeout_ms)
        if stopped:
            TrainingWorker._alive.discard(self)
        return stopped

    @classmethod
    def stop_all(cls) -> None:
        for worker in list(cls._alive):
            if not worker.stop(5000):
                worker.wait()
            cls._alive.discard(worker)


atexit.register(TrainingWorker.stop_all)
