from __future__ import annotations

import itertools
import threading
import time

import pytest
import torch

from minidl.build import build, make_trainer
from minidl.spec import Spec
from minidl.train import EpochRecord, History, Trainer, health_kind, unhealthy

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


def test_layer_outputs_are_every_output_and_leave_backward_alone():
    import minidl

    g = torch.Generator().manual_seed(0)
    net = minidl.Sequential(
        minidl.Linear(2, 4, generator=g, dtype=torch.float64),
        minidl.Tanh(),
        minidl.Sequential(minidl.Linear(4, 3, generator=g, dtype=torch.float64), minidl.ReLU()),
        minidl.Linear(3, 2, generator=g, dtype=torch.float64),
    )
    x, other, up = torch.rand(5, 2, dtype=torch.float64), torch.rand(7, 2, dtype=torch.float64), torch.rand(5, 2)
    out = net(x)
    grad_x = net.backward(up.double())
    expected_grads = [g.clone() for _, g in net.param()]
    net.zero_grad()
    net(x)
    outputs = net.layer_outputs(other)  # between a forward and its backward
    assert torch.equal(net.backward(up.double()), grad_x)  # the caches of x were kept
    for (_, now), then in zip(net.param(), expected_grads):
        assert torch.equal(now, then)
    h1 = other @ net[0].weight.t() + net[0].bias  # by hand
    h2 = torch.tanh(h1)
    h3 = torch.relu(h2 @ net[2][0].weight.t() + net[2][0].bias)
    h4 = h3 @ net[3].weight.t() + net[3].bias
    assert len(outputs) == 4
    for ours, hand in zip(outputs, (h1, h2, h3, h4)):
        torch.testing.assert_close(ours, hand)
    torch.testing.assert_close(outputs[-1], net(other))
    assert out.shape == (5, 2)


def test_health_fractions_by_hand():
    import minidl

    tanh = torch.tensor([[0.99, 0.1, -0.98], [0.98, 0.2, 0.5], [-0.99, 0.99, -0.99]])  # 3 points, 3 units
    assert unhealthy(minidl.Tanh(), tanh) == pytest.approx(2 / 3)  # units 0 and 2 saturated on most points
    relu = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert unhealthy(minidl.ReLU(), relu) == pytest.approx(1 / 3)  # only unit 0 is zero everywhere
    sigmoid = torch.tensor([[0.99, 0.5], [0.01, 0.6], [0.995, 0.9]])
    assert unhealthy(minidl.Sigmoid(), sigmoid) == pytest.approx(1 / 2)
    assert health_kind(minidl.Tanh()) == "saturated" and health_kind(minidl.ReLU()) == "dead"


def test_the_record_has_gradient_norms_and_health_per_layer():
    spec = SMALL.replace(optimizer="sgd", lr=0.01, batch_size=200, n_train=200)  # one step an epoch
    trainer = make_trainer(spec)
    assert trainer.linear_layers == [0, 2, 4] and trainer.activation_layers == [1, 3]
    before = [p.clone() for p, _ in trainer.model.param()]
    trainer.run(1)
    record = trainer.last_record
    # the one step's gradients, by hand: rebuild them from the weights before the step
    probe = make_trainer(spec)
    for (p, _), q in zip(probe.model.param(), before):
        p.copy_(q)
    probe.optimizer.zero_grad()  # a summed loss over all points: the order of the step does not matter
    probe.loss.forward(probe.model.forward(probe.data.x_train), probe.data.y_train)
    probe.model.backward(probe.loss.backward())
    by_hand = [probe.model[i].grad_weight.norm().item() for i in probe.linear_layers]
    assert record.grad_norms == pytest.approx(by_hand, rel=1e-5)
    outputs = trainer.model.layer_outputs(trainer.data.x_train)
    assert record.health == pytest.approx([unhealthy(trainer.model[i], outputs[i]) for i in (1, 3)])


def test_reproduce_records_nothing_and_stays_bounded():
    trainer = make_trainer(SMALL, models=3, evaluate_every=0)
    trainer.run(3)
    assert trainer.state_dict()["grad_norm_samples"].shape[0] == 0 and trainer.linear_layers == []
