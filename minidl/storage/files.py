"""Reading files from users (hostile until read) and writing files atomically.

Reads: only regular files (a FIFO, a device or a folder is refused without blocking), of a
bounded size. Writes, all through `AtomicTarget`: into a temporary file in the same folder, then
`os.replace`, so a failed save (disk full, no permission) never harms the file that was there and
leaves nothing behind. Problems are `FileProblem`s: one plain sentence
that names the file once.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MAX_TEXT_BYTES = 1 << 20  # a spec is a few kB; 1 MiB is plenty
MAX_MODEL_BYTES = 1 << 30  # the largest network a spec allows, in float32, with room


class FileProblem(ValueError):
    """A file could not be read or written; the message says why in one sentence."""


def _a(what: str) -> str:
    return ("an " if what[:1].lower() in "aeiou" else "a ") + what


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("kiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def read_bytes(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or a `FileProblem`."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileProblem(f"{path} is a folder, not {_a(what)}") from None
    except (OSError, ValueError) as error:  # ValueError: a path with a null byte
        raise FileProblem(f"{path}: cannot open it ({getattr(error, 'strerror', None) or error})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem(f"{path} is a folder, not {_a(what)}")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(f"{path} is not a regular file (a device, pipe or socket), so it is not {_a(what)}")
        if info.st_size > limit:
            raise FileProblem(f"{path} is {_size(info.st_size)}, too large for {_a(what)} (at most {_size(limit)})")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise FileProblem(f"{path}: cannot read it ({error.strerror or error})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read it
        raise FileProblem(f"{path} is too large for {_a(what)} (at most {_size(limit)})")
    return data


def check_writable(path: str | os.PathLike, what: str = "file") -> Path:
    """Refuse, before any work is done, a path that could not be written: a folder, a missing or
    read-only folder."""
    path = Path(path)
    if "\0" in str(path):
        raise FileProblem(f"cannot write the {what}: the file name holds a null character")
    try:
        return _check_writable(path, what)
    except OSError as error:  # a name too long, a loop of links, ...: said, not raised raw
        raise FileProblem(f"cannot write the {what} to {path}: {error.strerror or error}") from None


def _check_writable(path: Path, what: str) -> Path:
    if path.is_dir():
        raise FileProblem(f"{path} is a folder; give a file name for the {what}")
    parent = path.parent
    if not parent.is_dir():
        raise FileProblem(f"cannot write the {what} to {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise FileProblem(f"cannot write the {what} to {path}: the folder {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise FileProblem(f"cannot write the {what} to {path}: the file is read-only")
    return path


def new_file_mode(path: Path) -> int:
    """The mode a file written at `path` gets: an existing file's, or what the umask allows."""
    try:
        return stat.S_IMODE(path.stat().st_mode)  # keep an existing file's permissions
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class AtomicTarget:
    """A temporary file beside `path` (same folder, same suffix) that becomes `path` on `commit()`.

    For writers that need a file *name* (an image exporter, a video encoder) as much as for
    `write_atomic`. Made where the path is chosen: `path` is checked writable first, and the mode
    the file will get (an existing file's, else what the umask allows) is read here, since reading
    the umask means setting it, which another thread must not do at the same time. `commit()`
    may then run in another thread. As a context manager it yields the temporary name, commits on
    success, and on an exception removes the temporary file (an `OSError` becomes a `FileProblem`).
    """

    def __init__(self, path: str | os.PathLike, what: str = "file", refuse_empty: bool = False) -> None:
        self.path = check_writable(path, what)
        self.what = what
        self.refuse_empty = refuse_empty  # commit refuses a temporary file that is still empty
        self.mode = new_file_mode(self.path)
        try:
            fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".minidl-", suffix=".tmp" + self.path.suffix)
        except OSError as error:
            raise self.problem(error) from None
        os.close(fd)
        self.temporary = Path(name)

    def commit(self) -> None:
        """Give the temporary file its mode and put it in place of `path`; `FileProblem` (and the
        temporary file removed) if that fails or, with `refuse_empty`, nothing was written."""
        try:
            if self.refuse_empty and os.path.getsize(self.temporary) == 0:
                raise FileProblem(f"cannot write the {self.what} to {self.path}: nothing was written")
            os.chmod(self.temporary, self.mode)
            os.replace(self.temporary, self.path)
        except BaseException as error:
            self.discard()
            problem = self.problem(error)
            if problem is error:
                raise
            raise problem from None

    def discard(self) -> None:
        """Remove the temporary file (if it is still there); `path` stays as it was."""
        with contextlib.suppress(OSError):
            os.unlink(self.temporary)

    def problem(self, error: BaseException) -> BaseException:
        """`error` in one sentence naming the file: a `FileProblem` for a failed write; others as they are."""
        if isinstance(error, OSError):
            return FileProblem(f"cannot write the {self.what} to {self.path}: {error.strerror or error}")
        if isinstance(error, RuntimeError):  # torch.save wraps the OSError of a failed write
            cause = error.__cause__ or error.__context__
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else "the write failed"
            return FileProblem(f"cannot write the {self.what} to {self.path}: {reason}")
        return error

    def __enter__(self) -> Path:
        return self.temporary

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None:
            self.commit()
            return False
        self.discard()
        problem = self.problem(error)
        if problem is not error:
            raise problem from None
        return False


def atomic_target(path: str | os.PathLike, what: str = "file", refuse_empty: bool = False) -> AtomicTarget:
    """`with atomic_target(path, "plot") as temporary: exporter.export(temporary)`: see `AtomicTarget`."""
    return AtomicTarget(path, what, refuse_empty)


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None], what: str = "file") -> None:
    """Write through `write(handle)` into a temporary file beside `path`, then replace `path`.

    On any failure the old file is untouched, the temporary file is removed and a
    `FileProblem` says why.
    """
    with atomic_target(path, what) as temporary:
        fd = os.open(temporary, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())


def write_text_atomic(path: str | os.PathLike, text: str, what: str = "file") -> None:
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")), what)
