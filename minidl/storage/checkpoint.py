"""Save a trained model with its spec in one file, and read experiment files back, whole or not at all.

A model file is a `torch.save` archive of plain data: `{"format": "minidl-model", "version": 1,
"spec": <the spec as a dict>, "state": <state_dict>}`, read back with `weights_only=True` (no
code is unpickled). A model saved with its trainer also holds `"progress": {"epoch": <completed
epochs>, "record": <the last EpochRecord as a dict, or None>}` (`read_progress`); files without
it (older ones) read as before, and older readers ignore it. An experiment file is a spec as
JSON (`Spec.to_json`). `open_experiment` reads either, telling them apart by their content, checks
everything once (the weights against the spec's shapes, without building a model) and says in one
sentence what is wrong with a file that is neither; the other readers return parts of what it does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from minidl.build import make_model, weight_layout
from minidl.errors import StateError, described
from minidl.nn.container import Sequential
from minidl.nn.module import Module, check_state_dict
from minidl.params import SpecError, stray_key
from minidl.spec import Spec
from minidl.storage.archive import ZIP_MAGIC, read_archive
from minidl.storage.files import MAX_MODEL_BYTES, MAX_TEXT_BYTES, FileProblem, read_bytes, write_atomic
from minidl.train import EpochRecord, Progress, Trainer

FORMAT, VERSION = "minidl-model", 1
PROGRESS_KEYS = ("epoch", "record")
Check = Callable[[Spec], None]  # may refuse a spec (raising `SpecError`) before anything is built

__all__ = [
    "FORMAT",
    "VERSION",
    "ZIP_MAGIC",
    "ExperimentFile",
    "Progress",
    "load_model",
    "open_experiment",
    "read_experiment",
    "read_experiment_progress",
    "read_model",
    "read_progress",
    "read_spec",
    "save_model",
]


@dataclass(frozen=True)
class ExperimentFile:
    """What an experiment or model file holds, checked: the spec, and for a model file the weights
    (they fit the spec) and the `Progress` (None for a model saved without its trainer)."""

    spec: Spec
    state: dict[str, Tensor] | None = None
    progress: Progress | None = None


def save_model(
    path: str | os.PathLike, spec: Spec, model: Module | Mapping[str, Tensor], trainer: Trainer | None = None
) -> None:
    """Write `spec` and the model's weights (a model or its `state_dict()`) atomically: a failed
    save leaves the previous file as it was, never a truncated one. `FileProblem` says why.

    With `trainer`, the file also says how far it had trained (`read_progress`).
    """
    state = model.state_dict() if isinstance(model, Module) else {k: v.detach().clone() for k, v in model.items()}
    payload = {"format": FORMAT, "version": VERSION, "spec": spec.to_dict(), "state": state}
    if trainer is not None:
        record = trainer.last_record
        payload["progress"] = {"epoch": trainer.epoch, "record": None if record is None else record.to_dict()}
    write_atomic(path, lambda handle: torch.save(payload, handle), "model")


def open_experiment(
    path: str | os.PathLike, check: Check | None = None, limit: int = MAX_MODEL_BYTES, models_only: bool = False
) -> ExperimentFile:
    """The checked content of a JSON spec or a model file (told apart by their content, whatever
    their name), or a `FileProblem` saying what is wrong. `check(spec)` may refuse the spec; with
    `models_only`, anything but a model file is refused. A file over `limit` bytes is not parsed."""
    path = Path(path)
    data = read_bytes(path, limit, "minidl model file" if models_only else "experiment or model file")
    if models_only or data.startswith(ZIP_MAGIC):
        return _model(path, data, check)
    if len(data) > MAX_TEXT_BYTES:
        raise FileProblem(f"{path} is too large for a JSON spec and is not a minidl model file")
    return ExperimentFile(_json_spec(path, data, check))


def read_model(
    path: str | os.PathLike, check: Check | None = None, limit: int = MAX_MODEL_BYTES
) -> tuple[Spec, dict[str, Tensor]]:
    """The spec and the weights (checked to fit the spec) of a model file; `FileProblem` if not."""
    opened = open_experiment(path, check, limit, models_only=True)
    assert opened.state is not None  # a model file has weights
    return opened.spec, opened.state


def load_model(path: str | os.PathLike) -> tuple[Spec, Sequential]:
    """The spec and a model with the saved weights; `FileProblem` (a `ValueError`) naming the file."""
    spec, state = read_model(path)
    model = make_model(spec)
    model.load_state_dict(state)
    return spec, model


def read_spec(path: str | os.PathLike, check: Check | None = None) -> Spec:
    """The spec of a JSON spec or of a model file; `FileProblem` saying what is wrong."""
    return open_experiment(path, check).spec


def read_experiment(
    path: str | os.PathLike, check: Check | None = None, limit: int = MAX_MODEL_BYTES
) -> tuple[Spec, dict[str, Tensor] | None]:
    """A spec, with weights if the file is a model file: `(spec, state)` or `(spec, None)`."""
    opened = open_experiment(path, check, limit)
    return opened.spec, opened.state


def read_experiment_progress(
    path: str | os.PathLike, check: Check | None = None, limit: int = MAX_MODEL_BYTES
) -> tuple[Spec, dict[str, Tensor] | None, Progress | None]:
    """`read_experiment`'s `(spec, state)` and the model's `Progress`: `None` for a JSON spec and
    for a model file saved without its trainer (as older files are)."""
    opened = open_experiment(path, check, limit)
    return opened.spec, opened.state, opened.progress


def read_progress(path: str | os.PathLike, limit: int = MAX_MODEL_BYTES) -> Progress | None:
    """How far the model in a model file had trained; `None` if the file does not say (a JSON
    spec, or a model saved without its trainer). The whole file is checked: `FileProblem` if not."""
    return open_experiment(path, limit=limit).progress


# ---- the parts of a file ------------------------------------------------------------------------
def _model(path: Path, data: bytes, check: Check | None) -> ExperimentFile:
    payload = read_archive(path, data, "model", FORMAT, VERSION)
    try:
        spec = Spec.from_dict(payload.get("spec"))
        if check is not None:
            check(spec)
    except SpecError as error:
        raise FileProblem(f"{path}: the saved spec is not usable here: {error}") from None
    state = payload.get("state")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()):
        raise FileProblem(f"{path}: the saved weights are not a mapping of names to tensors")
    try:  # the rules of Module.load_state_dict, against the spec's shapes: no model is built
        check_state_dict("Sequential", {name: shape for name, shape, _ in weight_layout(spec)}, state)
    except (TypeError, ValueError) as error:
        raise FileProblem(f"{path}: the saved weights do not fit the saved spec: {error}") from None
    return ExperimentFile(spec, state, _progress(path, payload))


def _progress(path: Path, payload: dict) -> Progress | None:
    if "progress" not in payload:
        return None
    raw = payload["progress"]
    if not isinstance(raw, dict) or stray_key(raw, PROGRESS_KEYS, PROGRESS_KEYS):
        raise FileProblem(f"{path}: the saved progress is not an epoch and a record ({described(raw)})")
    epoch = raw["epoch"]
    if type(epoch) is not int or epoch < 0:
        raise FileProblem(f"{path}: the saved epoch must be an integer >= 0, got {described(epoch)}")
    try:
        record = None if raw["record"] is None else EpochRecord.from_dict(raw["record"], "progress.record")
    except StateError as error:
        raise FileProblem(f"{path}: the saved metrics are not usable: {error}") from None
    if record is not None and record.epoch > epoch:
        raise FileProblem(f"{path}: the saved metrics are of epoch {record.epoch}, after the {epoch} trained")
    return Progress(epoch, record)


def _json_spec(path: Path, data: bytes, check: Check | None) -> Spec:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(f"{path} is neither a JSON spec (it is not UTF-8 text) nor a minidl model file") from None
    try:
        spec = Spec.from_json(text)
        if check is not None:
            check(spec)
    except SpecError as error:
        raise FileProblem(f"{path}: {error}") from None
    return spec
