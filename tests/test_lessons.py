"""Every lesson of the Examples menu shows what its caption says: each is trained with the
engine, from its spec's seed, for its `epochs`, and checked against its `expect`."""

from __future__ import annotations

import dataclasses
import functools
import statistics
import subprocess
import sys

import pytest
import torch

from minidl.backprop import MISTAKES, gradcheck, loss_along, relative_error, trace
from minidl.configs import REPORT
from minidl.registry import LINEAR
from minidl.spec import OptimizerSpec, Spec, make_trainer
from minidl.train import EpochRecord, Trainer
from minidl_gui.components.backprop_views import LINK_MODES, NUMBERS_UP_TO, BackpropWanted
from minidl_gui.components.lessons import LESSONS, Lesson
from minidl_gui.components.limits import check_live

EXPECTATIONS = {"learns", "fails", "slow", "diverges", "vanishes", "overfits", "faster-than-sgd"}
EXPECTATIONS |= {"overshoots", "broken-backprop", "dead-units"}
VIEWS = {None, "networkDock", "healthDock", "hiddenDock", "backpropView", "stepLossDock"}
LEARNS, FAILS = 0.9, 0.7  # test accuracy at the end of a lesson that learns / at most for one that fails
FASTER_BY = 0.1  # Adam's lead in test accuracy over SGD at the end of the pair's epochs


@dataclasses.dataclass
class Run:
    trainer: Trainer
    records: list[EpochRecord]

    @property
    def last(self) -> EpochRecord:
        assert self.records, self.trainer.message
        return self.records[-1]

    def grad_ratio(self) -> float:
        """The first Linear layer's gradient norm over the last's, averaged over the epochs."""
        return statistics.mean(r.grad_norms[0] / r.grad_norms[-1] for r in self.records)


@functools.cache
def train(spec: Spec, epochs: int) -> Run:
    trainer = make_trainer(spec)
    records: list[EpochRecord] = []
    trainer.run(epochs, on_epoch=records.append)
    return Run(trainer, records)


def trained(lesson: Lesson) -> Run:
    return train(lesson.spec, lesson.epochs)


def by_expect(expect: str) -> list[Lesson]:
    return [lesson for lesson in LESSONS if lesson.expect == expect]


def without_optimizer(spec: Spec) -> Spec:
    return dataclasses.replace(spec, optimizer=OptimizerSpec())


# ---- the menu ---------------------------------------------------------------------------------------
def test_the_menu_is_well_formed():
    assert len(LESSONS) >= 7
    names = [lesson.name for lesson in LESSONS]
    assert len(set(names)) == len(names), names
    for lesson in LESSONS:
        assert isinstance(lesson.spec, Spec), lesson.name
        assert lesson.name.strip() and lesson.caption.strip(), lesson.name
        assert "\n" not in lesson.caption and len(lesson.caption) <= 110, (lesson.name, len(lesson.caption))
        assert lesson.view in VIEWS, (lesson.name, lesson.view)
        assert lesson.expect in EXPECTATIONS, (lesson.name, lesson.expect)
        assert lesson.epochs >= 1, lesson.name
        assert lesson.link_mode in LINK_MODES, (lesson.name, lesson.link_mode)
        check_live(lesson.spec)  # raises SpecError if the app could not train it live


def test_lessons_import_without_qt():
    code = "import sys, minidl_gui.components.lessons; sys.exit(any(m.split('.')[0] == 'PySide6' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---- what each lesson shows -------------------------------------------------------------------------
@pytest.mark.parametrize("lesson", by_expect("learns"), ids=lambda lesson: lesson.name)
def test_learns(lesson):
    run = trained(lesson)
    assert run.trainer.status == "ready", run.trainer.message
    assert run.last.test_accuracy >= LEARNS, run.last


@pytest.mark.parametrize("lesson", by_expect("fails"), ids=lambda lesson: lesson.name)
def test_fails(lesson):
    run = trained(lesson)
    assert run.trainer.status == "ready", run.trainer.message
    assert run.last.test_accuracy <= FAILS, run.last


@pytest.mark.parametrize("lesson", by_expect("slow"), ids=lambda lesson: lesson.name)
def test_slow(lesson):
    run = trained(lesson)
    assert run.trainer.status == "ready", run.trainer.message
    assert 0.6 <= run.last.test_accuracy < LEARNS, run.last  # learning something, not there yet


@pytest.mark.parametrize("lesson", by_expect("diverges"), ids=lambda lesson: lesson.name)
def test_diverges(lesson):
    run = trained(lesson)
    assert run.trainer.status == "diverged"
    assert run.trainer.epoch < lesson.epochs
    assert "diverged" in run.trainer.message


@pytest.mark.parametrize("lesson", by_expect("vanishes"), ids=lambda lesson: lesson.name)
def test_vanishes(lesson):
    run = trained(lesson)
    assert run.trainer.status == "ready", run.trainer.message
    assert len(run.records) == lesson.epochs
    ratio = run.grad_ratio()
    assert ratio < 1e-2, ratio
    # The same depth with ReLU (the lesson beside it) lets the gradient through.
    widths = lesson.spec.widths()
    relu = [x for x in LESSONS if x.expect == "learns" and x.spec.widths() == widths and x is not lesson]
    assert relu, "no lesson of the same depth to compare with"
    for other in relu:
        assert {layer.type for layer in other.spec.layers} == {LINEAR, "relu"}, other.name
        assert trained(other).grad_ratio() > 1e3 * ratio, (other.name, trained(other).grad_ratio(), ratio)


@pytest.mark.parametrize("lesson", by_expect("overfits"), ids=lambda lesson: lesson.name)
def test_overfits(lesson):
    run = trained(lesson)
    assert run.trainer.status == "ready", run.trainer.message
    assert run.last.train_accuracy >= 0.95, run.last
    lowest = min(r.test_loss for r in run.records)
    assert run.last.test_loss > 1.5 * lowest, (run.last.test_loss, lowest)


@pytest.mark.parametrize("lesson", by_expect("faster-than-sgd"), ids=lambda lesson: lesson.name)
def test_faster_than_sgd(lesson):
    sgd = [
        x
        for x in by_expect("slow")
        if x.spec.optimizer.type == "sgd"
        and without_optimizer(x.spec) == without_optimizer(lesson.spec)
        and x.epochs == lesson.epochs
    ]
    assert len(sgd) == 1, "needs one SGD lesson on the same data, network and epochs"
    assert lesson.spec.optimizer.type != "sgd"
    run, baseline = trained(lesson), trained(sgd[0])
    assert run.trainer.status == baseline.trainer.status == "ready"
    assert run.last.test_accuracy >= LEARNS, run.last
    assert run.last.test_accuracy > baseline.last.test_accuracy + FASTER_BY, (run.last, baseline.last)


def test_the_spiral_needs_depth():
    """The caption's comparison: one hidden layer of as many units in all learns less in the same epochs."""
    (lesson,) = [x for x in LESSONS if x.name == "The spiral needs depth"]
    linear = [layer for layer in lesson.spec.layers if layer.type == LINEAR]
    activation = {layer.type for layer in lesson.spec.layers} - {LINEAR}
    assert len(linear) == 3 and len(activation) == 1
    units = sum(layer.units for layer in linear)
    shallow = lesson.spec.replace(layers=[{"type": LINEAR, "units": units}, {"type": activation.pop()}])
    deep_accuracy = trained(lesson).last.test_accuracy
    shallow_accuracy = train(shallow, lesson.epochs).last.test_accuracy
    assert deep_accuracy >= 0.95
    assert shallow_accuracy < 0.9 and shallow_accuracy < deep_accuracy - 0.1, shallow_accuracy


# ---- the backprop lessons ------------------------------------------------------------------------------
def first_step_direction(trainer: Trainer) -> list:
    """The gradient of the first minibatch, as the first step takes it (one tensor per parameter)."""
    x, y = trainer.data.x_train[: trainer.batch_size], trainer.data.y_train[: trainer.batch_size]
    direction = []
    for record in trace(trainer.model, trainer.loss, x, y):
        if record.is_linear:
            direction += [record.grad_weight, record.grad_bias]
    return direction


def test_one_point_step_by_step():
    """The walk lesson's network is small enough for numbers, it learns, and its walk is the
    report's sequence: forward per module, the loss, backward per module, the update."""
    (lesson,) = [x for x in LESSONS if x.view == "backpropView"]
    assert max(lesson.spec.widths()) <= NUMBERS_UP_TO
    run = trained(lesson)
    assert run.last.test_accuracy >= LEARNS, run.last
    from minidl_gui.components.backprop_views import BackpropMaker

    walk = BackpropMaker(lesson.spec).make(run.trainer, lesson.spec, BackpropWanted(walk=True), False).walk
    modules = len(run.trainer.model)
    kinds = [step.kind for step in walk.steps()]
    assert kinds == ["forward"] * modules + ["loss"] + ["backward"] * modules + ["update"]
    assert [step.module for step in walk.steps()[modules + 1 : -1]] == list(range(modules - 1, -1, -1))


@pytest.mark.parametrize("lesson", by_expect("overshoots"), ids=lambda lesson: lesson.name)
def test_overshoots(lesson):
    """Along the first step's gradient, the lesson's lr lands far above the start and past the
    valley's bottom; the report's lr goes down; and training with it diverges."""
    trainer = make_trainer(lesson.spec)
    x, y, direction = trainer.data.x_train, trainer.data.y_train, first_step_direction(trainer)
    lr, report_lr = lesson.spec.optimizer.lr, REPORT.optimizer.lr
    etas = [i * lr / 20 for i in range(21)]
    along = loss_along(trainer.model, trainer.loss, x, y, direction, etas)
    start, at_lr = along[0].item(), along[-1].item()
    assert at_lr > 2 * start, (start, at_lr)
    assert etas[int(along.argmin())] < lr / 2
    at_report = loss_along(trainer.model, trainer.loss, x, y, direction, [report_lr])[0].item()
    assert report_lr < lr and at_report < start, (at_report, start)
    assert trained(lesson).trainer.status == "diverged"


@pytest.mark.parametrize("lesson", by_expect("broken-backprop"), ids=lambda lesson: lesson.name)
def test_broken_backprop(lesson):
    """The gradient check fails on the lesson's network, and it plateaus where correct backprop learns."""
    assert lesson.spec.mistake in MISTAKES
    run = trained(lesson)
    x, y = run.trainer.data.x_train[:10], run.trainer.data.y_train[:10]
    errors = [relative_error(*gradcheck(run.trainer.model, run.trainer.loss, x, y, 0, (i, 0))) for i in range(4)]
    correct = train(lesson.spec.replace(mistake="none"), lesson.epochs)
    agree = [relative_error(*gradcheck(correct.trainer.model, correct.trainer.loss, x, y, 0, (i, 0))) for i in range(4)]
    assert max(errors) > 0.03 and max(agree) < 1e-6, (errors, agree)  # the GUI's check fails above 1e-4
    assert run.last.test_accuracy <= FAILS, run.last
    assert correct.last.test_accuracy >= LEARNS, correct.last


@pytest.mark.parametrize("lesson", by_expect("dead-units"), ids=lambda lesson: lesson.name)
def test_dead_units(lesson):
    """Most hidden ReLU units end dead: δ = ∂L/∂z is exactly 0 on every training point."""
    assert {layer.type for layer in lesson.spec.layers} == {LINEAR, "relu"}

    def dead_share(trainer: Trainer) -> float:
        records = trace(trainer.model, trainer.loss, trainer.data.x_train, trainer.data.y_train)
        hidden = [r for r in records[:-1] if r.is_linear]
        dead = sum(int((r.grad_output.abs().amax(0) == 0).sum()) for r in hidden)
        return dead / sum(r.grad_output.shape[1] for r in hidden)

    before = dead_share(make_trainer(lesson.spec))
    run = trained(lesson)
    assert run.trainer.status == "ready", run.trainer.message
    after = dead_share(run.trainer)
    assert after >= 0.5 and after > before + 0.25, (before, after)
    assert torch.isfinite(torch.tensor(run.last.train_loss))
