"""One source of truth: what the panel shows, what is saved and what trains are the same spec.

Each test is a bug that state kept in two places once caused (issue 7, bugs 1 to 4).
"""

from __future__ import annotations

import json

import pytest
import torch

from minidl.spec import Spec

SMALL = {
    "dataset": {"name": "disk", "n_train": 200, "n_test": 100, "noise": 0.0},
    "layers": [{"type": "linear", "units": 8}, {"type": "tanh"}],
    "optimizer": {"type": "sgd", "lr": 0.01},
    "batch_size": 10,
}


def write_spec(tmp_path, name: str, **fields) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({**SMALL, **fields}))
    return str(path)


def wait_for(qtbot, window, condition, timeout=20000):
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=timeout)


def test_bug1_the_decayed_rate_never_becomes_the_base_rate(window, qtbot, tmp_path):
    assert window.files.open_experiment(write_spec(tmp_path, "decay.json", lr_decay=0.5))
    for _ in range(3):
        window.step_epoch()
    wait_for(qtbot, window, lambda s: s.epoch == 3 and not s.playing)
    assert window.last_snapshot.lr == pytest.approx(0.01 * 0.5**3)  # the current rate decays...
    assert window.lr_control.lr() == 0.01  # ...the base rate in the panel does not
    saved = tmp_path / "saved.json"
    assert window.files.save_experiment(saved)
    assert json.loads(saved.read_text())["optimizer"]["lr"] == 0.01
    window.batch_spin.setValue(20)  # a rebuild starts again from the base rate
    wait_for(qtbot, window, lambda s: s.spec.batch_size == 20 and s.epoch == 0)
    assert window.last_snapshot.lr == 0.01 and window.last_snapshot.spec.optimizer.lr == 0.01


def test_bug2_a_new_spec_clears_the_requests_made_before_it(window, qtbot, tmp_path):
    path = write_spec(tmp_path, "slow.json", optimizer={"type": "sgd", "lr": 0.003})
    for seed in range(20):
        window.lr_control.spin.setValue(10.0)  # a live lr request...
        assert window.files.open_experiment(path)  # ...then a file, in the same event-loop turn
        assert window.lr_control.lr() == 0.003
        window.step_epoch()
        wait_for(qtbot, window, lambda s: s.epoch == 1 and s.spec.optimizer.lr == 0.003 and not s.playing)
        assert window.last_snapshot.lr == 0.003, f"try {seed}: trains with {window.last_snapshot.lr}"


def test_bug3_a_saved_model_records_the_live_learning_rate(window, qtbot, tmp_path):
    assert window.files.open_experiment(write_spec(tmp_path, "start.json"))
    window.step_epoch()
    wait_for(qtbot, window, lambda s: s.epoch == 1 and not s.playing)
    window.lr_control.spin.setValue(0.003)  # live: the network trains on
    wait_for(qtbot, window, lambda s: s.spec.optimizer.lr == 0.003)
    assert window.last_snapshot.epoch == 1
    model = tmp_path / "model.pt"
    future = window.files.save_model(model)
    qtbot.waitUntil(future.done)
    assert future.exception() is None
    assert torch.load(model, weights_only=True)["spec"]["optimizer"]["lr"] == 0.003
    window.lr_control.spin.setValue(0.05)
    assert window.files.open_experiment(model)
    assert window.lr_control.lr() == 0.003
    wait_for(qtbot, window, lambda s: s.spec.optimizer.lr == 0.003 and s.lr == 0.003)


def test_bug4_opened_values_are_shown_exactly_and_kept(window, qtbot, tmp_path):
    exact = dict(
        dataset={"name": "disk", "n_train": 200, "n_test": 100, "noise": 0.125},
        optimizer={"type": "sgd", "lr": 2.5e-6},
        batch_size=2000,
        lr_decay=0.99975,
    )
    assert window.files.open_experiment(write_spec(tmp_path, "exact.json", **exact))
    assert window.noise_spin.value() == 0.125 and window.noise_spin.text() == "0.125"
    assert window.lr_control.lr() == 2.5e-6 and window.lr_control.spin.text() == "2.5e-06"
    assert window.batch_spin.value() == 2000
    assert window.training_settings.fields["lr_decay"].value() == 0.99975
    window.dataset_combo.setCurrentIndex(window.dataset_combo.findData("ring"))  # any later edit...
    wait_for(qtbot, window, lambda s: s.spec.dataset.name == "ring")
    trained = window.last_snapshot.spec  # ...trains with the file's values, unchanged
    assert (trained.dataset.noise, trained.optimizer.lr, trained.batch_size) == (0.125, 2.5e-6, 2000)
    assert trained.lr_decay == 0.99975


def test_bug4_a_value_the_panel_cannot_show_refuses_the_file_first(window, qtbot, tmp_path):
    window.toggle_play()
    wait_for(qtbot, window, lambda s: s.epoch >= 1)
    before = window.session.spec
    for fields in ({"seed": 3_000_000_000}, {"optimizer": {"type": "sgd", "lr": 1e-7}}):
        assert not window.files.open_experiment(write_spec(tmp_path, "bad.json", **fields))
        assert "must be" in window.banner.label.text()
        assert window.session.spec == before and window.seed_spin.value() == before.seed
        assert window.lr_control.lr() == before.optimizer.lr
    epoch = window.last_snapshot.epoch
    wait_for(qtbot, window, lambda s: s.epoch > epoch and s.playing)  # the old network trains on


def test_controls_always_equal_the_requested_spec(window, qtbot):
    window.batch_spin.setValue(7)
    window.noise_spin.setValue(0.2)
    window.optimizer_combo.setCurrentIndex(window.optimizer_combo.findData("adam"))
    window.training_settings.option_fields["eps"].controls[0].setValue(1e-6)
    spec = window.session.spec
    assert (spec.batch_size, spec.dataset.noise, spec.optimizer.type, spec.optimizer.eps) == (7, 0.2, "adam", 1e-6)
    assert spec.optimizer.lr == 0.01  # switching optimizer keeps the learning rate
    wait_for(qtbot, window, lambda s: s.spec == spec)
    assert Spec.from_json(spec.to_json()) == spec
