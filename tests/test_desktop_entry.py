"""`minidl-gui --install-desktop-entry`: a valid desktop file and icon for the user, no display, no Qt."""

from __future__ import annotations

import configparser
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from minidl_gui import desktop_entry

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("Type", "Name", "Exec", "Icon")
PACKAGED_ICON = Path("minidl_gui") / "data" / "minidl-gui.png"


def run_cli(*args: str, env: dict[str, str], code: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "minidl_gui", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


@pytest.fixture
def env(tmp_path):
    """No display at all (the command must not need one) and XDG_DATA_HOME in tmp_path."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    environ["XDG_DATA_HOME"] = str(tmp_path / "share")
    return environ


def files_under(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if not p.is_dir()} if folder.exists() else set()


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return parser["Desktop Entry"]


def unescape(value: str) -> str:
    """A string value's escapes (spec: \\s \\n \\t \\r \\\\)."""
    out, chars = [], iter(value)
    for ch in chars:
        out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(next(chars), "?") if ch == "\\" else ch)
    return "".join(out)


def exec_argv(value: str) -> list[str]:
    """The Exec key's arguments, as the spec reads them: string escapes, then quoting, then %%."""
    args: list[str] = []
    current: list[str] | None = None
    chars, quoted = iter(unescape(value)), False
    for ch in chars:
        if quoted:
            if ch == "\\":
                escaped = next(chars)
                assert escaped in '"`$\\', f"bad escape \\{escaped} in {value!r}"
                current.append(escaped)
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == " ":
            if current is not None:
                args.append("".join(current))
            current = None
        elif ch == '"':
            assert current is None, f"a quote inside an argument in {value!r}"
            current, quoted = [], True
        else:
            assert ch not in "\\'`$<>|&;*?#()~\t\n", f"{ch!r} unquoted in {value!r}"
            current = current if current is not None else []
            current.append(ch)
    assert not quoted, f"unclosed quote in {value!r}"
    if current is not None:
        args.append("".join(current))
    for arg in args:  # no field codes here: every % is a literal one, written %%
        assert re.fullmatch(r"(?:[^%]|%%)*", arg), f"a lone % in {value!r}"
    return [arg.replace("%%", "%") for arg in args]


def check_installed(share: Path) -> configparser.SectionProxy:
    desktop = share / "applications" / "minidl-gui.desktop"
    icons = list((share / "icons" / "hicolor").glob("*/apps/minidl-gui.png"))
    assert desktop.is_file()
    assert len(icons) == 1
    icon = icons[0]
    entry = read_entry(desktop)
    for key in REQUIRED:
        assert entry.get(key), key
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    assert entry["Icon"] == icon.stem
    assert set(entry["Categories"].rstrip(";").split(";")) == {"Education", "Science", "ArtificialIntelligence"}
    argv = exec_argv(entry["Exec"])
    assert Path(argv[0]).is_absolute() and os.access(argv[0], os.X_OK), argv
    assert Path(argv[0]).name == "minidl-gui" or argv[1:] == ["-m", "minidl_gui"], argv
    assert unescape(entry["TryExec"]) == argv[0]
    # The icon: a PNG whose header says the size its folder says, and that Pillow decodes at that size.
    data = icon.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    folder_size = icon.parent.parent.name
    width, height = desktop_entry.png_size(data)
    assert folder_size == f"{width}x{height}" == "256x256"
    with Image.open(icon) as image:
        assert image.format == "PNG" and image.size == (width, height)
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(desktop)], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and "error" not in result.stdout.lower(), result.stdout + result.stderr
    return entry


def test_install_and_uninstall_through_the_command(env, tmp_path):
    share = tmp_path / "share"
    first = run_cli("--install-desktop-entry", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    check_installed(share)
    installed = files_under(share)
    assert installed == {Path("applications/minidl-gui.desktop"), Path("icons/hicolor/256x256/apps/minidl-gui.png")}
    lines = first.stdout.splitlines()
    assert lines == [f"wrote {share / p}" for p in sorted(installed, key=lambda p: p.suffix != ".png")]

    second = run_cli("--install-desktop-entry", env=env)  # twice is fine: the same files, replaced
    assert second.returncode == 0, second.stderr
    assert files_under(share) == installed
    check_installed(share)

    (share / "applications" / "someone-else.desktop").write_text("[Desktop Entry]\n")
    removed = run_cli("--uninstall-desktop-entry", env=env)
    assert removed.returncode == 0, removed.stderr
    assert files_under(share) == {Path("applications/someone-else.desktop")}
    assert len(removed.stdout.splitlines()) == 2
    again = run_cli("--uninstall-desktop-entry", env=env)
    assert again.returncode == 0 and again.stdout.startswith("nothing to remove")


def test_exec_names_this_environments_script(env, tmp_path):
    run_cli("--install-desktop-entry", env=env)
    entry = read_entry(tmp_path / "share" / "applications" / "minidl-gui.desktop")
    script = Path(sys.executable).parent / "minidl-gui"
    if script.is_file():
        assert exec_argv(entry["Exec"]) == [str(script)]
    else:
        assert exec_argv(entry["Exec"])[1:] == ["-m", "minidl_gui"]


def test_it_imports_no_qt_and_needs_no_display(env, tmp_path):
    code = (
        "import sys\nfrom minidl_gui.app import main\n"
        "code = main(['minidl-gui', '--install-desktop-entry'])\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken6'))]\n"
        "sys.exit(code)"
    )
    result = run_cli(env=env, code=code)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "share" / "applications" / "minidl-gui.desktop").is_file()


def test_a_relative_xdg_data_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {"XDG_DATA_HOME": "relative/share", "HOME": str(tmp_path / "home")}
    assert desktop_entry.data_home(environ) == tmp_path / "home" / ".local" / "share"
    assert desktop_entry.data_home({"HOME": "/h"}) == Path("/h/.local/share")
    assert desktop_entry.data_home({"HOME": "/h", "XDG_DATA_HOME": ""}) == Path("/h/.local/share")
    assert desktop_entry.data_home({"HOME": "/h", "XDG_DATA_HOME": "/x"}) == Path("/x")
    env = {**os.environ, **environ}
    env.pop("DISPLAY", None)
    result = run_cli("--install-desktop-entry", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "not an absolute path" in result.stderr
    assert (tmp_path / "home" / ".local" / "share" / "applications" / "minidl-gui.desktop").is_file()
    assert not (tmp_path / "relative").exists()


def one_line_failure(result: subprocess.CompletedProcess, folder: Path) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert str(folder) in result.stderr


def test_a_data_home_below_a_file_fails_in_one_line(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env["XDG_DATA_HOME"] = str(blocker / "share")
    one_line_failure(run_cli("--install-desktop-entry", env=env), blocker)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through a read-only mode")
def test_a_read_only_data_home_fails_in_one_line(env, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    share.chmod(0o555)
    try:
        one_line_failure(run_cli("--install-desktop-entry", env=env), share)
        assert files_under(share) == set()
    finally:
        share.chmod(0o755)


def test_bad_arguments_get_usage(env):
    both = run_cli("--install-desktop-entry", "--uninstall-desktop-entry", env=env)
    assert both.returncode == 2 and "usage" in both.stderr


def fake_tool(folder: Path, name: str, log: Path) -> None:
    tool = folder / name
    tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    tool.chmod(0o755)


def test_caches_refreshed_only_where_they_exist(tmp_path, monkeypatch):
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))  # no real tools: absent ones are no error
    share = tmp_path / "share"
    assert len(desktop_entry.install(share, ["/opt/x/minidl-gui"])) == 2
    for name in ("update-desktop-database", "gtk-update-icon-cache"):
        fake_tool(bin_dir, name, log)
    assert len(desktop_entry.install(share, ["/opt/x/minidl-gui"])) == 2
    assert not log.exists()  # no cache there: none is made
    (share / "applications" / "mimeinfo.cache").write_text("")
    (share / "icons" / "hicolor" / "icon-theme.cache").write_text("")
    lines = desktop_entry.install(share, ["/opt/x/minidl-gui"])
    assert lines[2:] == [
        f"refreshed {share / 'applications' / 'mimeinfo.cache'}",
        f"refreshed {share / 'icons' / 'hicolor' / 'icon-theme.cache'}",
    ]
    assert log.read_text().splitlines() == [
        f"update-desktop-database -q {share / 'applications'}",
        f"gtk-update-icon-cache -q -t -f {share / 'icons' / 'hicolor'}",
    ]


def test_the_write_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "apps" / "x.desktop"
    desktop_entry.write_atomically(target, b"old")

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(desktop_entry.os, "replace", fail)
    with pytest.raises(OSError):
        desktop_entry.write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.desktop"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/usr/bin/minidl-gui", ["/usr/bin/minidl-gui"]),
        ("/home/a b/venv/bin/minidl-gui", ["/home/a b/venv/bin/minidl-gui"]),
        ('/tmp/q"u$o`te\\s/minidl-gui', ['/tmp/q"u$o`te\\s/minidl-gui']),
        ("/tmp/100%/minidl-gui", ["/tmp/100%/minidl-gui"]),
    ],
)
def test_exec_quoting_round_trips(tmp_path, path, expected):
    text = desktop_entry.desktop_text([path, "-m", "minidl_gui"])
    share = tmp_path / "applications"
    share.mkdir()
    (share / "x.desktop").write_text(text, encoding="utf-8")
    entry = read_entry(share / "x.desktop")
    argv = exec_argv(entry["Exec"])
    assert argv == [*expected, "-m", "minidl_gui"]
    assert unescape(entry["TryExec"]) == path


def test_png_size_reads_the_header_and_refuses_others():
    assert desktop_entry.png_size(desktop_entry.packaged("minidl-gui.png")) == (256, 256)
    with pytest.raises(ValueError):
        desktop_entry.png_size(b"GIF89a" + bytes(30))


def test_packaged_icon_is_the_readme_icon():
    """One icon, two places: the README's assets/icon.png (python -m minidl_gui.screenshot paints it) and the
    package's copy that pip installs. After a new icon: cp assets/icon.png minidl_gui/data/minidl-gui.png"""
    with Image.open(ROOT / "assets" / "icon.png") as readme, Image.open(ROOT / PACKAGED_ICON) as packaged:
        assert readme.size == packaged.size
        assert readme.convert("RGBA").tobytes() == packaged.convert("RGBA").tobytes()


def test_the_app_names_itself_as_the_entry_says():
    """X11 matches a window by WM_CLASS, whose class Qt takes from applicationName; Wayland by app_id,
    which Qt takes from desktopFileName. Both must agree with the desktop file."""
    from minidl_gui import app

    source = inspect.getsource(app.main)
    text = desktop_entry.packaged(desktop_entry.DESKTOP_FILE).decode()
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read_string(text)
    assert f'setApplicationName("{entry["Desktop Entry"]["StartupWMClass"]}")' in source
    assert f'setDesktopFileName("{desktop_entry.APP_ID}")' in source
    assert Path(desktop_entry.DESKTOP_FILE).stem == desktop_entry.APP_ID == entry["Desktop Entry"]["Icon"]
