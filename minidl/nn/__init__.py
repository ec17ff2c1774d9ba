"""The engine's modules: each layer's backward written next to its forward (as `torch.nn` is to `torch`)."""

from minidl.nn.activation import *  # noqa: F403 (every activation, as listed in its __all__)
from minidl.nn.activation import __all__ as _activations
from minidl.nn.container import Sequential
from minidl.nn.ensemble import EnsembleLinear
from minidl.nn.linear import Linear
from minidl.nn.loss import LossCrossEntropy, LossMSE
from minidl.nn.module import Module

__all__ = ["EnsembleLinear", "Linear", "LossCrossEntropy", "LossMSE", "Module", "Sequential", *_activations]
