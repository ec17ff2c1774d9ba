"""Save a whole training session in one file, and continue it bit for bit as if it had never stopped.

A session file is a `torch.save` archive of plain data, read back with `weights_only=True` (no
code is unpickled)::

    {"format": "minidl-session", "version": 1,
     "spec": <Spec.to_dict()>,
     "data": {"x_train": (n, 2) float, "y_train": (n,) int64, "x_test": (m, 2), "y_test": (m,)},
     "trainer": <Trainer.state_dict()>,
     "extra": <a JSON-like dict for the app, e.g. how its plots were set; {} if none>}

The data are the points the trainer trains on, which may differ from what the spec's dataset
draws (points painted in the app). Sessions are of one network, not of an ensemble.
`read_session` checks everything once, the training state against what a trainer built from the
saved spec and data would be (`minidl.build.state_fit`: no trainer, no model is built), and
refuses a file in one `FileProblem` sentence that names it; `restore_trainer` then builds the
trainer that goes on where the saved one stopped, applying the checked state without checking
it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from minidl.build import make_model, make_trainer, state_fit
from minidl.data import Split
from minidl.errors import StateError, described
from minidl.params import SpecError, stray_key
from minidl.spec import Spec
from minidl.storage.archive import read_archive
from minidl.storage.checkpoint import FORMAT as MODEL_FORMAT
from minidl.storage.files import MAX_MODEL_BYTES, FileProblem, read_bytes, write_atomic
from minidl.train import CheckedState, DataError, Trainer, check_split, check_state

FORMAT, VERSION = "minidl-session", 1
KEYS = ("format", "version", "spec", "data", "trainer", "extra")
DATA_KEYS = ("x_train", "y_train", "x_test", "y_test")
MAX_SESSION_BYTES = 4 * MAX_MODEL_BYTES  # the largest model with Adam's two moments, and its points
MAX_DEPTH = 32  # nesting of lists and dicts in a file; a session needs 5
MAX_EXTRA_INT = 2**63  # integers in `extra` stay what JSON readers can hold


@dataclass(frozen=True)
class SavedSession:
    """A checked session file: the spec, the points, the trainer's state and the app's extras.

    `checked`: the state as `read_session` checked it, which `restore_trainer` applies as it is.
    """

    spec: Spec
    data: Split
    state: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    checked: CheckedState | None = field(default=None, compare=False, repr=False)


# ---- saving ---------------------------------------------------------------------------------------
def save_session(path: str | os.PathLike, spec: Spec, trainer: Trainer, extra: dict[str, Any] | None = None) -> None:
    """Write the session of `trainer` (built from `spec`, e.g. by `make_trainer`) to one file,
    atomically: a failed save leaves the previous file as it was (`FileProblem` says why).

    `extra`: the app's own plain data (dicts with string keys, lists, str, int, float, bool,
    None), given back by `read_session`. A trainer that does not fit `spec` or an `extra` that is
    not plain data is a `ValueError` before anything is written.
    """
    if not isinstance(spec, Spec):
        raise TypeError(f"save_session: spec must be a Spec, got {type(spec).__name__}")
    if not isinstance(trainer, Trainer):
        raise TypeError(f"save_session: trainer must be a Trainer, got {type(trainer).__name__}")
    extra = {} if extra is None else extra
    problem = _plain_problem(extra, "extra")
    if problem:
        raise ValueError(f"save_session: {problem}")
    problem = _misfit(spec, trainer)
    if problem:
        raise ValueError(f"save_session: the trainer was not built from this spec: {problem}")
    data = {name: getattr(trainer.data, name).detach().to("cpu", copy=True).contiguous() for name in DATA_KEYS}
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "spec": spec.to_dict(),
        "data": data,
        "trainer": trainer.state_dict(),
        "extra": extra,
    }
    write_atomic(path, lambda handle: torch.save(payload, handle), "session")


def _misfit(spec: Spec, trainer: Trainer) -> str:
    """Why `trainer` could not have been built from `spec` ('' if it could)."""
    x = trainer.data.x_train
    if x.dim() != 2:
        return f"its points have shape {tuple(x.shape)}; a session is of one network, not an ensemble"
    if x.dtype != spec.torch_dtype:
        return f"its points are {x.dtype}, the spec's dtype is {spec.dtype}"
    own = [(name, p.shape, p.dtype) for name, p, _ in trainer.model.named_param()]
    if own != [(name, p.shape, p.dtype) for name, p, _ in make_model(spec).named_param()]:
        return f"its network is not {spec.describe()}"
    if type(trainer.optimizer) is not type(spec.optimizer.build([])):
        return f"its optimizer is {type(trainer.optimizer).__name__}, the spec's is {spec.optimizer.type}"
    for name, value in (("batch_size", spec.batch_size), ("lr_decay", spec.lr_decay), ("shuffle", spec.shuffle)):
        if getattr(trainer, name) != value:
            return f"its {name} is {getattr(trainer, name)!r}, the spec's is {value!r}"
    return ""


# ---- reading --------------------------------------------------------------------------------------
def read_session(
    path: str | os.PathLike, check: Callable[[Spec], None] | None = None, limit: int = MAX_SESSION_BYTES
) -> SavedSession:
    """The checked content of a session file, or a `FileProblem` (a `ValueError`) saying in one
    sentence what is wrong. `check(spec)` may refuse the spec (raising `SpecError`) before any
    model is built; a file over `limit` bytes is refused before it is parsed."""
    path = Path(path)
    payload = read_archive(
        path,
        read_bytes(path, limit, "minidl session file"),
        "session",
        FORMAT,
        VERSION,
        zip_only=True,
        other_formats={MODEL_FORMAT: "is a minidl model file, not a session: open it as a model"},
    )
    stray = stray_key(payload, KEYS, KEYS)
    if stray is not None:
        kind, key = stray
        if kind == "missing":
            raise FileProblem(f"{path}: the session has no {key!r} field; the file is incomplete")
        raise FileProblem(f"{path}: the session has an unknown field {described(key)}")
    where = _not_dense(payload)
    if where:
        raise FileProblem(f"{path}: {where}")
    try:
        spec = Spec.from_dict(payload["spec"])
        if check is not None:
            check(spec)
    except SpecError as error:
        raise FileProblem(f"{path}: the saved spec is not usable here: {error}") from None
    data = _data(path, payload["data"], spec)
    extra = payload["extra"]
    problem = _plain_problem(extra, "extra")
    if problem:
        raise FileProblem(f"{path}: the app's saved settings are not plain data: {problem}")
    state = payload["trainer"]
    try:
        checked = check_state(state, *state_fit(spec, data.x_train.shape[0]))
    except StateError as error:
        raise FileProblem(f"{path}: the saved training state does not fit: {error}") from None
    return SavedSession(spec, data, state, extra, checked)


def restore_trainer(session: SavedSession, **trainer_options: Any) -> Trainer:
    """A trainer built from the session's spec and points that goes on exactly where the saved
    one stopped. `trainer_options` go to `make_trainer` (e.g. `threads`, `device`); they must
    build the trainer the saved one was (a `StateError` says what does not fit). The state
    `read_session` checked is applied as it is; a trainer built otherwise checks it in full."""
    data = Split(*(getattr(session.data, name).clone() for name in DATA_KEYS))
    trainer = make_trainer(session.spec, data=data, **trainer_options)
    if session.checked is None:
        trainer.load_state_dict(session.state)
    else:
        trainer.load_checked(session.checked, session.state)
    return trainer


def _not_dense(payload: Any) -> str:
    """Where a tensor in `payload` is not a plain dense CPU tensor backed by bytes of the file (one
    that claims more elements than its storage holds, with a stride of 0), or the nesting is too
    deep; '' if neither."""
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(payload, "the session", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, Tensor):
            dense = value.layout == torch.strided and value.device.type == "cpu" and not value.is_quantized
            if not dense or value.untyped_storage().nbytes() < value.numel() * value.element_size():
                return f"{_short(where)} is not a plain dense tensor (of shape {tuple(value.shape)})"
            continue
        if not isinstance(value, (dict, list, tuple)) or id(value) in seen:
            continue
        if depth >= MAX_DEPTH:
            return f"{_short(where)} is nested too deep"
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, f"a key of {where}", depth + 1))
                stack.append((item, f"{where}[{described(key, 30)}]", depth + 1))
        else:
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
    return ""


def _short(where: str, limit: int = 100) -> str:
    """A place in a file, its end kept short enough for a message."""
    return where if len(where) <= limit else where[: limit - 1] + "…"


def _data(path: Path, raw: Any, spec: Spec) -> Split:
    if not isinstance(raw, dict) or stray_key(raw, DATA_KEYS, DATA_KEYS):
        raise FileProblem(f"{path}: the saved points must be {', '.join(DATA_KEYS)}, got {described(raw)}")
    try:
        return check_split(Split(*(raw[name] for name in DATA_KEYS)), spec.torch_dtype)
    except DataError as error:
        raise FileProblem(f"{path}: the saved points cannot be trained on: {error}") from None


def _plain_problem(value: Any, where: str) -> str:
    """Why `value` is not plain JSON-like data (a dict at the top, of dicts with string keys,
    lists, str, int, float, bool and None, each part used once), or ''."""
    if not isinstance(value, dict):
        return f"{where} must be a dict, got {described(value)}"
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        value, at, depth = stack.pop()
        if value is None or isinstance(value, (bool, str, float)):
            continue
        if isinstance(value, int):
            if abs(value) >= MAX_EXTRA_INT:
                return f"{_short(at)} is an integer too large to keep"
            continue
        if not isinstance(value, (dict, list, tuple)):
            return f"{_short(at)} is a {type(value).__name__}, not plain data"
        if id(value) in seen:
            return f"{_short(at)} repeats a part already used"
        if depth >= MAX_DEPTH:
            return f"{_short(at)} is nested too deep"
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"{_short(at)} has a key that is not a string ({described(key, 30)})"
                stack.append((item, f"{at}[{described(key, 30)}]", depth + 1))
        else:
            stack.extend((item, f"{at}[{i}]", depth + 1) for i, item in enumerate(value))
    return ""


__all__ = [
    "FORMAT",
    "MAX_SESSION_BYTES",
    "VERSION",
    "SavedSession",
    "read_session",
    "restore_trainer",
    "save_session",
]
