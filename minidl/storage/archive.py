"""Reading the `torch.save` archives minidl writes (model and session files): plain data only.

`torch.load(weights_only=True)` runs no code from the file; a file that is not one of ours, a
damaged one, one of another kind or version is refused in one `FileProblem` sentence naming it.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from minidl.errors import described
from minidl.storage.files import FileProblem

ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
_DAMAGED = (RuntimeError, ValueError, TypeError, EOFError, zipfile.BadZipFile, KeyError, AttributeError, OSError)


def load_plain(data: bytes) -> object:
    """`torch.load` of `data` with `weights_only=True` (no code is run), on the CPU.

    A damaged pickle can make the safe unpickler compare an object whose `__torch_function__`
    torch warns about; that warning is about the file, not about this program, so it is not shown
    (with warnings as errors, torch could not even raise it).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Defining your `__torch_function__`")
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def read_archive(
    path: Path,
    data: bytes,
    what: str,
    format: str,
    version: int,
    zip_only: bool = False,
    other_formats: Mapping[str, str] | None = None,
) -> dict:
    """The payload of a minidl archive: a dict with `"format": format` and `"version": version`.

    `what` names the kind of file in messages ("model", "session"); with `zip_only`, bytes that are
    not a zip archive are refused before torch reads them; `other_formats` says, by format, what to
    tell of a minidl file of another kind."""
    kind = f"minidl {what} file"
    if zip_only and not data.startswith(ZIP_MAGIC):
        raise FileProblem(f"{path} is not a {kind} (it is not a PyTorch archive)")
    try:
        payload = load_plain(data)
    except _DAMAGED:
        # torch's own text suggests weights_only=False, which would run code from the file: not for us
        raise FileProblem(f"{path} is not a readable {kind} (damaged, truncated, or not a {what})") from None
    except Exception:  # an unpickler refusing a payload raises its own kinds
        raise FileProblem(f"{path} is not a readable {kind} (it holds something other than data)") from None
    found = payload.get("format") if isinstance(payload, dict) else None
    if isinstance(found, str) and other_formats and found in other_formats:
        raise FileProblem(f"{path} {other_formats[found]}")
    if found != format:
        raise FileProblem(f"{path} is not a {kind} (it has no {format!r} header)")
    saved = payload.get("version")
    if type(saved) is not int or saved != version:
        raise FileProblem(f"{path} is a {kind} of version {described(saved)}; this minidl reads {version}")
    return payload
