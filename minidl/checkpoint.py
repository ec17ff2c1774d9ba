"""Save a trained model with its spec in one file, and read experiment files back, whole or not at all.

A model file is a `torch.save` archive of plain data: `{"format": "minidl-model", "version": 1,
"spec": <the spec as a dict>, "state": <state_dict>}`, read back with `weights_only=True` (no
code is unpickled). An experiment file is a spec as JSON (`Spec.to_json`). `read_experiment`
reads either, telling them apart by their content, and says in one sentence what is wrong with
a file that is neither.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import Tensor

from minidl.container import Sequential
from minidl.files import MAX_MODEL_BYTES, MAX_TEXT_BYTES, FileProblem, read_bytes, write_atomic
from minidl.module import Module
from minidl.params import SpecError, quoted
from minidl.spec import Spec, make_model

FORMAT, VERSION = "minidl-model", 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def save_model(path: str | os.PathLike, spec: Spec, model: Module | Mapping[str, Tensor]) -> None:
    """Write `spec` and the model's weights (a model or its `state_dict()`) atomically: a failed
    save leaves the previous file as it was, never a truncated one. `FileProblem` says why."""
    state = model.state_dict() if isinstance(model, Module) else {k: v.detach().clone() for k, v in model.items()}
    payload = {"format": FORMAT, "version": VERSION, "spec": spec.to_dict(), "state": state}
    write_atomic(path, lambda handle: torch.save(payload, handle), "model")


def _load_payload(path: Path, data: bytes) -> dict:
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (RuntimeError, ValueError, TypeError, EOFError, zipfile.BadZipFile, KeyError, AttributeError, OSError):
        # torch's own text suggests weights_only=False, which would run code from the file: not for us
        raise FileProblem(f"{path} is not a readable minidl model file (damaged, truncated, or not a model)") from None
    except Exception:  # an unpickler refusing a payload raises its own kinds
        raise FileProblem(f"{path} is not a readable minidl model file (it holds something other than data)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FileProblem(f"{path} is not a minidl model file (it has no {FORMAT!r} header)")
    version = payload.get("version")
    if type(version) is not int or version != VERSION:
        raise FileProblem(f"{path} is a minidl model file of version {quoted(version)}; this minidl reads {VERSION}")
    return payload


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
    return _model_from_bytes(path, read_bytes(path, limit, "minidl model file"), check)


def _model_from_bytes(path: Path, data: bytes, check: Callable[[Spec], None] | None) -> tuple[Spec, dict[str, Tensor]]:
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
    return spec, state


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
    path = Path(path)
    data = read_bytes(path, limit, "experiment or model file")
    if data.startswith(ZIP_MAGIC):
        return _model_from_bytes(path, data, check)
    if len(data) > MAX_TEXT_BYTES:
        raise FileProblem(f"{path} is too large for a JSON spec and is not a minidl model file")
    return _spec_from_bytes(path, data, check), None
