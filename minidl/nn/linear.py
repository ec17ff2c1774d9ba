"""Fully connected layer: z = x Wᵀ + b (the report's z = w·x + b, samples as rows)."""

from __future__ import annotations

import torch
from torch import Tensor

from minidl._checks import float_dtype, input_tensor, positive_int
from minidl.nn.init import INITS
from minidl.nn.module import Module
from minidl.params import quoted


def init_weight_bias(
    owner: str,
    shape_w: tuple[int, ...],
    shape_b: tuple[int, ...],
    in_dim: int,
    out_dim: int,
    init: str,
    generator: torch.Generator | None,
    dtype: torch.dtype,
) -> tuple[Tensor, Tensor]:
    """Draw weight and bias on the CPU (so a CPU generator works for any target device)."""
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"{owner}: init must be one of {', '.join(INITS.names)}, got {quoted(init)}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{owner}: generator must be a torch.Generator, got {type(generator).__name__}")
    w = torch.empty(shape_w, dtype=dtype)
    b = torch.zeros(shape_b, dtype=dtype)
    INITS[init].build(w, b, in_dim, out_dim, generator)
    return w, b


class Linear(Module):
    """Fully connected layer: z = x Wᵀ + b.

    Shapes: input `(N, in_dim)` (or `(*, in_dim)`), output `(N, out_dim)`.
    `weight` is `(out_dim, in_dim)` as in PyTorch, `bias` is `(out_dim,)`.
    `init`: a name from `minidl.nn.init.INITS`: `"default"` (PyTorch's U(-1/sqrt(in_dim),
    1/sqrt(in_dim)) for weight and bias), `"xavier"`, `"he"`, `"zeros"` or `"normal"` (N(0, 1)).
    """

    _param_names = ("weight", "bias")
    _cache_names = ("_input",)

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        bias: bool = True,
        init: str = "default",
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.in_dim = positive_int("Linear", "in_dim", in_dim)
        self.out_dim = positive_int("Linear", "out_dim", out_dim)
        self.init = init
        dtype = float_dtype("Linear", dtype)
        w, b = init_weight_bias("Linear", (out_dim, in_dim), (out_dim,), in_dim, out_dim, init, generator, dtype)
        self.weight: Tensor = w.to(device)
        self.grad_weight: Tensor = torch.zeros_like(self.weight)
        self.bias: Tensor | None = b.to(device) if bias else None
        self.grad_bias: Tensor | None = torch.zeros_like(self.bias) if bias else None
        self._input: Tensor | None = None
        self._ones: Tensor | None = None  # (N,) ones: the bias gradient is one addmv

    def forward(self, x: Tensor) -> Tensor:
        """z = x Wᵀ + b: input x `(N, in_dim)` -> z `(N, out_dim)`, one row per sample (the report's
        z = w·x + b with samples as rows). Any `(*, in_dim)` is flattened to rows and back."""
        w = self.weight
        hot = type(x) is Tensor and x.dtype is w.dtype and x.is_cpu and w.is_cpu and x.dim() == 2
        if not (hot and x.shape[1] == self.in_dim):  # the hot path in one test; the rest checked here
            x = input_tensor(self._name(), x, w)
            if x.dim() == 0 or x.shape[-1] != self.in_dim:
                raise ValueError(f"{self._name()}: expected input of shape (N, {self.in_dim}), got {tuple(x.shape)}")
            if x.dim() != 2:
                return self.forward(x.reshape(-1, self.in_dim)).reshape(*x.shape[:-1], self.out_dim)
        self._input = x
        if self.bias is None:
            return x.mm(w.t())
        return torch.addmm(self.bias, x, w.t())  # b + x Wᵀ in one kernel

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        """g = dL/dz `(N, out_dim)` -> dx = g W `(N, in_dim)`; accumulates dW += gᵀ x `(out_dim,
        in_dim)` and db += Σₙ g `(out_dim,)`. Per sample these are the report's dw = dz·xᵀ,
        db = dz, dx = wᵀ·dz, summed over the batch."""
        x = self._input
        if x is None:
            raise self._no_forward_error()
        g = grad_wrt_output
        if not isinstance(g, Tensor) or g.shape[-1:] != (self.out_dim,) or g.numel() // self.out_dim != x.shape[0]:
            shape = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
            raise ValueError(
                f"{self._name()}.backward: gradient has shape {shape}, expected ({x.shape[0]}, {self.out_dim})"
            )
        if g.dim() != 2:
            return self.backward(g.reshape(-1, self.out_dim)).reshape(*g.shape[:-1], self.in_dim)
        gt = g.t()
        self.grad_weight.addmm_(gt, x)  # dW += gᵀ x
        if self.grad_bias is not None:
            ones = self._ones
            if ones is None or ones.shape[0] != g.shape[0] or ones.dtype is not g.dtype or ones.device != g.device:
                ones = self._ones = torch.ones(g.shape[0], dtype=g.dtype, device=g.device)
            self.grad_bias.addmv_(gt, ones)  # db += gᵀ 1 = Σₙ g
        return g.mm(self.weight)  # dx = g W

    def _forget_cache(self) -> None:
        self._input = None
        self._ones = None

    def _name(self) -> str:
        return f"Linear({self.in_dim}, {self.out_dim})"

    def extra_repr(self) -> str:
        text = f"in_dim={self.in_dim}, out_dim={self.out_dim}"
        if self.bias is None:
            text += ", bias=False"
        if self.init != "default":
            text += f", init={self.init!r}"
        return text
