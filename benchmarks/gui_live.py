"""What the live app costs: training speed in the app against the same engine headless, redraws
per second, GUI-thread lateness and memory growth, each printed beside its target, in one run.

    python benchmarks/gui_live.py [--seconds 1.5] [--rounds 15] [--rss-minutes 5]

Runs offscreen (no display needed), with the app's event loop. Speed: the report's set-up
trains in the window for `--seconds`, then the window pauses and the same spec trains headless
in the same process for as long; the rounds alternate, so a machine that slows down or speeds
up hits both alike, and the median of the per-round ratios is reported. Redraws are paint
events of the heatmap's and the loss curve's viewports. Lateness is measured in rounds of
their own, by a 10 ms timer in the GUI thread (its own callbacks cost the trainer a little).
Then: a 200x200 heatmap, the largest network the layer editor accepts, and the resident memory
after `--rss-minutes` of training against after 30 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from minidl.build import make_trainer
from minidl.spec import Spec
from minidl.train import DEFAULT_THREADS, set_threads
from minidl_gui._qt.main_window import LAUNCH_SPEC, MainWindow
from minidl_gui.components.limits import MAX_LIVE_PARAMETERS


class Lateness:
    """A 10 ms timer in the GUI thread; records how late each tick fires."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._last = 0

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.late.append(max(0.0, (now - self._last) / 1e6 - 10.0))
        self._last = now

    def start(self) -> None:
        self.clock.start()
        self._last = 0
        self.timer.start(10)

    def stop(self) -> None:
        self.timer.stop()


def run_events(seconds: float) -> None:
    """Run the Qt event loop, as the app does, for `seconds`."""
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def headless_rate(trainer, seconds: float) -> float:
    end = time.perf_counter() + seconds
    steps = 0
    while time.perf_counter() < end:
        for _ in range(20):
            trainer.step()
        steps += 20
    return steps / seconds


class PaintCounter(QObject):
    """Counts the paint events of a plot's viewport (a filter: the plot paints as it would anyway)."""

    def __init__(self, plot) -> None:
        super().__init__(plot)
        self.paints = 0
        plot.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


class LiveWindow:
    """A window training `spec`, measured by rounds of playing."""

    def __init__(self, spec: Spec, grid_resolution: int | None = None, views: bool = False) -> None:
        options = {"grid_resolution": grid_resolution} if grid_resolution else {}
        self.window = MainWindow(spec, **options)
        self.window.set_stop(False, None)  # play for as long as measured
        self.window.resize(1400, 1000)
        self.window.show()
        docks = list(self.window.view_docks.values())
        if views:  # every view inside the network visible at once, side by side, asking for all it can
            self.window.views.side_by_side()
            self.window.set_link_mode("gradient")
            self.window.set_point_overlay("gradient")
            self.window.backprop.check_entry(0, (0, 0))
        else:
            for dock in docks:
                dock.close()
        self.heatmap, self.curves = PaintCounter(self.window.boundary_plot), PaintCounter(self.window.loss_plot)
        run_events(1.0)

    def play(self, seconds: float, lateness: Lateness | None = None) -> dict:
        window = self.window
        window.toggle_play()
        run_events(0.3)  # playing, first frames drawn
        steps, heat, curves = window.session.trainer.steps, self.heatmap.paints, self.curves.paints
        if lateness:
            lateness.start()
        start = time.perf_counter()
        run_events(seconds)
        elapsed = time.perf_counter() - start
        if lateness:
            lateness.stop()
        result = {  # the benchmark reads the trainer's step count; the app itself never does
            "steps_per_s": (window.session.trainer.steps - steps) / elapsed,
            "heatmap_fps": (self.heatmap.paints - heat) / elapsed,
            "curves_fps": (self.curves.paints - curves) / elapsed,
        }
        window.toggle_play()
        run_events(0.3)
        assert window.last_snapshot.status == "ready", window.last_snapshot.message
        return result

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        run_events(0.2)


def row(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {label:<42} {value:>18}   {target:<10} {verdict}")


def measure(spec: Spec, seconds: float, rounds: int, grid_resolution: int | None = None, views: bool = False) -> dict:
    """Alternating rounds: in the app, then headless; then rounds with the lateness timer."""
    live = LiveWindow(spec, grid_resolution, views)
    trainer = make_trainer(spec)
    ratios, app_rates, head_rates, heat, curves = [], [], [], [], []
    for _ in range(rounds):
        result = live.play(seconds)
        head = headless_rate(trainer, seconds)
        ratios.append(result["steps_per_s"] / head)
        app_rates.append(result["steps_per_s"])
        head_rates.append(head)
        heat.append(result["heatmap_fps"])
        curves.append(result["curves_fps"])
    print(f"  (each round's ratio: {' '.join(f'{r:.2f}' for r in ratios)})")
    lateness = Lateness()
    for _ in range(max(1, rounds // 2)):
        live.play(seconds, lateness)
    live.close()
    late = np.array(lateness.late) if lateness.late else np.array([np.nan])
    return {
        "ratio": statistics.median(ratios),
        "app": statistics.median(app_rates),
        "headless": statistics.median(head_rates),
        "heatmap_fps": statistics.median(heat),
        "curves_fps": statistics.median(curves),
        "late_p99": float(np.percentile(late, 99)),
        "late_max": float(late.max()),
        "ticks": len(lateness.late),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per measured round (default 1.5)")
    parser.add_argument("--rounds", type=int, default=15, help="alternating in-app / headless rounds (default 15)")
    parser.add_argument("--rss-minutes", type=float, default=5.0, help="training time of the memory check (0: skip)")
    args = parser.parse_args()
    set_threads(DEFAULT_THREADS)
    scratch = tempfile.mkdtemp(prefix="minidl-bench-")  # this run's settings and screen, not the user's
    if os.environ["QT_QPA_PLATFORM"] == "offscreen":  # a desktop-sized screen (offscreen's own is 800x600)
        screen = Path(scratch) / "screen.json"
        size = {"x": 0, "y": 0, "width": 1920, "height": 1200, "logicalDpi": 96}
        screen.write_text(json.dumps({"screens": [{"name": "bench", **size}]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen}"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, scratch)
    spec = LAUNCH_SPEC
    print(f"minidl-gui offscreen, torch {torch.__version__}, {torch.get_num_threads()} thread, {os.cpu_count()} CPUs")
    print(f"{args.rounds} rounds of {args.seconds:g} s in the app and headless, alternating; medians\n")

    for views in (False, True):
        r = measure(spec, args.seconds, args.rounds, views=views)
        print(f"the report's network: {spec.describe()}, batch {spec.batch_size}, {spec.dataset.n_train} points")
        print(
            "  views inside the network: "
            + (
                "all shown (diagram in gradient mode with a gradient check, layer health, hidden layer, backprop "
                "step-through, loss along the step; points sized by their gradient)"
                if views
                else "hidden"
            )
        )
        row("steps/s in the app / headless", f"{r['app']:,.0f} / {r['headless']:,.0f}")
        row("  ratio (median of the rounds' ratios)", f"{r['ratio']:.2f}", ">= 0.8", r["ratio"] >= 0.8)
        row("heatmap redraws/s (default grid)", f"{r['heatmap_fps']:.1f}", ">= 30", r["heatmap_fps"] >= 30)
        row("loss-curve redraws/s", f"{r['curves_fps']:.1f}", ">= 30", r["curves_fps"] >= 30)
        row("GUI-thread lateness p99", f"{r['late_p99']:.1f} ms", "<= 30 ms", r["late_p99"] <= 30)
        row("GUI-thread lateness max", f"{r['late_max']:.1f} ms", "<= 100 ms", r["late_max"] <= 100)
        print()

    r = measure(spec, args.seconds, max(3, args.rounds // 2), grid_resolution=200)
    print("the same with a 200x200 heatmap (views hidden)")
    row("steps/s ratio to headless", f"{r['ratio']:.2f}")
    row("heatmap redraws/s", f"{r['heatmap_fps']:.1f}")
    row("GUI-thread lateness p99 / max", f"{r['late_p99']:.1f} / {r['late_max']:.1f} ms")

    def two_layers(width: int) -> Spec:
        return spec.replace(layers=[{"type": "linear", "units": width}, {"type": "tanh"}] * 2)

    width = 1
    while two_layers(width + 1).parameter_count() <= MAX_LIVE_PARAMETERS:  # the widest under the live cap
        width += 1
    big = two_layers(width).replace(lr=0.001)  # a rate at which this width does not diverge
    r = measure(big, args.seconds, max(3, args.rounds // 2), views=True)
    print(f"\nthe largest network the editor accepts: {big.describe()} ({big.parameter_count():,} parameters)")
    print("  views inside the network: all shown")
    row("steps/s in the app / headless", f"{r['app']:,.0f} / {r['headless']:,.0f}")
    row("heatmap redraws/s", f"{r['heatmap_fps']:.1f}")
    row("GUI-thread lateness p99", f"{r['late_p99']:.1f} ms", "<= 30 ms", r["late_p99"] <= 30)
    row("GUI-thread lateness max", f"{r['late_max']:.1f} ms", "<= 100 ms", r["late_max"] <= 100)

    if args.rss_minutes > 0:
        window = LiveWindow(spec, views=True).window  # no stop condition either
        window.toggle_play()
        run_events(30)
        at_30s = rss_mb()
        run_events(max(0.0, args.rss_minutes * 60 - 30))
        at_end = rss_mb()
        epoch = window.last_snapshot.epoch
        window.close()
        print(f"\nmemory over {args.rss_minutes:g} minutes of training ({epoch:,} epochs)")
        row("RSS after 30 s -> at the end", f"{at_30s:.0f} -> {at_end:.0f} MB")
        row("  growth", f"{at_end - at_30s:+.1f} MB", "<= 50 MB", at_end - at_30s <= 50)
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
