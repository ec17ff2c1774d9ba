"""The decision-boundary heatmap, Qt-free: grid points over [0, 1]^2 and the class-1 score.

The score is what the picture shows, so it belongs to the app: with cross-entropy it is the
softmax probability of class 1; with MSE (whose outputs are one-hot targets) it is
(out_1 - out_0 + 1) / 2 clipped to [0, 1]. Either way 0.5 is the decision boundary.
"""

from __future__ import annotations

import torch
from torch import Tensor

GRID_RESOLUTION = 56  # cells a side, drawn with bilinear smoothing: smooth on a projector, ~1 ms of the worker's time


def grid_points(resolution: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Cell centres `(resolution**2, 2)`, row-major: row `i` is y = (i + 0.5) / resolution."""
    centers = (torch.arange(resolution, dtype=dtype) + 0.5) / resolution
    gy, gx = torch.meshgrid(centers, centers, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


def class_one_score(outputs: Tensor, loss: str) -> Tensor:
    """`(N, 2)` network outputs -> `(N,)` scores in [0, 1]."""
    if loss == "cross_entropy":
        return torch.softmax(outputs, -1)[:, 1]
    return ((outputs[:, 1] - outputs[:, 0] + 1) / 2).clamp(0.0, 1.0)
