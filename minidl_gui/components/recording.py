"""Recording, free of Qt: frames composed side by side, and the GIF (Pillow) and MP4 (ffmpeg) writers.

Why these libraries: GIFs are written with **Pillow**, which ships small prebuilt wheels for every
platform and Python the app supports, needs no system library, and writes animated GIFs with a
duration per frame and endless looping; each frame is quantised to its own adaptive 256-colour
palette, and only the part of the picture that changed is stored, so a plot that changes in one
corner costs little. The GIF is written frame by frame as it is recorded (Pillow's documented GIF
header and frame helpers), so memory stays small however long the recording. MP4s (H.264, which
PowerPoint, Keynote, Impress and every browser play) are made by piping raw RGB frames into an
**ffmpeg** executable: the one inside the optional `imageio-ffmpeg` wheel (`pip install
"minidl[record]"`), or else an `ffmpeg` on the PATH. A Python video library (PyAV, OpenCV) would be a
much larger wheel for the same encoder, and ffmpeg runs in a process of its own, so encoding never
holds up the app. Where no ffmpeg is found, recording an MP4 is refused at its start with a message
that says how to get one; GIFs need nothing beyond the app's own dependencies.

The Qt side (grabbing widgets on a timer, the encoder thread) is `minidl_gui._qt.recorder.Recorder`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from minidl.storage.files import FileProblem

try:
    from PIL import GifImagePlugin, Image
except ImportError:  # a dependency; refused with a message at start() rather than breaking the app's import
    GifImagePlugin = Image = None


SUFFIXES = (".gif", ".mp4")
MAX_FPS = 30  # GIF delays are in hundredths of a second, and browsers slow down frames shorter than 20 ms
MAX_SECONDS = 600.0
MAX_FRAMES = 6000  # bounds the file too: 10 minutes at 10 fps
SCALES = (0.1, 2.0)
QUEUE_BYTES = 64 << 20  # frames waiting for the encoder; past this, grabs are skipped (and repeated)
RECORD_FIX = 'pip install "minidl[record]" (or install ffmpeg on the PATH)'
END = object()  # the queue's last item: finish the file


class RecordingError(FileProblem):
    """A recording could not be started or saved; the message says why in one sentence, and what to do."""


def find_ffmpeg() -> str | None:
    """An ffmpeg executable: the one of `imageio-ffmpeg` if installed, else `ffmpeg` on the PATH, else None."""
    try:
        import imageio_ffmpeg
    except ImportError:
        pass
    else:
        with contextlib.suppress(Exception):  # RuntimeError where its binary is missing for this platform
            exe = imageio_ffmpeg.get_ffmpeg_exe()
            if exe and os.path.isfile(exe):
                return exe
    return shutil.which("ffmpeg")


@functools.lru_cache(maxsize=4)
def ffmpeg_encoders(exe: str) -> str:
    no_window = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    done = subprocess.run(
        [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=20, creationflags=no_window
    )
    return done.stdout


def check_ffmpeg(exe: str) -> None:
    try:
        encoders = ffmpeg_encoders(exe)
    except (OSError, subprocess.SubprocessError) as error:
        raise RecordingError(f"cannot run the ffmpeg at {exe} ({error}): {RECORD_FIX}") from None
    if "libx264" not in encoders:
        raise RecordingError(
            f"the ffmpeg at {exe} cannot encode H.264 (it has no libx264): {RECORD_FIX} for one that can, "
            "or record a .gif"
        )


def size_text(n: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


# -- frames ---------------------------------------------------------------------------------------


def part_sizes(shapes: Sequence[tuple[int, ...]], scale: float) -> list[tuple[int, int]]:
    """(width, height) of each part of a frame: side by side at the first one's height, times `scale`."""
    height = max(1, round(shapes[0][0] * scale))
    return [(max(1, round(shape[1] * height / shape[0])), height) for shape in shapes]


def frame_size(shapes: Sequence[tuple[int, ...]], scale: float) -> tuple[int, int]:
    """The (width, height) of every frame of a recording whose first grab had these shapes: even sides."""
    parts = part_sizes(shapes, scale)
    width, height = sum(w for w, _ in parts), parts[0][1]
    return width - width % 2, height - height % 2


def resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


def compose(images: Sequence[np.ndarray], scale: float, size: tuple[int, int]) -> np.ndarray:
    """One frame of exactly `size` from the grabs: scaled, side by side, cropped to even sides (or,
    where a view has changed size since the first frame, fitted into it without distortion, centred
    on white)."""
    parts = [resize(image, part) for image, part in zip(images, part_sizes([i.shape for i in images], scale))]
    frame = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    width, height = size
    if frame.shape[1] - frame.shape[1] % 2 == width and frame.shape[0] - frame.shape[0] % 2 == height:
        frame = frame[:height, :width]
    else:
        frame = letterbox(frame, size)
    return np.ascontiguousarray(frame)


def letterbox(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`frame` scaled to fit `size` with its aspect ratio kept (a plot stays round), centred on white."""
    width, height = size
    factor = min(width / frame.shape[1], height / frame.shape[0])
    inner = (max(1, min(width, round(frame.shape[1] * factor))), max(1, min(height, round(frame.shape[0] * factor))))
    canvas = np.full((height, width, frame.shape[2]), 255, dtype=frame.dtype)
    left, top = (width - inner[0]) // 2, (height - inner[1]) // 2
    canvas[top : top + inner[1], left : left + inner[0]] = resize(frame, inner)
    return canvas


# -- writers (the encoder thread) -------------------------------------------------------------------


class GifWriter:
    """An animated GIF, written frame by frame: each frame only the box that changed since the one
    before, quantised to a palette of its own; a repeated frame is a 1x1 box."""

    def __init__(self, temporary: Path, fps: int) -> None:
        self._fps = fps
        self._handle = open(temporary, "wb")  # noqa: SIM115  (closed in finish/abort)
        self._previous: np.ndarray | None = None
        self._count = 0

    def _delay_ms(self) -> int:
        """This frame's delay: GIF counts hundredths of a second, so they add up to the frames' times."""
        i = self._count
        return 10 * (round((i + 1) * 100 / self._fps) - round(i * 100 / self._fps))

    def _write(self, pixels: np.ndarray, offset: tuple[int, int]) -> None:
        image = Image.fromarray(pixels).quantize(256, method=Image.Quantize.FASTOCTREE)
        delay = self._delay_ms()
        if self._count == 0:
            header, _ = GifImagePlugin.getheader(image, None, {"loop": 0, "duration": delay})
            for chunk in header:
                self._handle.write(chunk)
            data = GifImagePlugin.getdata(image, offset, duration=delay)
        else:
            data = GifImagePlugin.getdata(image, offset, duration=delay, include_color_table=True)
        for chunk in data:
            self._handle.write(chunk)
        self._count += 1

    def add(self, frame: np.ndarray) -> None:
        previous, self._previous = self._previous, frame
        if previous is None:
            self._write(frame, (0, 0))
            return
        changed = np.any(frame != previous, axis=2)
        rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if rows.size == 0:
            self._write(frame[:1, :1], (0, 0))
            return
        top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
        self._write(frame[top:bottom, left:right], (int(left), int(top)))

    def repeat(self) -> None:
        assert self._previous is not None
        self._write(self._previous[:1, :1], (0, 0))

    def finish(self) -> None:
        self._handle.write(b";")  # the GIF trailer
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()


class Mp4Writer:
    """H.264 in an MP4: raw RGB frames piped into ffmpeg, which writes the temporary file."""

    def __init__(self, temporary: Path, fps: int, size: tuple[int, int], exe: str) -> None:
        width, height = size
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  a file, not a pipe: ffmpeg never blocks on it
        command = [
            exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", "fast", "-tune", "animation", "-crf", "20", "-pix_fmt", "yuv420p",
            "-threads", "2", "-movflags", "+faststart", "-f", "mp4", str(temporary),
        ]  # fmt: skip
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except BaseException:
            self._stderr.close()
            raise
        self._previous = b""

    def _said(self) -> str:
        """ffmpeg's last line on stderr, for a message."""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            if lines:
                return lines[-1].strip()
        return ""

    def _send(self, data: bytes | memoryview) -> None:
        try:
            self.process.stdin.write(data)
        except (BrokenPipeError, ValueError):  # ffmpeg has stopped
            self.process.wait()
            raise OSError(f"ffmpeg stopped ({self._said() or f'exit status {self.process.returncode}'})") from None

    def add(self, frame: np.ndarray) -> None:
        self._previous = frame.tobytes()
        self._send(self._previous)

    def repeat(self) -> None:
        self._send(self._previous)

    def finish(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        try:
            status = self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise OSError("ffmpeg did not finish within 2 minutes") from None
        if status != 0:
            raise OSError(f"ffmpeg failed ({self._said() or f'exit status {status}'})")
        with open(self.process.args[-1], "rb+") as written:
            os.fsync(written.fileno())
        self._stderr.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._stderr.close()


# -- the recorder -----------------------------------------------------------------------------------
