"""Typed parameters and tables of named choices: what the registries are made of.

A `Param` is one number, flag or choice with its type, default and range. The spec validates
with it, the command line parses with it, and the app's controls take their ranges from it, so
a limit is written once. An `Entry` is one named choice (a layer type, a loss, an optimizer,
an initialisation, a dataset) with what builds it, its display name and its parameters; a
`Registry` is the table of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

QUOTE_LIMIT = 60  # characters of a user's value quoted in a message


class SpecError(ValueError):
    """A spec field is missing, of the wrong type, or out of range; the message names the field."""


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """`repr(value)`, shortened: a 1 MB string in a file must not become a 1 MB message."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    if isinstance(value, (list, tuple, dict)) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value):,} items"
    try:
        text = repr(value)
    except Exception:  # a repr that fails or recurses too deep
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + "…"


def _number_text(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Param:
    """One typed value: `kind` is int, float, bool or str (with `choices`); `size` makes it a list.

    Ranges are closed unless `low_open`/`high_open`.
    """

    name: str
    kind: type
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    size: int | None = None
    required: bool = False  # a spec must give it; `default` is then only where a new one starts
    doc: str = ""
    label: str = ""  # its name in a form; by default the name in words ("batch_size": "Batch size")

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        words = self.name.replace("_", " ")
        return words[:1].upper() + words[1:]

    # ---- checking ----------------------------------------------------------------------------------
    def check(self, value: Any, path: str | None = None) -> Any:
        """The value, normalised (int, float, bool, str or a tuple of them), or a `SpecError`."""
        path = path or self.name
        if self.size is not None:
            if not isinstance(value, (list, tuple)) or len(value) != self.size:
                raise SpecError(f"{path}: must be a list of {self.size} {self._what()}, got {quoted(value)}")
            return tuple(self._check_one(v, f"{path}[{i}]") for i, v in enumerate(value))
        return self._check_one(value, path)

    def _check_one(self, value: Any, path: str) -> Any:
        problem = self.problem(value)
        if problem:
            raise SpecError(f"{path}: {problem}, got {quoted(value)}")
        if self.kind is float:
            return float(value)
        return value

    def problem(self, value: Any) -> str:
        """Why `value` (one element) is not acceptable, or ''."""
        if self.choices is not None:
            return (
                "" if isinstance(value, str) and value in self.choices else f"must be one of {', '.join(self.choices)}"
            )
        if self.kind is bool:
            return "" if isinstance(value, bool) else "must be true or false"
        if self.kind is str:
            return "" if isinstance(value, str) else "must be a string"
        if isinstance(value, bool) or not isinstance(value, (int, float) if self.kind is float else int):
            return f"must be {self._what()}"
        if self.kind is float:
            try:
                finite = math.isfinite(value)
            except OverflowError:  # an integer too large for a float: out of any range we have
                return f"must be {self._range_words() or self._what()}"
            if not finite:
                return f"must be {self._what()}"
        if not self.contains(value):
            return f"must be {self._range_words()}"
        return ""

    def contains(self, value: float) -> bool:
        low_ok = self.low is None or value > self.low or (value == self.low and not self.low_open)
        high_ok = self.high is None or value < self.high or (value == self.high and not self.high_open)
        return low_ok and high_ok

    def _what(self) -> str:
        if self.kind is int:
            if self.low == 1 and self.high is None:
                return "a positive integer"
            if self.low is not None and self.high is None:
                return f"an integer >= {self.low}"
            return "a positive integer" if self.low == 1 else "an integer"
        return "a finite number" if self.size is None else "finite numbers"

    def _range_words(self) -> str:
        if self.kind is int:
            if self.low is not None and self.high is not None:
                return f"{self._what()} between {self.low} and {self.high}"
            return self._what()
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {_number_text(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {_number_text(self.high)}")
        return " and ".join(parts)

    # ---- text (the command line) ------------------------------------------------------------------
    def parse(self, text: str, path: str | None = None) -> Any:
        """A value typed on a command line (`0.01`, `true`, `0.9,0.999`), checked."""
        path = path or self.name
        if self.size is not None:
            parts = [p.strip() for p in text.split(",")]
            return self.check([self._parse_one(p, path) for p in parts], path)
        return self.check(self._parse_one(text.strip(), path), path)

    def _parse_one(self, text: str, path: str) -> Any:
        if self.choices is not None or self.kind is str:
            return text
        if self.kind is bool:
            words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
            if text.lower() not in words:
                raise SpecError(f"{path}: must be true or false, got {quoted(text)}")
            return words[text.lower()]
        try:
            return int(text) if self.kind is int else float(text)
        except ValueError:
            raise SpecError(f"{path}: must be {self._what()}, got {quoted(text)}") from None

    def range_text(self) -> str:
        """The accepted range for help texts and tooltips: `(0, 10]`, `1 to 1024`, `sgd, adam`."""
        if self.choices is not None:
            return ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is int:
            if self.high is None:
                return f">= {self.low}" if self.low is not None else "any integer"
            return f"{self.low:,} to {self.high:,}"
        if self.low is None and self.high is None:
            return "any number"
        low = "(-inf" if self.low is None else f"{'(' if self.low_open else '['}{self.low:g}"
        high = "inf)" if self.high is None else f"{self.high:g}{')' if self.high_open else ']'}"
        return f"{low}, {high}"


@dataclass(frozen=True)
class Entry:
    """One named choice: `build(**params)` makes it; `params` are its options with their ranges."""

    name: str
    build: Callable[..., Any]
    display: str
    params: tuple[Param, ...] = ()
    doc: str = ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params if p.default is not None}


class Registry(Mapping[str, Entry]):
    """A table of entries by name, in the order they were given (the order menus show)."""

    def __init__(self, kind: str, entries: Iterable[Entry]) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        for entry in entries:
            if entry.name in self._entries:
                raise ValueError(f"{kind} registry: {entry.name!r} is listed twice")
            self._entries[entry.name] = entry

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def choice(self, name: str, default: str | None = None, doc: str = "", label: str = "") -> Param:
        """A `Param` whose values are this registry's names."""
        return Param(name, str, default, choices=self.names, doc=doc, label=label)

    def lookup(self, name: Any, path: str | None = None) -> Entry:
        """The entry called `name`, or a `SpecError` listing the choices."""
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        raise SpecError(f"{path or self.kind}: must be one of {', '.join(self.names)}, got {quoted(name)}")


def stray_key(value: Mapping[Any, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> tuple[str, str] | None:
    """The first key of `value` that is wrong: `("unknown", key)` for the first (in sorted order)
    not in `allowed`, else `("missing", key)` for the first of `required` absent; None if none is."""
    allowed = set(allowed)
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        return "unknown", unknown[0]
    missing = [k for k in required if k not in value]
    return ("missing", missing[0]) if missing else None


def mapping(
    path: str,
    value: Any,
    allowed: Iterable[str],
    required: Iterable[str] = (),
    error: type[Exception] = SpecError,
    show: Callable[[Any], str] = quoted,
    noun: str = "an object",
) -> Mapping[str, Any]:
    """`value` as a mapping with only `allowed` keys and every `required` one, or an `error`
    (a `SpecError` by default) naming `path` and the first key that is wrong.

    The one check of "an object with these fields" for specs, trainer states and saved records;
    `show` quotes a value in the message, `noun` says what `value` must be.
    """
    if not isinstance(value, Mapping):
        raise error(f"{path}: must be {noun}, got {show(value)}")
    allowed = tuple(allowed)
    stray = stray_key(value, allowed, required)
    if stray is None:
        return value
    kind, key = stray
    if kind == "unknown":
        raise error(f"{path}: unknown field {show(key)} (fields: {', '.join(sorted(allowed))})")
    raise error(f"{path}: missing field {key!r}")
