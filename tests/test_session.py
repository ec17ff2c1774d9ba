"""The app's training state without Qt: requests are applied by the worker side at step boundaries."""

from __future__ import annotations

import time

import numpy as np

from minidl.spec import Spec
from minidl_gui.components.grid import GRID_RESOLUTION
from minidl_gui.components.session import Session

SMALL = Spec.from_dict(
    {"dataset": {"n_train": 100, "n_test": 100}, "layers": [{"type": "linear", "units": 8}, {"type": "tanh"}]}
)


def run_until(session: Session, condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        session.advance(0.01)


def test_nothing_trains_until_play():
    session = Session(SMALL)
    session.advance(0.05)
    assert session.trainer.steps == 0
    session.play()
    run_until(session, lambda: session.trainer.epoch >= 2)
    session.pause()
    session.advance(0.05)
    steps = session.trainer.steps
    session.advance(0.05)
    assert session.trainer.steps == steps


def test_step_epoch_runs_exactly_one_epoch():
    session = Session(SMALL)
    session.step_epoch()
    for _ in range(50):
        session.advance(0.01)
    assert session.trainer.epoch == 1 and session.trainer.step_in_epoch == 0


def test_lr_change_applies_without_reset():
    session = Session(SMALL)
    session.play()
    run_until(session, lambda: session.trainer.epoch >= 1)
    trainer = session.trainer
    session.set_lr(0.003)
    session.advance(0.01)
    assert session.trainer is trainer and trainer.lr == 0.003 and trainer.epoch >= 1
    assert session.spec.optimizer.lr == 0.003


def test_new_spec_rebuilds_and_pauses():
    session = Session(SMALL)
    session.play()
    run_until(session, lambda: session.trainer.epoch >= 1)
    session.set_spec(SMALL.replace(layers=[{"type": "linear", "units": 5}, {"type": "relu"}]))
    session.advance(0.01)
    assert session.trainer.epoch == 0 and not session.playing
    assert session.trainer.model[0].out_dim == 5


def test_snapshot_has_the_grid_and_the_data():
    session = Session(SMALL)
    snapshot = session.snapshot()
    assert snapshot.grid.shape == (GRID_RESOLUTION, GRID_RESOLUTION)
    assert snapshot.x_train.shape == (100, 2) and snapshot.epoch == 0
    session.set_spec(SMALL.replace(seed=5))
    session.advance(0.01)
    assert session.snapshot().data_version == snapshot.data_version + 1


def test_every_request_is_reported_as_a_change_once():
    """The worker publishes a snapshot after any request, so e.g. a pause always reaches the screen."""
    session = Session(SMALL)
    session.advance(0.01)
    assert session.advance(0.01) is False  # idle: nothing to publish
    for request in (
        session.play,
        session.pause,
        session.step_epoch,
        session.reset,
        lambda: session.set_lr(0.02),
        lambda: session.set_spec(SMALL),
    ):
        request()
        assert session.advance(0.001) is True
        session.pause()
        session.advance(0.001)
        assert session.advance(0.001) is False


def test_heatmap_is_recomputed_when_the_model_changes():
    session = Session(SMALL)
    first = session.snapshot().grid
    assert session.snapshot().grid is first  # nothing trained: the same grid
    session.play()
    run_until(session, lambda: session.trainer.epoch >= 1)
    session.pause()  # paused: the picture is the network as it now is, whatever the throttle while playing
    session.advance(0.001)
    paused = session.snapshot().grid
    assert paused is not first and not np.array_equal(paused, first)
    assert session.snapshot().grid is paused  # and nothing trained since: the same grid


def test_history_arrays_are_reused_until_an_epoch_ends():
    session = Session(SMALL)
    first = session.snapshot().history
    assert session.snapshot().history is first and first["epoch"].size == 0
    session.step_epoch()
    run_until(session, lambda: session.trainer.epoch == 1)
    history = session.snapshot().history
    assert history is not first and history["epoch"].tolist() == [1.0]
    assert session.snapshot().history is history


def test_a_new_spec_drops_the_requests_made_before_it():
    session = Session(SMALL)
    session.set_lr(5.0)
    session.reset()
    target = SMALL.replace(lr=0.003, seed=3)
    session.set_spec(target)
    session.advance(0.01)
    assert session.trainer.lr == 0.003 and session.snapshot().spec == target


def test_an_lr_edit_is_live_and_any_other_edit_rebuilds():
    session = Session(SMALL)
    session.step_epoch()
    run_until(session, lambda: session.trainer.epoch == 1)
    trainer = session.trainer
    assert session.edit(lr=0.02).optimizer.lr == 0.02
    session.advance(0.001)
    assert session.trainer is trainer and session.snapshot().spec.optimizer.lr == 0.02
    session.edit(batch_size=7)
    session.advance(0.001)
    assert session.trainer is not trainer and session.trainer.epoch == 0
    assert session.snapshot().spec == SMALL.replace(lr=0.02, batch_size=7) == session.spec


def test_a_refused_edit_changes_nothing():
    from minidl.params import SpecError

    def at_most_ten_units(spec):
        if any(layer.type == "linear" and layer.units > 10 for layer in spec.layers):
            raise SpecError("too wide for this test")

    session = Session(SMALL, check=at_most_ten_units)
    for changes in ({"batch_size": 0}, {"layers": [{"type": "linear", "units": 11}]}, {"colour": "red"}):
        try:
            session.edit(**changes)
        except SpecError:
            pass
        else:
            raise AssertionError(f"{changes} was accepted")
        assert session.spec == SMALL
    session.advance(0.001)
    assert session.snapshot().spec == SMALL


def test_save_is_served_by_the_worker_side_with_the_trained_spec(tmp_path):
    from minidl.storage.checkpoint import read_model
    from minidl.storage.files import FileProblem

    session = Session(SMALL)
    session.step_epoch()
    run_until(session, lambda: session.trainer.epoch == 1)
    session.set_lr(0.004)
    good, bad = session.request_save(tmp_path / "m.pt"), session.request_save(tmp_path / "missing" / "m.pt")
    assert not good.done()  # nothing is written from the requesting thread
    session.advance(0.001)
    assert "epoch 1" in good.result(timeout=1)
    assert isinstance(bad.exception(timeout=1), FileProblem)
    spec, state = read_model(tmp_path / "m.pt")
    assert spec.optimizer.lr == 0.004
    for key, value in session.trainer.model.state_dict().items():
        assert (state[key] == value).all()


def test_the_score_is_the_losss_and_rows_are_y():
    import torch

    from minidl.registry import LOSSES
    from minidl_gui.components.grid import grid_points

    def class_one_score(outputs, loss):
        return LOSSES[loss].class_one_score(outputs)

    points = grid_points(4)
    assert points[1].tolist() == [0.375, 0.125] and points[4].tolist() == [0.125, 0.375]  # row-major, rows are y
    outputs = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 3.0]])
    assert class_one_score(outputs, "mse").tolist() == [1.0, 0.0, 1.0]  # (out1 - out0 + 1) / 2, clipped
    ce = class_one_score(outputs, "cross_entropy")
    assert ce[0] > 0.7 and ce[1] < 0.3 and torch.allclose(ce, torch.softmax(outputs, -1)[:, 1])


def test_the_heatmap_of_a_trained_network_shows_the_disk():
    spec = SMALL.replace(
        loss="cross_entropy",
        optimizer="adam",
        lr=0.05,
        batch_size=100,
        layers=[{"type": "linear", "units": 16}, {"type": "tanh"}],
    )
    session = Session(spec, grid_resolution=20)
    session.trainer.run(300)  # the worker's side, run here: exactly 300 full-batch epochs
    grid = session.snapshot().grid
    assert grid.shape == (20, 20)
    assert grid[10, 10] > 0.8  # the centre is inside the disk
    assert max(grid[0, 0], grid[0, 19], grid[19, 0], grid[19, 19]) < 0.2  # the corners are outside


def test_an_epochs_edit_is_live():
    session = Session(SMALL)
    session.play()
    run_until(session, lambda: session.trainer.epoch >= 1)
    trainer = session.trainer
    session.edit(epochs=500)
    session.advance(0.01)
    assert session.trainer is trainer and session.snapshot().spec.epochs == 500


def test_the_run_pauses_at_the_specs_epochs_once():
    session = Session(SMALL.replace(epochs=3))
    session.play()
    run_until(session, lambda: not session.playing)
    snapshot = session.snapshot()
    assert snapshot.epoch == 3 and "Paused at epoch 3" in snapshot.note
    session.play()  # played again past it: it goes on, and the note is gone
    run_until(session, lambda: session.trainer.epoch >= 5)
    assert session.playing and session.snapshot().note == ""
    session.set_stop(False, None)
    session.edit(epochs=6)  # not stopping at the epoch any more
    run_until(session, lambda: session.trainer.epoch >= 8)
    assert session.playing


def test_a_target_accuracy_pauses_only_when_reached_after_play():
    session = Session(SMALL)
    session.set_stop(False, 75.0)
    session.play()
    run_until(session, lambda: not session.playing, timeout=60)
    reached = session.snapshot()
    assert reached.test_accuracy >= 0.75 and "reached 75%" in reached.note
    session.play()  # met already when played: no pause at the next epoch
    run_until(session, lambda: session.trainer.epoch >= reached.epoch + 3)
    assert session.playing


def test_a_pace_limits_the_steps_and_carries_the_batch():
    session = Session(SMALL)
    session.set_pace(10.0)
    session.play()
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        session.advance(1 / 32)
    steps = session.trainer.steps
    assert 1 <= steps <= 13  # ten a second at most (a busy machine may lag far behind, never run ahead)
    snapshot = session.snapshot()
    assert snapshot.batch.shape == (SMALL.batch_size, 2)
    index = session.trainer.last_batch.numpy()
    assert (snapshot.batch == session.trainer.data.x_train.numpy()[index]).all()
    session.set_pace(None)
    session.advance(0.05)
    assert session.trainer.steps > steps + 20 and session.snapshot().batch is None


def test_a_step_that_diverges_is_reported_as_a_change():
    """The worker publishes only what `advance` reports: a run that diverges at its first step of a
    call must say so, or the window keeps showing it as playing."""
    spec = SMALL.replace(layers=[{"type": "linear", "units": 25}] * 12, loss="mse", lr=10.0)
    session = Session(spec)
    session.step_epoch()
    for _ in range(100):
        steps = session.trainer.steps
        changed = session.advance(0.0)  # at most one step a call: the diverging step is a call's first
        if session.trainer.status == "diverged":
            break
    assert session.trainer.status == "diverged" and not session.playing
    assert session.trainer.steps == steps and changed


def test_with_a_split_left_empty_nothing_trains_and_the_plot_follows():
    import numpy as np

    session = Session(SMALL)
    session.set_pace(30.0)  # slow motion: the batch is ringed
    session.step_epoch()
    run_until(session, lambda: session.trainer.epoch >= 1)
    session.clear_points()
    session.advance(0.0)
    snapshot = session.snapshot()  # no stale batch indices into the empty points
    assert len(snapshot.x_train) == 0 and snapshot.batch is None
    steps = session.trainer.steps
    session.set_pace(None)
    session.play()
    session.advance(0.05)
    assert session.trainer.steps == steps and not session.playing
    assert "Paint at least one" in session.snapshot().note
    session.set_test_share(0.0)  # even then, the first points fill the empty test set
    session.add_points(np.array([[0.2, 0.2]]), 0)
    session.add_points(np.array([[0.8, 0.8]]), 1)
    session.advance(0.0)
    snapshot = session.snapshot()
    assert len(snapshot.x_train) == 1 and len(snapshot.x_test) == 1 and snapshot.note == ""
    session.play()
    run_until(session, lambda: session.trainer.steps > steps)
    assert session.trainer.data.x_train.shape[0] == 1


def test_writes_asked_for_are_never_dropped_by_a_new_spec(tmp_path):
    session = Session(SMALL)
    saved = session.request_save_session(tmp_path / "s.minidl")
    history = session.request_history(tmp_path / "h.csv")
    session.set_spec(SMALL.replace(batch_size=5))
    session.advance(0.0)
    assert saved.done() and saved.exception() is None and history.done() and history.exception() is None


def test_a_write_that_fails_says_why_and_the_requests_after_it_are_applied(tmp_path):
    session = Session(SMALL)
    future = session.request_history(tmp_path / ("x" * 300 + ".csv"))
    session.edit(batch_size=5)
    session.advance(0.0)
    assert "too long" in str(future.exception())
    assert session.snapshot().spec.batch_size == 5


def test_a_target_raised_during_a_run_is_the_one_that_stops_it():
    session = Session(SMALL)
    session.set_stop(False, 60.0)
    session.play()
    run_until(session, lambda: session.trainer.last_record is not None and session.snapshot().test_accuracy >= 0.6)
    if not session.playing:  # 60% was reached: it paused; go on with a higher target
        session.play()
    session.advance(0.0)
    target = min(99.0, round(100 * session.snapshot().test_accuracy) + 3)  # above where it is now
    session.set_stop(False, target)  # raised while playing: armed against it from now
    run_until(session, lambda: not session.playing, timeout=120)
    assert 100 * session.snapshot().test_accuracy >= target and f"reached {target:g}%" in session.snapshot().note
