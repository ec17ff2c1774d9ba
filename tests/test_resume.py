"""A training session saved to one file continues bit for bit; new points train from the next step;
hostile session files are refused in one sentence; model files say how far they had trained."""

from __future__ import annotations

import io
import math
import os
import re
import time
from pathlib import Path

import pytest
import torch
from hostile import QUICK_S, assert_plain, within
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl.storage.resume as resume
import minidl.train.trainer
from minidl.build import make_model, make_trainer, state_fit, weight_layout
from minidl.data import Split
from minidl.errors import StateError
from minidl.nn.linear import Linear
from minidl.params import SpecError
from minidl.spec import Spec
from minidl.storage.checkpoint import (
    Progress,
    read_experiment,
    read_experiment_progress,
    read_model,
    read_progress,
    save_model,
)
from minidl.storage.files import FileProblem
from minidl.storage.resume import SavedSession, read_session, restore_trainer, save_session
from minidl.train import DataError, EpochRecord, Trainer, check_state

LAYERS = [{"type": "linear", "units": 6}, {"type": "tanh"}, {"type": "linear", "units": 5}, {"type": "relu"}]
BASE = Spec.from_dict(
    dict(dataset={"name": "xor", "n_train": 45, "n_test": 20}, layers=LAYERS, batch_size=7, lr_decay=0.9, shuffle=True)
)
SGD = BASE.replace(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.001)
ADAM = BASE.replace(optimizer="adam", lr=0.01)


# ---- helpers --------------------------------------------------------------------------------------
def trained(spec: Spec, steps: int) -> Trainer:
    trainer = make_trainer(spec)
    for _ in range(steps):
        assert trainer.step()
    return trainer


def assert_same(a, b, where: str = "state") -> None:
    """Equal plain data, tensors bit for bit (NaN equal to NaN)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b) or (a.is_floating_point() and torch.equal(a.isnan(), b.isnan())), where
        assert torch.equal(a.nan_to_num(), b.nan_to_num()), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def only_plain_data(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_plain_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_plain_data(v) for v in value)
    return value is None or isinstance(value, (torch.Tensor, str, int, float, bool))


def session_payload(spec: Spec = ADAM, steps: int = 9) -> dict:
    """What save_session writes, as a dict to damage."""
    trainer = trained(spec, steps)
    data = {name: getattr(trainer.data, name).clone() for name in resume.DATA_KEYS}
    return {
        "format": resume.FORMAT,
        "version": resume.VERSION,
        "spec": spec.to_dict(),
        "data": data,
        "trainer": trainer.state_dict(),
        "extra": {"plots": {"log_loss": True}},
    }


def write_payload(path: Path, payload) -> Path:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def session_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("session") / "whole.session"
    save_session(path, ADAM, trained(ADAM, 9), {"plots": {"log_loss": True}})
    return path.read_bytes()


# ---- (a) a saved session continues bit for bit -------------------------------------------------------
@pytest.mark.parametrize("spec", [SGD, ADAM, SGD.replace(nesterov=True, dtype="float64")], ids=["sgd", "adam", "f64"])
@pytest.mark.parametrize(("epochs", "steps", "more"), [(2, 3, 40), (3, 0, 9), (0, 0, 20), (1, 6, 1)])
def test_a_saved_session_continues_bit_for_bit(tmp_path, spec, epochs, steps, more):
    per_epoch = make_trainer(spec).steps_per_epoch
    assert per_epoch == 7
    first = trained(spec, epochs * per_epoch + steps)
    assert (first.epoch, first.step_in_epoch) == (epochs, steps)
    path = tmp_path / "run.session"
    save_session(path, spec, first, {"plots": {"log_loss": True, "shown": ["loss", "accuracy"]}})

    session = read_session(path)
    assert isinstance(session, SavedSession) and session.spec == spec
    assert session.extra == {"plots": {"log_loss": True, "shown": ["loss", "accuracy"]}}
    resumed = restore_trainer(session)
    assert resumed is not first and resumed.model is not first.model
    assert_same(resumed.state_dict(), first.state_dict())
    for _ in range(more):
        assert resumed.step()

    straight = trained(spec, epochs * per_epoch + steps + more)
    assert_same(resumed.state_dict(), straight.state_dict())
    for (p, _), (q, _) in zip(resumed.model.param(), straight.model.param()):
        assert torch.equal(p, q)
    assert [r.as_dict() for r in resumed.history] == [r.as_dict() for r in straight.history]
    assert (resumed.epoch, resumed.steps, resumed.lr) == (straight.epoch, straight.steps, straight.lr)
    assert resumed.last_record == straight.last_record
    assert straight.epoch >= epochs and (more < 8 or straight.epoch > epochs)


def test_the_trainer_state_is_plain_data_and_a_copy():
    trainer = trained(ADAM, 10)
    state = trainer.state_dict()
    assert set(state) == set(Trainer.STATE_KEYS) and only_plain_data(state)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    loaded = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    assert_same(loaded, state)
    kept = {k: v.clone() for k, v in state["model"].items()}
    moments = [m.clone() for m in state["optimizer"]["m"]]
    trainer.run(1)
    assert_same(state["model"], kept)  # training on changed nothing that was saved
    assert_same(state["optimizer"]["m"], moments)
    assert state["epoch"] == 1 and trainer.epoch == 2


def test_the_optimizers_save_and_restore_their_state():
    for spec, keys in ((SGD, {"type", "lr", "momentum_buffers"}), (ADAM, {"type", "lr", "steps", "m", "v"})):
        a, b = trained(spec, 5), make_trainer(spec)
        state = a.optimizer.state_dict()
        assert set(state) == keys and state["type"] == type(a.optimizer).__name__
        b.optimizer.load_state_dict(state)
        assert_same(b.optimizer.state_dict(), state)
    plain = make_trainer(BASE.replace(optimizer="sgd", momentum=0.0))
    assert plain.optimizer.state_dict()["momentum_buffers"] is None
    with pytest.raises(StateError, match="this SGD has no momentum"):
        plain.optimizer.load_state_dict(trained(SGD, 2).optimizer.state_dict())


# ---- all or nothing --------------------------------------------------------------------------------
def transposed_moment(state):
    state["optimizer"]["m"][2] = state["optimizer"]["m"][2].t().clone()


def set_in(*keys_and_value):
    *keys, value = keys_and_value

    def damage(state):
        target = state
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return damage


def drop(key):
    return lambda state: state.pop(key)


def nan_weight(state):
    state["model"]["0.weight"] = state["model"]["0.weight"].clone().fill_(math.nan)


def float64_weight(state):
    state["model"]["0.weight"] = state["model"]["0.weight"].double()


def shuffled_wrongly(state):
    state["order"] = torch.zeros_like(state["order"])


def record_accuracy(state):
    state["history"]["records"][0]["test_accuracy"] = 1.5


BAD_STATES = [
    (transposed_moment, "optimizer state: moment 'm' of parameter 2 has shape (6, 5), the model's is (5, 6)"),
    (set_in("optimizer", "type", "SGD"), "saved by a 'SGD' optimizer, this one is Adam"),
    (set_in("optimizer", "lr", -1.0), "optimizer state: lr must be"),
    (set_in("optimizer", "steps", -3), "optimizer state: steps must be"),
    (set_in("epoch", -1), "epoch: must be an integer >= 0"),
    (set_in("steps", 0), "steps: must be a positive integer, got 0"),
    (set_in("position", 3), "multiple of the batch size 7"),
    (set_in("position", 45), "position: must be an integer between 0 and 44"),
    (shuffled_wrongly, "order: must be an order of the 45 training points"),
    (set_in("order", torch.arange(44)), "order: must be 45 int64 indices, got torch.int64 of shape (44,)"),
    (set_in("last_batch", torch.arange(8)), "last_batch: must be 1 to 7 int64 indices"),
    (set_in("generator", torch.zeros(5056, dtype=torch.uint8)), "generator: not a valid random generator state"),
    (set_in("generator", torch.zeros(3, dtype=torch.uint8)), "generator: must be a torch.uint8 tensor"),
    (set_in("settings", "batch_size", 8), "settings.batch_size: the state was saved with 8, this trainer has 7"),
    (set_in("settings", "shuffle", False), "settings.shuffle"),
    (set_in("status", "done"), "status: must be 'ready' or 'diverged'"),
    (set_in("message", 5), "message: must be a text"),
    (set_in("last_finite_loss", "low"), "last_finite_loss"),
    (set_in("grad_norm_samples", torch.ones(3, 2)), "grad_norm_samples: must be a tensor of shape (samples, 3)"),
    (set_in("grad_norm_samples", -torch.ones(1, 3)), "grad_norm_samples: holds a value that is negative"),
    (set_in("health", [0.5, 2.0]), "health[1]: must be a number between 0 and 1"),
    (set_in("history", "stride", 3), "history.stride: must be a power of 2"),
    (set_in("history", "cap", 10), "history.cap: the state was saved with 10, this trainer has 2000"),
    (record_accuracy, "history.records[0].test_accuracy: must be"),
    (set_in("last_record", "epoch", 99), "last_record.epoch: 99 is after the 1 epochs trained"),
    (set_in("last_record", "grad_norms", [1.0]), "last_record.grad_norms: must hold 3 values"),
    (set_in("last_batch", torch.tensor([45])), "last_batch: holds an index outside the 45 training points"),
    (set_in("model", "9.weight", torch.ones(2)), "model weights: they do not fit the model (an unknown '9.weight'"),
    (
        set_in("model", "0.weight", torch.ones(2, 6)),
        "model weights: '0.weight' has shape (2, 6), the model's is (6, 2)",
    ),
    (float64_weight, "'0.weight' is torch.float64, the model's is torch.float32"),
    (nan_weight, "not finite, yet the status is ready"),
    (drop("history"), "trainer state: missing field 'history'"),
    (set_in("surprise", 1), "trainer state: unknown field 'surprise'"),
]


@pytest.mark.parametrize(("damage", "message"), BAD_STATES, ids=[m for _, m in BAD_STATES])
def test_a_state_that_does_not_fit_is_refused_and_changes_nothing(damage, message):
    state = trained(ADAM, 10).state_dict()
    damage(state)
    trainer = trained(ADAM, 3)
    before = trainer.state_dict()
    with pytest.raises(StateError) as caught:
        trainer.load_state_dict(state)
    assert isinstance(caught.value, ValueError)
    assert message in str(caught.value) and "\n" not in str(caught.value) and len(str(caught.value)) < 300
    assert_same(trainer.state_dict(), before)
    assert trainer.step()  # and it trains on as before


def places(value, path=()):
    """Every (path, value) in a state: dicts, lists and their leaves (tensors are leaves)."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from places(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from places(item, (*path, i))


def replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


DTYPES = [torch.float32, torch.float64, torch.int64, torch.uint8, torch.bool, torch.int32, torch.complex64]
ODD_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.lists(st.integers(-3, 3) | st.floats(-2, 2), max_size=4)
    | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
    | st.builds(
        lambda shape, dtype, fill: torch.full(shape, fill).to(dtype),
        st.lists(st.integers(0, 7), max_size=3).map(tuple),
        st.sampled_from(DTYPES),
        st.sampled_from([0, 1, -1, 2, 0.5, math.nan, math.inf, 5056]),
    )
)


@pytest.fixture(scope="module")
def a_state():
    return trained(ADAM, 10).state_dict()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(where=st.integers(0, 10**6), new=ODD_VALUES)
def test_fuzz_any_part_of_a_state_replaced_is_loaded_or_a_state_error(a_state, where, new):
    everywhere = list(places(a_state))
    path, _ = everywhere[where % len(everywhere)]
    state = replaced(a_state, path, new)
    trainer = make_trainer(ADAM)
    before = trainer.state_dict()
    try:
        trainer.load_state_dict(state)
    except StateError as error:
        assert "\n" not in str(error) and len(str(error)) < 400, str(error)[:500]
        assert_same(trainer.state_dict(), before)
    else:
        trainer.step()


def test_a_state_of_a_trainer_built_otherwise_is_refused():
    state = trained(ADAM, 10).state_dict()
    for trainer, why in (
        (make_trainer(ADAM, record_layers=False), "grad_norm_samples: must be a tensor of shape (samples, 0)"),
        (make_trainer(ADAM, evaluate_every=2), "settings.evaluate_every: the state was saved with 1"),
        (make_trainer(ADAM.replace(optimizer="sgd")), "saved by a 'Adam' optimizer, this one is SGD"),
        (make_trainer(ADAM.replace(n_train=46)), "order: must be 46 int64 indices"),
    ):
        with pytest.raises(StateError, match=re.escape(why)):
            trainer.load_state_dict(state)


def test_an_ensemble_trainer_saves_and_restores_bit_for_bit():
    a = make_trainer(ADAM, models=3)
    for _ in range(10):
        a.step()
    b = make_trainer(ADAM, models=3)
    b.load_state_dict(a.state_dict())
    for _ in range(12):
        a.step()
        b.step()
    assert_same(b.state_dict(), a.state_dict())


def test_a_diverged_trainer_saves_and_restores_as_diverged(tmp_path):
    trainer = make_trainer(SGD.replace(lr=10.0, momentum=0.0, weight_decay=0.0))
    trainer.run(3)
    assert trainer.diverged
    path = tmp_path / "diverged.session"
    save_session(path, SGD.replace(lr=10.0, momentum=0.0, weight_decay=0.0), trainer)
    resumed = restore_trainer(read_session(path))
    assert resumed.diverged and resumed.message == trainer.message and not resumed.step()


# ---- (b) new points, from the next step -------------------------------------------------------------
def corner_points(n: int, dtype=torch.float32) -> Split:
    g = torch.Generator().manual_seed(5)
    x = 0.8 + 0.2 * torch.rand(n, 2, generator=g, dtype=dtype)  # all in the top-right corner
    y = (torch.arange(n) % 2).long()
    return Split(x, y, x[:4].clone(), y[:4].clone())


def test_replace_data_keeps_the_training_and_trains_on_the_new_points():
    trainer = trained(SGD, 10)
    before = trainer.state_dict()
    new = corner_points(30)
    trainer.replace_data(new)
    after = trainer.state_dict()
    for key in ("model", "optimizer", "epoch", "steps", "history", "last_record", "generator", "settings"):
        assert_same(after[key], before[key], key)
    assert after["order"] is None and after["position"] == 0 and trainer.step_in_epoch == 0
    assert trainer.steps_per_epoch == 5 and trainer.data.x_train is not new.x_train  # copied
    assert torch.equal(trainer.data.x_train, new.x_train)

    seen = []
    forward = trainer.model.forward
    trainer.model.forward = lambda x: seen.append(x.clone()) or forward(x)
    epoch = trainer.epoch
    assert trainer.step()
    batch = seen[0]
    assert batch.shape == (7, 2) and bool((batch >= 0.8).all())  # from the new points only
    assert torch.equal(batch, new.x_train[trainer.last_batch])
    assert not torch.equal(trainer.model.state_dict()["0.weight"], before["model"]["0.weight"])
    for _ in range(4):
        assert trainer.step()
    assert trainer.epoch == epoch + 1 and trainer.last_record.epoch == epoch + 1  # an epoch of 30 points
    assert trainer.evaluate()["test_accuracy"].shape == ()
    del trainer.model.forward


def test_replaced_points_are_saved_with_the_session(tmp_path):
    trainer = trained(ADAM, 4)
    trainer.replace_data(corner_points(12))
    trainer.step()
    path = tmp_path / "painted.session"
    save_session(path, ADAM, trainer)
    session = read_session(path)
    assert torch.equal(session.data.x_train, corner_points(12).x_train)
    resumed = restore_trainer(session)
    for t in (trainer, resumed):
        for _ in range(5):
            t.step()
    assert_same(resumed.state_dict(), trainer.state_dict())


def with_(split: Split, **changes) -> Split:
    parts = {name: getattr(split, name) for name in ("x_train", "y_train", "x_test", "y_test")}
    return Split(**{**parts, **changes})


GOOD = corner_points(10)
BAD_SPLITS = [
    (with_(GOOD, x_train=torch.rand(10, 3)), "x_train must be points of shape (n, 2), got shape (10, 3)"),
    (with_(GOOD, x_train=torch.rand(2, 10, 2)), "x_train must be points of shape (n, 2), got shape (2, 10, 2)"),
    (with_(GOOD, x_train=GOOD.x_train.double()), "x_train is torch.float64, the model is torch.float32"),
    (with_(GOOD, y_train=GOOD.y_train.int()), "y_train must be int64 class labels, got torch.int32"),
    (with_(GOOD, y_train=GOOD.y_train[:9]), "y_train must be one label per point, of shape (10,)"),
    (with_(GOOD, y_train=GOOD.y_train + 1), "y_train must be labels 0 or 1, found 2"),
    (with_(GOOD, y_test=-GOOD.y_test - 1), "y_test must be labels 0 or 1, found -1"),
    (with_(GOOD, x_test=GOOD.x_test.clone().fill_(math.nan)), "x_test holds coordinates that are not finite"),
    (with_(GOOD, x_train=torch.zeros(0, 2), y_train=torch.zeros(0, dtype=torch.long)), "x_train holds no points"),
    (with_(GOOD, x_test=torch.zeros(0, 2), y_test=torch.zeros(0, dtype=torch.long)), "x_test holds no points"),
    (with_(GOOD, x_train=[[0.5, 0.5]]), "x_train must be a tensor"),
    ((GOOD.x_train, GOOD.y_train), "the data must be a Split"),
]


@pytest.mark.parametrize(("split", "message"), BAD_SPLITS, ids=[m for _, m in BAD_SPLITS])
def test_replace_data_refuses_points_it_cannot_train_on_and_changes_nothing(split, message):
    trainer = trained(SGD, 3)
    before = trainer.state_dict()
    data = trainer.data
    with pytest.raises(DataError) as caught:
        trainer.replace_data(split)
    assert isinstance(caught.value, ValueError) and message in str(caught.value), str(caught.value)
    assert trainer.data is data
    assert_same(trainer.state_dict(), before)


def test_replace_data_accepts_one_point():
    trainer = trained(ADAM, 2)
    x = torch.tensor([[0.25, 0.75]])
    trainer.replace_data(Split(x, torch.tensor([1]), x.clone(), torch.tensor([0])))
    assert trainer.steps_per_epoch == 1 and trainer.step() and trainer.last_record.test_accuracy in (0.0, 1.0)


# ---- (c) hostile session files ----------------------------------------------------------------------
def damaged(**changes):
    """A payload maker that changes parts of a good one (a function of the payload for deep changes)."""

    def make(payload):
        for key, value in changes.items():
            payload[key] = value(payload) if callable(value) else value
        return payload

    return make


def data_with(**tensors):
    return damaged(data=lambda p: {**p["data"], **{k: v(p["data"]) for k, v in tensors.items()}})


def deep(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def shared_parts():
    part: list = [1]
    for _ in range(25):
        part = [part, part]  # 2**25 paths through 25 lists
    return {"plots": part}


def long_path():
    value = {"k" * 40: torch.ones(1)}
    for _ in range(20):
        value = {"k" * 40: value}
    return value


HOSTILE_PAYLOADS = [
    ("wrong_format", damaged(format="minidl-sesion"), "is not a minidl session file (it has no 'minidl-session'"),
    ("model_file", damaged(format="minidl-model"), "is a minidl model file, not a session"),
    ("tensor_format", damaged(format=torch.ones(3)), "is not a minidl session file"),
    ("version_2", damaged(version=2), "a minidl session file of version 2; this minidl reads 1"),
    ("no_trainer", lambda p: {k: v for k, v in p.items() if k != "trainer"}, "the session has no 'trainer' field"),
    ("unknown_field", damaged(more=1), "the session has an unknown field 'more'"),
    ("spec_lr", damaged(spec=lambda p: {**p["spec"], "batch_size": 0}), "the saved spec is not usable here"),
    ("spec_huge", damaged(spec=lambda p: {**p["spec"], "seed": 10**400}), "seed: must be"),
    ("points_3d", data_with(x_train=lambda d: torch.rand(45, 3)), "x_train must be points of shape (n, 2)"),
    ("points_f64", data_with(x_train=lambda d: d["x_train"].double()), "x_train is torch.float64"),
    ("nan_points", data_with(x_test=lambda d: d["x_test"].clone().fill_(math.nan)), "x_test holds coordinates"),
    ("inf_points", data_with(x_train=lambda d: d["x_train"].clone().fill_(math.inf)), "not finite"),
    ("labels_2", data_with(y_train=lambda d: d["y_train"] * 2), "y_train must be labels 0 or 1, found 2"),
    ("labels_float", data_with(y_test=lambda d: d["y_test"].float()), "y_test must be int64 class labels"),
    ("labels_short", data_with(y_train=lambda d: d["y_train"][:-1]), "y_train must be one label per point"),
    ("no_points", data_with(x_test=lambda d: None), "x_test must be a tensor"),
    ("data_keys", damaged(data={"x": torch.ones(1)}), "the saved points must be x_train, y_train, x_test, y_test"),
    (
        "stride_0_points",
        data_with(x_train=lambda d: torch.zeros(2).as_strided((10**9, 2), (0, 1))),
        "is not a plain dense tensor (of shape (1000000000, 2))",
    ),
    (
        "stride_0_in_the_state",
        damaged(trainer=lambda p: {**p["trainer"], "history": {"cap": torch.zeros(1).expand(10**9)}}),
        "is not a plain dense tensor",
    ),
    (
        "moment_shape",
        damaged(trainer=lambda p: transposed_state(p["trainer"])),
        "the saved training state does not fit: optimizer state: moment 'm' of parameter 2 has shape (6, 5)",
    ),
    (
        "points_not_the_states",
        data_with(x_train=lambda d: d["x_train"][:40], y_train=lambda d: d["y_train"][:40]),
        "the saved training state does not fit",
    ),
    ("trainer_list", damaged(trainer=[1, 2]), "trainer state: must be a mapping"),
    ("extra_tensor", damaged(extra={"a": torch.ones(2)}), "extra['a'] is a Tensor, not plain data"),
    ("extra_list", damaged(extra=[1]), "extra must be a dict"),
    ("extra_deep", damaged(extra={"a": deep(200)}), "is nested too deep"),
    ("extra_shared", damaged(extra=shared_parts()), "repeats a part already used"),
    ("extra_int_key", damaged(extra={1: 2}), "has a key that is not a string"),
    ("extra_long_path", damaged(extra=long_path()), "… is a Tensor, not plain data"),
    ("extra_huge_int", damaged(extra={"a": 10**30}), "an integer too large"),
    ("not_a_dict", lambda p: [p], "is not a minidl session file"),
]


def transposed_state(state):
    transposed_moment(state)
    return state


@pytest.mark.parametrize(("name", "make", "why"), HOSTILE_PAYLOADS, ids=[h[0] for h in HOSTILE_PAYLOADS])
def test_a_damaged_session_is_a_file_problem_in_one_sentence(tmp_path, name, make, why):
    path = write_payload(tmp_path / f"{name}.session", make(session_payload()))
    with pytest.raises(FileProblem) as caught:
        within(QUICK_S, lambda: read_session(path))
    assert_plain(str(caught.value), path, why)


def test_a_good_payload_reads(tmp_path):
    path = write_payload(tmp_path / "good.session", session_payload())
    session = read_session(path)
    assert session.extra == {"plots": {"log_loss": True}} and session.state["steps"] == 9


@pytest.mark.parametrize("where", [0, 1, 4, 30, 200, 0.25, 0.5, 0.9, -22, -1])
def test_a_truncated_session_is_a_file_problem(tmp_path, session_bytes, where):
    keep = where if isinstance(where, int) else int(len(session_bytes) * where)
    path = tmp_path / "truncated.session"
    path.write_bytes(session_bytes[:keep])
    with pytest.raises(FileProblem) as caught:
        read_session(path)
    assert_plain(str(caught.value), path, "session file")


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    flips=st.lists(st.tuples(st.integers(0, 2**20), st.integers(1, 255)), min_size=1, max_size=8),
    keep=st.none() | st.integers(4, 2**20),
)
def test_fuzz_a_damaged_session_file_is_a_session_or_a_file_problem(tmp_path, session_bytes, flips, keep):
    data = bytearray(session_bytes)
    inside = len(data) - 4  # the zip signature stays: these are session files, damaged
    for where, mask in flips:
        data[4 + where % inside] ^= mask
    if keep is not None:
        data = data[: 4 + keep % inside]
    path = tmp_path / "damaged.session"
    path.write_bytes(bytes(data))
    try:
        session = read_session(path)
    except FileProblem as error:
        assert_plain(str(error), path)
    else:  # a flip in a weight's bits may leave a valid session
        restore_trainer(session).step()


@given(data=st.binary(max_size=2000))
def test_fuzz_random_bytes_are_a_file_problem(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("random") / "random.session"
    path.write_bytes(data)
    with pytest.raises(FileProblem) as caught:
        read_session(path)
    assert_plain(str(caught.value), path)


def test_files_that_are_no_files_are_refused_at_once(tmp_path):
    folder = tmp_path / "folder.session"
    folder.mkdir()
    fifo = tmp_path / "pipe.session"
    os.mkfifo(fifo)
    cases = [(folder, "is a folder"), (fifo, "is not a regular file"), (tmp_path / "none.session", "no such file")]
    for path, why in cases:
        started = time.monotonic()
        with pytest.raises(FileProblem) as caught:
            within(QUICK_S, lambda path=path: read_session(path), fifo=fifo if path == fifo else None)
        assert time.monotonic() - started < QUICK_S
        assert_plain(str(caught.value), path, why)


def test_a_session_over_the_limit_is_refused_before_it_is_parsed(tmp_path, session_bytes, monkeypatch):
    path = tmp_path / "big.session"
    path.write_bytes(session_bytes)

    def parsed(*args, **kwargs):
        raise AssertionError("a file over the limit was parsed")

    monkeypatch.setattr(resume.torch, "load", parsed)
    with pytest.raises(FileProblem) as caught:
        read_session(path, limit=len(session_bytes) - 1)
    assert_plain(str(caught.value), path, "too large")
    monkeypatch.undo()
    assert read_session(path, limit=len(session_bytes)).state["steps"] == 9  # at the limit it is read
    huge = tmp_path / "huge.session"
    with open(huge, "wb") as handle:
        handle.write(session_bytes[:4])
        handle.truncate(resume.MAX_SESSION_BYTES + 1)  # sparse: nothing must be read
    with pytest.raises(FileProblem) as caught:
        within(QUICK_S, lambda: read_session(huge))
    assert_plain(str(caught.value), huge, "too large for a minidl session file")


def test_check_may_refuse_the_spec(tmp_path, session_bytes):
    path = tmp_path / "refused.session"
    path.write_bytes(session_bytes)

    def check(spec):
        raise SpecError("too big to train live")

    with pytest.raises(FileProblem) as caught:
        read_session(path, check=check)
    assert_plain(str(caught.value), path, "the saved spec is not usable here: too big to train live")


def test_save_session_refuses_a_trainer_of_another_spec_and_writes_nothing(tmp_path):
    path = tmp_path / "never.session"
    trainer = trained(SGD, 2)
    for spec, why in (
        (ADAM, "its optimizer is SGD"),
        (SGD.replace(batch_size=8), "its batch_size is 7"),
        (SGD.replace(layers=LAYERS[:2]), "its network is not"),
        (SGD.replace(dtype="float64"), "its points are torch.float32"),
    ):
        with pytest.raises(ValueError, match=why):
            save_session(path, spec, trainer)
    for extra, why in (([1], "extra must be a dict"), ({"a": object()}, "extra\\['a'\\] is a object")):
        with pytest.raises(ValueError, match=why):
            save_session(path, SGD, trainer, extra)
    assert os.listdir(tmp_path) == []


def test_a_failed_save_keeps_the_previous_session(tmp_path, monkeypatch):
    path = tmp_path / "kept.session"
    save_session(path, ADAM, trained(ADAM, 3))
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(resume.torch, "save", full)
    with pytest.raises(FileProblem, match="No space left on device"):
        save_session(path, ADAM, trained(ADAM, 5))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["kept.session"]


# ---- (d) model files say how far they had trained ---------------------------------------------------------
def test_a_model_saved_with_its_trainer_reports_its_epoch_and_metrics(tmp_path):
    trainer = trained(ADAM, 2 * 7 + 3)
    path = tmp_path / "trained.pt"
    save_model(path, ADAM, trainer.model, trainer=trainer)
    progress = read_progress(path)
    assert progress == Progress(2, trainer.last_record) and progress.record.epoch == 2
    assert isinstance(progress.record, EpochRecord) and len(progress.record.grad_norms) == 3
    spec, state = read_experiment(path)  # unchanged: two values
    assert spec == ADAM and set(state) == set(trainer.model.state_dict())
    spec, state, progress = read_experiment_progress(path)
    assert progress.epoch == 2 and read_model(path)[0] == ADAM

    fresh = make_trainer(ADAM)
    save_model(path, ADAM, fresh.model, trainer=fresh)
    assert read_progress(path) == Progress(0, None)


def test_old_model_files_and_specs_have_no_progress(tmp_path):
    old = tmp_path / "old.pt"
    save_model(old, ADAM, make_model(ADAM))  # as before: no trainer
    assert read_progress(old) is None and read_experiment_progress(old)[2] is None
    handmade = write_payload(
        tmp_path / "handmade.pt",
        {"format": "minidl-model", "version": 1, "spec": ADAM.to_dict(), "state": make_model(ADAM).state_dict()},
    )
    assert read_progress(handmade) is None and read_experiment(handmade)[0] == ADAM
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(ADAM.to_json())
    assert read_experiment_progress(spec_file) == (ADAM, None, None) and read_progress(spec_file) is None


@pytest.mark.parametrize(
    ("progress", "why"),
    [
        ({"epoch": -1, "record": None}, "the saved epoch must be an integer >= 0"),
        ({"epoch": True, "record": None}, "the saved epoch must be"),
        ({"epoch": 3}, "the saved progress is not an epoch and a record"),
        ([3], "the saved progress is not an epoch and a record"),
        ({"epoch": 1, "record": {"epoch": 1}}, "the saved metrics are not usable: progress.record: missing field"),
        ({"epoch": 1, "record": "good"}, "progress.record: must be a mapping"),
        ({"epoch": 0, "record": "RECORD"}, "the saved metrics are of epoch 1, after the 0 trained"),
        ({"epoch": 1, "record": "NAN_LOSS"}, "progress.record.test_loss: must be a finite number"),
    ],
)
def test_a_model_file_with_bad_progress_is_refused(tmp_path, progress, why):
    record = EpochRecord(1, 0.5, 0.75, 0.5, 0.8, (1.0, 2.0), (0.0,)).to_dict()
    if isinstance(progress, dict) and progress.get("record") == "RECORD":
        progress = {**progress, "record": record}
    if isinstance(progress, dict) and progress.get("record") == "NAN_LOSS":
        progress = {**progress, "record": {**record, "test_loss": math.nan}}
    payload = {"format": "minidl-model", "version": 1, "spec": ADAM.to_dict(), "state": make_model(ADAM).state_dict()}
    path = write_payload(tmp_path / "bad_progress.pt", {**payload, "progress": progress})
    for read in (read_progress, read_experiment, read_model):
        with pytest.raises(FileProblem) as caught:
            read(path)
        assert_plain(str(caught.value), path, why)


def test_epoch_records_round_trip_through_plain_dicts():
    record = EpochRecord(4, 0.25, 0.5, 0.125, 1.0, (0.5, math.inf), (0.0, 1.0))
    plain = record.to_dict()
    assert plain["grad_norms"] == [0.5, math.inf] and isinstance(plain["health"], list)
    assert EpochRecord.from_dict(plain) == record
    with pytest.raises(StateError, match=r"record.health\[0\]: must be a number between 0 and 1"):
        EpochRecord.from_dict({**plain, "health": [-0.5]})


# ---- opened once: checked without building, applied without checking again ------------------------
FITS = [
    ADAM,
    SGD,
    SGD.replace(nesterov=True, dtype="float64"),
    BASE.replace(layers=[]),
    BASE.replace(layers=[{"type": "identity"}, {"type": "linear", "units": 3}, {"type": "softplus", "beta": 2.0}]),
    BASE.replace(shuffle=False, lr_decay=1.0, batch_size=45),
]


@pytest.mark.parametrize("spec", FITS, ids=range(len(FITS)))
def test_what_a_state_must_fit_is_known_from_the_spec_alone(spec):
    trainer = make_trainer(spec)
    fit, optimizer = state_fit(spec, trainer.data.x_train.shape[0])
    assert fit == trainer.fit()
    assert weight_layout(spec) == tuple((n, tuple(p.shape), p.dtype) for n, p, _ in make_model(spec).named_param())
    assert type(optimizer) is type(trainer.optimizer) and all(p.device.type == "meta" for p in optimizer.params)
    trained_state = trained(spec, 3).state_dict()
    check_state(trained_state, fit, optimizer)  # checks as the trainer's own load_state_dict does
    trainer.load_state_dict(trained_state)


def test_reading_a_session_builds_neither_a_trainer_nor_a_model(tmp_path, monkeypatch):
    path = tmp_path / "run.session"
    save_session(path, ADAM, trained(ADAM, 9))

    def built(*args, **kwargs):
        raise AssertionError("read_session built a trainer or a model")

    with monkeypatch.context() as patched:
        patched.setattr(Trainer, "__init__", built)
        patched.setattr(Linear, "__init__", built)
        session = read_session(path)
    assert session.checked is not None and session.checked.fit == make_trainer(ADAM).fit()

    def checked_again(*args, **kwargs):
        raise AssertionError("restore_trainer checked the state again")

    with monkeypatch.context() as patched:
        patched.setattr(minidl.train.trainer, "check_state", checked_again)
        first, second = restore_trainer(session), restore_trainer(session)
    for _ in range(5):  # two trainers from one checked state share no buffer
        assert first.step()
    assert_same(second.state_dict(), trained(ADAM, 9).state_dict())
    assert_same(first.state_dict(), trained(ADAM, 14).state_dict())


def test_a_trainer_restored_otherwise_checks_the_state_in_full(tmp_path):
    path = tmp_path / "run.session"
    save_session(path, ADAM, trained(ADAM, 9))
    session = read_session(path)
    with pytest.raises(StateError, match=re.escape("settings.evaluate_every: the state was saved with 1")):
        restore_trainer(session, evaluate_every=2)
    with pytest.raises(StateError, match="checked for a trainer built otherwise"):
        make_trainer(ADAM, record_layers=False).load_checked(session.checked)


def test_reading_a_model_file_builds_no_model(tmp_path, monkeypatch):
    path = tmp_path / "model.minidl"
    trainer = trained(ADAM, 14)
    save_model(path, ADAM, trainer.model, trainer=trainer)

    def built(*args, **kwargs):
        raise AssertionError("reading a model file built a model")

    with monkeypatch.context() as patched:
        patched.setattr(Linear, "__init__", built)
        spec, state, progress = read_experiment_progress(path)
    assert spec == ADAM and progress == Progress(trainer.epoch, trainer.last_record)
    resumed = make_trainer(spec)
    resumed.model.load_state_dict(state)
    resumed.resume_from(progress)
    assert resumed.epoch == trainer.epoch and resumed.last_record == trainer.last_record
    assert resumed.history.records == [trainer.last_record]
