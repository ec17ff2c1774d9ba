"""Inside the network, Qt-free: what the network diagram and the hidden-layer view draw.

Computed by the worker between two steps (`Session` decides how often), carried in the snapshot,
drawn by the GUI thread. A *neuron* is a unit of a Linear layer after the element-wise layers
that follow it (its activation); the diagram's columns are the inputs, every such hidden layer,
and the outputs. A neuron's *map* is its value over a coarse grid of [0, 1]^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from minidl.registry import LINEAR
from minidl.spec import Spec
from minidl.train import Trainer
from minidl_gui.components.grid import grid_points

MAP_RESOLUTION = 20  # cells a side of a neuron's thumbnail map
LATTICE_LINES = 11  # lines each way of the lattice drawn in a hidden layer's space
LATTICE_SAMPLES = 41  # points along each lattice line


@dataclass(frozen=True)
class Column:
    """One column of the diagram: a layer of neurons."""

    title: str  # "input", "hidden 1 (tanh)", "output"
    module: int | None  # index in the Sequential of the module whose output these neurons are; None: input
    linear: int | None  # index of the Linear layer that makes these neurons; None: input


def columns(spec: Spec) -> list[Column]:
    """The diagram's columns for `spec`'s network (the same for every network of that shape)."""
    out = [Column("input", None, None)]
    modules = [layer.type for layer in spec.layers] + [LINEAR]
    linears = [i for i, kind in enumerate(modules) if kind == LINEAR]
    for n, start in enumerate(linears):
        end = linears[n + 1] if n + 1 < len(linears) else len(modules)
        activations = "/".join(modules[start + 1 : end])
        last = end - 1  # the last module of the block: its output is the neuron's value
        if n + 1 == len(linears):
            out.append(Column("output", last, start))
        else:
            out.append(Column(f"hidden {n + 1}" + (f" ({activations})" if activations else ""), last, start))
    return out


@dataclass(frozen=True)
class HiddenView:
    """A hidden layer's view of the plane: the data and a lattice of [0,1]^2, in that layer's space."""

    column: int  # the diagram column shown
    axes: str  # "units 1 and 2" or "principal components 1 and 2"
    points: np.ndarray  # (n_train, 2)
    labels: np.ndarray  # (n_train,)
    lattice: np.ndarray  # (2 * LATTICE_LINES, LATTICE_SAMPLES, 2)
    note: str = ""  # why the picture is degenerate (diverged, constant units), shown in the view


@dataclass(frozen=True)
class Probe:
    """What the views inside the network draw, at one step of training."""

    steps: int
    columns: list[Column]
    maps: list[np.ndarray]  # per column: (units, R, R), each neuron's value scaled to [0, 1] (0.5: zero)
    weights: list[np.ndarray]  # per pair of columns: (units out, units in)
    biases: list[np.ndarray]  # per column after the input: (units,)
    hidden: HiddenView | None


def unit_scale(values: Tensor) -> Tensor:
    """(points, units) -> [0, 1] per unit, symmetric about zero: 0.5 is zero, 1 its largest |value|."""
    peak = values.abs().amax(0, keepdim=True).clamp_min(1e-12)
    return (values / peak + 1.0) / 2.0


def _lattice() -> Tensor:
    ticks = torch.linspace(0.0, 1.0, LATTICE_LINES)
    along = torch.linspace(0.0, 1.0, LATTICE_SAMPLES)
    horizontal = torch.stack(torch.broadcast_tensors(along[None, :], ticks[:, None]), -1)  # y fixed per line
    vertical = torch.stack(torch.broadcast_tensors(ticks[:, None], along[None, :]), -1)  # x fixed per line
    return torch.cat([horizontal, vertical])  # (2 * lines, samples, 2)


class Prober:
    """Computes probes for one network shape; keeps the principal axes steady from one to the next."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.columns = columns(spec)
        self._grid = grid_points(MAP_RESOLUTION)
        self._lattice = _lattice()
        self._previous_axes: dict[int, Tensor] = {}  # column -> (units, 2): the last principal axes

    def has_neuron(self, column: int, unit: int) -> bool:
        if not 0 <= column < len(self.columns):
            return False
        widths = self.spec.widths()
        return 0 <= unit < widths[column]

    def neuron_map(self, trainer: Trainer, points: Tensor, column: int, unit: int) -> Tensor:
        """One neuron's value at `points`, scaled to [0, 1] (0.5 is zero), for the big heatmap."""
        points = points.to(trainer.data.x_train.dtype)
        if column == 0:
            values = points[:, unit : unit + 1]
        else:
            values = trainer.model.layer_outputs(points)[self.columns[column].module][:, unit : unit + 1]
        return unit_scale(values)[:, 0]

    def probe(self, trainer: Trainer, hidden_column: int | None) -> Probe:
        model = trainer.model
        reference = trainer.data.x_train
        grid = self._grid.to(reference.dtype)
        outputs = model.layer_outputs(grid)
        r = MAP_RESOLUTION
        maps = [unit_scale(grid).T.reshape(2, r, r).float().numpy()]
        weights, biases = [], []
        for column in self.columns[1:]:
            values = outputs[column.module]
            maps.append(unit_scale(values).T.reshape(-1, r, r).float().numpy())
            linear = model[column.linear]
            weights.append(linear.weight.detach().float().numpy().copy())
            biases.append(linear.bias.float().numpy().copy() if linear.bias is not None else np.zeros(linear.out_dim))
        hidden = None
        if hidden_column is not None and 0 < hidden_column < len(self.columns) - 1:
            hidden = self._hidden_view(trainer, hidden_column)
        return Probe(trainer.steps, self.columns, maps, weights, biases, hidden)

    def _hidden_view(self, trainer: Trainer, column: int) -> HiddenView:
        module = self.columns[column].module
        x = trainer.data.x_train
        lattice = self._lattice.to(x.dtype)
        together = torch.cat([x, lattice.reshape(-1, 2)])
        values = trainer.model.layer_outputs(together)[module].double()  # (n + lattice, units)
        note = ""
        if not torch.isfinite(values).all():  # a diverged network: nothing to place, and say why
            axes, coordinates = "", torch.full((len(values), 2), float("nan"), dtype=values.dtype)
            note = "This layer's values are not finite (the network diverged): reset, or lower the learning rate"
        elif values.shape[1] <= 2:
            coordinates = torch.cat([values, torch.zeros(len(values), 2 - values.shape[1], dtype=values.dtype)], 1)
            axes = "units 1 and 2" if values.shape[1] == 2 else "unit 1 (one unit: a line)"
        else:
            data = values[: len(x)]
            mean = data.mean(0, keepdim=True)
            basis, spread = self._principal_axes(data - mean, column)
            axes, coordinates = "principal components 1 and 2", (values - mean) @ basis
            if spread < 1e-20:
                note = "Every point has the same value in this layer (its units are constant): nothing spreads them"
        coordinates = coordinates.float()
        return HiddenView(
            column=column,
            axes=axes,
            points=coordinates[: len(x)].numpy(),
            labels=trainer.data.y_train.numpy(),
            lattice=coordinates[len(x) :].reshape(self._lattice.shape).numpy(),
            note=note,
        )

    def _principal_axes(self, centred: Tensor, column: int) -> tuple[Tensor, float]:
        """The two leading principal axes (units, 2) of finite, centred activations, and the larger
        variance along them. From the (units, units) covariance by a symmetric eigensolver in
        float64, which does not fail on saturated or constant units as an SVD of the data can
        (`torch.linalg.svd` raised `LinAlgError` on those). Each axis keeps its sign from the last
        probe: no flicker."""
        covariance = centred.T @ centred / max(len(centred) - 1, 1)
        variances, vectors = torch.linalg.eigh(covariance)  # ascending
        basis = vectors[:, -2:].flip(1)
        previous = self._previous_axes.get(column)
        if previous is not None and previous.shape == basis.shape:
            signs = torch.sign((basis * previous).sum(0))
            signs[signs == 0] = 1.0
            basis = basis * signs
        self._previous_axes[column] = basis
        return basis, float(variances[-1].clamp_min(0.0))
