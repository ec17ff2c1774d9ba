"""The File menu and the set-up on the clipboard: what the window reads and writes.

Experiments, trained models, whole sessions, points (CSV), the history (CSV), plots (PNG, SVG),
recordings (GIF, MP4), and a set-up as a line of text. Files are read with the framework's
hostile-file readers and checked once; what needs the trainer (a model, a session, the full
history) is written by the worker at a step boundary, through the session; a file that cannot be
used changes nothing and says why in the banner; every save is atomic. A set-up read from a file
or the clipboard replaces the one on screen through `Setups.replace`, one undo away.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QStatusBar, QWidget

from minidl.params import SpecError
from minidl.storage.checkpoint import read_experiment_progress
from minidl.storage.files import FileProblem, atomic_target, write_text_atomic
from minidl.storage.points import Points, read_points_csv, write_points_csv
from minidl.storage.resume import read_session
from minidl_gui._qt.actions import add_action
from minidl_gui._qt.recorder import Recorder, RecordingError
from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.settings_group import weakly
from minidl_gui.components.limits import MAX_LIVE_FILE_BYTES, MAX_LIVE_POINTS, check_live
from minidl_gui.components.session import Session
from minidl_gui.components.setup_text import parse_setup_text, setup_text
from minidl_gui.components.setups import Setups

PLOT_FORMATS = "PNG image (*.png);;SVG drawing (*.svg)"
SAVES = {  # what the File menu saves: its dialog's title, the name it proposes, the file types
    "save_experiment": ("Save experiment", "experiment.json", "Experiment spec (*.json)"),
    "save_model": ("Save trained model", "model.pt", "Trained model (*.pt)"),
    "save_session": ("Save session", "session.minidl", "Session (*.minidl)"),
    "export_points": ("Export points", "points.csv", "Points (*.csv)"),
    "export_history": ("Export history", "history.csv", "History (*.csv)"),
}


class FileMenu(QObject):
    """The File menu's actions and the Edit menu's copy/paste, composed into the window."""

    write_done = Signal(object)  # (a worker's write's Future, done; what it wrote), delivered in the GUI thread

    def __init__(
        self,
        window: QWidget,
        session: Session,
        setups: Setups,
        banner: Banner,
        status: QStatusBar,
        plots: dict[str, QWidget],
        recorded: Callable[[], list[QWidget]],
        recording_label: QLabel,
    ) -> None:
        """`plots`: the central plots by name; `recorded()`: the widgets a recording grabs now."""
        super().__init__(window)  # the window owns it (and is its dialogs' parent)
        self._session, self._setups = session, setups
        self._banner, self._status, self._plots = banner, status, plots
        self._recorded, self._recording_label = recorded, recording_label
        self.recorder: Recorder | None = None
        self.write_done.connect(self._show_write_result)

    def build_file_menu(self, menu: QMenu, restore_defaults: Callable, quit_app: Callable) -> None:
        for name, text, keys, slot in (
            ("openAction", "&Open experiment, model or session…", QKeySequence.StandardKey.Open, self._open_dialog),
            (
                "saveAction",
                "&Save experiment as…",
                QKeySequence.StandardKey.Save,
                weakly(self._save_as, "save_experiment"),
            ),
            ("saveModelAction", "Save &trained model as…", None, weakly(self._save_as, "save_model")),
            (
                "saveSessionAction",
                "Save sess&ion as…",
                QKeySequence("Ctrl+Shift+S"),
                weakly(self._save_as, "save_session"),
            ),
        ):
            action = add_action(menu, name, text, slot)
            if keys is not None:
                action.setShortcut(keys)
        menu.addSeparator()
        add_action(menu, "importPointsAction", "&Import points (CSV)…", self._import_points_dialog)
        add_action(menu, "exportPointsAction", "E&xport points (CSV)…", self._save_as_slot("export_points"))
        add_action(menu, "exportHistoryAction", "Export &history (CSV)…", self._save_as_slot("export_history"))
        plots = menu.addMenu("Export &plot")
        for name, text in (("boundary", "Decision boundary…"), ("loss", "Loss curves…"), ("accuracy", "Accuracy…")):
            add_action(plots, f"export{name.capitalize()}Action", text, weakly(self._plot_dialog, name))
        self.record_action = add_action(menu, "recordAction", "&Record to GIF or MP4…", self._record_dialog)
        self.record_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        menu.addSeparator()
        add_action(menu, "restoreDefaultsAction", "&Restore defaults", restore_defaults)
        menu.addSeparator()
        menu.addAction("&Quit", QKeySequence.StandardKey.Quit, quit_app)

    def build_share_actions(self, edit: QMenu) -> None:
        copy = add_action(edit, "copySetupAction", "&Copy setup", self.copy_setup)
        copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
        paste = add_action(edit, "pasteSetupAction", "&Paste setup", weakly(self.paste_setup))
        paste.setShortcut(QKeySequence("Ctrl+Shift+V"))

    # ---- dialogs -----------------------------------------------------------------------------------
    def _ask_open(self, title: str, filters: str) -> str:
        return QFileDialog.getOpenFileName(self.parent(), title, "", filters)[0]

    def _ask_save(self, title: str, name: str, filters: str) -> str:
        return QFileDialog.getSaveFileName(self.parent(), title, name, filters)[0]

    def _open_dialog(self) -> None:
        kinds = "Experiment, model or session (*.json *.pt *.minidl);;All files (*)"
        path = self._ask_open("Open experiment, model or session", kinds)
        if path:
            self.open_session(path) if path.lower().endswith(".minidl") else self.open_experiment(path)

    def _import_points_dialog(self) -> None:
        path = self._ask_open("Import points", "Points (*.csv *.txt);;All files (*)")
        if path:
            self.import_points(path)

    def _save_as_slot(self, action: str) -> Callable:
        return weakly(self._save_as, action)

    def _save_as(self, action: str) -> None:
        """Ask where, then do `action` (a name in SAVES) there."""
        title, name, filters = SAVES[action]
        path = self._ask_save(title, name, filters)
        if path:
            getattr(self, action)(path)

    def _plot_dialog(self, name: str) -> None:
        path = self._ask_save("Export plot", f"{name}.png", PLOT_FORMATS)
        if path:
            self.export_plot(name, path)

    def _record_dialog(self) -> None:
        if self.recorder is not None:
            self.stop_recording()
            return
        path = self._ask_save("Record the plots", "training.gif", "Animated GIF (*.gif);;MP4 video (*.mp4)")
        if path:
            self.start_recording(path)

    # ---- results of the worker's writes ------------------------------------------------------------
    def _watch(self, future: Future, what: str) -> Future:
        """Say in the status bar (or the banner, if it failed) how a worker's write ended."""
        future.add_done_callback(lambda done: self.write_done.emit((done, what)))
        return future

    def _show_write_result(self, result: tuple[Future, str]) -> None:
        future, what = result
        error = future.exception()
        if error is not None:
            self._banner.show_message(f"Could not save the {what}: {error}")
        else:
            self._status.showMessage(future.result(), 5000)

    # ---- experiments, models, sessions -------------------------------------------------------------
    def save_model(self, path: str | Path) -> Future:
        """Ask the worker to write the spec, the weights and the progress at the next step boundary."""
        return self._watch(self._session.request_save(path), "model")

    def save_experiment(self, path: str | Path) -> bool:
        """Write the experiment (layers, training settings, data) as a JSON spec, atomically."""
        try:
            write_text_atomic(path, self._session.spec.to_json() + "\n", "experiment")
        except FileProblem as error:
            self._banner.show_message(f"Could not save the experiment: {error}")
            return False
        self._status.showMessage(f"Saved {path}", 4000)
        return True

    def open_experiment(self, path: str | Path) -> bool:
        """Load a JSON spec, or a saved model (spec and weights), into every control and rebuild.

        A file that cannot be used changes nothing and says why in the banner.
        """
        try:
            spec, weights, progress = read_experiment_progress(path, check=check_live, limit=MAX_LIVE_FILE_BYTES)
        except FileProblem as error:
            self._banner.show_message(f"Could not open the file: {error}")
            return False
        self._setups.replace(spec, weights, progress=progress)
        note = " (a model file has no optimizer state: a saved session continues exactly)" if progress else ""
        self._status.showMessage(f"Opened {path}; Ctrl+Z brings back the set-up before it{note}", 8000)
        return True

    def save_session(self, path: str | Path) -> Future:
        """Save everything (spec, weights, optimizer, data, random state, history) in one file, written
        by the worker at the next step boundary: opened again, training continues bit for bit."""
        return self._watch(self._session.request_save_session(path), "session")

    def open_session(self, path: str | Path) -> bool:
        """Continue a saved session exactly where it stopped; a bad file changes nothing."""
        try:
            saved = read_session(path, check=check_live, limit=MAX_LIVE_FILE_BYTES)
            largest = max(len(saved.data.x_train), len(saved.data.x_test))
            if largest > MAX_LIVE_POINTS:
                raise FileProblem(f"{path}: {largest:,} points in a split, the app draws up to {MAX_LIVE_POINTS:,}")
        except FileProblem as error:
            self._banner.show_message(f"Could not open the session: {error}")
            return False
        self._setups.replace(saved.spec, saved=saved)
        self._status.showMessage(f"Opened the session {path}: Space continues it", 6000)
        return True

    # ---- points -----------------------------------------------------------------------------------
    def import_points(self, path: str | Path) -> bool:
        """Train on the points of a CSV file (`x,y,label`, optional `split`); a bad file changes nothing."""
        try:
            points, notice = read_points_csv(path, max_points=2 * MAX_LIVE_POINTS)
        except FileProblem as error:
            self._banner.show_message(f"Could not import the points: {error}")
            return False
        is_test = None if points.is_test is None else points.is_test.numpy()
        largest = len(points) if is_test is None else max(int(is_test.sum()), int((~is_test).sum()))
        if largest > MAX_LIVE_POINTS:
            where = "points" if is_test is None else "points in a split"
            self._banner.show_message(
                f"Could not import the points: {largest:,} {where}, the app draws {MAX_LIVE_POINTS:,}"
            )
            return False
        self._session.set_points(points.x.double().numpy(), points.labels.numpy(), is_test)
        self._banner.hide()
        message = f"Imported {len(points):,} point{'s' if len(points) != 1 else ''} from {path}"
        message += f"; {notice}" if notice else ""
        self._status.showMessage(message, 8000)
        return True

    def export_points(self, path: str | Path) -> bool:
        """Write the points (train and test, with a `split` column) as CSV."""
        x_train, y_train, x_test, y_test = self._session.points()
        if not len(x_train) + len(x_test):
            self._banner.show_message("Could not export the points: there are none")
            return False
        points = Points(
            torch.as_tensor(np.concatenate([x_train, x_test]), dtype=torch.float64),
            torch.as_tensor(np.concatenate([y_train, y_test]), dtype=torch.int64),
            torch.as_tensor(np.r_[np.zeros(len(x_train), bool), np.ones(len(x_test), bool)]),
        )
        try:
            write_points_csv(path, points)
        except FileProblem as error:
            self._banner.show_message(f"Could not export the points: {error}")
            return False
        self._status.showMessage(f"Exported {len(points):,} points to {path}", 5000)
        return True

    # ---- history, plots ----------------------------------------------------------------------------
    def export_history(self, path: str | Path) -> Future:
        """The per-epoch metrics as CSV, written by the worker from the trainer's history."""
        return self._watch(self._session.request_history(path), "history")

    def export_plot(self, name: str, path: str | Path) -> bool:
        """A plot ("boundary", "loss", "accuracy") as PNG (pyqtgraph's exporter, at least 1200 pixels
        wide) or SVG (Qt's SVG generator: pyqtgraph's SVG exporter cannot read back the paths our
        curves are drawn with), atomically."""
        from pyqtgraph.exporters import ImageExporter

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            self._banner.show_message(f"Could not export the plot: {path.name} should end in .png or .svg")
            return False
        plot = self._plots[name].getPlotItem()
        try:
            with atomic_target(path, "plot", refuse_empty=True) as temporary:
                if suffix == ".png":
                    exporter = ImageExporter(plot)
                    exporter.parameters()["width"] = max(1200, int(plot.sceneBoundingRect().width()))
                    exporter.export(str(temporary))
                else:
                    self._export_svg(self._plots[name], str(temporary))
        except (FileProblem, OSError) as error:
            self._banner.show_message(f"Could not export the plot: {error}")
            return False
        self._status.showMessage(f"Exported the plot to {path}", 5000)
        return True

    @staticmethod
    def _export_svg(widget, path: str) -> None:
        from PySide6.QtCore import QRect, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(QSize(widget.width(), widget.height()))
        generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
        generator.setTitle("minidl plot")
        painter = QPainter(generator)
        try:
            widget.render(painter)
        finally:
            painter.end()

    # ---- recording ---------------------------------------------------------------------------------
    def start_recording(self, path: str | Path, fps: int = 10) -> bool:
        """Record the decision boundary and the curves, as shown, to a GIF or an MP4 until
        `stop_recording` (or the length limit)."""
        if self.recorder is not None:
            return False
        try:
            recorder = Recorder(self._recorded(), path, fps=fps)
            recorder.start()
        except (RecordingError, ValueError) as error:
            self._banner.show_message(f"Could not record: {error}")
            return False
        self.recorder = recorder
        recorder.progress.connect(self._show_recording)
        recorder.finished.connect(weakly(self._recording_finished, True, signal_args=1))
        recorder.failed.connect(weakly(self._recording_finished, False, signal_args=1))
        self.record_action.setText("Stop &recording")
        self._show_recording(0, 0.0)
        return True

    def stop_recording(self) -> None:
        if self.recorder is not None:
            self.recorder.stop()

    def _show_recording(self, *_) -> None:
        if self.recorder is not None:
            self._recording_label.setText(self.recorder.status_text())  # "● REC 4.2 s · 10 fps · 42 frames"
            self._recording_label.show()

    def _recording_finished(self, ok: bool, message: str) -> None:
        self.recorder = None
        self._recording_label.hide()
        self.record_action.setText("&Record to GIF or MP4…")
        if ok:
            self._status.showMessage(message, 8000)
        else:
            self._banner.show_message(f"Could not record: {message}")

    # ---- a set-up as text --------------------------------------------------------------------------
    def copy_setup(self) -> str:
        """Put the set-up on the clipboard as one line of text (and return it)."""
        text = setup_text(self._session.spec)
        QGuiApplication.clipboard().setText(text)
        self._status.showMessage("The set-up is on the clipboard: paste it in a chat or a slide", 5000)
        return text

    def paste_setup(self, text: str | None = None) -> bool:
        """The set-up of a pasted text (the clipboard's by default); the one it replaces is one undo away."""
        text = QGuiApplication.clipboard().text() if text is None else text
        try:
            spec = parse_setup_text(text)
            check_live(spec)
        except SpecError as error:
            self._banner.show_message(f"Could not paste a set-up: {error}")
            return False
        self._setups.replace(spec)
        self._status.showMessage("Pasted the set-up (Ctrl+Z brings back the one before)", 5000)
        return True
