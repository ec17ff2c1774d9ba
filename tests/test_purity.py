"""minidl is written on tensor operations only: no autograd, torch.nn, torch.optim, nor Qt."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

FRAMEWORK = Path(__file__).resolve().parent.parent / "minidl"
BANNED_MODULES = ("torch.nn", "torch.autograd", "torch.optim", "PySide6", "pyqtgraph")
BANNED_ATTRIBUTES = {"nn", "autograd", "optim", "requires_grad", "requires_grad_", "grad_fn", "backward"}
# `.backward(` is ours on modules and losses; on anything else it could be a tensor's.
OWN_BACKWARD = re.compile(r"self|(self\.)?(net|model|loss|loss_fn|module|modules\[\w+\]|layer|_model|_loss|super\(\))")
FILES = sorted(FRAMEWORK.rglob("*.py"))


def violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        found += [f"line {node.lineno}: imports {n}" for n in names if n.startswith(BANNED_MODULES)]
        own_backward = (
            isinstance(node, ast.Attribute)
            and node.attr == "backward"
            and OWN_BACKWARD.fullmatch(ast.unparse(node.value))
        )
        if isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES and not own_backward:
            found.append(f"line {node.lineno}: uses .{node.attr}")
        if isinstance(node, ast.keyword) and node.arg == "requires_grad":
            found.append(f"line {node.value.lineno}: passes requires_grad")
    return found


def test_the_framework_has_files():
    assert len(FILES) >= 5
    folders = {p.parent.relative_to(FRAMEWORK).as_posix() for p in FILES}
    assert {".", "nn", "storage", "train"} <= folders  # rglob finds the subpackages' files


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(FRAMEWORK).as_posix())
def test_framework_file_is_pure(path):
    assert violations(path.read_text()) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import torch.nn",
        "import torch.nn.functional as F",
        "from torch import nn",
        "from torch.autograd import grad",
        "from torch import optim",
        "import torch\ny = torch.nn.functional.relu(x)",
        "x = torch.ones(2, requires_grad=True)",
        "x.requires_grad_()",
        "loss_value.sum().backward()",
        "import PySide6",
    ],
)
def test_the_checker_catches(snippet):
    assert violations(snippet)


def test_the_checker_allows_our_own_backward():
    assert violations("g = net.backward(loss.backward())\ng = self.modules[i].backward(g)") == []


def test_import_minidl_loads_the_engine_alone():
    """`import minidl` must not load the application layer; its names still load on first use."""
    code = (
        "import minidl, sys; print(sorted(sys.modules)); "
        "import minidl.spec; print(minidl.spec.Spec().describe(), minidl.Linear(2, 3), minidl.optim_SGD, "
        "minidl.spec.make_trainer, minidl.spec.REPORT.epochs)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = result.stdout.splitlines()
    loaded = ast.literal_eval(first)
    application = ("spec", "build", "configs", "train", "storage", "cli", "registry", "data")
    for name in application:
        assert f"minidl.{name}" not in loaded, name
    assert "minidl.nn" in loaded and "minidl.optim" in loaded
    assert second.startswith("2-25-25-25-2, tanh Linear(in_dim=2, out_dim=3)") and second.endswith(" 600")


def test_import_minidl_spec_does_not_load_the_trainer():
    code = "import minidl.spec, sys; print(sorted(m for m in sys.modules if m.startswith('minidl.')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(result.stdout)
    assert "minidl.spec" in loaded and not [m for m in loaded if m.startswith(("minidl.train", "minidl.build"))]
