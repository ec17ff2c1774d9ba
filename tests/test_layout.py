"""The house keeps its structure: Qt-free models stay Qt-free, the framework never imports the app,
the public names still import, and no room grows into a hub again."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = ROOT / "minidl_gui" / "components"
QT = ("PySide6", "pyqtgraph", "shiboken6", "minidl_gui._qt")
MAX_FILE_LINES = 500
MAX_CLASS_LINES = 420


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, at its top or inside a function (relative imports resolved)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = ".".join(path.relative_to(ROOT).with_suffix("").parts[: -node.level])
                base = f"{package}.{base}".rstrip(".")
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("path", sorted(COMPONENTS.glob("*.py")), ids=lambda p: p.name)
def test_a_component_imports_no_qt(path):
    assert [name for name in imported_modules(path) if name.startswith(QT)] == []


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def later():\n    from PySide6.QtCore import QTimer\n    import pyqtgraph as pg\n")
    assert [n for n in imported_modules(sneaky) if n.startswith(QT)] == [
        "PySide6.QtCore",
        "PySide6.QtCore.QTimer",
        "pyqtgraph",
    ]


def test_the_components_work_where_qt_cannot_be_imported():
    """Every component imports, and a session trains and publishes a snapshot, with Qt blocked."""
    code = """
import importlib, pkgutil, sys
class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"):
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, NoQt())
import minidl_gui.components as components
for info in pkgutil.iter_modules(components.__path__):
    importlib.import_module(f"minidl_gui.components.{info.name}")
from minidl_gui.components.defaults import LAUNCH_SPEC
from minidl_gui.components.session import Session
session = Session(LAUNCH_SPEC.replace(n_train=40, n_test=20, batch_size=10))
session.step_epoch()
while session.playing:
    session.advance(0.05)
snapshot = session.snapshot()
print(snapshot.epoch, snapshot.grid.shape, sorted(m for m in sys.modules if m.startswith(("PySide6", "pyqtgraph"))))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    epoch, *_, loaded = result.stdout.split(" ", 3)
    assert epoch == "1" and loaded.strip() == "[]"


def test_the_framework_never_imports_the_app():
    for path in sorted((ROOT / "minidl").rglob("*.py")):
        assert [n for n in imported_modules(path) if n.startswith("minidl_gui")] == [], path


def test_the_public_names_still_import():
    import minidl
    import minidl.spec
    import minidl_gui
    import minidl_gui.lessons
    import minidl_gui.look
    from minidl_gui.components.lessons import LESSONS
    from minidl_gui.components.look import Look

    for name in ("Module", "Linear", "EnsembleLinear", "Sequential", "Tanh", "ReLU", "LossMSE", "LossCrossEntropy"):
        assert getattr(minidl, name).__name__ == name
    for name in ("Optimizer", "SGD", "Adam"):
        assert getattr(minidl, name).__name__ == name
    assert minidl.spec.Spec().describe().startswith("2-25-25-25-2")
    assert minidl.spec.make_trainer(minidl.spec.Spec().replace(n_train=10, n_test=10)).epoch == 0
    assert minidl_gui.lessons.LESSONS is LESSONS and minidl_gui.look.Look is Look
    assert minidl_gui.MainWindow.__name__ == "MainWindow"


def _sizes() -> list[tuple[str, int, list[tuple[str, int]]]]:
    found = []
    for root in ("minidl", "minidl_gui"):
        for path in sorted((ROOT / root).rglob("*.py")):
            source = path.read_text()
            classes = [
                (node.name, node.end_lineno - node.lineno + 1)
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ClassDef)
            ]
            found.append((str(path.relative_to(ROOT)), source.count("\n"), classes))
    return found


def test_no_file_or_class_grows_into_a_hub():
    too_big = [
        (path, lines, [c for c in classes if c[1] > MAX_CLASS_LINES])
        for path, lines, classes in _sizes()
        if lines > MAX_FILE_LINES or any(size > MAX_CLASS_LINES for _, size in classes)
    ]
    assert too_big == []
