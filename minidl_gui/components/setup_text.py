"""A set-up as one short line of text, for a chat or a slide: *Copy setup* / *Paste setup*.

    minidl-setup {"dataset":{"name":"xor"},"layers":[{"type":"linear","units":8},{"type":"tanh"}]}

It is the spec's JSON without the fields that hold their default value, so it stays short and
readable, and reading it back gives exactly the same spec (every float written exactly). Qt-free.
"""

from __future__ import annotations

import json
from typing import Any

from minidl.params import SpecError, quoted
from minidl.spec import Spec

PREFIX = "minidl-setup"
MAX_TEXT = 100_000  # characters: a set-up is a few hundred; a pasted novel is not one


def _without_defaults(value: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    """`value` less every key whose value equals `default`'s (nested dicts compared key by key)."""
    kept = {}
    for key, item in value.items():
        if key not in default:
            kept[key] = item
        elif isinstance(item, dict) and isinstance(default[key], dict) and key != "optimizer":
            rest = _without_defaults(item, default[key])
            if rest:
                kept[key] = rest
        elif item != default[key]:
            kept[key] = item
    return kept


def setup_text(spec: Spec) -> str:
    """The one-line text of `spec`."""
    compact = _without_defaults(spec.to_dict(), Spec().to_dict())
    return f"{PREFIX} {json.dumps(compact, separators=(',', ':'))}"


def parse_setup_text(text: str) -> Spec:
    """The spec of a text made by `setup_text` (as pasted: surrounding quotes, backticks, spaces and
    line breaks are forgiven); a `SpecError` says why a text is not one."""
    if not isinstance(text, str):
        raise SpecError(f"a set-up is text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise SpecError(f"this is {len(text):,} characters, not a set-up (at most {MAX_TEXT:,})")
    cleaned = " ".join(text.split()).strip("`'\" ")
    start = cleaned.find(PREFIX)
    if start < 0:
        raise SpecError(f"not a minidl set-up: it should start with '{PREFIX}', got {quoted(cleaned, 40)}")
    body = cleaned[start + len(PREFIX) :].strip().strip("`'\" ")
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise SpecError(f"the set-up's text is damaged ({str(error)[:80]})") from None
    if not isinstance(raw, dict):
        raise SpecError(f"the set-up must be a JSON object, got {quoted(raw)}")
    return Spec.from_dict(raw)
