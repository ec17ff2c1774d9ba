"""Backpropagation on screen, free of Qt: what the backprop view, the diagram's gradient modes,
the gradient check, the point overlay and the loss along the step draw.

Every number comes from `minidl.backprop` (`trace`, `gradcheck`, `loss_along`), computed by the
worker between two steps, only for the views shown and at most `BACKPROP_SHARE` of its time
while training (at once when paused); the window draws and computes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from minidl.backprop import MISTAKES, gradcheck, loss_along, mistake_in, relative_error, trace
from minidl.backprop.mistakes import repair
from minidl.nn.linear import Linear
from minidl.spec import NO_MISTAKE, Spec
from minidl.train import Trainer
from minidl_gui.components.grid import grid_points
from minidl_gui.components.probe import MAP_RESOLUTION, Column, columns, unit_scale

LINK_MODES = {"weight": "weight w", "gradient": "gradient ∂L/∂w of the last step", "update": "last update Δw"}
POINT_OVERLAYS = {None: "none", "loss": "each point's loss", "gradient": "each point's gradient norm ‖∂Lₙ/∂θ‖"}
BACKPROP_SHARE = 0.02  # the backprop views may take at most this share of the worker's time...
BACKPROP_INTERVAL = 1.0  # ...and are renewed at most this often while training (seconds)
STEP_LOSS_SAMPLES = 25  # η values along the step (each one pass over the training points)
STEP_LOSS_REACH = 4.0  # η from 0 to this many times the current learning rate
NUMBERS_UP_TO = 8  # units a layer may have for its values to be written as numbers


@dataclass(frozen=True)
class BackpropWanted:
    """What the window asks of the backprop views (read under the session's lock)."""

    walk: bool = False  # the backprop view is shown
    point: tuple[float, float] | None = None  # the picked point (the nearest training point is used)
    link_mode: str = "weight"
    check: tuple[int, tuple] | None = None  # (Linear module index, weight index or ("bias", unit))
    overlay: str | None = None
    step_loss: bool = False

    def __post_init__(self) -> None:
        if self.link_mode not in LINK_MODES:
            raise ValueError(f"link mode must be one of {', '.join(LINK_MODES)}, got {self.link_mode!r}")
        if self.overlay not in POINT_OVERLAYS:
            names = ", ".join(repr(name) for name in POINT_OVERLAYS)
            raise ValueError(f"point overlay must be one of {names}, got {self.overlay!r}")

    @property
    def any(self) -> bool:
        return self.walk or self.link_mode != "weight" or self.check is not None or bool(self.overlay) or self.step_loss


@dataclass(frozen=True)
class Stage:
    """One module of the walked pass, as numbers (1-D per unit, W as (out, in))."""

    module: int  # its index in the Sequential
    name: str  # "Linear(2, 25)", "Tanh"
    column: int  # the diagram column whose neurons it computes
    input: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray  # ∂L/∂output: δ = ∂L/∂z for a Linear, ∂L/∂a for an activation
    grad_input: np.ndarray  # ∂L/∂input
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    grad_weight: np.ndarray | None = None  # dW = δ·xᵀ
    grad_bias: np.ndarray | None = None  # db = δ
    updated_weight: np.ndarray | None = None  # W − lr·dW
    updated_bias: np.ndarray | None = None

    @property
    def is_linear(self) -> bool:
        return self.weight is not None


@dataclass(frozen=True)
class Walk:
    """One training point through the network and back, for the step-through."""

    point: np.ndarray  # (2,)
    label: int
    index: int  # which training point
    source: str  # "picked" or "batch" (the first point of the last step's minibatch)
    stages: list[Stage]
    prediction: np.ndarray
    target: np.ndarray  # one-hot
    loss: float
    loss_name: str  # "mse", "cross_entropy"
    grad_prediction: np.ndarray
    lr: float
    optimizer: str
    plain_step: bool  # the optimizer's step is w − lr·dw (SGD without momentum or weight decay)
    mistake: str  # NO_MISTAKE or a name of MISTAKES

    def steps(self) -> list[Step]:
        """Forward module by module, the loss, backward module by module, then the update."""
        out = [Step("forward", s.module, s.column, s) for s in self.stages]
        out.append(Step("loss", None, max(s.column for s in self.stages), None))
        out += [Step("backward", s.module, s.column, s) for s in reversed(self.stages)]
        out.append(Step("update", None, None, None))
        return out


@dataclass(frozen=True)
class Step:
    kind: str  # "forward", "loss", "backward", "update"
    module: int | None
    column: int | None  # the diagram column highlighted (None: all)
    stage: Stage | None


@dataclass(frozen=True)
class GradientCheck:
    """Backprop against the finite difference for one weight or bias."""

    module: int
    index: tuple
    what: str  # "weight (3, 1) of Linear(2, 25)", "bias 2 of Linear(25, 2)"
    analytic: float
    numeric: float
    points: int  # the minibatch it is measured on

    @property
    def relative_error(self) -> float:
        return relative_error(self.analytic, self.numeric)

    @property
    def passes(self) -> bool:
        return self.relative_error < 1e-4


@dataclass(frozen=True)
class StepLoss:
    etas: np.ndarray
    losses: np.ndarray  # per sample, on the training points
    lr: float


@dataclass(frozen=True)
class BackpropPicture:
    """What the backprop views draw at one step of training."""

    steps: int
    walk: Walk | None = None
    link_mode: str = "weight"
    links: list[np.ndarray] | None = None  # per pair of diagram columns (out, in): ∂L/∂w or Δw
    deltas: list[np.ndarray] | None = None  # per diagram column (units, R, R): δ over the plane, in [0, 1]
    check: GradientCheck | None = None
    point_values: np.ndarray | None = field(default=None, repr=False)  # (n_train,) for the overlay, in [0, 1]
    overlay: str | None = None
    step_loss: StepLoss | None = None
    note: str = ""  # why a part is missing ("press Step for an update")


def _numpy(t: Tensor | None) -> np.ndarray | None:
    """A read-only copy: a picture is shared by the snapshots that carry it, and read only."""
    if t is None:
        return None
    array = t.detach().double().cpu().numpy().copy()
    array.setflags(write=False)
    return array


def _column_of(cols: list[Column], module: int) -> int:
    for c, column in enumerate(cols[1:], start=1):
        if column.linear <= module <= column.module:
            return c
    return 0


def set_mistake(model, spec: Spec) -> None:
    """The model carries `spec.mistake` from now on (repaired, or broken in place: the weights stay)."""
    if mistake_in(model) != (None if spec.mistake == NO_MISTAKE else spec.mistake):
        repair(model)
        if spec.mistake != NO_MISTAKE:
            MISTAKES[spec.mistake].inject(model)


class BackpropMaker:
    """Computes the backprop views' pictures for one network shape, in the worker thread."""

    def __init__(self, spec: Spec) -> None:
        self.columns = columns(spec)
        self._grid = grid_points(MAP_RESOLUTION)
        self._made: tuple | None = None  # (trainer, steps, key, made_at, picture)
        self._seconds = 0.0

    def make(
        self, trainer: Trainer, spec: Spec, wanted: BackpropWanted, playing: bool, data_version: int = 0
    ) -> BackpropPicture | None:
        """The picture of what `wanted` asks; `data_version` changes with the points trained on."""
        if not wanted.any:
            self._made = None  # nothing kept of a trainer the views no longer look at
            return None
        now = time.perf_counter()
        made = self._made
        interval = max(BACKPROP_INTERVAL, self._seconds / BACKPROP_SHARE)
        key = (wanted, spec.mistake, trainer.lr, data_version)  # each changes every number
        same = made is not None and made[0] is trainer and made[2] == key
        if same and (made[1] == trainer.steps or (playing and now - made[3] < interval)):
            return made[4]
        picture = self._picture(trainer, spec, wanted)
        self._seconds = time.perf_counter() - now
        self._made = (trainer, trainer.steps, key, now, picture)
        return picture

    # ---- the parts ---------------------------------------------------------------------------------
    def _picture(self, trainer: Trainer, spec: Spec, wanted: BackpropWanted) -> BackpropPicture:
        notes = []
        finite = all(bool(torch.isfinite(p).all()) for p, _ in trainer.model.param())
        if not finite:
            note = "The weights are not finite (diverged): reset to see backprop"
            return BackpropPicture(trainer.steps, link_mode=wanted.link_mode, note=note)
        links = deltas = None
        if wanted.link_mode != "weight":
            links = self._links(trainer, wanted.link_mode)
            if links is None:
                notes.append("no update recorded yet: press Step or Play")
            deltas = self._deltas(trainer)
        overlay_values = self._point_values(trainer, wanted.overlay) if wanted.overlay else None
        return BackpropPicture(
            steps=trainer.steps,
            walk=self._walk(trainer, spec, wanted.point) if wanted.walk else None,
            link_mode=wanted.link_mode,
            links=links,
            deltas=deltas,
            check=self._check(trainer, wanted.check) if wanted.check is not None else None,
            point_values=overlay_values,
            overlay=wanted.overlay,
            step_loss=self._step_loss(trainer) if wanted.step_loss else None,
            note="; ".join(notes),
        )

    def _batch(self, trainer: Trainer) -> Tensor:
        """The last step's minibatch (its first `batch_size` points before any step)."""
        if trainer.last_batch is not None:
            return trainer.last_batch
        return torch.arange(min(trainer.batch_size, trainer.data.x_train.shape[-2]))

    def _walk(self, trainer: Trainer, spec: Spec, point: tuple[float, float] | None) -> Walk:
        x_train, y_train = trainer.data.x_train, trainer.data.y_train
        if point is not None:
            distance = (x_train - torch.tensor(point, dtype=x_train.dtype)).square().sum(-1)
            index, source = int(distance.argmin()), "picked"
        else:
            index, source = int(self._batch(trainer)[0]), "batch"
        x, label = x_train[index : index + 1], y_train[index : index + 1]
        records = trace(trainer.model, trainer.loss, x, label)
        lr = trainer.lr
        stages = []
        for i, r in enumerate(records):
            weight = bias = updated_w = updated_b = None
            if r.is_linear:
                weight, bias = _numpy(r.module.weight), _numpy(r.module.bias)
                updated_w = weight - lr * _numpy(r.grad_weight)
                updated_b = None if bias is None else bias - lr * _numpy(r.grad_bias)
            stages.append(
                Stage(
                    module=i,
                    name=r.name,
                    column=_column_of(self.columns, i),
                    input=_numpy(r.input)[0],
                    output=_numpy(r.output)[0],
                    grad_output=_numpy(r.grad_output)[0],
                    grad_input=_numpy(r.grad_input)[0],
                    weight=weight,
                    bias=bias,
                    grad_weight=_numpy(r.grad_weight),
                    grad_bias=_numpy(r.grad_bias),
                    updated_weight=updated_w,
                    updated_bias=updated_b,
                )
            )
        classes = records.prediction.shape[-1]
        return Walk(
            point=_numpy(x)[0],
            label=int(label[0]),
            index=index,
            source=source,
            stages=stages,
            prediction=_numpy(records.prediction)[0],
            target=np.eye(classes)[int(label[0])],
            loss=records.loss,
            loss_name=spec.loss,
            grad_prediction=_numpy(records.grad_prediction)[0],
            lr=lr,
            optimizer=spec.optimizer.type,
            plain_step=spec.optimizer.type == "sgd"
            and not spec.optimizer.get("momentum", 0.0)
            and not spec.optimizer.get("weight_decay", 0.0),
            mistake=spec.mistake,
        )

    def _links(self, trainer: Trainer, mode: str) -> list[np.ndarray] | None:
        model = trainer.model
        linears = [column.linear for column in self.columns[1:]]
        if mode == "gradient":
            return [_numpy(model[i].grad_weight).astype(np.float32) for i in linears]
        update = trainer.last_update
        if update is None:
            return None
        position = {}  # module index -> the position of its weight in model.param()
        k = 0
        for i, module in enumerate(model):
            if isinstance(module, Linear):
                position[i] = k
            k += len(module.param())
        return [_numpy(update[position[i]]).astype(np.float32) for i in linears]

    def _deltas(self, trainer: Trainer) -> list[np.ndarray]:
        """δ = ∂L/∂z of every neuron over the plane, each place labelled as its nearest training point."""
        x_train, y_train = trainer.data.x_train, trainer.data.y_train
        grid = self._grid.to(x_train.dtype)
        nearest = torch.cdist(grid, x_train).argmin(1)
        records = trace(trainer.model, type(trainer.loss)(reduction="sum"), grid, y_train[nearest])
        r = MAP_RESOLUTION
        maps = [unit_scale(records[0].grad_input).T.reshape(-1, r, r).float().numpy()]
        for column in self.columns[1:]:
            delta = records[column.linear].grad_output  # ∂L/∂z of the column's Linear
            maps.append(unit_scale(delta).T.reshape(-1, r, r).float().numpy())
        return maps

    def _check(self, trainer: Trainer, check: tuple[int, tuple]) -> GradientCheck | None:
        module, index = check
        model = trainer.model
        if not (0 <= module < len(model)) or not isinstance(model[module], Linear):
            return None
        batch = self._batch(trainer)
        x, y = trainer.data.x_train[batch], trainer.data.y_train[batch]
        try:
            analytic, numeric = gradcheck(model, trainer.loss, x, y, module, index)
        except ValueError:  # the entry is gone (another network): nothing to check
            return None
        name = f"Linear({model[module].in_dim}, {model[module].out_dim})"
        if index[0] == "bias":
            what = f"bias of unit {index[1] + 1} in layer {module} {name}"
        else:
            what = f"weight in {index[1] + 1} → out {index[0] + 1} of layer {module} {name}"
        return GradientCheck(module, tuple(index), what, analytic, numeric, len(batch))

    def _point_values(self, trainer: Trainer, overlay: str) -> np.ndarray:
        x, y = trainer.data.x_train, trainer.data.y_train
        if overlay == "loss":
            values = trainer.loss.per_sample(trainer.predict(x), y)
        else:  # ‖∂Lₙ/∂θ‖² = Σ over Linear layers ‖δₙ‖² (‖xₙ‖² + 1): each point's own, from one pass
            records = trace(trainer.model, type(trainer.loss)(reduction="sum"), x, y)
            total = torch.zeros(len(x), dtype=torch.float64)
            for r in records:
                if r.is_linear:
                    bias = 1.0 if r.module.bias is not None else 0.0
                    total += r.grad_output.double().square().sum(-1) * (r.input.double().square().sum(-1) + bias)
            values = total.sqrt()
        values = values.double()
        peak = float(values.max()) if len(values) else 0.0
        return (values / peak).numpy() if peak > 0 else np.zeros(len(values))

    def _step_loss(self, trainer: Trainer) -> StepLoss:
        batch = self._batch(trainer)
        x, y = trainer.data.x_train, trainer.data.y_train
        records = trace(trainer.model, trainer.loss, x[batch], y[batch])
        direction = []
        for r in records:
            if r.is_linear:
                direction += [r.grad_weight] + ([r.grad_bias] if r.grad_bias is not None else [])
        etas = np.linspace(0.0, STEP_LOSS_REACH * trainer.lr, STEP_LOSS_SAMPLES)
        losses = loss_along(trainer.model, trainer.loss, x, y, direction, etas.tolist()).numpy()
        return StepLoss(etas, losses, trainer.lr)
