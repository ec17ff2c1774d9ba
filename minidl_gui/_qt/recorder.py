"""Record views of the app (the decision boundary, the curves) to an animated GIF or an MP4 for slides.

(Why Pillow for GIFs and an ffmpeg process for MP4s, and the writers themselves: `minidl_gui.components.recording`.)

How: a `QTimer` in the GUI thread grabs the widget(s) `fps` times a second (several widgets side by
side, heights matched) and hands the pixels to a background thread, which scales, quantises and
encodes them; the GUI thread never waits for the encoder. Frames follow the clock: a frame the GUI
thread was too busy to grab repeats the one before, so the clip plays at the speed it was recorded.
Every frame has the size of the first, made even (H.264 needs even sides). A recording stops on its
own at `max_seconds` (and at `MAX_FRAMES`). The file is written into a temporary file beside the
target and moved over it at the end, so a failed or cancelled recording leaves no partial file and
an older file of that name stays as it was.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import numbers
import os
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from minidl.storage.files import AtomicTarget, FileProblem, check_writable
from minidl_gui.components import recording
from minidl_gui.components.recording import (
    END,
    MAX_FPS,
    MAX_FRAMES,
    MAX_SECONDS,
    QUEUE_BYTES,
    RECORD_FIX,
    SCALES,
    SUFFIXES,
    GifWriter,
    Mp4Writer,
    RecordingError,
    check_ffmpeg,
    compose,
    find_ffmpeg,
    frame_size,
    size_text,
)

__all__ = ["MAX_FPS", "MAX_FRAMES", "MAX_SECONDS", "Recorder", "RecordingError", "find_ffmpeg"]

_THREAD_NAME = "minidl-recorder"


def _grab(widget: QWidget) -> np.ndarray | None:
    """The widget's pixels as an (height, width, 3) uint8 RGB array, or None if it has no size."""
    pixmap = widget.grab()
    if pixmap.isNull() or pixmap.width() < 1 or pixmap.height() < 1:
        return None
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=height * stride).reshape(height, stride)
    return rows[:, : width * 3].reshape(height, width, 3).copy()  # a copy: the QImage's memory goes with it


class Recorder(QObject):
    """Records one or more widgets, side by side, to `path` (.gif or .mp4) at `fps` frames a second.

    `start()` grabs the first frame and refuses, with a `RecordingError`, whatever would fail later
    (no encoder, a folder that cannot be written, a view of no size). `progress(frames, seconds)` is
    emitted for every frame recorded; `stop()` returns a `Future` whose result is a one-line message
    ("Saved ...") and whose exception is a `RecordingError`; the same message comes as `finished` or
    `failed` in the GUI thread, exactly once for each recording started. It stops on its own at
    `max_seconds` or `MAX_FRAMES`, and where a recorded widget is deleted. `close()` stops, saves
    and joins the encoder thread; `cancel()` stops and saves nothing.
    """

    progress = Signal(int, float)  # frames, seconds recorded
    finished = Signal(str)  # the recording is saved: a message that names the file, its length and size
    failed = Signal(str)  # it is not saved (an encoder error, a full disk, cancelled): why, in one sentence
    _encoded = Signal()  # from the encoder thread: its future is done

    _alive: ClassVar[set[Recorder]] = set()  # started and not yet wound up (held, so never collected mid-way)

    def __init__(
        self,
        widgets: QWidget | Sequence[QWidget],
        path: str | os.PathLike,
        fps: int = 10,
        max_seconds: float = 60.0,
        scale: float = 1.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.widgets = [widgets] if isinstance(widgets, QWidget) else list(widgets)
        if not self.widgets or not all(isinstance(w, QWidget) for w in self.widgets):
            raise RecordingError("nothing to record: give a widget, or a list of widgets")
        self.path = Path(path)
        self.kind = self.path.suffix.lower()
        if self.kind not in SUFFIXES:
            raise RecordingError(f"cannot record to {self.path}: give a file name that ends in .gif or .mp4")
        if isinstance(fps, bool) or not isinstance(fps, numbers.Integral) or not 1 <= fps <= MAX_FPS:
            raise RecordingError(f"cannot record at {fps!r} frames a second: give a whole number from 1 to {MAX_FPS}")
        if isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real):
            raise RecordingError(f"cannot record for {max_seconds!r} seconds: give a number of seconds")
        if not 0 < max_seconds <= MAX_SECONDS:
            raise RecordingError(f"cannot record for {max_seconds:g} s: give a length of up to {MAX_SECONDS:g} s")
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not SCALES[0] <= scale <= SCALES[1]:
            raise RecordingError(f"cannot record at scale {scale!r}: give a scale from {SCALES[0]:g} to {SCALES[1]:g}")
        self._check_path()
        self.fps = int(fps)
        self.max_seconds = float(max_seconds)
        self.scale = float(scale)
        self.max_frames = min(max(1, math.ceil(max_seconds * fps - 1e-9)), MAX_FRAMES)
        self.frame_size: tuple[int, int] | None = None  # (width, height), known from start()
        self._state = "new"  # new → recording → saving → done
        self._frames = 0
        self._repeated = 0  # frames that repeat the one before: the app or the encoder fell behind
        self._grab_bytes = 0
        self._notes: list[str] = []
        self._t0 = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)  # each tick aims at the next frame's time, so there is no drift
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._queue: queue.Queue = queue.Queue()
        self._abort = threading.Event()
        self._thread: threading.Thread | None = None
        self._target: AtomicTarget | None = None  # the temporary file that becomes `path`
        self._writer: GifWriter | Mp4Writer | None = None
        self._ffmpeg: str | None = None
        self.future: Future[str] = Future()
        self._encoded.connect(self._wind_up)

    # -- state, for the window ---------------------------------------------------------------------

    @property
    def frames(self) -> int:
        """Frames recorded so far (repeated ones included: the clip's length is frames / fps)."""
        return self._frames

    @property
    def seconds(self) -> float:
        """The length of the clip so far, in seconds."""
        return self._frames / self.fps

    @property
    def recording(self) -> bool:
        return self._state == "recording"

    @property
    def ticking(self) -> bool:
        """Whether its clock runs: a frame is still to be grabbed."""
        return self._timer.isActive()

    @property
    def saving(self) -> bool:
        """Stopped, and the encoder is finishing the file."""
        return self._state == "saving"

    def status_text(self) -> str:
        """What the window shows while recording, e.g. "● REC 4.2 s · 10 fps · 42 frames"."""
        return f"● REC {self.seconds:.1f} s · {self.fps} fps · {self.frames} frames"

    @classmethod
    def running(cls) -> list[Recorder]:
        """Recorders started and not yet wound up (their encoder thread may still run)."""
        return list(cls._alive)

    # -- control -------------------------------------------------------------------------------------

    def _check_path(self) -> None:
        try:
            check_writable(self.path, "recording")
        except RecordingError:
            raise
        except FileProblem as problem:
            raise RecordingError(str(problem)) from None

    def start(self) -> None:
        """Grab the first frame and start recording; a `RecordingError` says why it cannot."""
        if self._state != "new":
            raise RecordingError("this recorder has been started already; make a new one for the next recording")
        if recording.Image is None:
            raise RecordingError('recording needs Pillow, which is missing: pip install "Pillow>=10"')
        if self.kind == ".mp4":
            exe = find_ffmpeg()
            if exe is None:
                raise RecordingError(
                    f"recording an MP4 needs ffmpeg, and none was found: {RECORD_FIX}, or record a .gif"
                )
            check_ffmpeg(exe)
            self._ffmpeg = exe
        self._check_path()
        first = self._grab()
        if first is None:
            raise RecordingError("cannot record: the view has no size yet (show it first)")
        size = frame_size([image.shape for image in first], self.scale)
        if min(size) < 2:
            raise RecordingError(f"cannot record: the view is too small ({size[0]}x{size[1]} pixels)")
        self.frame_size = size
        try:  # here, not in the encoder thread: the file's mode is read by setting the umask
            self._target = AtomicTarget(self.path, "recording")
        except FileProblem as problem:
            raise RecordingError(str(problem)) from None
        self._thread = threading.Thread(target=self._encode, name=_THREAD_NAME, daemon=True)
        try:
            self._thread.start()
        except RuntimeError as error:  # no more threads can be started
            self._thread = None
            self._target.discard()
            raise RecordingError(f"cannot start recording to {self.path}: {error}") from None
        self._state = "recording"
        Recorder._alive.add(self)
        self._t0 = time.monotonic()
        self._put(first, repeats=0, due=1)
        self._schedule(1)

    def stop(self) -> Future[str]:
        """Stop recording and save (in the background); harmless when stopped already. The future's
        result is a one-line message, its exception a `RecordingError`."""
        if self._state == "new":
            self._state = "done"
            self.future.set_exception(RecordingError("nothing was recorded: the recording was never started"))
        elif self._state == "recording":
            self._finish_recording()
        return self.future

    def cancel(self) -> Future[str]:
        """Stop recording and save nothing (an older file of that name stays as it was)."""
        self._abort.set()
        return self.stop()

    def close(self, timeout: float = 30.0) -> None:
        """Stop, save and wait for the encoder thread to end (at most `timeout` s; then give it up),
        so that no thread is left running. `finished` or `failed` is emitted before it returns."""
        self.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():  # a stuck ffmpeg: end it, which ends the thread
                self._abort.set()
                self._queue.put(END)
                writer = self._writer
                if isinstance(writer, Mp4Writer):
                    with contextlib.suppress(OSError):
                        writer.process.kill()
                thread.join(10)
        self._wind_up()

    # -- the GUI thread --------------------------------------------------------------------------------

    def _grab(self) -> list[np.ndarray] | None:
        images = [_grab(widget) for widget in self.widgets]
        return None if any(image is None for image in images) else images

    def _put(self, images: list[np.ndarray], repeats: int, due: int) -> None:
        self._queue.put((images, repeats))
        self._grab_bytes = sum(image.nbytes for image in images)
        self._repeated += repeats
        self._frames = due
        self.progress.emit(self._frames, self.seconds)

    def _schedule(self, frame: int) -> None:
        """Tick at the time of frame number `frame` (counted from 0 at the start)."""
        delay = self._t0 + frame / self.fps - time.monotonic()
        self._timer.start(max(1, round(delay * 1000)))

    def _tick(self) -> None:
        if self._state != "recording":
            return
        if self._thread is None or not self._thread.is_alive():  # the encoder failed; _wind_up says why
            return
        # The frame due now (rounded: a timer a little early or late still hits its frame).
        due = min(round((time.monotonic() - self._t0) * self.fps) + 1, self.max_frames)
        if due > self._frames:
            pending = self._queue.qsize()
            if pending >= 2 * self.fps or pending * self._grab_bytes >= QUEUE_BYTES:
                pass  # the encoder is behind: skip this grab; the next one repeats the frame before for this time
            else:
                try:
                    images = self._grab()
                except RuntimeError:  # a recorded widget was deleted (its window closed)
                    self._notes.append("it stopped when the recorded view was closed")
                    self._finish_recording()
                    return
                if images is not None:  # else hidden with no size for now: the next grab fills this time
                    self._put(images, repeats=due - self._frames - 1, due=due)
        if self._frames >= self.max_frames:
            limit = f"{MAX_FRAMES}-frame" if self.max_frames == MAX_FRAMES else f"{self.max_seconds:g} s"
            self._notes.append(f"it stopped at its {limit} limit")
            self._finish_recording()
            return
        self._schedule(max(due, self._frames))

    def _finish_recording(self) -> None:
        self._timer.stop()
        self._state = "saving"
        if self._repeated >= max(3, self._frames // 20):  # a late tick now and then is no news
            self._notes.append(
                f"{self._repeated} frames repeat the one before, as the app or the encoder fell behind "
                "(record at a lower fps or a smaller scale)"
            )
        self._queue.put(END)

    def _wind_up(self) -> None:
        """The encoder thread is done (or given up): say how it went, once."""
        thread = self._thread
        if self._state not in ("recording", "saving") or not self.future.done():
            return
        if thread is not None:
            thread.join(1.0)  # it has set the future, so it ends within moments
        self._timer.stop()
        self._state = "done"
        Recorder._alive.discard(self)
        while True:  # frames queued after the encoder failed
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        error = self.future.exception()
        if error is None:
            self.finished.emit(self.future.result())
        else:
            self.failed.emit(str(error))

    # -- the encoder thread ------------------------------------------------------------------------------

    def _open_writer(self) -> GifWriter | Mp4Writer:
        if self.kind == ".gif":
            return GifWriter(self._target.temporary, self.fps)
        return Mp4Writer(self._target.temporary, self.fps, self.frame_size, self._ffmpeg)

    def _encode(self) -> None:
        try:
            self._writer = writer = self._open_writer()
            count = 0
            while True:
                item = self._queue.get()
                if item is END or self._abort.is_set():
                    break
                images, repeats = item
                frame = compose(images, self.scale, self.frame_size)
                for _ in range(repeats):
                    writer.repeat()
                writer.add(frame)
                count += 1 + repeats
            if self._abort.is_set():
                raise RecordingError(f"the recording to {self.path} was cancelled, and nothing was saved")
            writer.finish()
            self._target.commit()
        except BaseException as error:
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer.abort()
            self._target.discard()
            if isinstance(error, RecordingError):
                self.future.set_exception(error)
            elif isinstance(error, FileProblem):  # the commit's: it names the file already
                self.future.set_exception(RecordingError(str(error)))
            else:
                reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or repr(error)
                self.future.set_exception(RecordingError(f"cannot write the recording to {self.path}: {reason}"))
            if not isinstance(error, Exception):
                raise
        else:
            width, height = self.frame_size
            size = size_text(self.path.stat().st_size)
            message = f"Saved {self.path}: {count / self.fps:.1f} s, {count} frames at {self.fps} fps"
            message += f", {width}x{height}, {size}"
            self.future.set_result(message + "".join(f"; {note}" for note in self._notes) + ".")
        finally:
            with contextlib.suppress(RuntimeError):  # the Recorder's Qt object is gone: nobody to tell
                self._encoded.emit()


@atexit.register
def _close_all() -> None:
    """Save what is being recorded when the interpreter exits (encoder threads are daemons)."""
    for recorder in Recorder.running():
        with contextlib.suppress(Exception):
            recorder._queue.put(END)
            if recorder._thread is not None:
                recorder._thread.join(30)
