"""minidl: a deep-learning framework on PyTorch tensor operations, with hand-written backward passes.

No autograd, no `torch.nn`, no `torch.optim`: every gradient is written next to its forward.
"""

from minidl import activation, checkpoint, data, registry, spec, train
from minidl.activation import *  # noqa: F403 (every activation, as listed in its __all__)
from minidl.container import Sequential
from minidl.ensemble import EnsembleLinear
from minidl.linear import Linear
from minidl.loss import LossCrossEntropy, LossMSE
from minidl.module import Module
from minidl.optim import SGD, Adam, Optimizer, optim_SGD

__version__ = "0.1.0"

__all__ = [
    "SGD",
    "Adam",
    "EnsembleLinear",
    "Linear",
    "LossCrossEntropy",
    "LossMSE",
    "Module",
    "Optimizer",
    "Sequential",
    "checkpoint",
    "data",
    "optim_SGD",
    "registry",
    "spec",
    "train",
    *activation.__all__,
]
