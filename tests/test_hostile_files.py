"""Files from users are hostile until read; every save is atomic.

Every file a user hands minidl (a JSON spec, a model file, or anything else with that name) is
read whole or not at all: a `FileProblem` (a `ValueError`) in one short sentence that names the
file once, never a stack trace, never a hang, never PyTorch's advice to unpickle code. In the app
such a file changes nothing, says why in the banner and never widens the window. Every save goes
through a temporary file and `os.replace`: a failed save leaves the previous file byte for byte
and nothing beside it.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from hostile import QUICK_S, assert_plain, unblock_fifo, within
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import minidl.storage.checkpoint as checkpoint
from minidl.params import SpecError
from minidl.spec import Layer, Spec, make_model
from minidl.storage.checkpoint import ZIP_MAGIC, read_experiment, read_model, read_spec, save_model
from minidl.storage.files import FileProblem, atomic_target, write_atomic, write_text_atomic

SMALL = Spec().replace(n_train=50, n_test=50, layers=[Layer.make("linear", units=4), Layer.make("tanh")])


# ---- helpers --------------------------------------------------------------------------------------


def model_bytes(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def real_model_file(folder: Path, spec: Spec = SMALL, name: str = "real.pt") -> Path:
    path = folder / name
    save_model(path, spec, make_model(spec))
    return path


def leftovers(folder: Path, *expected: str) -> list[str]:
    """Names in `folder` other than `expected` (a temporary file would be one)."""
    return sorted(set(os.listdir(folder)) - set(expected))


# ---- the hostile files -----------------------------------------------------------------------------
# Each maker writes one file into a folder and returns its path and what read_experiment's message says.
def huge_init(folder: Path):
    path = folder / "huge_init.json"
    path.write_text(json.dumps({**Spec().to_dict(), "init": "x" * 1_000_000}))
    return path, "init: must be one of"


def deep_json(folder: Path):
    path = folder / "deep.json"
    path.write_text("[" * 100_000)
    return path, "nested too deep"


def tensor_version(folder: Path):
    path = folder / "tensor_version.pt"
    state = make_model(SMALL).state_dict()
    path.write_bytes(
        model_bytes({"format": "minidl-model", "version": torch.tensor(1), "spec": SMALL.to_dict(), "state": state})
    )
    return path, "version"


def tensor_format(folder: Path):
    path = folder / "tensor_format.pt"
    path.write_bytes(model_bytes({"format": torch.tensor([1, 2]), "version": torch.ones(300, 300)}))
    return path, "is not a minidl model file"


def random_bytes(folder: Path):
    path = folder / "random.bin"
    path.write_bytes(random.Random(1).randbytes(4096))
    return path, "neither a JSON spec"


def random_bytes_in_a_zip(folder: Path):
    path = folder / "random.pt"
    path.write_bytes(ZIP_MAGIC + random.Random(2).randbytes(4096))
    return path, "is not a readable minidl model file"


def truncated_model(folder: Path):
    data = real_model_file(folder, name="whole.pt").read_bytes()
    path = folder / "truncated.pt"
    path.write_bytes(data[: len(data) // 2])
    return path, "is not a readable minidl model file"


def dev_zero(folder: Path):
    path = folder / "zero.json"
    path.symlink_to("/dev/zero")
    return path, "is not a regular file"


def fifo(folder: Path):
    path = folder / "pipe.json"
    os.mkfifo(path)
    return path, "is not a regular file"


def directory(folder: Path):
    path = folder / "a_folder.json"
    path.mkdir()
    return path, "is a folder"


def missing(folder: Path):
    return folder / "nowhere.json", "no such file"


HOSTILE = [
    huge_init,
    deep_json,
    tensor_version,
    tensor_format,
    random_bytes,
    random_bytes_in_a_zip,
    truncated_model,
    dev_zero,
    fifo,
    directory,
    missing,
]
MODEL_LIKE = [tensor_version, tensor_format, random_bytes_in_a_zip, truncated_model]


# ---- reading, in the framework -----------------------------------------------------------------------
@pytest.mark.parametrize("make", HOSTILE, ids=lambda make: make.__name__)
def test_read_experiment_refuses_a_hostile_file_in_one_sentence(tmp_path, make):
    path, why = make(tmp_path)
    for read in (read_experiment, read_spec):
        with pytest.raises(FileProblem) as caught:
            within(QUICK_S, lambda read=read: read(path), fifo=path)
        assert isinstance(caught.value, ValueError)
        assert_plain(str(caught.value), path, why)


@pytest.mark.parametrize("make", HOSTILE, ids=lambda make: make.__name__)
def test_read_model_refuses_a_hostile_file_in_one_sentence(tmp_path, make):
    path, why = make(tmp_path)
    with pytest.raises(FileProblem) as caught:
        within(QUICK_S, lambda: read_model(path), fifo=path)
    if make in MODEL_LIKE or make in (dev_zero, fifo, directory, missing):
        assert_plain(str(caught.value), path, why)
    else:  # a JSON file or random bytes are not model files, whatever else is wrong with them
        assert_plain(str(caught.value), path, "is not a readable minidl model file")


def test_a_file_over_the_limit_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    spec_path = tmp_path / "padded.json"
    spec_path.write_text(Spec().to_json() + " " * 5000)  # a valid spec, made large
    model_path = real_model_file(tmp_path)
    limit = 1000
    assert model_path.stat().st_size > limit and spec_path.stat().st_size > limit
    assert read_experiment(spec_path)[0] == Spec()  # under the default limit it is fine

    def parsed(*args, **kwargs):
        raise AssertionError("a file over the limit was parsed")

    monkeypatch.setattr(checkpoint.torch, "load", parsed)
    monkeypatch.setattr(checkpoint.Spec, "from_json", parsed)
    for path in (spec_path, model_path):
        with pytest.raises(FileProblem) as caught:
            read_experiment(path, limit=limit)
        assert_plain(str(caught.value), path, "too large")
    monkeypatch.undo()
    exact = tmp_path / "exact.json"
    exact.write_bytes(b"x" * limit)
    with pytest.raises(FileProblem, match="not valid JSON"):  # at the limit it is read (and parsed)
        read_experiment(exact, limit=limit)


def test_a_json_spec_with_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes("\ufeff".encode() + SMALL.to_json().encode())
    assert read_experiment(path) == (SMALL, None)
    assert read_spec(path) == SMALL


def test_a_model_file_round_trips(tmp_path):
    path = real_model_file(tmp_path)
    spec, state = read_experiment(path)
    assert spec == SMALL and set(state) == set(make_model(SMALL).state_dict())
    assert read_model(path)[0] == SMALL


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"seed": ' + "7" * 5000 + "}", "seed"),  # more digits than Python converts from text
        ('{"optimizer": {"type": "sgd", "lr": 1' + "0" * 400 + "}}", "optimizer.lr"),
        ('{"dataset": {"noise": 1' + "0" * 400 + "}}", "dataset.noise"),
        ('{"layers": [{"type": "leaky_relu", "slope": -1' + "0" * 400 + "}]}", "layers[0].slope"),
    ],
    ids=["seed_5000_digits", "lr_1e400", "noise_1e400", "slope_minus_1e400"],
)
def test_a_huge_number_in_a_spec_is_a_spec_error(tmp_path, text, field):
    with pytest.raises(SpecError) as caught:
        Spec.from_json(text)
    assert field in str(caught.value) and len(str(caught.value)) < 300
    path = tmp_path / "huge_number.json"
    path.write_text(text)
    with pytest.raises(FileProblem) as caught:
        read_experiment(path)
    assert_plain(str(caught.value), path, field)


def test_a_huge_number_in_a_model_files_spec_is_a_file_problem(tmp_path):
    spec = SMALL.to_dict()
    spec["optimizer"]["lr"] = 10**400
    path = tmp_path / "huge_lr.pt"
    path.write_bytes(model_bytes({"format": "minidl-model", "version": 1, "spec": spec, "state": {}}))
    with pytest.raises(FileProblem) as caught:
        read_experiment(path)
    assert_plain(str(caught.value), path, "optimizer.lr")


# ---- reading, in the app ------------------------------------------------------------------------------
def open_and_refuse(window, path, *fragments: str, fifo_path: Path | None = None) -> None:
    """`window.files.open_experiment(path)` is False at once, says why, and changes nothing."""
    from PySide6.QtWidgets import QApplication

    before = Spec().replace(dataset="xor", batch_size=20, lr=0.003)
    window.apply_spec(before)
    QApplication.processEvents()
    width = window.width()
    rescue = None
    if fifo_path is not None:  # the app reads on its own thread: a blocked open is ended from here
        rescue = threading.Timer(QUICK_S, unblock_fifo, (fifo_path,))
        rescue.start()
    started = time.monotonic()
    try:
        opened = window.files.open_experiment(path)
    finally:
        if rescue is not None:
            rescue.cancel()
    assert time.monotonic() - started < QUICK_S, "opening the file blocked"
    assert opened is False
    QApplication.processEvents()
    text = window.banner.label.text()
    assert window.banner.isVisible() and text.startswith("Could not open the file")
    assert_plain(text, path, *fragments)
    assert window.width() == width, "the message widened the window"
    assert window.session.spec == before and window.current_spec() == before


@pytest.mark.parametrize("make", HOSTILE, ids=lambda make: make.__name__)
def test_the_app_refuses_a_hostile_file_and_changes_nothing(window, tmp_path, make):
    path, why = make(tmp_path)
    open_and_refuse(window, path, why, fifo_path=path if make is fifo else None)


def test_the_app_refuses_a_file_over_its_size_limit(window, tmp_path):
    from minidl_gui.components.limits import MAX_LIVE_FILE_BYTES

    path = tmp_path / "enormous.pt"
    with open(path, "wb") as handle:
        handle.write(ZIP_MAGIC)
        handle.truncate(MAX_LIVE_FILE_BYTES + 1)  # sparse: nothing is written, nothing must be read
    open_and_refuse(window, path, "too large")


def test_the_app_accepts_a_spec_with_a_byte_order_mark(window, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL.to_json().encode())
    assert window.files.open_experiment(path)
    assert window.session.spec == SMALL and not window.banner.isVisible()


@pytest.mark.parametrize("shape", ["64x1024", "n_train_1e6"])
def test_the_app_refuses_a_model_file_too_big_to_train_live(window, tmp_path, shape):
    from minidl_gui.components.limits import MAX_LIVE_PARAMETERS, MAX_LIVE_POINTS

    if shape == "64x1024":
        spec = Spec().replace(layers=[Layer.make("linear", units=1024)] * 64)
        assert spec.parameter_count() > MAX_LIVE_PARAMETERS
        # weights that fit the spec, in a small file: each tensor is one number seen at every index
        state = {name: torch.zeros(1).expand(*shape) for name, shape in parameter_shapes(spec).items()}
        reason = "Too big to train live"
    else:
        spec = SMALL.replace(n_train=1_000_000)
        assert spec.dataset.n_train > MAX_LIVE_POINTS
        state = make_model(spec).state_dict()
        reason = "Too many points to draw live"
    path = tmp_path / f"{shape}.pt"
    path.write_bytes(model_bytes({"format": "minidl-model", "version": 1, "spec": spec.to_dict(), "state": state}))
    open_and_refuse(window, path, reason)


def parameter_shapes(spec: Spec) -> dict[str, tuple[int, ...]]:
    """The parameter shapes of `spec`'s network, without building it (a 64x1024 one is 268 MB)."""
    shapes, widths = {}, iter(zip(spec.widths(), spec.widths()[1:], strict=False))
    for index, layer in enumerate((*spec.layers, Layer.make("linear", units=2))):
        if layer.type == "linear":
            fan_in, fan_out = next(widths)
            shapes[f"{index}.weight"], shapes[f"{index}.bias"] = (fan_out, fan_in), (fan_out,)
    return shapes


def test_parameter_shapes_match_a_real_model():
    assert parameter_shapes(SMALL) == {k: tuple(v.shape) for k, v in make_model(SMALL).state_dict().items()}


def test_the_app_refuses_a_huge_number_and_changes_nothing(window, tmp_path):
    path = tmp_path / "huge_lr.json"
    path.write_text('{"optimizer": {"type": "sgd", "lr": 1' + "0" * 400 + "}}")
    open_and_refuse(window, path, "optimizer.lr")


# ---- fuzzing ----------------------------------------------------------------------------------------
HUGE_INTS = st.integers(min_value=2**63, max_value=10**400) | st.integers(min_value=-(10**400), max_value=-(2**63))
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTS
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["x" * 100_000, "", "\ud800", "linear", "adam", "disk", "default"])
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=12,
)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


NESTED = st.integers(min_value=1, max_value=3000).map(nested)
PATHS = (
    *Spec.KEYS,
    *(f"dataset.{key}" for key in ("name", "n_train", "n_test", "noise", "colour")),
    *(f"optimizer.{key}" for key in ("type", "lr", "momentum", "weight_decay", "nesterov", "betas", "eps")),
    "layers[0]",
    "layers[0].units",
    "layers[0].type",
    "layers[1].type",
    "layers[1].slope",
    "layers[1].units",
    "surprise",
)


def mutate(raw: dict, path: str, value) -> None:
    """Set `path` (`optimizer.lr`, `layers[0].units`, `seed`) in `raw` to `value`."""
    target, key = raw, path
    if "." in path:
        head, key = path.split(".", 1)
        target = raw.setdefault(head.split("[")[0], {})
        if "[" in head:
            index = int(head.split("[")[1].rstrip("]"))
            if not isinstance(target, list) or index >= len(target):
                return
            target = target[index]
        if not isinstance(target, dict):
            return
    elif "[" in path:
        name, index = path.split("[")
        target, key = raw[name], int(index.rstrip("]"))
        if not isinstance(target, list) or key >= len(target):
            return
    target[key] = value


HOSTILE_SCALARS = st.sampled_from(
    [10**400, -(10**400), 2**63, -1, 0, 1e308, -1e-320, float("nan"), float("inf"), True, None, "", "x" * 100_000]
)
MUTATIONS = st.lists(
    st.tuples(st.sampled_from(PATHS), HOSTILE_SCALARS | HUGE_INTS | JSON_VALUES | NESTED), min_size=1, max_size=3
)


def check_spec_outcome(call) -> None:
    """`call()` gives a valid spec or a short `SpecError`; anything else fails the test."""
    try:
        spec = call()
    except SpecError as error:
        assert "\n" not in str(error) and len(str(error)) < 300, str(error)[:400]
    else:
        assert isinstance(spec, Spec) and Spec.from_dict(spec.to_dict()) == spec


def check_file_outcome(path: Path) -> None:
    """read_experiment gives `(spec, weights or None)` or a plain `FileProblem`; nothing else."""
    try:
        spec, state = read_experiment(path)
    except FileProblem as error:
        assert_plain(str(error), path)
    else:
        assert isinstance(spec, Spec) and (state is None or all(isinstance(v, torch.Tensor) for v in state.values()))


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@given(value=JSON_VALUES | NESTED)
def test_fuzz_any_json_value_is_a_spec_or_a_spec_error(value):
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):  # e.g. nested beyond what json writes: no file holds it
        return
    check_spec_outcome(lambda: Spec.from_json(text))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutations=MUTATIONS)
@example(mutations=[("optimizer.lr", 10**400)])
@example(mutations=[("layers[1].slope", -(10**400))])
def test_fuzz_a_mutated_spec_is_a_spec_or_a_spec_error(fuzz_folder, mutations):
    raw = Spec().to_dict()
    raw["layers"][1] = {"type": "leaky_relu", "slope": 0.1}
    for path, value in mutations:
        mutate(raw, path, value)
    check_spec_outcome(lambda: Spec.from_dict(raw))
    try:
        text = json.dumps(raw)
    except (ValueError, RecursionError):
        return
    path = fuzz_folder / "mutated.json"
    path.write_text(text)
    check_file_outcome(path)


@given(data=st.binary(max_size=3000), prefix=st.sampled_from([b"", ZIP_MAGIC, b"\xef\xbb\xbf", b"{", b"\x80\x02"]))
def test_fuzz_random_bytes_are_a_file_problem(fuzz_folder, data, prefix):
    path = fuzz_folder / "random.bin"
    path.write_bytes(prefix + data)
    check_file_outcome(path)


@pytest.fixture(scope="module")
def model_file_bytes(tmp_path_factory) -> bytes:
    return real_model_file(tmp_path_factory.mktemp("model")).read_bytes()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(st.tuples(st.integers(0, 2**20), st.integers(1, 255)), min_size=1, max_size=8),
    keep=st.none() | st.integers(len(ZIP_MAGIC), 2**20),
)
def test_fuzz_a_damaged_model_file_is_a_file_problem(fuzz_folder, model_file_bytes, flips, keep):
    data = bytearray(model_file_bytes)
    inside = len(data) - len(ZIP_MAGIC)  # the zip signature stays: these are model files, damaged
    for where, mask in flips:
        data[len(ZIP_MAGIC) + where % inside] ^= mask
    if keep is not None:
        data = data[: len(ZIP_MAGIC) + keep % inside]
    path = fuzz_folder / "damaged.pt"
    path.write_bytes(bytes(data))
    check_file_outcome(path)


# ---- saving atomically ------------------------------------------------------------------------------
def disk_full_after(some: int):
    """A writer that writes `some` bytes, then finds the disk full."""

    def write(handle) -> None:
        handle.write(b"\0" * some)
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


class FullDisk:
    """A file whose disk fills up after `room` bytes (as `write` reports it: OSError ENOSPC)."""

    def __init__(self, handle, room: int) -> None:
        self._handle, self._room = handle, room

    def write(self, data) -> int:
        if len(data) > self._room:
            self._handle.write(bytes(data[: self._room]))
            self._room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


def fill_the_disk(monkeypatch, room: int = 1000) -> None:
    """Every file opened for writing through `os.fdopen` (as `write_atomic` does) fills the disk."""
    real = os.fdopen

    def fdopen(fd, mode="r", *args, **kwargs):
        handle = real(fd, mode, *args, **kwargs)
        return FullDisk(handle, room) if "w" in mode else handle

    monkeypatch.setattr(os, "fdopen", fdopen)


def test_a_full_disk_keeps_the_previous_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "experiment.json"
    path.write_text("the previous experiment")
    with pytest.raises(FileProblem) as caught:
        write_atomic(path, disk_full_after(4096), "experiment")
    assert_plain(str(caught.value), path, "No space left on device")
    assert path.read_text() == "the previous experiment"
    assert leftovers(tmp_path, path.name) == []


def test_a_full_disk_during_a_new_file_leaves_no_file(tmp_path):
    path = tmp_path / "new.json"
    with pytest.raises(FileProblem, match="No space left on device"):
        write_atomic(path, disk_full_after(10), "experiment")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("full_at", [0.0, 0.1, 0.5, 0.9])
def test_a_full_disk_while_pytorch_writes_a_model_says_so(tmp_path, monkeypatch, full_at):
    path = real_model_file(tmp_path, name="model.pt")
    before = path.read_bytes()
    fill_the_disk(monkeypatch, room=int(full_at * len(before)))
    with pytest.raises(FileProblem) as caught:
        save_model(path, SMALL, make_model(SMALL))
    monkeypatch.undo()
    # torch.save turns the OSError into "[enforce fail at inline_container.cc] unexpected pos";
    # the disk's own words are what the user needs
    assert path.read_bytes() == before
    assert leftovers(tmp_path, path.name) == []
    assert_plain(str(caught.value), path, "No space left on device")


def test_a_failing_fsync_is_a_failed_save(tmp_path, monkeypatch):
    path = tmp_path / "spec.json"
    path.write_text("old")

    def fsync(fd) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(FileProblem) as caught:
        write_text_atomic(path, "new", "spec")
    assert_plain(str(caught.value), path, "No space left on device")
    assert path.read_text() == "old" and leftovers(tmp_path, path.name) == []


@pytest.mark.parametrize("where", ["missing_folder", "a_folder", "proc"])
def test_saving_where_no_file_can_be_is_a_plain_file_problem(tmp_path, where):
    path = {"missing_folder": tmp_path / "no" / "such" / "m.pt", "a_folder": tmp_path, "proc": Path("/proc/x.pt")}[
        where
    ]
    listing = sorted(os.listdir(tmp_path))
    for save in (
        lambda: save_model(path, SMALL, make_model(SMALL)),
        lambda: write_text_atomic(path, "{}", "spec"),
    ):
        with pytest.raises(FileProblem) as caught:
            save()
        assert_plain(str(caught.value), path)
    assert sorted(os.listdir(tmp_path)) == listing
    assert not Path("/proc/x.pt").exists()


def test_a_253_character_file_name_saves(tmp_path):
    model = tmp_path / ("m" * 250 + ".pt")
    spec = tmp_path / ("s" * 248 + ".json")
    assert len(model.name) == len(spec.name) == 253
    save_model(model, SMALL, make_model(SMALL))
    write_text_atomic(spec, SMALL.to_json(), "spec")
    assert sorted(os.listdir(tmp_path)) == sorted([model.name, spec.name])
    assert read_experiment(model)[0] == SMALL and read_experiment(spec) == (SMALL, None)


def test_a_save_leaves_exactly_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "spec.json"
    write_text_atomic(path, "first", "spec")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # a new file: as open() would make it
    path.chmod(0o640)
    write_text_atomic(path, SMALL.to_json(), "spec")
    assert os.listdir(tmp_path) == [path.name]
    assert path.read_text() == SMALL.to_json()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    model = tmp_path / "model.pt"
    model.write_bytes(b"old")
    model.chmod(0o600)
    weights = make_model(SMALL)
    save_model(model, SMALL, weights)
    assert stat.S_IMODE(model.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["model.pt", "spec.json"]
    spec, state = read_experiment(model)
    assert spec == SMALL
    assert all(torch.equal(state[k], v) for k, v in weights.state_dict().items())


# ---- saving, in the app -----------------------------------------------------------------------------
def test_the_app_saves_an_experiment_atomically(window, tmp_path, monkeypatch):
    path = tmp_path / "experiment.json"
    path.write_text("the previous experiment")
    real_fsync = os.fsync

    def fsync(fd) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    assert window.files.save_experiment(path) is False
    text = window.banner.label.text()
    assert window.banner.isVisible() and text.startswith("Could not save the experiment")
    assert_plain(text, path, "No space left on device")
    assert path.read_text() == "the previous experiment" and leftovers(tmp_path, path.name) == []

    monkeypatch.setattr(os, "fsync", real_fsync)
    long_name = tmp_path / ("e" * 248 + ".json")
    for target in (path, long_name):
        assert window.files.save_experiment(target)
        assert Spec.from_json(target.read_text()) == window.session.spec
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, long_name.name])


@pytest.mark.parametrize("where", ["missing_folder", "a_folder", "proc"])
def test_the_app_says_why_an_experiment_cannot_be_saved_there(window, tmp_path, where):
    path = {"missing_folder": tmp_path / "gone" / "e.json", "a_folder": tmp_path, "proc": Path("/proc/x.json")}[where]
    assert window.files.save_experiment(path) is False
    assert_plain(window.banner.label.text(), path)
    assert os.listdir(tmp_path) == []


def test_the_app_saves_a_model_atomically(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    path.write_bytes(b"the previous model")
    real_save = torch.save

    def save_then_fill_the_disk(payload, handle, *args, **kwargs) -> None:
        handle.write(b"PK\x03\x04 a part of a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", save_then_fill_the_disk)
    future = window.files.save_model(path)
    qtbot.waitUntil(future.done)
    assert isinstance(future.exception(), FileProblem)
    assert_plain(str(future.exception()), path, "No space left on device")
    qtbot.waitUntil(window.banner.isVisible)
    assert window.banner.label.text().startswith("Could not save the model")
    assert_plain(window.banner.label.text(), path, "No space left on device")
    assert path.read_bytes() == b"the previous model" and leftovers(tmp_path, path.name) == []

    monkeypatch.setattr(torch, "save", real_save)
    for where in (tmp_path / "missing" / "m.pt", tmp_path, Path("/proc/x.pt")):
        future = window.files.save_model(where)
        qtbot.waitUntil(future.done)
        assert isinstance(future.exception(), FileProblem)
        assert_plain(str(future.exception()), where)
    long_name = tmp_path / ("m" * 250 + ".pt")
    for target in (path, long_name):
        future = window.files.save_model(target)
        qtbot.waitUntil(future.done)
        assert future.exception() is None, future.exception()
        spec, state = read_experiment(target)
        assert spec == window.session.spec and state is not None
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, long_name.name])


# ---- the command line -------------------------------------------------------------------------------
def minidl_train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minidl", "train", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("content", ["random_bytes", "huge_number"])
def test_the_cli_refuses_a_hostile_spec_in_one_line(tmp_path, content):
    path = tmp_path / "spec.json"
    if content == "random_bytes":
        path.write_bytes(random.Random(3).randbytes(2048))
        why = "neither a JSON spec"
    else:
        path.write_text('{"optimizer": {"type": "sgd", "lr": 1' + "0" * 400 + "}}")
        why = "optimizer.lr"
    result = minidl_train("--spec", str(path), "--epochs", "1", "--quiet")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("minidl train: error: --spec: ")
    assert_plain(errors[0], path, why)
    assert result.stderr.count(str(path)) == 1


# ---- a file written by name: atomic_target ----------------------------------------------------------
def test_atomic_target_gives_a_name_beside_the_file_and_puts_it_in_place(tmp_path):
    path = tmp_path / "plot.png"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with atomic_target(path, "plot") as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".png" and temporary != path
        temporary.write_bytes(b"new")  # as an exporter that takes a file name writes it
        assert path.read_bytes() == b"old"
    assert path.read_bytes() == b"new" and leftovers(tmp_path, path.name) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # an existing file's mode is kept


def test_atomic_target_leaves_the_old_file_when_the_writer_fails_or_writes_nothing(tmp_path):
    path = tmp_path / "film.mp4"
    path.write_bytes(b"old")
    with pytest.raises(FileProblem) as caught, atomic_target(path, "recording") as temporary:
        temporary.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert_plain(str(caught.value), path, "No space left on device")
    with pytest.raises(FileProblem, match="nothing was written"), atomic_target(path, "plot", refuse_empty=True):
        pass
    with pytest.raises(KeyError), atomic_target(path, "plot"):  # not a file problem: passed on as it is
        raise KeyError("a bug")
    target = atomic_target(path, "recording")  # made in one thread, committed in another
    target.temporary.write_bytes(b"new")
    thread = threading.Thread(target=target.commit)
    thread.start()
    thread.join()
    assert path.read_bytes() == b"new" and leftovers(tmp_path, path.name) == []
    with pytest.raises(FileProblem, match="is a folder"):
        atomic_target(tmp_path, "plot")
