"""The app's training state without Qt: requests are applied by the worker side at step boundaries."""

from __future__ import annotations

import time

from minidl.spec import Spec
from minidl_gui.grid import GRID_RESOLUTION
from minidl_gui.session import Session

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
    time.sleep(4 * session._grid_seconds + 0.01)  # past the throttle: a grid costs at most a quarter of the time
    assert session.snapshot().grid is not first


def test_history_arrays_are_reused_until_an_epoch_ends():
    session = Session(SMALL)
    first = session.snapshot().history
    assert session.snapshot().history is first and first["epoch"].size == 0
    session.step_epoch()
    run_until(session, lambda: session.trainer.epoch == 1)
    history = session.snapshot().history
    assert history is not first and history["epoch"].tolist() == [1.0]
    assert session.snapshot().history is history
