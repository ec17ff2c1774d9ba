"""minidl: a deep-learning framework on PyTorch tensor operations, with hand-written backward passes.

No autograd, no `torch.nn`, no `torch.optim`: every gradient is written next to its forward.
"""

from minidl import checkpoint, data, spec, train
from minidl.activation import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
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
    "Identity",
    "LeakyReLU",
    "Linear",
    "LossCrossEntropy",
    "LossMSE",
    "Module",
    "Optimizer",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "checkpoint",
    "data",
    "optim_SGD",
    "spec",
    "train",
]
