"""Points from users: read and write them as CSV, split them into training and test points.

A points file is UTF-8 text, one point a line: `x,y,label`, and optionally a fourth column
`split` (`train` or `test`, as this module writes it when the split is given).

- **Header**: optional. The first line that is not blank or a comment is a header when none
  of its fields is a number; it must name the columns `x`, `y`, `label` (and `split`), in any
  order, in any case, with spaces or double quotes around the names.
- **Separator**: the first line that is not blank or a comment decides it, for the whole file:
  `;` if it holds one (spreadsheets in locales with a decimal comma), else a tab if it holds
  one, else `,` if it holds one, else runs of spaces. Decimals always use a dot.
- **Skipped**: blank lines, and `#` comments (whole lines, or the end of a line).
- **Line endings**: `\\n`, `\\r\\n` or `\\r`; a UTF-8 byte order mark is allowed.
- **Numbers**: decimal (`0.5`, `-3`, `1e-3`, `.5`); NaN and infinities are refused. A label
  is 0 or 1, written as a number (`1`, `1.0`); anything else is refused.
- **Rescaling**: when every coordinate lies in [0, 1] the points are kept exactly as written.
  Otherwise the points are scaled into [0.02, 0.98]² with **one** factor for both axes (the
  shape keeps its aspect ratio; the shorter side is centred), and the notice says from where.
  An axis whose coordinates are all equal sits in the middle; nothing is divided by zero.
- **Problems**: a `FileProblem` whose one sentence names the file, the line and why, e.g.
  `points.csv, line 4: label must be 0 or 1, got '2'`. A bad file returns nothing, so the
  caller's points stay as they were.

Writing uses `repr` of every coordinate, so reading a written file gives exactly the same
float64 values. float32 points are written as their exact float64 value (`0.1f` is written
`0.10000000149011612`); reading returns float64, and converting that back to float32 gives
the very same float32 values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike

import numpy as np
import torch
from torch import Tensor

from minidl._checks import positive_int
from minidl.data import CLASSES, INPUT_DIM, Split, random_split
from minidl.params import quoted
from minidl.storage.files import FileProblem, read_bytes, write_text_atomic

MAX_POINTS_BYTES = 16 << 20  # ~300,000 points written with full precision
MARGIN = 0.02  # rescaled points fill [MARGIN, 1 - MARGIN]²
COLUMNS = ("x", "y", "label")
SPLIT_COLUMN = "split"
SPLIT_NAMES = ("train", "test")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+", re.ASCII)
_NOT_FINITE = {sign + word for sign in ("", "+", "-") for word in ("nan", "inf", "infinity")}
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", None: "spaces"}


@dataclass(frozen=True, eq=False)
class Points:
    """Labelled points: `x` `(n, 2)` floating, `labels` `(n,)` int64 (0 or 1), and `is_test`
    `(n,)` bool (True: a test point) or None when no split is attached."""

    x: Tensor
    labels: Tensor
    is_test: Tensor | None = None

    def __post_init__(self) -> None:
        x, labels, is_test = self.x, self.labels, self.is_test
        if not isinstance(x, Tensor) or not x.dtype.is_floating_point or x.dim() != 2 or x.shape[1] != INPUT_DIM:
            raise TypeError(f"Points: x must be a floating tensor of shape (n, {INPUT_DIM}), got {_describe(x)}")
        n = x.shape[0]
        if not isinstance(labels, Tensor) or labels.dtype != torch.int64 or labels.shape != (n,):
            raise TypeError(f"Points: labels must be an int64 tensor of shape ({n},), got {_describe(labels)}")
        if is_test is not None and (
            not isinstance(is_test, Tensor) or is_test.dtype != torch.bool or is_test.shape != (n,)
        ):
            raise TypeError(f"Points: is_test must be None or a bool tensor of shape ({n},), got {_describe(is_test)}")
        if n and not bool(torch.isfinite(x).all()):
            raise ValueError(f"Points: coordinates must be finite; point {_first(~torch.isfinite(x).all(1))} is not")
        if n and not bool(((labels >= 0) & (labels < CLASSES)).all()):
            bad = _first((labels < 0) | (labels >= CLASSES))
            raise ValueError(f"Points: labels must be 0 or 1; point {bad} has {labels[bad].item()}")

    def __len__(self) -> int:
        return self.x.shape[0]


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _first(mask: Tensor) -> int:
    return int(mask.nonzero()[0, 0])


# ---- reading ---------------------------------------------------------------------------------------
class _LineProblem(Exception):
    """Why a line is bad; the reader adds the file and the line number."""


def _lines(text: str) -> list[str]:
    """Physical lines as an editor numbers them (str.splitlines also splits at \\f, \\x1c, \\u2028…)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _decode(path: object, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8")
        line = len(_lines(before))
        column = len(_lines(before)[-1]) + 1
        byte = data[error.start]
        raise FileProblem(
            f"{path}, line {line}: not UTF-8 text (byte 0x{byte:02x} at character {column}); save the file as UTF-8 CSV"
        ) from None
    return text.removeprefix("\ufeff")


def _separator(line: str) -> str | None:
    for separator in (";", "\t", ","):
        if separator in line:
            return separator
    return None  # runs of spaces


def _fields(line: str, separator: str | None) -> list[str]:
    return [_unquote(field.strip()) for field in line.split(separator)]


def _unquote(field: str) -> str:
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].strip()
    return field


def _number(field: str, what: str) -> float:
    if _NUMBER.fullmatch(field):
        value = float(field)
        if math.isinf(value):
            raise _LineProblem(f"{what} {quoted(field)} is too large (it overflows to infinity)")
        return value
    if field.lower() in _NOT_FINITE:
        raise _LineProblem(f"{what} must be a finite number, got {quoted(field)}")
    if _DECIMAL_COMMA.fullmatch(field):
        raise _LineProblem(f"{what} must be a number with a decimal dot, got {quoted(field)}")
    if not field:
        raise _LineProblem(f"{what} is empty")
    raise _LineProblem(f"{what} must be a number, got {quoted(field)}")


def _label(field: str) -> int:
    if _NUMBER.fullmatch(field):
        value = float(field)
        if value in (0.0, 1.0):
            return int(value)
    raise _LineProblem(f"label must be 0 or 1, got {quoted(field)}")


def _split(field: str) -> bool:
    name = field.lower()
    if name not in SPLIT_NAMES:
        raise _LineProblem(f"split must be 'train' or 'test', got {quoted(field)}")
    return name == "test"


def _is_header(fields: list[str]) -> bool:
    """No field is a number: `0x1p-2,0.2,1` is a point with a bad x, `a,b,c` a bad header."""
    return not any(_NUMBER.fullmatch(field) or field.lower() in _NOT_FINITE for field in fields)


def _header_columns(fields: list[str]) -> list[str]:
    names = [field.lower() for field in fields]
    if sorted(names) not in (sorted(COLUMNS), sorted((*COLUMNS, SPLIT_COLUMN))):
        shown = quoted(",".join(fields))
        raise _LineProblem(f"the header must name the columns x, y, label (and optionally split), got {shown}")
    return names


def _field_count_problem(count: int, columns: list[str] | None, separator: str | None) -> _LineProblem:
    separated = f"separated by {_SEPARATOR_NAMES[separator]}"
    if columns is None:  # the first point, without a header
        return _LineProblem(f"expected 3 fields {separated} (x, y, label) or 4 (x, y, label, split), got {count}")
    return _LineProblem(f"expected {len(columns)} fields {separated} ({', '.join(columns)}), got {count}")


def read_points_csv(path: str | PathLike, max_points: int, limit_bytes: int = MAX_POINTS_BYTES) -> tuple[Points, str]:
    """The points of a CSV file (float64 coordinates in [0, 1]²) and a notice ('' when none):
    what was rescaled, or that a class is missing. A `FileProblem` names the line and why."""
    max_points = positive_int("read_points_csv", "max_points", max_points)
    limit_bytes = positive_int("read_points_csv", "limit_bytes", limit_bytes)
    text = _decode(path, read_bytes(path, limit_bytes, "points file"))
    coordinates: list[tuple[float, float]] = []
    labels: list[int] = []
    tests: list[bool] = []
    columns: list[str] | None = None
    separator: str | None = None
    number = 0
    try:
        for number, raw in enumerate(_lines(text), 1):  # noqa: B007 (the number names the line of a problem)
            line = raw.split("#", 1)[0]
            if not line.strip():
                continue
            if columns is None:
                separator = _separator(line)
                fields = _fields(line, separator)
                if _is_header(fields):
                    columns = _header_columns(fields)
                    continue
                if len(fields) not in (3, 4):
                    raise _field_count_problem(len(fields), None, separator)
                columns = list(COLUMNS) if len(fields) == 3 else [*COLUMNS, SPLIT_COLUMN]
            fields = _fields(line, separator)
            if len(fields) != len(columns):
                raise _field_count_problem(len(fields), columns, separator)
            row = dict(zip(columns, fields))
            point = (_number(row["x"], "x"), _number(row["y"], "y"))
            label = _label(row["label"])
            if SPLIT_COLUMN in row:
                tests.append(_split(row[SPLIT_COLUMN]))
            if len(labels) == max_points:
                raise _LineProblem(f"more than {max_points:,} points (at most {max_points:,} can be loaded)")
            coordinates.append(point)
            labels.append(label)
    except _LineProblem as problem:
        raise FileProblem(f"{path}, line {number}: {problem}") from None
    if not labels:
        raise FileProblem(f"{path} holds no points (only a header, comments or blank lines)")
    x = torch.tensor(coordinates, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.int64)
    is_test = torch.tensor(tests, dtype=torch.bool) if columns and SPLIT_COLUMN in columns else None
    x, rescaled = _into_unit_square(x)
    notices = [rescaled] if rescaled else []
    missing = [c for c in range(CLASSES) if not bool((y == c).any())]
    if missing:
        notices.append(
            f"every point is of class {1 - missing[0]}; a network needs points of both classes to learn a boundary"
        )
    return Points(x, y, is_test), "; ".join(notices)


def _into_unit_square(x: Tensor) -> tuple[Tensor, str]:
    """`x` as it is when inside [0, 1]², else scaled into [MARGIN, 1 - MARGIN]² keeping the aspect
    ratio, with the notice. Halves first: max - min of two huge floats would overflow."""
    low, high = x.min(0).values, x.max(0).values
    if bool((low >= 0).all() and (high <= 1).all()):
        return x, ""
    center = low / 2 + high / 2
    quarter_range = (high / 2 - low / 2).max() / 2  # a quarter of the longer side
    if quarter_range > 0:
        scaled = 0.5 + (0.5 - MARGIN) * ((x / 2 - center / 2) / quarter_range)
    else:  # every point at the same place
        scaled = torch.full_like(x, 0.5)
    ranges = ", ".join(f"{axis} in [{lo:.6g}, {hi:.6g}]" for axis, lo, hi in zip("xy", low.tolist(), high.tolist()))
    notice = (
        f"the coordinates went beyond [0, 1] ({ranges}): "
        f"rescaled into [{MARGIN:g}, {1 - MARGIN:g}]², keeping the aspect ratio"
    )
    return scaled.clamp_(0.0, 1.0), notice


# ---- writing ---------------------------------------------------------------------------------------
def write_points_csv(path: str | PathLike, points: Points, splits: Tensor | Sequence[str] | None = None) -> None:
    """Write `points` as `x,y,label` CSV (with a `split` column of train/test when `splits` is
    given, or else when `points.is_test` is set), atomically: a failed write leaves the old file.

    `splits`: a bool tensor (True: test) or one of 'train'/'test' per point.
    """
    if not isinstance(points, Points):
        raise TypeError(f"write_points_csv: points must be Points, got {type(points).__name__}")
    n = len(points)
    if n == 0:
        raise ValueError("write_points_csv: there are no points to write")
    is_test = _test_flags(splits, n) if splits is not None else points.is_test
    header = ",".join((*COLUMNS, SPLIT_COLUMN) if is_test is not None else COLUMNS)
    rows = zip(points.x.double().tolist(), points.labels.tolist())
    if is_test is None:
        lines = [f"{x!r},{y!r},{label}" for (x, y), label in rows]
    else:
        names = [SPLIT_NAMES[int(test)] for test in is_test.tolist()]
        lines = [f"{x!r},{y!r},{label},{name}" for ((x, y), label), name in zip(rows, names)]
    write_text_atomic(path, "\n".join([header, *lines, ""]), "points file")


def _test_flags(splits: Tensor | Sequence[str], n: int) -> Tensor:
    if isinstance(splits, Tensor):
        if splits.dtype != torch.bool or splits.shape != (n,):
            raise TypeError(f"write_points_csv: splits must be a bool tensor of shape ({n},), got {_describe(splits)}")
        return splits
    if isinstance(splits, str) or not isinstance(splits, Sequence) or len(splits) != n:
        raise TypeError(f"write_points_csv: splits must be {n} of 'train'/'test', got {_describe(splits)}")
    for index, name in enumerate(splits):
        if name not in SPLIT_NAMES:
            raise ValueError(f"write_points_csv: splits[{index}] must be 'train' or 'test', got {quoted(name)}")
    return torch.tensor([name == "test" for name in splits], dtype=torch.bool)


# ---- splitting -------------------------------------------------------------------------------------
def split_by_mask(points: Points, is_test: Tensor, dtype: torch.dtype = torch.float32) -> Split:
    """The training (`~is_test`) and test points as a `Split` with coordinates of `dtype`, points
    in their stored order; both sets must be non-empty (the trainer measures both)."""
    if not isinstance(points, Points):
        raise TypeError(f"split_by_mask: points must be Points, got {type(points).__name__}")
    n = len(points)
    if not isinstance(is_test, Tensor) or is_test.dtype != torch.bool or is_test.shape != (n,):
        raise TypeError(f"split_by_mask: is_test must be a bool tensor of shape ({n},), got {_describe(is_test)}")
    tests = int(is_test.sum())
    if tests == 0 or tests == n:
        empty = "test" if tests == 0 else "training"
        raise ValueError(f"split_by_mask: the {empty} set would be empty; both need at least one point")
    train = ~is_test
    x = points.x.to(dtype)
    return Split(x[train], points.labels[train], x[is_test], points.labels[is_test])


def split_points(
    points: Points, test_share: float, rng: np.random.Generator, dtype: torch.dtype = torch.float32
) -> Split:
    """`points` split into training and test sets by `minidl.data.random_split` (the app's split:
    deterministic given `rng`), as a `Split` of `dtype`; at least 2 points are needed."""
    if not isinstance(points, Points):
        raise TypeError(f"split_points: points must be Points, got {type(points).__name__}")
    n = len(points)
    if n < 2:
        raise ValueError(f"split_points: need at least 2 points for a training and a test point, got {n}")
    return split_by_mask(points, torch.from_numpy(random_split(n, test_share, rng)), dtype)
