"""The README's code example runs as printed and trains."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parent.parent / "README.md"


def test_api_example_runs_and_learns():
    text = README.read_text()
    code = re.search(r"## The framework\n\n```python\n(.*?)```", text, re.S).group(1)
    out = io.StringIO()
    previous = torch.is_grad_enabled()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        torch.set_grad_enabled(previous)
    printed = out.getvalue()
    assert "Linear(in_dim=2, out_dim=25)" in printed
    accuracy = float(re.search(r"tensor\(([0-9.]+)\)", printed).group(1))
    assert accuracy > 0.9


def test_spec_example_is_a_valid_spec():
    import json

    from minidl.spec import Spec

    block = re.search(r"```json\n(.*?)```", README.read_text(), re.S).group(1)
    spec = Spec.from_dict(json.loads(block))
    assert spec.describe() == "2-25-25-2, tanh"
