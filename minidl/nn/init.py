"""Initial weights of a fully connected layer: one function and one registry line each.

Every function fills `weight` `(out_dim, in_dim)` (empty) and `bias` `(out_dim,)` (zeros) in
place, drawing from `generator`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from minidl.params import Entry, Registry


def pytorch_default(w: Tensor, b: Tensor, in_dim: int, out_dim: int, generator: torch.Generator | None) -> None:
    """PyTorch's `nn.Linear`: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias."""
    bound = 1.0 / math.sqrt(in_dim)
    w.uniform_(-bound, bound, generator=generator)
    b.uniform_(-bound, bound, generator=generator)


def xavier(w: Tensor, b: Tensor, in_dim: int, out_dim: int, generator: torch.Generator | None) -> None:
    """Glorot & Bengio 2010, uniform; bias 0."""
    bound = math.sqrt(6.0 / (in_dim + out_dim))
    w.uniform_(-bound, bound, generator=generator)


def he(w: Tensor, b: Tensor, in_dim: int, out_dim: int, generator: torch.Generator | None) -> None:
    """He et al. 2015, normal, for ReLU nets; bias 0."""
    w.normal_(0.0, math.sqrt(2.0 / in_dim), generator=generator)


def zeros(w: Tensor, b: Tensor, in_dim: int, out_dim: int, generator: torch.Generator | None) -> None:
    w.zero_()


def standard_normal(w: Tensor, b: Tensor, in_dim: int, out_dim: int, generator: torch.Generator | None) -> None:
    """N(0, 1) for weight and bias, as the report's published code draws them."""
    w.normal_(0.0, 1.0, generator=generator)
    b.normal_(0.0, 1.0, generator=generator)


INITS = Registry(
    "init",
    [
        Entry("default", pytorch_default, "PyTorch default", doc="U(±1/√in) for weight and bias, as torch.nn.Linear"),
        Entry("xavier", xavier, "Xavier (Glorot)", doc="U(±√(6/(in+out))), bias 0"),
        Entry("he", he, "He", doc="N(0, 2/in), bias 0: for ReLU networks"),
        Entry("zeros", zeros, "Zeros", doc="all zero: every unit stays the same (a lesson in symmetry)"),
        Entry("normal", standard_normal, "Normal N(0, 1)", doc="N(0, 1) for weight and bias: the report's code"),
    ],
)
