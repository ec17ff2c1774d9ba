"""Save a trained model with its spec in one file, and load it back whole or not at all.

The file is a `torch.save` archive of plain data: `{"format": "minidl-model", "version": 1,
"spec": <the spec as a dict>, "state": <state_dict>}`, read back with `weights_only=True` (no
code is unpickled). The spec alone can also be written as JSON (`Spec.to_json`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from minidl.container import Sequential
from minidl.module import Module
from minidl.spec import Spec, SpecError, make_model

FORMAT, VERSION = "minidl-model", 1


def save_model(path: str | os.PathLike, spec: Spec, model: Module | Mapping[str, Tensor]) -> None:
    """Write `spec` and the model's weights (a model or its `state_dict()`) atomically: a crash
    mid-write leaves the previous file, never a truncated one."""
    path = Path(path)
    state = model.state_dict() if isinstance(model, Module) else {k: v.clone() for k, v in model.items()}
    payload = {"format": FORMAT, "version": VERSION, "spec": spec.to_dict(), "state": state}
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def load_model(path: str | os.PathLike) -> tuple[Spec, Sequential]:
    """The spec and a model with the saved weights; `ValueError` naming the file if anything is off."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # torch reports corruption with many exception types
        raise ValueError(f"{path}: not a readable minidl model file ({type(error).__name__}: {error})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a minidl model file (no {FORMAT!r} header)")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path}: model file version {payload.get('version')!r}, this minidl reads {VERSION}")
    try:
        spec = Spec.from_dict(payload.get("spec"))
    except SpecError as error:
        raise ValueError(f"{path}: the saved spec is invalid: {error}") from error
    model = make_model(spec)
    try:
        model.load_state_dict(payload.get("state"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: the saved weights do not fit the saved spec: {error}") from error
    return spec, model
