"""Crash soak: the app run as a lecturer runs it, in a child process per seed, so that a
segmentation fault or an abort is seen (and `faulthandler`'s traceback kept) instead of taking the
test run down with it.

Each child opens the window with every view dock shown (each brought to the front in turn, and at
times all three side by side), then does random, seeded lecture actions until its time is up:
play/pause, step, reset, lessons and undo, learning rate, layer edits, the diagram's − / +, neuron
hover and pin, datasets, noise and seed, theme, palette, zoom, presentation mode, slow motion, the
hidden-layer selector, plots hidden and shown, points painted and erased, files saved and opened
(good and bad), set-ups copied and pasted, defaults restored. It reports, per seed: actions done,
exceptions (in actions and in Qt's slots), worker errors, and how the process ended.

    python tests/soak.py --seeds 20 --seconds 60        # 20 seeds, a minute each
    python tests/soak.py --seed-list 3,7 --seconds 3600  # a one-hour session of seed 3 and of seed 7

`tests/test_soak.py` runs a few seeds for ~20 s each in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCREEN = HERE / "screens" / "desktop.json"
INTERNAL = "Training stopped on an internal error"


# ---- the child: one seeded lecture session -------------------------------------------------------------
class Lecturer:
    """Random lecture actions through the window's real controls, menus, keys and plots."""

    def __init__(self, window, app, rng: random.Random, folder: Path) -> None:
        self.window, self.app, self.rng, self.folder = window, app, rng, folder
        self.exceptions: list[str] = []
        self.worker_errors: list[str] = []
        self.counts: dict[str, int] = {}
        self.actions = [
            (14, self.play_pause),
            (4, self.step),
            (3, self.reset),
            (3, self.lesson),
            (2, self.undo),
            (4, self.learning_rate),
            (4, self.layer_edit),
            (4, self.units),
            (4, self.neuron),
            (2, self.dataset),
            (2, self.noise_or_seed),
            (1, self.look),
            (1, self.zoom),
            (1, self.presentation),
            (3, self.pace),
            (3, self.hidden_layer),
            (4, self.front_view),
            (1, self.arrange_views),
            (1, self.plots),
            (2, self.paint),
            (1, self.files),
            (1, self.bad_file),
            (1, self.copy_paste),
            (1, self.restore_defaults),
            (1, self.optimizer_or_loss),
            (2, self.break_backprop),
            (2, self.link_mode),
            (3, self.step_through),
            (1, self.pick_point),
            (1, self.point_overlay),
            (2, self.check_connection),
        ]

    def pump(self, ms: float) -> None:
        end = time.perf_counter() + ms / 1000
        self.app.processEvents()
        while time.perf_counter() < end:
            self.app.processEvents()
            time.sleep(0.002)

    def run(self, seconds: float, log) -> int:
        functions = [f for _, f in self.actions]
        weights = [w for w, _ in self.actions]
        deadline = time.monotonic() + seconds
        done = 0
        while time.monotonic() < deadline:
            action = self.rng.choices(functions, weights)[0]
            log.write(f"{done} {action.__name__}\n")
            log.flush()
            try:
                action()
            except Exception:
                import traceback

                self.exceptions.append(f"{action.__name__}: {traceback.format_exc(limit=6)}")
            done += 1
            self.counts[action.__name__] = self.counts.get(action.__name__, 0) + 1
            self.pump(self.rng.choice((0, 1, 5, 20, 50, 120)))
            self.collect_worker_error()
        return done

    def collect_worker_error(self) -> None:
        error = self.window.worker.error
        if error:
            self.worker_errors.append(error)
            self.window.worker.error = None

    # ---- run control --------------------------------------------------------------------------------
    def key(self, key) -> None:
        from PySide6.QtTest import QTest

        QTest.keyClick(self.window, key)

    def play_pause(self) -> None:
        from PySide6.QtCore import Qt

        if self.rng.random() < 0.5:
            self.key(Qt.Key.Key_Space)
        else:
            self.window.play_button.click()

    def step(self) -> None:
        from PySide6.QtCore import Qt

        self.key(self.rng.choice((Qt.Key.Key_S, Qt.Key.Key_Right)))

    def reset(self) -> None:
        from PySide6.QtCore import Qt

        self.key(Qt.Key.Key_R) if self.rng.random() < 0.7 else self.window.reset_button.click()

    def lesson(self) -> None:
        self.rng.choice(self.window.lesson_actions).trigger()

    def undo(self) -> None:
        self.window.undo_action.trigger()

    def pace(self) -> None:
        from minidl_gui.components.run_options import PACES

        self.window.set_pace(self.rng.choice(PACES))

    # ---- the side panel -----------------------------------------------------------------------------
    def learning_rate(self) -> None:
        control = self.window.lr_control
        if self.rng.random() < 0.5:
            control.spin.setValue(self.rng.choice((1e-5, 1e-3, 0.01, 0.05, 0.3, 3.0, 50.0)))
        else:
            control.slider.setValue(self.rng.randint(control.slider.minimum(), control.slider.maximum()))

    def layer_edit(self) -> None:
        editor = self.window.layer_editor
        count = editor.list.count()
        editor.list.setCurrentRow(self.rng.randint(-1, count - 1) if count else -1)
        choice = self.rng.random()
        if choice < 0.45 or count == 0:
            self.rng.choice(list(editor.add_buttons.values())).click()
        elif choice < 0.8:
            editor.remove.click()
        else:
            (editor.up if self.rng.random() < 0.5 else editor.down).click()

    def units(self) -> None:
        """The diagram's − / + buttons, or `change_units` on any layer (an activation included)."""
        view = self.window.network_view
        buttons = view.unit_buttons()
        if buttons and self.rng.random() < 0.7:
            self.rng.choice(buttons).click()
        else:
            layers = len(self.window.session.spec.layers)
            message = self.window.change_units(self.rng.randint(-1, layers), self.rng.choice((-1, 1)))
            assert isinstance(message, str)

    def dataset(self) -> None:
        combo = self.window.dataset_combo
        combo.setCurrentIndex(self.rng.randrange(combo.count()))

    def noise_or_seed(self) -> None:
        window = self.window
        if self.rng.random() < 0.5:
            window.noise_spin.setValue(self.rng.choice((0.0, 0.05, 0.2, 0.5)))
        else:
            window.seed_spin.setValue(self.rng.randint(0, 1000))

    def optimizer_or_loss(self) -> None:
        combo = self.rng.choice((self.window.optimizer_combo, self.window.loss_combo))
        combo.setCurrentIndex(self.rng.randrange(combo.count()))

    # ---- views ----------------------------------------------------------------------------------------
    def neuron(self) -> None:
        """Hover a neuron of the diagram, click one (pin or unpin), or leave the diagram."""
        from PySide6.QtCore import QPoint
        from PySide6.QtTest import QTest

        view = self.window.network_view
        rects = [(c, u, view.neuron_rect(c, u)) for c, count in enumerate(view.neuron_counts()) for u in range(count)]
        if not rects or not view.isVisible():
            self.window.show_neuron(self.rng.choice((None, 0, 1)), self.rng.randint(0, 3))
            return
        _, _, rect = self.rng.choice(rects)
        point = QPoint(round(rect.center().x()), round(rect.center().y()))
        choice = self.rng.random()
        if choice < 0.5:
            QTest.mouseMove(view, point)
        elif choice < 0.85:
            QTest.mouseClick(view, self.mouse_left(), pos=point)
        else:
            QTest.mouseMove(view, QPoint(1, 1))

    # ---- backprop ---------------------------------------------------------------------------------------
    def break_backprop(self) -> None:
        """A mistake from Examples → Break backprop (or Correct backprop), through its menu action."""
        actions = list(self.window.backprop.mistake_actions.values())
        self.rng.choice(actions).trigger()

    def link_mode(self) -> None:
        combo = self.window.backprop.link_combo
        combo.setCurrentIndex(self.rng.randrange(combo.count()))

    def step_through(self) -> None:
        """Next or Back in the backprop view, clicked (a few times), with the view in front or not."""
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QPushButton

        name = self.rng.choice(("backpropNext", "backpropNext", "backpropBack", "backpropBatch"))
        button = self.window.backprop.view.findChild(QPushButton, name)
        for _ in range(self.rng.randint(1, 4)):
            if button.isVisible():
                QTest.mouseClick(button, self.mouse_left())

    def pick_point(self) -> None:
        """Pick mode, then a click somewhere on the decision boundary (inside the plane or not)."""
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QPushButton

        pick = self.window.backprop.view.findChild(QPushButton, "backpropPick")
        if pick.isVisible():
            QTest.mouseClick(pick, self.mouse_left())
        plot = self.window.boundary_plot
        where = plot.widget_point(self.rng.uniform(-0.2, 1.2), self.rng.uniform(-0.2, 1.2)).toPoint()
        QTest.mouseClick(plot.viewport(), self.mouse_left(), pos=where)

    def point_overlay(self) -> None:
        self.rng.choice(list(self.window.backprop.overlay_actions.values())).trigger()

    def check_connection(self) -> None:
        """Click a drawn connection of the diagram (its gradient is then checked live)."""
        from PySide6.QtCore import QPoint
        from PySide6.QtTest import QTest

        view = self.window.network_view
        counts = view.neuron_counts()
        pairs = [p for p in range(len(counts) - 1) if len(view.drawn_connections(p))]
        if not pairs or not view.isVisible():
            return
        pair = self.rng.choice(pairs)
        out, into = (int(v) for v in self.rng.choice(list(view.drawn_connections(pair))))
        left, right = view.neuron_rect(pair, into), view.neuron_rect(pair + 1, out)
        point = QPoint(round((left.right() + right.left()) / 2), round((left.center().y() + right.center().y()) / 2))
        QTest.mouseClick(view, self.mouse_left(), pos=point)

    @staticmethod
    def mouse_left():
        from PySide6.QtCore import Qt

        return Qt.MouseButton.LeftButton

    def hidden_layer(self) -> None:
        combo = self.window.hidden_view.combo
        if combo.count():
            combo.setCurrentIndex(self.rng.randrange(combo.count()))

    def front_view(self) -> None:
        dock = self.rng.choice(list(self.window.view_docks.values()))
        dock.show()
        dock.raise_()

    def arrange_views(self) -> None:
        """Every view side by side (all drawn at once), or tabbed again."""
        from PySide6.QtGui import QAction

        window = self.window
        if self.rng.random() < 0.5:  # through the View menu's actions
            window.findChild(QAction, "viewsSideBySideAction").trigger()
        else:
            window.findChild(QAction, "viewsTabbedAction").trigger()
            self.rng.choice(list(window.view_docks.values())).raise_()

    def plots(self) -> None:
        window = self.window
        if self.rng.random() < 0.3:
            window.log_y.toggle()
            return
        action = self.rng.choice(list(window.plot_actions.values()))
        action.trigger()
        if self.rng.random() < 0.8:  # mostly shown again soon: a lecture looks at its plots
            for other in window.plot_actions.values():
                if not other.isChecked():
                    other.trigger()

    def look(self) -> None:
        window = self.window
        action = self.rng.choice(list(window.look_actions.values()))
        action.trigger()

    def zoom(self) -> None:
        self.window.zoom(self.rng.choice((-1, 1, 1, 0)))

    def presentation(self) -> None:
        self.window.presentation_action.trigger()

    def paint(self) -> None:
        """Paint (left: class 1, right: class 0) or erase on the decision boundary, or clear."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        window = self.window
        plot = window.boundary_plot
        choice = self.rng.random()
        if choice < 0.1:
            window.paint_tools.clear_requested.emit()
            return
        mode = "erase" if choice < 0.35 else "paint"
        window.paint_tools.set_mode(mode)
        button = self.rng.choice((Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton))
        for _ in range(self.rng.randint(1, 6)):
            point = plot.widget_point(self.rng.random(), self.rng.random()).toPoint()
            QTest.mouseClick(plot.viewport(), button, pos=point)
        window.paint_tools.set_mode(None)

    # ---- files and set-ups -------------------------------------------------------------------------
    def files(self) -> None:
        """Save a file, or open the one saved (an experiment, a session, a model), or points, or a plot."""
        window, folder = self.window, self.folder
        kinds = (
            ("experiment.json", window.files.save_experiment, window.files.open_experiment),
            ("lecture.minidl", window.save_session, window.open_session),
            ("model.pt", window.files.save_model, window.files.open_experiment),
        )
        choice = self.rng.randrange(len(kinds) + 2)
        if choice < len(kinds):
            name, save, open_ = kinds[choice]
            path = folder / name
            open_(path) if path.exists() and self.rng.random() < 0.5 else save(path)
        elif choice == len(kinds):
            window.files.export_points(folder / "points.csv")
            if self.rng.random() < 0.5:
                window.files.import_points(folder / "points.csv")
        else:
            window.files.export_plot(self.rng.choice(("boundary", "loss", "accuracy")), folder / "plot.png")

    def bad_file(self) -> None:
        path = self.folder / self.rng.choice(("bad.json", "bad.pt", "bad.minidl", "bad.csv"))
        path.write_bytes(self.rng.randbytes(self.rng.randint(0, 300)))
        if path.suffix == ".minidl":
            assert not self.window.open_session(path)
        elif path.suffix == ".csv":
            self.window.files.import_points(path)
        else:
            assert not self.window.files.open_experiment(path)

    def copy_paste(self) -> None:
        window = self.window
        text = window.files.copy_setup()
        if self.rng.random() < 0.3:
            text = text[: self.rng.randint(0, len(text))]  # a set-up cut short in a chat
        window.files.paste_setup(text)

    def restore_defaults(self) -> None:
        self.window.restore_defaults()


def child(seed: int, seconds: float, report: Path) -> int:
    """Run one seeded session in this process and write its report (JSON) to `report`; its files,
    settings and action log go in a folder beside it."""
    import faulthandler

    faulthandler.enable(all_threads=True)  # a crash prints every thread's Python stack to stderr
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREEN}"
    import torch

    torch.set_num_threads(1)
    from PySide6.QtCore import QSettings, QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    folder = report.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    app = QApplication.instance() or QApplication([])
    from minidl_gui import MainWindow

    exceptions: list[str] = []
    qt_warnings: list[str] = []

    def hook(kind, value, tb) -> None:  # an exception in a Qt slot ends here
        import traceback

        exceptions.append("slot: " + "".join(traceback.format_exception(kind, value, tb, limit=6)))

    sys.excepthook = hook
    sys.unraisablehook = lambda unraisable: exceptions.append(f"unraisable: {unraisable.exc_value!r}")

    def on_message(kind, context, message) -> None:
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            qt_warnings.append(message)

    qInstallMessageHandler(on_message)
    window = MainWindow()
    window.show()
    for dock in window.view_docks.values():
        dock.show()
    lecturer = Lecturer(window, app, random.Random(seed), folder)
    banner = window.banner.show_message

    def watched(text, actions=()):
        if text.startswith(INTERNAL):
            lecturer.worker_errors.append(text)
        banner(text, actions)

    window.banner.show_message = watched
    furthest = {"epoch": 0, "steps": 0}

    def seen() -> None:  # after the window's own slot: what it drew
        snapshot = window.last_snapshot
        if snapshot is not None:
            furthest["epoch"] = max(furthest["epoch"], snapshot.epoch)
            furthest["steps"] = max(furthest["steps"], snapshot.steps)

    window.worker.snapshot_ready.connect(seen)
    with open(folder / "actions.log", "w") as log:
        done = lecturer.run(seconds, log)
    lecturer.collect_worker_error()
    window.close()
    joined = window.worker.wait(5000)
    report.write_text(
        json.dumps(
            {
                "seed": seed,
                "actions": done,
                "counts": lecturer.counts,
                "exceptions": lecturer.exceptions + exceptions,
                "worker_errors": lecturer.worker_errors,
                "qt_critical": qt_warnings,
                "joined": joined,
                "furthest_epoch": furthest["epoch"],
                "furthest_steps": furthest["steps"],
            }
        )
    )
    return 0


# ---- the parent: seeds in child processes --------------------------------------------------------------
def run_seed(seed: int, seconds: float, folder: Path) -> dict:
    """One seed in a child process: its report, how it ended, and the tail of what it printed."""
    report = folder / f"seed-{seed}.json"
    stderr_path = folder / f"seed-{seed}.stderr"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(seed), "--seconds", str(seconds)]
    command += ["--report", str(report)]
    with open(stderr_path, "w") as stderr:
        try:
            process = subprocess.run(command, stdout=stderr, stderr=subprocess.STDOUT, timeout=seconds + 120)
            code = process.returncode
        except subprocess.TimeoutExpired:
            code = "hang"
    result = json.loads(report.read_text()) if report.exists() else {"seed": seed}
    log = report.with_suffix("") / "actions.log"
    last = log.read_text().splitlines()[-10:] if log.exists() else []
    result["last_actions"] = last  # what came just before a crash
    result.setdefault("actions", int(last[-1].split()[0]) + 1 if last else 0)
    result["exit"] = code
    result["signal"] = signal.Signals(-code).name if isinstance(code, int) and code < 0 else None
    text = stderr_path.read_text(errors="replace")
    result["output_tail"] = text[-4000:]
    result["ok"] = (
        code == 0
        and report.exists()
        and not result["exceptions"]
        and not result["worker_errors"]
        and not result["qt_critical"]
        and result["joined"]
    )
    return result


def summary(result: dict) -> str:
    ended = result["signal"] or ("hung" if result["exit"] == "hang" else f"exit {result['exit']}")
    return (
        f"seed {result['seed']}: {result.get('actions')} actions, "
        f"{len(result.get('exceptions', []))} exceptions, {len(result.get('worker_errors', []))} worker errors, "
        f"{len(result.get('qt_critical', []))} Qt criticals, {ended}, furthest epoch {result.get('furthest_epoch')}"
    )


def soak(seeds: list[int], seconds: float, jobs: int = 1, folder: Path | None = None) -> list[dict]:
    folder = Path(folder or tempfile.mkdtemp(prefix="minidl-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda s: run_seed(s, seconds, folder), seeds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0..N-1")
    parser.add_argument("--seed-list", help="these seeds instead, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each seed's session")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once (each takes about one core)")
    parser.add_argument("--out", type=Path, help="folder for the reports and each child's output")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args.child, args.seconds, args.report)
    seeds = [int(s) for s in args.seed_list.split(",")] if args.seed_list else list(range(args.seeds))
    started = time.monotonic()
    results = soak(seeds, args.seconds, args.jobs, args.out)
    failed = [r for r in results if not r["ok"]]
    for result in results:
        print(summary(result))
    for result in failed:
        print(f"\n---- seed {result['seed']} ----")
        for text in result.get("exceptions", [])[:3] + result.get("worker_errors", [])[:3]:
            print(text)
        if result["exit"] != 0:
            print("the last actions:", ", ".join(result["last_actions"]))
            print(result["output_tail"])
    total = sum(r.get("actions") or 0 for r in results)
    print(
        f"\n{len(results) - len(failed)} of {len(results)} seeds clean; {total} actions in "
        f"{time.monotonic() - started:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
