"""Errors shared by the parts that read saved state: `StateError`, and `described` for their messages."""

from __future__ import annotations

import re
from typing import Any

from torch import Tensor

from minidl.params import QUOTE_LIMIT, quoted


class StateError(ValueError):
    """A saved state does not fit what it is loaded into; the message names the part and says why."""


def described(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """`quoted(value)` on one line; a tensor by its type and shape (its values may be many)."""
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return re.sub(r"\s*\n\s*", " ", quoted(value, limit))
