"""`EnsembleLinear`: R independent Linear layers applied side by side in one batched matmul.

Training 50 small networks one after the other spends most of its time in Python and kernel
launches; stacking them along a leading "model" dimension does the same arithmetic in one call.
Activations and losses are element-wise or per-row, so they need no ensemble version: losses sum
over the model dimension, and the gradient of a sum of independent losses is each model's own.
"""

from __future__ import annotations

import torch
from torch import Tensor

from minidl._checks import float_dtype, input_tensor, positive_int
from minidl.nn.linear import Linear
from minidl.nn.module import Module


class EnsembleLinear(Module):
    """`models` fully connected layers in parallel.

    Shapes: input `(models, N, in_dim)`, output `(models, N, out_dim)`; `weight` is
    `(models, out_dim, in_dim)`, `bias` `(models, out_dim)`. Model `r` computes exactly what a
    `Linear` with `weight[r]`, `bias[r]` computes on `input[r]`.
    """

    _param_names = ("weight", "bias")
    _cache_names = ("_input",)

    def __init__(
        self,
        models: int,
        in_dim: int,
        out_dim: int,
        init: str = "default",
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.models = positive_int("EnsembleLinear", "models", models)
        self.in_dim = positive_int("EnsembleLinear", "in_dim", in_dim)
        self.out_dim = positive_int("EnsembleLinear", "out_dim", out_dim)
        self.init = init
        dtype = float_dtype("EnsembleLinear", dtype)
        # Drawn model by model: model r equals the r-th Linear drawn from the same generator.
        layers = [Linear(in_dim, out_dim, init=init, generator=generator, dtype=dtype) for _ in range(models)]
        self.weight: Tensor = torch.stack([layer.weight for layer in layers]).to(device)
        self.bias: Tensor = torch.stack([layer.bias for layer in layers]).to(device)
        self.grad_weight = torch.zeros_like(self.weight)
        self.grad_bias = torch.zeros_like(self.bias)
        self._input: Tensor | None = None

    @classmethod
    def stack(cls, layers: list[Linear]) -> EnsembleLinear:
        """An ensemble holding copies of the given layers' parameters (all must have a bias)."""
        if not layers or any(not isinstance(layer, Linear) or layer.bias is None for layer in layers):
            raise ValueError("EnsembleLinear.stack needs a non-empty list of Linear layers with bias")
        first = layers[0]
        if any((layer.in_dim, layer.out_dim) != (first.in_dim, first.out_dim) for layer in layers):
            raise ValueError("EnsembleLinear.stack: all layers must have the same in_dim and out_dim")
        out = cls(
            len(layers), first.in_dim, first.out_dim, init="zeros", dtype=first.weight.dtype, device=first.weight.device
        )
        out.weight.copy_(torch.stack([layer.weight for layer in layers]))
        out.bias.copy_(torch.stack([layer.bias for layer in layers]))
        return out

    def forward(self, x: Tensor) -> Tensor:
        """z[r] = x[r] W[r]ᵀ + b[r] for every model r: `(models, N, in_dim)` -> `(models, N, out_dim)`."""
        x = input_tensor(self._name(), x, self.weight)
        if x.dim() != 3 or x.shape[0] != self.models or x.shape[2] != self.in_dim:
            raise ValueError(
                f"{self._name()}: expected input of shape ({self.models}, N, {self.in_dim}), got {tuple(x.shape)}"
            )
        self._input = x
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))  # z[r] = x[r] W[r]ᵀ + b[r]

    def backward(self, grad_wrt_output: Tensor) -> Tensor:
        """`Linear.backward` per model: g[r] `(N, out_dim)` -> dx[r] = g[r] W[r]; dW[r] += g[r]ᵀ x[r],
        db[r] += Σₙ g[r]."""
        x = self._input
        if x is None:
            raise self._no_forward_error()
        g = grad_wrt_output
        expected = (self.models, x.shape[1], self.out_dim)
        if not isinstance(g, Tensor) or tuple(g.shape) != expected:
            shape = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
            raise ValueError(f"{self._name()}.backward: gradient has shape {shape}, expected {expected}")
        self.grad_weight.baddbmm_(g.transpose(1, 2), x)  # dW[r] += g[r]ᵀ x[r]
        self.grad_bias.add_(g.sum(1))  # db[r] += Σₙ g[r]
        return torch.bmm(g, self.weight)  # dx[r] = g[r] W[r]

    def _forget_cache(self) -> None:
        self._input = None

    def _name(self) -> str:
        return f"EnsembleLinear({self.models}x {self.in_dim}, {self.out_dim})"

    def extra_repr(self) -> str:
        text = f"models={self.models}, in_dim={self.in_dim}, out_dim={self.out_dim}"
        return text + (f", init={self.init!r}" if self.init != "default" else "")
