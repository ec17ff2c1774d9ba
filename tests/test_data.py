from __future__ import annotations

import math

import pytest
import torch

from minidl import data

CLEAN = {  # the rule each dataset's label follows, where the rule is a function of the point
    "disk": lambda x: (torch.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) < 1 / math.sqrt(2 * math.pi)).long(),
    "xor": lambda x: ((x[:, 0] > 0.5) ^ (x[:, 1] > 0.5)).long(),
    "ring": lambda x: (
        (torch.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) > data.RING_RADII[0])
        & (torch.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) < data.RING_RADII[1])
    ).long(),
}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", data.DATASETS)
def test_shapes_range_and_balance(name):
    x, y = data.make(name, 4000, generator=gen())
    assert x.shape == (4000, 2) and x.dtype == torch.float32
    assert y.shape == (4000,) and y.dtype == torch.int64
    assert x.min() >= 0 and x.max() <= 1
    assert set(y.unique().tolist()) == {0, 1}
    assert abs(y.float().mean().item() - 0.5) < 0.03


@pytest.mark.parametrize("name", data.DATASETS)
def test_same_seed_same_data(name):
    a, b, c = (data.make(name, 100, generator=gen(s)) for s in (1, 1, 2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_labels_follow_the_rule(name):
    x, y = data.make(name, 2000, generator=gen())
    assert torch.equal(y, CLEAN[name](x))


def test_disk_is_the_report_data():
    x, y = data.disk(1000, generator=gen())
    assert torch.equal(y, CLEAN["disk"](x))
    assert pytest.approx(1 / math.sqrt(2 * math.pi)) == data.DISK_RADIUS


def test_noise_flips_that_fraction_of_labels():
    clean = data.make("disk", 20000, generator=gen(3))
    noisy = data.make("disk", 20000, noise=0.2, generator=gen(3))
    assert torch.equal(clean[0], noisy[0])  # points stay where they are
    flipped = (clean[1] != noisy[1]).float().mean().item()
    assert abs(flipped - 0.2) < 0.015


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.make("circle", 10), "unknown dataset 'circle'"),
        (lambda: data.make("disk", 0), "n must be a positive integer"),
        (lambda: data.make("disk", 10, noise=0.7), r"disk: noise must be >= 0.0 and <= 0.5, got 0.7"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_split_is_two_independent_draws():
    split = data.train_test_split("disk", 1000, 500, seed=4)
    assert split.x_train.shape == (1000, 2) and split.x_test.shape == (500, 2)
    assert not torch.equal(split.x_train[:500], split.x_test)
    again = data.train_test_split("disk", 1000, 500, seed=4)
    assert torch.equal(split.x_test, again.x_test)


def test_split_for_an_ensemble_gives_each_model_its_own_data():
    split = data.train_test_split("disk", 50, 20, seed=0, models=3)
    assert split.x_train.shape == (3, 50, 2) and split.y_test.shape == (3, 20)
    assert not torch.equal(split.x_train[0], split.x_train[1])
