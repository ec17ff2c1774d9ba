"""minidl: a deep-learning framework on PyTorch tensor operations, with hand-written backward passes.

No autograd, no `torch.nn`, no `torch.optim`: every gradient is written next to its forward.
`import minidl` loads the engine alone (`minidl.nn`, `minidl.optim`); the application layer
(`minidl.spec`, `minidl.train`, `minidl.storage`, `minidl.cli`, ...) loads when first used.
"""

import importlib

from minidl.nn import *  # noqa: F403 (every module and loss, as listed in minidl.nn.__all__)
from minidl.nn import __all__ as _modules
from minidl.optim import SGD, Adam, Optimizer, optim_SGD

__version__ = "0.1.0"

__all__ = ["SGD", "Adam", "Optimizer", "optim_SGD", *_modules]

_LAZY = ("backprop", "build", "cli", "configs", "data", "errors", "registry", "spec", "storage", "train")


def __getattr__(name: str):
    """`minidl.spec`, `minidl.train`, ... without importing them along with the engine."""
    if name in _LAZY:
        return importlib.import_module(f"minidl.{name}")
    raise AttributeError(f"module 'minidl' has no attribute {name!r}")
