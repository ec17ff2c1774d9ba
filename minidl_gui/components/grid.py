"""The decision-boundary heatmap's points over [0, 1]^2, Qt-free.

What the heatmap shows at each point is the loss's own reading of the network's outputs as a
class-1 score (`LOSSES[name].class_one_score`, beside each loss in the registry): 0.5 is the
decision boundary.
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
