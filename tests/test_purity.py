"""minidl is written on tensor operations only: no autograd, torch.nn, torch.optim, nor Qt."""

from __future__ import annotations

import ast
import re
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


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
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
