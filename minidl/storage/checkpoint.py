"""Save a trained model with its spec in one file, and read experiment files back, whole or not at all.

A model file is a `torch.save` archive of plain data: `{"format": "minidl-model", "version": 1,
"spec": <the spec as a dict>, "state": <state_dict>}`, read back with `weights_only=True` (no
code is unpickled). A model saved with its trainer also holds `"progress": {"epoch": <completed
epochs>, "record": <the last EpochRecord as a dict, or None>}` (`read_progress`); files without
it (older ones) read as before, and older readers ignore it. An experiment file is a spec as
JSON (`Spec.to_json`). `read_experiment` reads either, telling them apart by their content, and
says in one sentence what is wrong with a file that is neither.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from minidl.nn.container import Sequential
from minidl.nn.module import Module
from minidl.optim import described
from minidl.params import SpecError
from minidl.spec import Spec, make_model
from minidl.storage.files import MAX_MODEL_BYTES, MAX_TEXT_BYTES, FileProblem, read_bytes, write_atomic
from minidl.train import EpochRecord, StateError, Trainer

FORMAT, VERSION = "minidl-model", 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


@dataclass(frozen=True)
class Progress:
    """How far a saved model had trained: its completed epochs and the last recorded metrics."""

    epoch: int
    record: EpochRecord | None = None


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


def load_plain(data: bytes) -> object:
    """`torch.load` of `data` with `weights_only=True` (no code is run), on the CPU.

    A damaged pickle can make the safe unpickler compare an object whose `__torch_function__`
    torch warns about; that warning is about the file, not about this program, so it is not shown
    (with warnings as errors, torch could not even raise it).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Defining your `__torch_function__`")
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _load_payload(path: Path, data: bytes) -> dict:
    try:
        payload = load_plain(data)
    except (RuntimeError, ValueError, TypeError, EOFError, zipfile.BadZipFile, KeyError, AttributeError, OSError):
        # torch's own text suggests weights_only=False, which would run code from the file: not for us
        raise FileProblem(f"{path} is not a readable minidl model file (damaged, truncated, or not a model)") from None
    except Exception:  # an unpickler refusing a payload raises its own kinds
        raise FileProblem(f"{path} is not a readable minidl model file (it holds something other than data)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FileProblem(f"{path} is not a minidl model file (it has no {FORMAT!r} header)")
    version = payload.get("version")
    if type(version) is not int or version != VERSION:
        raise FileProblem(f"{path} is a minidl model file of version {described(version)}; this minidl reads {VERSION}")
    return payload


def _progress(path: Path, payload: dict) -> Progress | None:
    if "progress" not in payload:
        return None
    raw = payload["progress"]
    if not isinstance(raw, dict) or set(raw) != {"epoch", "record"}:
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


def _state(path: Path, payload: dict) -> dict[str, Tensor]:
    state = payload.get("state")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()):
        raise FileProblem(f"{path}: the saved weights are not a mapping of names to tensors")
    return state


def read_model(
    path: str | os.PathLike, check: Callable[[Spec], None] | None = None, limit: int = MAX_MODEL_BYTES
) -> tuple[Spec, dict[str, Tensor]]:
    """The spec and the weights (checked to fit the spec) of a model file; `FileProblem` if not.

    `check(spec)` may refuse the spec (raising `SpecError`) before any model is built.
    """
    path = Path(path)
    return _model_from_bytes(path, read_bytes(path, limit, "minidl model file"), check)[:2]


def _model_from_bytes(
    path: Path, data: bytes, check: Callable[[Spec], None] | None
) -> tuple[Spec, dict[str, Tensor], Progress | None]:
    payload = _load_payload(path, data)
    try:
        spec = Spec.from_dict(payload.get("spec"))
        if check is not None:
            check(spec)
    except SpecError as error:
        raise FileProblem(f"{path}: the saved spec is not usable here: {error}") from None
    state = _state(path, payload)
    try:
        make_model(spec).load_state_dict(state)
    except (TypeError, ValueError) as error:
        raise FileProblem(f"{path}: the saved weights do not fit the saved spec: {error}") from None
    return spec, state, _progress(path, payload)


def load_model(path: str | os.PathLike) -> tuple[Spec, Sequential]:
    """The spec and a model with the saved weights; `FileProblem` (a `ValueError`) naming the file."""
    spec, state = read_model(path)
    model = make_model(spec)
    model.load_state_dict(state)
    return spec, model


def read_spec(path: str | os.PathLike, check: Callable[[Spec], None] | None = None) -> Spec:
    """The spec of a JSON spec or of a model file; `FileProblem` saying what is wrong."""
    return read_experiment(path, check)[0]


def _spec_from_bytes(path: Path, data: bytes, check: Callable[[Spec], None] | None) -> Spec:
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


def read_experiment(
    path: str | os.PathLike, check: Callable[[Spec], None] | None = None, limit: int = MAX_MODEL_BYTES
) -> tuple[Spec, dict[str, Tensor] | None]:
    """A spec, with weights if the file is a model file: `(spec, state)` or `(spec, None)`.

    JSON specs and model files are told apart by their content, whatever their name.
    """
    return read_experiment_progress(path, check, limit)[:2]


def read_experiment_progress(
    path: str | os.PathLike, check: Callable[[Spec], None] | None = None, limit: int = MAX_MODEL_BYTES
) -> tuple[Spec, dict[str, Tensor] | None, Progress | None]:
    """`read_experiment`'s `(spec, state)` and the model's `Progress`: `None` for a JSON spec and
    for a model file saved without its trainer (as older files are)."""
    path = Path(path)
    data = read_bytes(path, limit, "experiment or model file")
    if data.startswith(ZIP_MAGIC):
        return _model_from_bytes(path, data, check)
    if len(data) > MAX_TEXT_BYTES:
        raise FileProblem(f"{path} is too large for a JSON spec and is not a minidl model file")
    return _spec_from_bytes(path, data, check), None, None


def read_progress(path: str | os.PathLike, limit: int = MAX_MODEL_BYTES) -> Progress | None:
    """How far the model in a model file had trained; `None` if the file does not say (a JSON
    spec, or a model saved without its trainer). The whole file is checked: `FileProblem` if not."""
    return read_experiment_progress(path, limit=limit)[2]
