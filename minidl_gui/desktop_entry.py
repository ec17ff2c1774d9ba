"""`minidl-gui --install-desktop-entry`: the Linux menu entry and icon, for the current user.

Qt-free, and run before the app checks for a display, so it works over ssh and without PySide6.
The desktop file and the icon are package data (minidl_gui/data/), so a pip install has them.
Files go under $XDG_DATA_HOME (default ~/.local/share), each written to a temporary file in its
folder and then renamed over the target; caches that already exist there are refreshed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

APP_ID = "minidl-gui"  # the desktop file's basename: Qt's desktopFileName, the Wayland app_id
DESKTOP_FILE = f"{APP_ID}.desktop"
ICON_FILE = f"{APP_ID}.png"
INSTALL_FLAG = "--install-desktop-entry"
UNINSTALL_FLAG = "--uninstall-desktop-entry"
FLAGS = (INSTALL_FLAG, UNINSTALL_FLAG)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Characters that make an Exec argument need quoting (Desktop Entry Specification, "The Exec key").
EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class InstallError(Exception):
    """A problem the user can fix, said in one line."""


def packaged(name: str) -> bytes:
    return resources.files("minidl_gui").joinpath("data", name).read_bytes()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset, empty or relative (the spec says: ignore it)."""
    environ = os.environ if environ is None else environ
    value = environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    if value:
        print(f"minidl-gui: XDG_DATA_HOME={value} is not an absolute path; using ~/.local/share", file=sys.stderr)
    home = environ.get("HOME") or os.path.expanduser("~")
    if not os.path.isabs(home):
        raise InstallError("minidl-gui: cannot find the home folder (set HOME or XDG_DATA_HOME)")
    return Path(home) / ".local" / "share"


def targets(base: Path, icon: bytes) -> tuple[Path, Path]:
    """Where the desktop file and the icon go; the icon's folder is named after its real size."""
    width, height = png_size(icon)
    if width != height:
        raise ValueError(f"the icon is {width}x{height}: hicolor sizes are square")
    return (
        base / "applications" / DESKTOP_FILE,
        base / "icons" / "hicolor" / f"{width}x{height}" / "apps" / ICON_FILE,
    )


def launcher() -> list[str]:
    """The command that starts this installation's app, as absolute paths."""
    beside = Path(sys.executable).parent / APP_ID  # the same environment as the running code
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside.absolute())]
    found = shutil.which(APP_ID)
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "minidl_gui"]


def quote_exec_argument(arg: str) -> str:
    """One Exec argument, quoted per the spec when it holds a reserved character; '%' doubled."""
    if any(ch in EXEC_RESERVED for ch in arg):
        arg = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    return arg.replace("%", "%%")


def escape_string_value(value: str) -> str:
    """A desktop file string value: backslash, newline, tab and carriage return escaped."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def desktop_text(command: Sequence[str]) -> str:
    """The packaged desktop file with Exec (and TryExec) pointing at `command`."""
    exec_value = escape_string_value(" ".join(quote_exec_argument(arg) for arg in command))
    lines = []
    for line in packaged(DESKTOP_FILE).decode("utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + exec_value
        elif line.startswith("TryExec="):
            line = "TryExec=" + escape_string_value(command[0])
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def refresh_caches(desktop_path: Path, icon_path: Path) -> list[str]:
    """Refresh the menu's and the icon theme's caches where they exist; create none.

    A cache made here would be a file this command then has to own; one that exists but misses the
    new files would hide them. Absent tools, or tools that fail, are not an error.
    """
    done = []
    applications, hicolor = desktop_path.parent, icon_path.parents[2]
    for tool, cache, args in (
        ("update-desktop-database", applications / "mimeinfo.cache", ["-q", str(applications)]),
        ("gtk-update-icon-cache", hicolor / "icon-theme.cache", ["-q", "-t", "-f", str(hicolor)]),
    ):
        executable = shutil.which(tool)
        if executable is None or not cache.is_file():
            continue
        try:
            result = subprocess.run([executable, *args], capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if result.returncode == 0:
            done.append(f"refreshed {cache}")
    return done


def install(base: Path | None = None, command: Sequence[str] | None = None) -> list[str]:
    """Install the icon, then the desktop file (so the entry never names a missing icon)."""
    base = data_home() if base is None else base
    icon = packaged(ICON_FILE)
    desktop_path, icon_path = targets(base, icon)
    text = desktop_text(launcher() if command is None else command)
    for path, data in ((icon_path, icon), (desktop_path, text.encode("utf-8"))):
        try:
            write_atomically(path, data)
        except OSError as error:
            reason = error.strerror or error
            raise InstallError(f"minidl-gui: cannot write to the folder {path.parent}: {reason}") from None
    return [f"wrote {icon_path}", f"wrote {desktop_path}", *refresh_caches(desktop_path, icon_path)]


def uninstall(base: Path | None = None) -> list[str]:
    """Remove the two files `install` writes (the standard folders stay)."""
    base = data_home() if base is None else base
    desktop_path, icon_path = targets(base, packaged(ICON_FILE))
    done = []
    for path in (desktop_path, icon_path):
        if path.is_file() or path.is_symlink():
            try:
                path.unlink()
            except OSError as error:
                raise InstallError(f"minidl-gui: cannot remove {path}: {error.strerror or error}") from None
            done.append(f"removed {path}")
    if not done:
        return [f"nothing to remove: no {DESKTOP_FILE} or {ICON_FILE} under {base}"]
    return done + refresh_caches(desktop_path, icon_path)


def wanted(args: Sequence[str]) -> bool:
    return any(arg in FLAGS for arg in args)


def main(args: Sequence[str]) -> int:
    """`minidl-gui --install-desktop-entry` or `--uninstall-desktop-entry` (args without the program)."""
    if len(args) != 1 or args[0] not in FLAGS:
        print(f"usage: minidl-gui {INSTALL_FLAG} | {UNINSTALL_FLAG}", file=sys.stderr)
        return 2
    try:
        done = install() if args[0] == INSTALL_FLAG else uninstall()
    except InstallError as error:
        print(error, file=sys.stderr)
        return 1
    for line in done:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
