"""Recording views to GIF and MP4: frames, sizes, timing, limits, encoders missing or failing, atomic files."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QLabel

from minidl_gui._qt import recorder as rec_module
from minidl_gui._qt.recorder import Recorder, RecordingError, find_ffmpeg
from minidl_gui.components import recording

COLOURS = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#bcbd22"]


@pytest.fixture(autouse=True)
def no_recorder_threads():
    """Every recorder is wound up and its encoder thread joined by the end of each test."""
    yield
    left = Recorder.running()
    for recorder in left:
        recorder.close(5)
    threads = [t for t in threading.enumerate() if t.name == rec_module._THREAD_NAME]
    for thread in threads:
        thread.join(5)
    assert not left, f"{len(left)} recorder(s) left running"
    assert not [t for t in threads if t.is_alive()], "an encoder thread is still running"


@pytest.fixture
def label(qtbot):
    """A 161x101 label (odd sides) whose colour and text change with every frame recorded."""
    widget = QLabel("frame 0")
    widget.setStyleSheet(f"background: {COLOURS[0]}; color: white")
    widget.resize(161, 101)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def animate(recorder: Recorder, widget: QLabel) -> list[tuple[int, float]]:
    """Change the label after each frame, so that every frame differs; returns the progress reports."""
    reports = []

    def on_progress(frames: int, seconds: float) -> None:
        reports.append((frames, seconds))
        widget.setText(f"frame {frames}")
        widget.setStyleSheet(f"background: {COLOURS[frames % len(COLOURS)]}; color: white")

    recorder.progress.connect(on_progress)
    return reports


def outcome(recorder: Recorder) -> list[tuple[str, str]]:
    """("finished" | "failed", message) for each of those signals emitted."""
    said = []
    recorder.finished.connect(lambda message: said.append(("finished", message)))
    recorder.failed.connect(lambda message: said.append(("failed", message)))
    return said


def frames_recorded(qtbot, recorder: Recorder, frames: int) -> None:
    """Wait until the recorder has `frames` frames (its clock, not the test's, says when)."""
    qtbot.waitUntil(lambda: recorder.frames >= frames, timeout=20_000)


def record(qtbot, recorder: Recorder, seconds: float) -> tuple[str, str]:
    said = outcome(recorder)
    recorder.start()
    frames = round(seconds * recorder.fps)  # or until it stops on its own (a failed encoder)
    qtbot.waitUntil(lambda: recorder.frames >= frames or bool(said), timeout=20_000)
    recorder.stop()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert len(said) == 1
    return said[0]


def gif_frames(path) -> tuple[tuple[int, int], list[int], list[np.ndarray]]:
    """(size, durations in ms, RGB pixels) of each frame of a GIF, as Pillow reads it."""
    durations, pixels = [], []
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        size = gif.size
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            pixels.append(np.asarray(gif.convert("RGB")))
    return size, durations, pixels


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".minidl-")]


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def test_gif_records_a_second_at_10_fps(qtbot, label, tmp_path):
    path = tmp_path / "clip.gif"
    recorder = Recorder(label, path, fps=10)
    reports = animate(recorder, label)
    said = outcome(recorder)
    recorder.start()
    assert recorder.recording and recorder.frame_size == (160, 100)  # the first grab's size, made even
    assert (label.grab().width(), label.grab().height()) == (161, 101)
    frames_recorded(qtbot, recorder, 10)  # a second at 10 fps
    began = time.perf_counter()
    future = recorder.stop()
    assert time.perf_counter() - began < 0.1, "stop() must not wait for the encoder"
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said == [("finished", future.result())]
    assert said[0][1].startswith(f"Saved {path}: ") and "at 10 fps" in said[0][1]

    assert 10 <= recorder.frames <= 11 and recorder.seconds == recorder.frames / 10
    assert reports[-1] == (recorder.frames, recorder.seconds)
    assert [f for f, _ in reports] == sorted({f for f, _ in reports})  # each frame reported once, in order
    assert recorder.status_text() == f"● REC {recorder.seconds:.1f} s · 10 fps · {recorder.frames} frames"
    size, durations, pixels = gif_frames(path)
    assert size == (160, 100) and all(p.shape == (100, 160, 3) for p in pixels)
    assert len(pixels) == recorder.frames
    assert durations == [100] * recorder.frames
    # The pictures are right: the first frame in the first colour, the last in the colour it had then.
    assert np.abs(pixels[0][2, 2].astype(int) - rgb(COLOURS[0])).max() <= 8
    last_colour = COLOURS[(reports[-2][0]) % len(COLOURS)]
    assert np.abs(pixels[-1][2, 2].astype(int) - rgb(last_colour)).max() <= 8
    assert not leftovers(tmp_path)


def test_durations_add_up_where_fps_does_not_divide_a_second(qtbot, label, tmp_path):
    path = tmp_path / "clip.gif"
    recorder = Recorder(label, path, fps=30, max_seconds=0.5)
    animate(recorder, label)
    said = outcome(recorder)
    recorder.start()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0][0] == "finished" and recorder.frames == 15
    _, durations, _ = gif_frames(path)
    assert set(durations) <= {30, 40} and sum(durations) == 500  # GIF counts hundredths: 30 and 40 ms


def test_stopping_twice_and_closing_are_harmless(qtbot, label, tmp_path):
    recorder = Recorder(label, tmp_path / "clip.gif")
    said = outcome(recorder)
    recorder.start()
    frames_recorded(qtbot, recorder, 2)
    first = recorder.stop()
    assert recorder.stop() is first and not recorder.recording
    qtbot.waitUntil(first.done, timeout=20_000)
    qtbot.waitUntil(lambda: bool(said))
    assert recorder.stop() is first
    recorder.close()
    recorder.close()
    assert not Recorder.running()  # nothing left that could still report
    assert [kind for kind, _ in said] == ["finished"]
    with pytest.raises(RecordingError, match="started already"):
        recorder.start()


def test_stop_before_start_and_close_of_a_recorder_never_started(label, tmp_path):
    recorder = Recorder(label, tmp_path / "clip.gif")
    future = recorder.stop()
    assert isinstance(future.exception(), RecordingError)
    recorder.close()
    assert not list(tmp_path.iterdir())


def test_max_seconds_stops_it_on_its_own(qtbot, label, tmp_path):
    path = tmp_path / "clip.gif"
    recorder = Recorder(label, path, fps=10, max_seconds=0.5)
    animate(recorder, label)
    said = outcome(recorder)
    recorder.start()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    kind, message = said[0]
    assert kind == "finished" and "stopped at its 0.5 s limit" in message
    assert recorder.frames == 5 and not recorder.recording
    assert not recorder.ticking  # its clock is stopped: no frame can come after the limit
    assert len(gif_frames(path)[1]) == 5


def test_the_frame_cap_stops_it_too(qtbot, label, tmp_path, monkeypatch):
    monkeypatch.setattr(rec_module, "MAX_FRAMES", 3)
    recorder = Recorder(label, tmp_path / "clip.gif", fps=10, max_seconds=60)
    said = outcome(recorder)
    recorder.start()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0][0] == "finished" and "3-frame limit" in said[0][1] and recorder.frames == 3


def test_several_widgets_side_by_side_heights_matched(qtbot, label, tmp_path):
    small = QLabel("curves")
    small.setStyleSheet(f"background: {COLOURS[2]}")
    small.resize(50, 50)
    qtbot.addWidget(small)
    small.show()
    path = tmp_path / "both.gif"
    recorder = Recorder([label, small], path, fps=10, max_seconds=0.3)
    said = outcome(recorder)
    recorder.start()
    assert recorder.frame_size == (262, 100)  # 161 + 101 (50 scaled to 101 high), cropped to even sides
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    size, _, pixels = gif_frames(path)
    assert size == (262, 100)
    assert np.abs(pixels[0][4, 258].astype(int) - rgb(COLOURS[2])).max() <= 8  # the small one, on the right


def test_scale_and_sizes_of_later_frames():
    assert recording.frame_size([(101, 161, 3)], 0.5) == (80, 50)
    assert recording.frame_size([(100, 100, 3), (50, 40, 3)], 1.0) == (180, 100)
    # A view that grew since the first frame is scaled to the first frame's size.
    frame = recording.compose([np.zeros((300, 500, 3), np.uint8)], 1.0, (160, 100))
    assert frame.shape == (100, 160, 3) and frame.flags.c_contiguous


def test_frames_follow_the_clock_when_the_encoder_falls_behind(qtbot, label, tmp_path, monkeypatch):
    add = recording.GifWriter.add

    def slow_add(self, frame):
        time.sleep(0.25)
        add(self, frame)

    monkeypatch.setattr(recording.GifWriter, "add", slow_add)
    monkeypatch.setattr(rec_module, "QUEUE_BYTES", 1)  # any frame waiting: skip the grab
    path = tmp_path / "clip.gif"
    recorder = Recorder(label, path, fps=10)
    began = time.perf_counter()
    kind, message = record(qtbot, recorder, 1.0)
    took = time.perf_counter() - began
    assert kind == "finished" and "repeat the one before" in message
    assert recorder.frames <= took * 10 + 1  # the clip is as long as the recording took, repeats included
    assert len(gif_frames(path)[1]) == recorder.frames


def test_missing_encoder_for_mp4_is_refused_at_start(label, tmp_path, monkeypatch):
    monkeypatch.setattr(rec_module, "find_ffmpeg", lambda: None)
    recorder = Recorder(label, tmp_path / "clip.mp4")
    with pytest.raises(RecordingError, match=re.escape('pip install "minidl[record]"')) as error:
        recorder.start()
    assert "ffmpeg" in str(error.value) and ".gif" in str(error.value)
    assert not recorder.recording and recorder.frames == 0
    assert not list(tmp_path.iterdir())


def test_ffmpeg_without_h264_is_refused_at_start(label, tmp_path, monkeypatch):
    monkeypatch.setattr(rec_module, "find_ffmpeg", lambda: "/opt/ffmpeg")
    monkeypatch.setattr(recording, "ffmpeg_encoders", lambda exe: " V..... mpeg4  MPEG-4 part 2\n")
    with pytest.raises(RecordingError, match="no libx264"):
        Recorder(label, tmp_path / "clip.mp4").start()
    assert not list(tmp_path.iterdir())


def mp4_frame_count(path) -> int:
    ffprobe = shutil.which("ffprobe")
    if ffprobe:
        out = subprocess.run(
            [ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
             "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return int(out.strip())
    out = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return int(re.findall(r"frame=\s*(\d+)", out)[-1])


@pytest.mark.skipif(find_ffmpeg() is None, reason='no ffmpeg: pip install "minidl[record]"')
def test_mp4_records_h264(qtbot, label, tmp_path):
    path = tmp_path / "clip.mp4"
    recorder = Recorder(label, path, fps=10)
    animate(recorder, label)
    kind, message = record(qtbot, recorder, 0.6)
    assert kind == "finished", message
    data = path.read_bytes()
    assert data[4:8] == b"ftyp"  # an MP4 starts with its ftyp box
    assert mp4_frame_count(path) == recorder.frames
    assert not leftovers(tmp_path)


@pytest.mark.skipif(find_ffmpeg() is None, reason='no ffmpeg: pip install "minidl[record]"')
def test_mp4_cancelled_leaves_nothing(qtbot, label, tmp_path):
    recorder = Recorder(label, tmp_path / "clip.mp4")
    said = outcome(recorder)
    recorder.start()
    frames_recorded(qtbot, recorder, 2)
    recorder.cancel()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0][0] == "failed" and not list(tmp_path.iterdir())


def test_records_a_plot(qtbot, tmp_path):
    import pyqtgraph as pg

    plot = pg.PlotWidget()
    plot.resize(320, 240)
    qtbot.addWidget(plot)
    plot.show()
    curve = plot.plot([0.0])
    path = tmp_path / "plot.gif"
    recorder = Recorder(plot, path, fps=10, max_seconds=0.5, scale=0.5)
    recorder.progress.connect(lambda frames, _: curve.setData(np.sin(np.arange(frames * 10) / 5)))
    said = outcome(recorder)
    recorder.start()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0][0] == "finished", said
    size, durations, pixels = gif_frames(path)
    assert size == (160, 120) and len(durations) == 5
    assert not np.array_equal(pixels[0], pixels[-1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": "clip.png"}, r"\.gif or \.mp4"),
        ({"path": "clip"}, r"\.gif or \.mp4"),
        ({"fps": 0}, "from 1 to 30"),
        ({"fps": 31}, "from 1 to 30"),
        ({"fps": 2.5}, "whole number"),
        ({"fps": True}, "whole number"),
        ({"fps": np.int64(12)}, None),
        ({"max_seconds": 0}, "up to 600"),
        ({"max_seconds": 601}, "up to 600"),
        ({"max_seconds": "10"}, "number of seconds"),
        ({"scale": 0}, "scale from 0.1 to 2"),
        ({"scale": 5}, "scale from 0.1 to 2"),
        ({"widgets": []}, "nothing to record"),
    ],
)
def test_bad_arguments_are_refused_clearly(label, tmp_path, kwargs, match):
    arguments = {"widgets": label, "path": "clip.gif", **kwargs}
    arguments["path"] = tmp_path / arguments["path"]
    if match is None:  # accepted
        assert Recorder(**arguments).fps == 12
        return
    with pytest.raises(RecordingError, match=match):
        Recorder(**arguments)


def test_a_folder_that_cannot_be_written_is_refused(label, tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        Recorder(label, tmp_path / "missing" / "clip.gif")
    (tmp_path / "taken.gif").mkdir()
    with pytest.raises(RecordingError, match="is a folder"):
        Recorder(label, tmp_path / "taken.gif")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write into any folder")
def test_a_read_only_folder_is_refused(label, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(RecordingError, match="not writable"):
            Recorder(label, folder / "clip.gif")
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("step", ["add", "finish"])
def test_a_failed_encode_keeps_the_old_file_and_leaves_nothing(qtbot, label, tmp_path, monkeypatch, step):
    path = tmp_path / "clip.gif"
    path.write_bytes(b"the old recording")

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(recording.GifWriter, step, full_disk)
    recorder = Recorder(label, path)
    kind, message = record(qtbot, recorder, 0.3)
    assert kind == "failed"
    assert message == f"cannot write the recording to {path}: No space left on device"
    assert isinstance(recorder.future.exception(), RecordingError)
    assert not recorder.recording and not recorder.saving
    assert path.read_bytes() == b"the old recording"
    assert not leftovers(tmp_path)


def test_cancel_saves_nothing(qtbot, label, tmp_path):
    path = tmp_path / "clip.gif"
    path.write_bytes(b"the old recording")
    recorder = Recorder(label, path)
    said = outcome(recorder)
    recorder.start()
    frames_recorded(qtbot, recorder, 2)
    recorder.cancel()
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0][0] == "failed" and "cancelled" in said[0][1]
    assert path.read_bytes() == b"the old recording" and not leftovers(tmp_path)


def test_close_while_recording_saves_and_joins(qtbot, label, tmp_path):
    path = tmp_path / "clip.gif"
    recorder = Recorder(label, path)
    said = outcome(recorder)
    recorder.start()
    frames_recorded(qtbot, recorder, 2)
    recorder.close()
    assert said and said[0][0] == "finished"  # told before close() returns
    assert not Recorder.running() and len(gif_frames(path)[1]) == recorder.frames


def test_a_deleted_view_stops_the_recording(qtbot, tmp_path):
    import shiboken6

    widget = QLabel("going")
    widget.resize(80, 60)
    widget.show()
    path = tmp_path / "clip.gif"
    recorder = Recorder(widget, path)
    said = outcome(recorder)
    recorder.start()
    frames_recorded(qtbot, recorder, 2)
    shiboken6.delete(widget)
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0][0] == "finished" and "recorded view was closed" in said[0][1]
    assert path.exists()


def test_a_view_that_changed_size_is_fitted_without_distortion():
    wide = np.zeros((50, 100, 3), dtype=np.uint8)  # a plot half as tall as the first frame was
    frame = recording.compose([wide], 1.0, (100, 100))
    assert frame.shape == (100, 100, 3)
    dark_rows = np.flatnonzero((frame < 128).all(axis=(1, 2)))
    assert dark_rows.min() == 25 and dark_rows.max() == 74  # centred, not stretched to 100 rows
    assert (frame[:25] == 255).all() and (frame[75:] == 255).all()
