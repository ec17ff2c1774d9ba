"""Painted, erased and imported points, free of Qt: each edit a new set of four arrays.

Points are `(x_train (n, 2), y_train (n,), x_test (m, 2), y_test (m,))` in [0, 1]^2. The session
keeps the set asked for and hands it to the worker; the functions here only make new sets.
"""

from __future__ import annotations

import numpy as np

Points = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def empty() -> Points:
    """No points at all: training waits for at least one of each split."""
    no_xy, no_labels = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return no_xy, no_labels, no_xy.copy(), no_labels.copy()


def inside_the_plane(xy: np.ndarray) -> np.ndarray:
    """The finite points of `xy` (k, 2) that lie in [0, 1]^2."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return xy[np.isfinite(xy).all(axis=1) & (xy >= 0).all(axis=1) & (xy <= 1).all(axis=1)]


def added(points: Points, xy: np.ndarray, label: int, to_test: np.ndarray) -> Points:
    """`points` with `xy` (k, 2) of class `label`, those where `to_test` (k,) in the test set. An
    empty split fills first: a network needs both to train."""
    x_train, y_train, x_test, y_test = points
    to_test = np.array(to_test, dtype=bool)
    if not len(x_test) and len(x_train) + (~to_test).sum() > 0:
        to_test[0] = True
    elif not len(x_train) and not (~to_test).any():
        to_test[0] = False
    labels = np.full(len(xy), label, dtype=np.int64)
    return (
        np.concatenate([x_train, xy[~to_test]]).astype(np.float64),
        np.concatenate([y_train, labels[~to_test]]),
        np.concatenate([x_test, xy[to_test]]).astype(np.float64),
        np.concatenate([y_test, labels[to_test]]),
    )


def erased(points: Points, centre: tuple[float, float], radius: float) -> tuple[Points, int]:
    """`points` without those within `radius` of `centre`, and how many went."""
    x_train, y_train, x_test, y_test = points
    keep_train = np.hypot(*(x_train - centre).T) > radius
    keep_test = np.hypot(*(x_test - centre).T) > radius
    removed = int((~keep_train).sum() + (~keep_test).sum())
    return (x_train[keep_train], y_train[keep_train], x_test[keep_test], y_test[keep_test]), removed


def split(x: np.ndarray, labels: np.ndarray, is_test: np.ndarray) -> Points:
    """Every point of an imported file, `is_test` saying which are test points."""
    x, labels = np.asarray(x, dtype=np.float64).reshape(-1, 2), np.asarray(labels, dtype=np.int64)
    is_test = np.asarray(is_test, dtype=bool)
    return x[~is_test], labels[~is_test], x[is_test], labels[is_test]
