"""Two-class toy datasets on the unit square [0, 1]^2, as in the report and TensorFlow Playground.

Every generator returns `(x, y)`: points `(n, 2)` (float) and labels `(n,)` (int64, 0 or 1), and
takes a `torch.Generator` so that the same seed gives the same data.

`noise` is **label noise**: each label is flipped with probability `noise` (0 = clean, 0.5 =
random labels). Points stay where they are, so the inputs never leave [0, 1]^2 and the true
boundary drawn by the GUI stays the true one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from minidl._checks import argument, positive_int
from minidl.params import Entry, Param, Registry, quoted

INPUT_DIM, CLASSES = 2, 2  # every dataset: points (x, y) in [0, 1]^2, two classes
DISK_CENTER = (0.5, 0.5)
DISK_RADIUS = 1.0 / math.sqrt(2.0 * math.pi)  # area 1/2: the classes are balanced
RING_RADII = (0.15, math.sqrt(0.5 / math.pi + 0.15**2))  # annulus of area 1/2


def _uniform(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> Tensor:
    return torch.rand(n, 2, generator=generator, dtype=dtype)


def _distance_to_center(x: Tensor) -> Tensor:
    return torch.hypot(x[:, 0] - DISK_CENTER[0], x[:, 1] - DISK_CENTER[1])


def _half_and_half(n: int, generator: torch.Generator | None) -> Tensor:
    """Labels with exactly n//2 zeros and n - n//2 ones, in random order."""
    labels = torch.arange(n) >= n // 2
    return labels[torch.randperm(n, generator=generator)].long()


def _disk(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    x = _uniform(n, generator, dtype)
    return x, (_distance_to_center(x) < DISK_RADIUS).long()


def _ring(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    x = _uniform(n, generator, dtype)
    r = _distance_to_center(x)
    return x, ((r > RING_RADII[0]) & (r < RING_RADII[1])).long()


def _xor(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    x = _uniform(n, generator, dtype)
    return x, ((x[:, 0] > 0.5) ^ (x[:, 1] > 0.5)).long()


def _spiral(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    y = _half_and_half(n, generator)
    t = torch.rand(n, generator=generator, dtype=dtype)
    radius = 0.05 + 0.38 * t + 0.02 * (torch.rand(n, generator=generator, dtype=dtype) - 0.5)
    angle = 3.0 * math.pi * t + math.pi * y.to(dtype)
    x = torch.stack([0.5 + radius * torch.cos(angle), 0.5 + radius * torch.sin(angle)], 1)
    return x, y


def _gaussians(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    y = _half_and_half(n, generator)
    centers = torch.tensor([[0.3, 0.3], [0.7, 0.7]], dtype=dtype)[y]
    x = centers + 0.1 * torch.randn(n, 2, generator=generator, dtype=dtype)
    return x.clamp_(0.0, 1.0), y


def _moons(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    y = _half_and_half(n, generator)
    angle = math.pi * torch.rand(n, generator=generator, dtype=dtype)
    radius = 0.25 + 0.04 * (torch.rand(n, generator=generator, dtype=dtype) - 0.5)
    upper = y == 0  # class 0: upper arc around (0.37, 0.45); class 1: lower arc around (0.63, 0.55)
    cx = torch.where(upper, 0.37, 0.63).to(dtype)
    cy = torch.where(upper, 0.45, 0.55).to(dtype)
    sign = torch.where(upper, 1.0, -1.0).to(dtype)
    x = torch.stack([cx + radius * torch.cos(angle), cy + sign * radius * torch.sin(angle)], 1)
    return x, y


def _circle(radius: float, points: int = 241) -> Tensor:
    t = torch.linspace(0.0, 2.0 * math.pi, points, dtype=torch.float64)
    return torch.stack([DISK_CENTER[0] + radius * torch.cos(t), DISK_CENTER[1] + radius * torch.sin(t)], 1)


def _segment(start: tuple[float, float], end: tuple[float, float]) -> Tensor:
    return torch.tensor([start, end], dtype=torch.float64)


def _no_boundary() -> list[Tensor]:
    return []


@dataclass(frozen=True)
class DatasetEntry(Entry):
    """A dataset: `build(n, generator, dtype) -> (x, y)`, and `boundary()`: the true class boundary
    as curves, each a `(points, 2)` tensor (none where it has no closed form)."""

    boundary: Callable[[], list[Tensor]] = _no_boundary


DATASETS = Registry(
    "dataset",
    [
        DatasetEntry(
            "disk",
            _disk,
            "Disk",
            doc="the report's: inside a disk of area 1/2",
            boundary=lambda: [_circle(DISK_RADIUS)],
        ),
        DatasetEntry(
            "xor",
            _xor,
            "XOR",
            doc="opposite quadrants share a class",
            boundary=lambda: [_segment((0.5, 0.0), (0.5, 1.0)), _segment((0.0, 0.5), (1.0, 0.5))],
        ),
        DatasetEntry("spiral", _spiral, "Spiral", doc="two interleaved spiral arms"),
        DatasetEntry(
            "gaussians",
            _gaussians,
            "Two Gaussians",
            doc="two blobs; the best boundary is x + y = 1",
            boundary=lambda: [_segment((0.0, 1.0), (1.0, 0.0))],
        ),
        DatasetEntry("moons", _moons, "Moons", doc="two interleaving half circles"),
        DatasetEntry(
            "ring",
            _ring,
            "Ring",
            doc="inside an annulus of area 1/2",
            boundary=lambda: [_circle(r) for r in RING_RADII],
        ),
    ],
)
NOISE = Param("noise", float, 0.0, low=0.0, high=0.5, doc="fraction of labels flipped at random", label="Label noise")


def make(
    name: str,
    n: int,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor]:
    """`n` points of dataset `name`, with a fraction `noise` of labels flipped."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {quoted(name)}; choose one of {', '.join(DATASETS.names)}")
    positive_int(name, "n", n)
    noise = argument(name, NOISE, noise)
    x, y = DATASETS[name].build(n, generator, dtype)
    if noise > 0:
        flip = torch.rand(n, generator=generator) < noise
        y = torch.where(flip, 1 - y, y)
    return x, y


def disk(n: int, noise: float = 0.0, generator: torch.Generator | None = None, dtype=torch.float32):
    """The report's data: uniform in [0,1]^2, label 1 inside the disk of centre (1/2, 1/2), radius 1/sqrt(2 pi)."""
    return make("disk", n, noise, generator, dtype)


def xor(n: int, noise: float = 0.0, generator: torch.Generator | None = None, dtype=torch.float32):
    """Uniform in [0,1]^2, label 1 in the top-left and bottom-right quadrants."""
    return make("xor", n, noise, generator, dtype)


def spiral(n: int, noise: float = 0.0, generator: torch.Generator | None = None, dtype=torch.float32):
    """Two interleaved spiral arms around the centre, n/2 points each."""
    return make("spiral", n, noise, generator, dtype)


def gaussians(n: int, noise: float = 0.0, generator: torch.Generator | None = None, dtype=torch.float32):
    """Two Gaussian blobs (std 0.1) at (0.3, 0.3) and (0.7, 0.7), clipped to the square."""
    return make("gaussians", n, noise, generator, dtype)


def moons(n: int, noise: float = 0.0, generator: torch.Generator | None = None, dtype=torch.float32):
    """Two interleaving half circles, n/2 points each."""
    return make("moons", n, noise, generator, dtype)


def ring(n: int, noise: float = 0.0, generator: torch.Generator | None = None, dtype=torch.float32):
    """Uniform in [0,1]^2, label 1 inside an annulus about the centre of area 1/2 (balanced)."""
    return make("ring", n, noise, generator, dtype)


@dataclass
class Split:
    """Train and test sets. Tensors may carry a leading model dimension `(models, n, 2)` for ensembles."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor

    @property
    def classes(self) -> int:
        return CLASSES

    @property
    def input_dim(self) -> int:
        return self.x_train.shape[-1]


def train_test_split(
    name: str = "disk",
    n_train: int = 1000,
    n_test: int = 1000,
    noise: float = 0.0,
    seed: int | None = 0,
    models: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> Split:
    """Independent train and test draws (the report's default: 1000 and 1000 disk points).

    With `models=R`, every model gets its own independent draw, stacked on a leading dimension.
    """
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)

    def one() -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return (*make(name, n_train, noise, generator, dtype), *make(name, n_test, noise, generator, dtype))

    if models is None:
        return Split(*one())
    draws = [one() for _ in range(positive_int("train_test_split", "models", models))]
    return Split(*(torch.stack(parts) for parts in zip(*draws)))


# ---- points of one's own: which are kept for testing -----------------------------------------------
TEST_SHARE = Param(
    "test_share", float, 0.2, low=0.0, high=0.9, doc="share of painted or imported points kept for testing"
)


def random_split(n: int, test_share: float, rng: np.random.Generator, keep_both: bool = True) -> np.ndarray:
    """Which of `n` points are test points, `(n,)` bool: each one independently with the
    probability `test_share` (`rng.random(n) < test_share`, one draw of `rng`).

    With `keep_both`, where there are two points or more neither set is left empty: if every
    point was drawn for testing the first is a training point, if none was the last is a test
    point. `test_share` is checked against `TEST_SHARE`.
    """
    share = argument("random_split", TEST_SHARE, test_share)
    n = argument("random_split", Param("n", int, low=0), n)
    is_test = rng.random(n) < share
    if keep_both and n >= 2 and is_test.all():
        is_test[0] = False
    if keep_both and n >= 2 and not is_test.any():
        is_test[-1] = True
    return is_test
