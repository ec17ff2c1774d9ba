"""Reliability: what a long, careless session does to the app.

1. Random sessions: hundreds of random actions through the real widgets (layer buttons, option
   fields, every combo, spin and button, files good and bad) while training plays at random
   times. Throughout, every control shows the requested spec exactly and nothing escapes; once
   the worker catches up, the network that trains is the one the spec describes.
2. Divergence on every optimizer: the banner explains it, and "Reset with lr ÷ 10" gets back to
   a network that trains.
3. Windows closed, deleted or dropped while they train, a hundred times in a fresh process,
   then an exit with a window still training: exit code 0, nothing on stderr, no hang.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import textwrap
import threading
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox
from waits import drawn_after_fence

from minidl.data import DATASETS
from minidl.nn.linear import Linear
from minidl.params import SpecError
from minidl.registry import INITS, LAYERS, LINEAR, LOSSES, LR, OPTIMIZERS
from minidl.spec import FIELDS, Layer, Spec
from minidl.storage.checkpoint import read_experiment
from minidl_gui._qt.widgets.lr_control import TICKS_PER_DECADE
from minidl_gui.components.limits import check_live, points_range

ROOT = Path(__file__).resolve().parent.parent
INTERNAL_ERROR = "Training stopped on an internal error"
NOT_TRAINED = "not trained yet"


# ---- what must always hold ---------------------------------------------------------------------------
def clamp(value, low, high):
    return min(high, max(low, value))


def impossible(spec: Spec, **changes) -> bool:
    """Whether `spec` with `changes` is refused by the spec's rules or the app's live limits."""
    try:
        check_live(spec.replace(**changes))
    except SpecError:
        return True
    return False


def assert_controls_show(window, spec: Spec) -> None:
    """Every control of the side panel shows `spec` exactly."""
    editor = window.layer_editor
    assert editor.layers() == spec.layers
    assert [editor.list.item(i).text() for i in range(editor.list.count())] == [x.describe() for x in spec.layers]
    row = editor.list.currentRow()
    if 0 <= row < len(spec.layers):  # the option fields show the selected layer's options
        for name, value in spec.layers[row].options:
            assert editor.option_fields[name].value() == value, f"layer {row} {name}"
    lr = spec.optimizer.lr
    assert window.lr_control.lr() == lr
    assert window.lr_control.slider.value() == round(math.log10(lr) * TICKS_PER_DECADE)
    training = window.training_settings
    assert window.loss_combo.currentData() == spec.loss
    assert window.optimizer_combo.currentData() == spec.optimizer.type
    assert training.fields["init"].value() == spec.init
    assert training.fields["lr_decay"].value() == spec.lr_decay
    assert window.batch_spin.value() == spec.batch_size
    shown = {name: field.value() for name, field in training.option_fields.items()}
    assert shown == {name: value for name, value in spec.optimizer.options if name != "lr"}
    data = window.data_settings
    assert window.dataset_combo.currentData() == spec.dataset.name
    assert data.fields["n_train"].value() == spec.dataset.n_train
    assert data.fields["n_test"].value() == spec.dataset.n_test
    assert window.noise_spin.value() == spec.dataset.noise
    assert window.seed_spin.value() == spec.seed


def assert_trains(window, spec: Spec) -> None:
    """The trainer (read once the worker is idle) is the one `spec` describes."""
    trainer = window.session.trainer
    model = trainer.model
    modules = [model[i] for i in range(len(model))]
    assert len(modules) == len(spec.layers) + 1
    for i, (module, layer) in enumerate(zip(modules, spec.layers)):
        assert type(module) is LAYERS[layer.type].build, f"module {i}: {module!r} for {layer}"
        for name, value in layer.options:
            if name != "units":
                assert getattr(module, name) == value, f"module {i}: {name}"
    assert isinstance(modules[-1], Linear)
    linears = [m for m in modules if isinstance(m, Linear)]
    assert [(m.in_dim, m.out_dim) for m in linears] == list(pairwise(spec.widths()))
    assert all(m.init == spec.init for m in linears)
    assert trainer.batch_size == spec.batch_size and trainer.lr_decay == spec.lr_decay
    assert trainer.data.x_train.shape[-2] == spec.dataset.n_train
    assert trainer.data.x_test.shape[-2] == spec.dataset.n_test
    assert type(trainer.loss) is LOSSES[spec.loss].build
    optimizer = trainer.optimizer
    assert type(optimizer) is OPTIMIZERS[spec.optimizer.type].build
    for name, value in spec.optimizer.options:
        if name != "lr":
            assert getattr(optimizer, name) == value, f"optimizer {name}"
    if spec.lr_decay == 1.0:
        assert trainer.lr == spec.optimizer.lr


def watch(window) -> dict[str, list]:
    """Record every banner message, and every drawn snapshot where the status bar contradicts it."""
    seen: dict[str, list] = {"banner": [], "contradictions": []}
    show_message = window.banner.show_message

    def recording(text, actions=()):
        seen["banner"].append(text)
        show_message(text, actions)

    window.banner.show_message = recording

    def after_snapshot():  # connected after the window's own slot: sees what it drew
        snapshot = window.last_snapshot
        if snapshot is not None and snapshot.status == "diverged" and NOT_TRAINED in window.metrics_label.text():
            seen["contradictions"].append((snapshot.epoch, snapshot.steps, window.metrics_label.text()))

    window.worker.snapshot_ready.connect(after_snapshot)
    return seen


def settle(window, qtbot, timeout=30000) -> None:
    """Pause, then wait until the worker has applied every request and drawn the result."""
    if window.session.playing:
        window.play_button.click()

    def caught_up():
        s = window.last_snapshot
        return s is not None and s.spec == window.session.spec and not s.playing and not window.session.playing

    qtbot.waitUntil(caught_up, timeout=timeout)
    drawn_after_fence(qtbot, window, timeout)  # anything still queued (a reset) is applied by now
    qtbot.waitUntil(caught_up, timeout=timeout)


# ---- 1. random sessions --------------------------------------------------------------------------------
SEEDS = (0, 1, 2, 3)
ACTIONS = 600
SETTLE_EVERY = 100

BAD_LAYERS = (
    [{"type": "linear", "units": 0}],
    [{"type": "linear", "units": 100000}],
    [{"type": "linear", "units": -3}],
    [{"type": "linear", "units": 2.5}],
    [{"type": "linear", "units": True}],
    [{"type": "linear", "units": "25"}],
    [{"type": "linear", "units": None}],
    [{"type": "linear"}],
    [{"units": 5}],
    [{"type": "convolution"}],
    [{"type": "tanh", "units": 3}],
    [{"type": "leaky_relu", "slope": -1.0}],
    [{"type": "leaky_relu", "slope": float("nan")}],
    [{"type": "softplus", "beta": 0.0}],
    [Layer("linear", (("units", 0),))],
    [{"type": "linear", "units": 1024}, {"type": "linear", "units": 1024}],  # too big to train live
    [{"type": "tanh"}] * 65,  # too many layers
    [None],
    ["linear"],
)

BAD_FILES = (
    ("broken.json", '{"layers": [{"type": "linear", '),
    ("list.json", "[1, 2, 3]"),
    ("units.json", '{"layers": [{"type": "linear", "units": 0}]}'),
    ("lr.json", '{"optimizer": {"type": "sgd", "lr": 1e-7}}'),
    ("seed.json", '{"seed": 3000000000}'),
    ("nesterov.json", '{"optimizer": {"type": "sgd", "nesterov": true}}'),
    ("stranger.json", '{"optimiser": "adam"}'),
    ("big.json", json.dumps({"layers": [{"type": "linear", "units": 1024}] * 2})),
    ("points.json", json.dumps({"dataset": {"n_train": points_range()[1] + 1}})),
    ("garbage.pt", "PK\x03\x04 not really a zip"),
    ("empty.json", ""),
)


class RandomSession:
    """A user who clicks anything, anytime, through the real widgets."""

    def __init__(self, window, qtbot, tmp_path: Path, seed: int) -> None:
        self.window, self.qtbot, self.tmp_path = window, qtbot, tmp_path
        self.rng = random.Random(seed)
        self.log: list[str] = []
        self.files = 0
        self.requests: list[tuple[str, str]] = []  # ("play" or "pause", the thread that asked)
        session = window.session
        gui = threading.get_ident()
        for name in ("play", "pause"):
            request = getattr(session, name)

            def recording(request=request, name=name):
                self.requests.append((name, "gui" if threading.get_ident() == gui else "worker"))
                request()

            setattr(session, name, recording)
        self.actions = [
            (6, self.add_layer),
            (4, self.remove_layer),
            (4, self.move_layer),
            (5, self.layer_option),
            (3, self.bad_layers),
            (2, self.good_layers),
            (5, self.learning_rate),
            (2, self.lr_slider),
            (6, self.combo),
            (2, self.batch_size),
            (2, self.noise),
            (2, self.seed),
            (2, self.regenerate),
            (2, self.points),
            (2, self.lr_decay),
            (5, self.optimizer_option),
            (4, self.type_into_a_spin),
            (14, self.play),
            (3, self.pause),
            (4, self.step),
            (3, self.reset),
            (1, self.open_good),
            (1, self.open_bad),
            (1, self.save_and_open),
            (1, self.save_model_and_open),
        ]

    @property
    def spec(self) -> Spec:
        return self.window.session.spec

    def say(self, text: str) -> None:
        self.log.append(text)

    def run(self, count: int) -> None:
        functions = [f for _, f in self.actions]
        weights = [w for w, _ in self.actions]
        for i in range(count):
            action = self.rng.choices(functions, weights)[0]
            try:
                action()
                self.qtbot.wait(self.rng.choice((0, 0, 1, 2, 4, 8, 16)))
                self.check()
                if (i + 1) % SETTLE_EVERY == 0:
                    self.say("settle")
                    self.settle()
            except AssertionError as error:
                raise AssertionError(f"after action {i}; the last actions: {self.log[-12:]}\n{error}") from error

    def check(self) -> None:
        window = self.window
        assert window.worker.error is None, window.worker.error
        assert_controls_show(window, self.spec)

    def settle(self) -> None:
        settle(self.window, self.qtbot)
        self.check()
        assert_trains(self.window, self.spec)
        assert self.window.play_button.text() == "Play"
        assert self.window.epoch_label.text() == f"Epoch {self.window.last_snapshot.epoch}"

    # ---- the layer editor ------------------------------------------------------------------------
    def select(self) -> int:
        editor = self.window.layer_editor
        editor.show_problem("")  # so that a refusal below is this action's
        n = len(self.spec.layers)
        editor.list.setCurrentRow(self.rng.randint(-1, n - 1) if n else -1)
        return editor.list.currentRow()

    def expect_layers(self, before: Spec, attempted: tuple[Layer, ...], selected: int | None = None) -> None:
        """The editor's edit to `attempted` was done, or refused, with its reason, as impossible."""
        editor = self.window.layer_editor
        if attempted == before.layers:
            assert self.spec == before
        elif self.spec == before:
            assert editor.error.isVisible() and editor.error.text(), f"{attempted} neither done nor refused"
            assert impossible(before, layers=attempted), f"refused {attempted}: {editor.error.text()}"
        else:
            assert self.spec.layers == attempted and self.spec == before.replace(layers=attempted)
            assert not editor.error.isVisible()
            if selected is not None:
                assert editor.list.currentRow() == selected

    def add_layer(self) -> None:
        editor = self.window.layer_editor
        row = self.select()
        kind = self.rng.choice(list(editor.add_buttons))
        layer = editor.new_layer(kind)  # with the options the fields show
        before = self.spec
        self.say(f"select {row}, add {layer}")
        editor.add_buttons[kind].click()
        at = row + 1 if row >= 0 else len(before.layers)
        self.expect_layers(before, (*before.layers[:at], layer, *before.layers[at:]), at)

    def remove_layer(self) -> None:
        editor = self.window.layer_editor
        row = self.select()
        before = self.spec
        self.say(f"select {row}, remove")
        assert editor.remove.isEnabled() == (row >= 0)
        editor.remove.click()
        if row >= 0:
            self.expect_layers(before, before.layers[:row] + before.layers[row + 1 :])
        else:
            assert self.spec == before

    def move_layer(self) -> None:
        editor = self.window.layer_editor
        row = self.select()
        offset = self.rng.choice((-1, 1))
        button = editor.up if offset < 0 else editor.down
        before = self.spec
        self.say(f"select {row}, move {offset}")
        possible = row >= 0 and 0 <= row + offset < len(before.layers)
        assert button.isEnabled() == possible
        button.click()
        if possible:
            layers = list(before.layers)
            layers[row], layers[row + offset] = layers[row + offset], layers[row]
            self.expect_layers(before, tuple(layers), row + offset)
        else:
            assert self.spec == before

    def layer_option(self) -> None:
        editor = self.window.layer_editor
        row = self.select()
        name = self.rng.choice(list(editor.option_fields))
        values = {"units": (0, 1, 2, 7, 25, 64, 1024, 5000), "slope": (0.0, 0.01, 0.3, 1.0, 5.0)}
        value = self.rng.choice(values.get(name, (0.0, 0.5, 1.0, 2.0, 100.0, 1000.0)))
        spin = editor.option_fields[name].controls[0]
        before = self.spec
        self.say(f"select {row}, {name} {value}")
        spin.setValue(value)  # the spin clamps to its range
        shown = clamp(value, spin.minimum(), spin.maximum())
        selected = before.layers[row] if row >= 0 else None
        if selected is None or name not in dict(selected.options):
            assert self.spec == before  # a field for the next new layer only
            assert spin.value() == shown
        else:
            options = tuple((k, shown if k == name else v) for k, v in selected.options)
            layers = (*before.layers[:row], Layer(selected.type, options), *before.layers[row + 1 :])
            self.expect_layers(before, layers, row)

    def bad_layers(self) -> None:
        layers = self.rng.choice(BAD_LAYERS)
        if self.rng.random() < 0.5:  # in among good ones
            layers = [*self.spec.layers, *layers] if self.rng.random() < 0.5 else [*layers, *self.spec.layers]
        before = self.spec
        self.say(f"request_edit(layers={str(layers)[:80]})")
        reason = self.window.request_edit(layers=layers)
        assert reason, f"accepted {layers}"
        assert self.spec == before

    def good_layers(self) -> None:
        layers = []
        for _ in range(self.rng.randint(0, 6)):
            kind = self.rng.choice(list(LAYERS))
            layers.append(Layer.make(kind, units=self.rng.randint(1, 64)) if kind == LINEAR else Layer.make(kind))
        self.say(f"request_edit(layers={[x.describe() for x in layers]})")
        assert self.window.request_edit(layers=layers) == ""
        assert self.spec.layers == tuple(layers)

    # ---- training settings ------------------------------------------------------------------------
    def learning_rate(self) -> None:
        value = self.rng.choice((1e-9, 1e-6, 3e-5, 0.001, 0.01, 0.5, 10.0, 100.0))
        self.say(f"lr spin {value}")
        self.window.lr_control.spin.setValue(value)
        assert self.spec.optimizer.lr == clamp(value, LR.low, LR.high)

    def lr_slider(self) -> None:
        slider = self.window.lr_control.slider
        tick = self.rng.choice(
            (slider.minimum(), slider.maximum(), self.rng.randint(slider.minimum(), slider.maximum()))
        )
        moved = tick != slider.value()
        self.say(f"lr slider {tick}")
        slider.setValue(tick)
        if moved:
            expected = clamp(float(f"{10 ** (tick / TICKS_PER_DECADE):.3g}"), LR.low, LR.high)
            assert self.spec.optimizer.lr == expected

    def combo(self) -> None:
        window = self.window
        name, combo = self.rng.choice(
            [
                ("loss", window.loss_combo),
                ("optimizer", window.optimizer_combo),
                ("init", window.training_settings.fields["init"].controls[0]),
                ("dataset", window.dataset_combo),
            ]
        )
        index = self.rng.randrange(combo.count())
        before = self.spec
        self.say(f"{name} combo {combo.itemData(index)}")
        combo.setCurrentIndex(index)
        assert self.spec.optimizer.lr == before.optimizer.lr  # no choice changes the learning rate

    def batch_size(self) -> None:
        value = self.rng.choice((0, 1, 3, 10, 100, 1000, 10**7))
        self.say(f"batch {value}")
        self.window.batch_spin.setValue(value)
        assert self.spec.batch_size == clamp(value, FIELDS["batch_size"].low, FIELDS["batch_size"].high)

    def lr_decay(self) -> None:
        value = self.rng.choice((0.0, 0.5, 0.99, 1.0))
        before = self.spec
        self.say(f"lr_decay {value}")
        self.window.training_settings.fields["lr_decay"].controls[0].setValue(value)
        assert self.spec.lr_decay == (before.lr_decay if value == 0.0 else value)  # 0 is outside (0, 1]

    def optimizer_option(self) -> None:
        field = self.rng.choice(list(self.window.training_settings.option_fields.values()))
        name, control = field.param.name, self.rng.choice(field.controls)
        before = self.spec
        if isinstance(control, QCheckBox):
            attempted = not control.isChecked()
            self.say(f"{name} {attempted}")
            control.setChecked(attempted)
        else:
            value = self.rng.choice((0.0, 1e-8, 1e-3, 0.5, 0.9, 0.999, 1.0, 2.0))
            self.say(f"{name} {control.objectName()} {value}")
            control.setValue(value)
            attempted = clamp(value, control.minimum(), control.maximum())
            if field.param.size:  # one of a pair (betas)
                pair = list(before.optimizer.get(name))
                pair[field.controls.index(control)] = attempted
                attempted = tuple(pair)
        if self.spec == before:  # refused, or nothing changed: the control shows the spec again
            assert attempted == before.optimizer.get(name) or impossible(before, **{name: attempted})
        else:
            assert self.spec == before.replace(**{name: attempted})
        assert self.window.training_settings.option_fields[name].value() == self.spec.optimizer.get(name)

    def type_into_a_spin(self) -> None:
        """Type text (good, out of range or garbage) into a spin and press Enter."""
        window = self.window
        spins = [
            window.lr_control.spin,
            window.batch_spin,
            window.noise_spin,
            window.seed_spin,
            window.training_settings.fields["lr_decay"].controls[0],
            window.layer_editor.units,
            *(c for f in window.training_settings.option_fields.values() for c in f.controls if c.isVisible()),
        ]
        spin = self.rng.choice([s for s in spins if not isinstance(s, QCheckBox)])
        text = self.rng.choice(("0", "1", "0.5", "1e-7", "1e-3", "11", "-1", "abc", "nan", "inf", "1,000", "9" * 12))
        self.say(f"type {text!r} into {spin.objectName()}")
        spin.setFocus()
        spin.selectAll()
        self.qtbot.keyClicks(spin, text)
        self.qtbot.keyClick(spin, Qt.Key.Key_Return)
        spin.clearFocus()  # leaving the field applies (or drops) what was typed
        assert spin.text() == spin.textFromValue(spin.value())  # no typed text left behind

    # ---- data settings --------------------------------------------------------------------------------
    def noise(self) -> None:
        value = self.rng.choice((0.0, 0.05, 0.25, 0.5, 1.0))
        self.say(f"noise {value}")
        self.window.noise_spin.setValue(value)
        assert self.spec.dataset.noise == min(value, FIELDS["noise"].high)

    def seed(self) -> None:
        value = self.rng.choice((0, 1, 7, 123456, 2**31 - 1))
        self.say(f"seed {value}")
        self.window.seed_spin.setValue(value)
        assert self.spec.seed == value

    def regenerate(self) -> None:
        before = self.spec.seed
        self.say("regenerate")
        self.window.data_settings.regenerate_button.click()
        assert self.spec.seed == (0 if before == FIELDS["seed"].high else before + 1)

    def points(self) -> None:
        name = self.rng.choice(("n_train", "n_test"))
        low, high = points_range()
        value = self.rng.choice((0, 1, 2, 30, 200, 1000, 10**7) if self.rng.random() < 0.15 else (1, 2, 30, 200, 1000))
        self.say(f"{name} {value}")
        self.window.data_settings.fields[name].controls[0].setValue(value)
        assert getattr(self.spec.dataset, name) == clamp(value, low, high)

    # ---- play, step, reset --------------------------------------------------------------------------
    def play(self) -> None:
        if not self.window.session.playing:
            self.toggle()

    def pause(self) -> None:
        if self.window.session.playing:
            self.toggle()

    def toggle(self) -> None:
        done = len(self.requests)
        if self.window.stuck_diverged() and not self.window.session.playing:  # Play explains instead
            self.window.play_button.click()
            assert self.requests[done:] == [] and self.window.banner.isVisible()
            assert "diverged" in self.window.banner.label.text() and self.window.play_button.text() == "Play"
            self.say("play refused: diverged")
            return
        self.window.play_button.click()
        # what the click asked for (the worker may stop training at any time: an epoch ends, or it diverges)
        asked = [r for r in self.requests[done:] if r[1] == "gui"]
        assert len(asked) == 1, asked
        self.say(asked[0][0])
        assert self.window.play_button.text() == ("Pause" if asked[0][0] == "play" else "Play")

    def step(self) -> None:
        self.say("step")
        self.window.step_button.click()

    def reset(self) -> None:
        self.say("reset")
        self.window.reset_button.click()
        assert not self.window.session.playing and self.window.play_button.text() == "Play"

    # ---- files --------------------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        self.files += 1
        return self.tmp_path / f"{self.files}-{name}"

    def random_spec(self) -> Spec:
        rng = self.rng
        layers = []
        for _ in range(rng.randint(0, 5)):
            kind = rng.choice([k for k, e in LAYERS.items() if e.editor])
            layers.append({"type": kind, "units": rng.randint(1, 40)} if kind == LINEAR else {"type": kind})
        optimizer = rng.choice(list(OPTIMIZERS))
        options = {"lr": rng.choice((1e-6, 0.003, 0.01, 0.1, 1.0))}
        if optimizer == "sgd" and rng.random() < 0.5:
            options.update(momentum=0.9, nesterov=rng.random() < 0.5)
        return Spec.from_dict(
            {
                "dataset": {
                    "name": rng.choice(list(DATASETS)),
                    "n_train": rng.choice((1, 50, 300)),
                    "n_test": rng.choice((1, 50, 300)),
                    "noise": rng.choice((0.0, 0.1)),
                },
                "layers": layers,
                "init": rng.choice(list(INITS)),
                "loss": rng.choice(list(LOSSES)),
                "optimizer": {"type": optimizer, **options},
                "batch_size": rng.choice((1, 10, 64, 5000)),
                "lr_decay": rng.choice((1.0, 0.99)),
                "seed": rng.randint(0, 1000),
            }
        )

    def open_good(self) -> None:
        spec = self.random_spec()
        path = self.path("good.json")
        path.write_text(spec.to_json())
        self.say(f"open {spec.describe()}")
        assert self.window.files.open_experiment(path)
        assert self.spec == spec and not self.window.session.playing

    def open_bad(self) -> None:
        name, text = self.rng.choice((*BAD_FILES, ("missing.json", None)))
        path = self.path(name)
        if text is not None:
            path.write_bytes(text.encode("latin-1"))
        before = self.spec
        self.say(f"open bad {name}")
        assert not self.window.files.open_experiment(path)
        assert self.spec == before
        assert self.window.banner.isVisible() and "Could not open the file" in self.window.banner.label.text()

    def save_and_open(self) -> None:
        path = self.path("saved.json")
        before = self.spec
        self.say("save experiment, open it")
        assert self.window.files.save_experiment(path)
        assert Spec.from_json(path.read_text()) == before
        assert self.window.files.open_experiment(path)
        assert self.spec == before

    def save_model_and_open(self) -> None:
        path = self.path("model.pt")
        self.say("save model, open it")
        future = self.window.files.save_model(path)
        self.qtbot.waitUntil(future.done, timeout=30000)
        assert future.exception() is None, future.exception()
        spec, _ = read_experiment(path)
        assert self.window.files.open_experiment(path)
        assert self.spec == spec


@pytest.mark.parametrize("seed", SEEDS)
def test_random_session_keeps_controls_spec_and_network_in_step(window, qtbot, tmp_path, seed):
    seen = watch(window)
    session = RandomSession(window, qtbot, tmp_path, seed)
    session.run(ACTIONS)
    session.settle()
    internal = [m for m in seen["banner"] if m.startswith(INTERNAL_ERROR)]
    assert not internal, internal[0]
    assert not seen["contradictions"], f"the status bar says {NOT_TRAINED!r} while diverged: {seen['contradictions']}"


# ---- 2. divergence on every optimizer ----------------------------------------------------------------
# Sixteen Linear layers and no activation: one huge step overflows the output, whatever the
# optimizer (Adam's steps are bounded by its lr, so a shallow Tanh net never diverges with it).
DEEP_LINEAR = [{"type": "linear", "units": 25}] * 16
DIVERGING = {
    **{name: {"type": name, "lr": 10.0} for name in OPTIMIZERS},
    "sgd-nesterov": {"type": "sgd", "lr": 10.0, "momentum": 0.9, "nesterov": True},
}


def wait_snapshot(qtbot, window, condition, timeout=20000) -> None:
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=timeout)


def diverge(window, qtbot, tmp_path: Path, optimizer: dict) -> Spec:
    """Open a spec that diverges at once, play it, and wait until the worker has stopped."""
    spec = Spec.from_dict(
        {"dataset": {"n_train": 500, "n_test": 200}, "layers": DEEP_LINEAR, "loss": "mse", "optimizer": optimizer}
    )
    path = tmp_path / "diverging.json"
    path.write_text(spec.to_json())
    assert window.files.open_experiment(path)
    window.play_button.click()
    wait_snapshot(qtbot, window, lambda s: s.spec == spec and s.status == "diverged" and not s.playing)
    return spec


@pytest.mark.parametrize("optimizer", DIVERGING.values(), ids=list(DIVERGING))
def test_divergence_is_explained_and_reset_with_a_smaller_lr_recovers(window, qtbot, tmp_path, optimizer):
    seen = watch(window)
    diverge(window, qtbot, tmp_path, optimizer)
    banner = window.banner
    qtbot.waitUntil(banner.isVisible)
    assert "diverged" in banner.label.text() and "smaller learning rate" in banner.label.text()
    assert [b.text() for b in banner.action_buttons] == ["Reset with lr ÷ 10", "Reset (R)"]
    assert all(b.isVisible() and b.isEnabled() for b in banner.action_buttons)
    assert window.play_button.text() == "Play" and not window.session.playing
    assert "diverged" in window.metrics_label.text()

    lr = optimizer["lr"]
    for _ in range(6):
        qtbot.waitUntil(lambda: banner.isVisible() and bool(banner.action_buttons))
        banner.action_buttons[0].click()  # "Reset with lr ÷ 10"
        lr = float(f"{lr / 10:.3g}")
        assert window.session.spec.optimizer.lr == lr and window.lr_control.lr() == lr
        assert not banner.isVisible() and not window.session.playing
        wait_snapshot(
            qtbot,
            window,
            lambda s: s.spec == window.session.spec and s.status == "ready" and s.steps == 0,
        )
        assert window.metrics_label.text().startswith(NOT_TRAINED)  # a fresh network: nothing trained yet
        window.step_button.click()
        wait_snapshot(qtbot, window, lambda s: not s.playing and (s.status == "diverged" or s.epoch == 1))
        if window.last_snapshot.status == "ready":
            break
    else:
        pytest.fail(f"still diverging after six resets with lr ÷ 10 (lr {lr})")

    snapshot = window.last_snapshot
    assert snapshot.epoch == 1 and snapshot.spec.optimizer.lr == lr and snapshot.lr == lr
    assert math.isfinite(snapshot.train_loss) and "train loss" in window.metrics_label.text()
    assert not banner.isVisible()
    assert not seen["contradictions"], f"the status bar says {NOT_TRAINED!r} while diverged: {seen['contradictions']}"
    assert not [m for m in seen["banner"] if m.startswith(INTERNAL_ERROR)]


def test_play_on_a_diverged_network_keeps_its_explanation(window, qtbot, tmp_path):
    """Play cannot train a diverged network: the status bar must not point at a banner that is gone."""
    diverge(window, qtbot, tmp_path, DIVERGING["sgd"])
    qtbot.waitUntil(window.banner.isVisible)
    steps = window.last_snapshot.steps
    window.play_button.click()  # a user tries to go on
    qtbot.waitUntil(lambda: not window.session.playing)
    wait_snapshot(qtbot, window, lambda s: not s.playing)
    answer = drawn_after_fence(qtbot, window)  # the worker's answer to that Play is drawn
    assert answer.status == "diverged" and answer.steps == steps and not answer.playing
    assert window.play_button.text() == "Play"
    label = window.metrics_label.text()
    assert window.banner.isVisible() or "banner" not in label, f"the status bar says {label!r}; the banner is hidden"


def test_a_diverged_network_draws_without_warnings(window, qtbot, tmp_path, recwarn):
    """A diverged network's heatmap holds NaN: drawing it must not warn (pytest makes warnings errors,
    so without `recwarn` the window's snapshot slot would raise before it shows the banner)."""
    diverge(window, qtbot, tmp_path, DIVERGING["sgd"])
    qtbot.waitUntil(window.banner.isVisible)
    assert not np.isfinite(window.last_snapshot.grid).all()  # the case at hand: a NaN heatmap
    ours = [w for w in recwarn if {"minidl", "minidl_gui"} & set(Path(w.filename).parts)]
    assert not ours, [f"{Path(w.filename).name}:{w.lineno}: {w.category.__name__}: {w.message}" for w in ours]


# ---- 3. windows closed or dropped while they train ----------------------------------------------------
DROPS = 100
DROP_TIMEOUT = 420  # seconds: about 50 on a 2-core machine; past this the process hangs
DROP_SCRIPT = textwrap.dedent(
    """
    import gc, json, sys, time, weakref
    import torch
    torch.set_num_threads(1)
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from minidl_gui import MainWindow

    def pump(seconds, until):
        deadline = time.monotonic() + seconds
        while not until() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.001)
        return until()

    still_training, not_freed, never_trained = [], [], []
    for i in range(int(sys.argv[1])):
        window = MainWindow()
        window.show()
        window.toggle_play()
        if not pump(30, lambda: window.session.trainer.steps >= 20):
            never_trained.append(i)
        how = ("close", "del", "deleteLater")[i % 3]
        worker, ref = window.worker, weakref.ref(window)
        if how == "close":
            window.close()
        elif how == "deleteLater":
            window.deleteLater()
        del window
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if not pump(0.2, lambda: not worker.isRunning()):
            still_training.append(f"window {i} ({how})")
            if ref() is not None:
                ref().close()  # stop it, so that it does not slow the windows after it down
        del worker
        gc.collect()
        if ref() is not None:
            not_freed.append(f"window {i} ({how})")
    summary = dict(still_training=still_training, not_freed=not_freed, never_trained=never_trained)
    print("SUMMARY " + json.dumps(summary), flush=True)

    window = MainWindow()  # and quit with a window still training
    window.show()
    window.toggle_play()
    pump(30, lambda: window.session.trainer.steps >= 20)
    app.quit()
    sys.exit(0)
    """
)


@pytest.fixture(scope="module")
def dropped_windows():
    """Run DROP_SCRIPT once in a fresh process: (exit code, summary, stderr)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-W", "default", "-c", DROP_SCRIPT, str(DROPS)]
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=DROP_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr or ""
        pytest.fail(
            f"closing and dropping {DROPS} windows hung (over {DROP_TIMEOUT} s); stderr ends:\n{stderr[-3000:]}"
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("SUMMARY ")]
    summary = json.loads(lines[-1].removeprefix("SUMMARY ")) if lines else None
    return result.returncode, summary, result.stderr


def test_windows_dropped_while_training_exit_cleanly(dropped_windows):
    code, summary, stderr = dropped_windows
    assert summary is not None, f"the script stopped before the end (exit code {code}); stderr:\n{stderr[-3000:]}"
    assert summary["never_trained"] == []
    assert code == 0, f"exit code {code}; stderr:\n{stderr[-3000:]}"
    assert "QThread: Destroyed" not in stderr
    assert "Fatal" not in stderr


def test_windows_dropped_while_training_print_no_traceback_or_warning(dropped_windows):
    _, _, stderr = dropped_windows
    tracebacks = stderr.count("Traceback")
    assert not tracebacks, f"{tracebacks} tracebacks; the first:\n" + stderr[stderr.index("Traceback") :][:1500]
    ours = [line for line in stderr.splitlines() if "Warning" in line and ("minidl" in line or "<string>" in line)]
    assert not ours, "\n".join(ours[:20])


def test_a_window_dropped_without_close_stops_training(dropped_windows):
    """`del window`: the window's own code promises to stop its thread when it is dropped."""
    _, summary, _ = dropped_windows
    assert summary is not None
    assert summary["still_training"] == [], f"{len(summary['still_training'])} dropped windows trained on"


def test_closed_and_dropped_windows_are_freed(dropped_windows):
    _, summary, _ = dropped_windows
    assert summary is not None
    assert summary["not_freed"] == [], f"{len(summary['not_freed'])} of {DROPS} windows were never freed"
