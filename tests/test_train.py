from __future__ import annotations

import itertools
import threading
import time

import pytest
import torch

from minidl.spec import Spec, build, make_trainer
from minidl.train import EpochRecord, History, Trainer

SMALL = Spec.from_dict(
    dict(
        layers=[{"type": "linear", "units": 32}, {"type": "relu"}, {"type": "linear", "units": 32}, {"type": "relu"}],
        dataset={"n_train": 200, "n_test": 200},
        init="xavier",
        loss="cross_entropy",
        optimizer={"type": "adam", "lr": 0.01},
        epochs=5,
    )
)


def test_same_seed_trains_the_same():
    a, b = make_trainer(SMALL), make_trainer(SMALL)
    a.run(3)
    b.run(3)
    assert [r.as_dict() for r in a.history] == [r.as_dict() for r in b.history]
    for (p, _), (q, _) in zip(a.model.param(), b.model.param()):
        assert torch.equal(p, q)
    c = make_trainer(SMALL.replace(seed=1))
    c.run(3)
    assert c.history.records[-1] != a.history.records[-1]


def test_step_epoch_and_counters():
    trainer = make_trainer(SMALL)
    assert trainer.steps_per_epoch == 20
    for _ in range(5):
        assert trainer.step()
    assert (trainer.epoch, trainer.steps, trainer.step_in_epoch) == (0, 5, 5)
    assert trainer.run_epoch()
    assert (trainer.epoch, trainer.steps) == (1, 20)
    assert trainer.last_record.epoch == 1
    assert trainer.run(2)
    assert trainer.epoch == 3 and len(trainer.history) == 3


def test_training_learns():
    trainer = make_trainer(SMALL.replace(epochs=30))
    trainer.run(30)
    first, last = trainer.history.records[0], trainer.history.records[-1]
    assert last.train_loss < first.train_loss
    assert last.test_accuracy > 0.85


def test_lr_change_takes_effect_at_the_next_step_without_reset():
    trainer = make_trainer(SMALL)
    trainer.run(1)
    weight = trainer.model[0].weight
    trainer.lr = 1e-12
    before = weight.clone()
    trainer.step()
    assert torch.allclose(weight, before, atol=1e-9)  # a tiny lr barely moves the weights
    assert trainer.epoch == 1 and trainer.steps == 21  # nothing was reset
    trainer.lr = 0.05
    trainer.step()
    assert (weight - before).abs().max() > 1e-4
    with pytest.raises(ValueError, match="lr must be a finite number, got nan"):
        trainer.lr = float("nan")
    assert trainer.lr == 0.05


def test_huge_learning_rate_stops_with_diverged_status():
    trainer = make_trainer(SMALL.replace(loss="mse", optimizer="sgd", lr=10.0))
    assert trainer.run(20) is False
    assert trainer.diverged
    assert "Training diverged at epoch" in trainer.message
    assert "last finite loss" in trainer.message and "smaller learning rate" in trainer.message
    steps = trainer.steps
    assert trainer.step() is False and trainer.steps == steps  # no training on garbage


def test_history_stays_bounded_and_spread():
    history = History(cap=100)
    for epoch in range(1, 10_001):
        history.append(EpochRecord(epoch, 1.0 / epoch, 0.5, 1.0, 0.5))
    assert len(history) <= 100
    epochs = history.column("epoch")
    assert epochs == sorted(epochs) and epochs[-1] > 9000 and epochs[0] <= 128
    gaps = {b - a for a, b in itertools.pairwise(epochs)}
    assert len(gaps) == 1  # evenly spread


def test_long_run_history_is_bounded():
    trainer = make_trainer(SMALL.replace(n_train=20, n_test=20, batch_size=20), history_cap=50)
    trainer.run(500)
    assert len(trainer.history) <= 50 and trainer.history.records[-1].epoch > 450
    assert trainer.last_record.epoch == 500


def test_stop_from_another_thread_returns_at_a_step_boundary():
    trainer = make_trainer(SMALL)

    def stop_after_some_steps():
        while trainer.steps < 30:
            time.sleep(0.001)
        trainer.request_stop()

    stopper = threading.Thread(target=stop_after_some_steps)
    stopper.start()
    finished = trainer.run(100_000)
    stopper.join()
    assert finished is False and trainer.steps >= 30 and trainer.epoch < 100_000
    steps = trainer.steps
    assert trainer.run_epoch()  # stopped cleanly: it trains on from where it was
    assert trainer.steps > steps


def test_predict_does_not_disturb_training():
    a, b = make_trainer(SMALL), make_trainer(SMALL)
    points = torch.rand(50, 2)
    for _ in range(7):
        a.step()
        b.step()
        out = b.predict(points)
    assert out.shape == (50, 2) and b.model.training
    a.run(2)
    b.run(2)
    for (p, _), (q, _) in zip(a.model.param(), b.model.param()):
        assert torch.equal(p, q)


def test_ensemble_trainer_reports_per_model_metrics():
    trainer = make_trainer(SMALL, models=3)
    trainer.run(2)
    metrics = trainer.evaluate()
    assert metrics["test_accuracy"].shape == (3,)
    assert trainer.last_record.test_accuracy == pytest.approx(metrics["test_accuracy"].mean().item(), abs=1e-6)


def test_lr_decay_multiplies_the_lr_after_every_epoch():
    trainer = make_trainer(SMALL.replace(lr_decay=0.5))
    assert trainer.lr == 0.01
    trainer.step()
    assert trainer.lr == 0.01  # within an epoch the lr stays
    trainer.run_epoch()
    trainer.run(2)
    assert trainer.lr == pytest.approx(0.01 * 0.5**3)
    trainer.lr = 0.2  # a live change sets the new base; the decay continues from it
    trainer.run_epoch()
    assert trainer.lr == pytest.approx(0.1)
    experiment = build(SMALL)
    with pytest.raises(ValueError, match="lr_decay must be in"):
        Trainer(experiment.model, experiment.loss, experiment.optimizer, experiment.data, lr_decay=1.5)
