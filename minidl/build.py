"""Models, data and trainers from a spec: what `minidl.spec` describes, built.

Random streams: data from `seed`, weights from `seed + 1`, minibatch order from `seed + 2`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from minidl.backprop.mistakes import MISTAKES
from minidl.data import Split, train_test_split
from minidl.nn.container import Sequential
from minidl.nn.ensemble import EnsembleLinear
from minidl.nn.linear import Linear
from minidl.nn.module import Module
from minidl.optim import Optimizer
from minidl.registry import LINEAR, LOSSES
from minidl.spec import NO_MISTAKE, Spec
from minidl.train.state import SETTINGS, Fit, WeightLayout, looked_at
from minidl.train.trainer import EVALUATE_EVERY, HISTORY_CAP, Trainer


def make_model(spec: Spec, models: int | None = None, generator=None) -> Sequential:
    """The network a spec describes; with `models=R` an ensemble of R such networks side by side."""
    dtype = spec.torch_dtype
    generator = generator if generator is not None else torch.Generator().manual_seed(spec.seed + 1)

    def linear(i: int, o: int) -> Module:
        if models is None:
            return Linear(i, o, init=spec.init, generator=generator, dtype=dtype)
        return EnsembleLinear(models, i, o, init=spec.init, generator=generator, dtype=dtype)

    widths = iter(itertools.pairwise(spec.widths()))
    modules = [linear(*next(widths)) if layer.type == LINEAR else layer.build() for layer in spec.layers]
    modules.append(linear(*next(widths)))
    model = Sequential(*modules)
    if spec.mistake != NO_MISTAKE:
        if models is not None:
            raise ValueError(f"a backprop mistake ({spec.mistake}) is built into one network, not an ensemble")
        MISTAKES[spec.mistake].inject(model)
    return model


def make_data(spec: Spec, models: int | None = None) -> Split:
    d = spec.dataset
    return train_test_split(d.name, d.n_train, d.n_test, d.noise, seed=spec.seed, models=models, dtype=spec.torch_dtype)


@dataclass
class Experiment:
    spec: Spec
    model: Sequential
    loss: Module
    optimizer: Optimizer
    data: Split


def build(
    spec: Spec, models: int | None = None, data: Split | None = None, device: str | torch.device | None = None
) -> Experiment:
    """Model, loss, optimizer and data from a spec (an ensemble of `models` networks if given), on
    `device` (the CPU by default). Everything is drawn on the CPU first, so a seed gives the same
    experiment on any device."""
    if not isinstance(spec, Spec):
        raise TypeError(f"build expects a Spec, got {type(spec).__name__} (use Spec.from_dict for a dict)")
    data = data if data is not None else make_data(spec, models)
    model = make_model(spec, models)
    if device is not None:
        device = torch.device(device)
        model.to(device)  # before the optimizer: it holds the tensors it updates
        data = Split(*(t.to(device) for t in (data.x_train, data.y_train, data.x_test, data.y_test)))
    return Experiment(spec, model, LOSSES[spec.loss].build(), spec.optimizer.build(model.param()), data)


def make_trainer(
    spec: Spec,
    models: int | None = None,
    data: Split | None = None,
    device: str | torch.device | None = None,
    **trainer_options,
) -> Trainer:
    """A `Trainer` ready to run the experiment a spec describes (on `device`, the CPU by default)."""
    experiment = build(spec, models, data, device)
    return Trainer(
        experiment.model,
        experiment.loss,
        experiment.optimizer,
        experiment.data,
        batch_size=spec.batch_size,
        seed=spec.seed + 2,
        lr_decay=spec.lr_decay,
        shuffle=spec.shuffle,
        **trainer_options,
    )


def weight_layout(spec: Spec) -> WeightLayout:
    """The `(name, shape, dtype)` of every weight of `make_model(spec)`, without building it."""
    dtype = spec.torch_dtype
    widths = iter(itertools.pairwise(spec.widths()))
    out: list[tuple[str, tuple[int, ...], torch.dtype]] = []
    for index, layer in enumerate((*spec.layers, None)):
        if layer is None or layer.type == LINEAR:
            i, o = next(widths)
            out += [(f"{index}.weight", (o, i), dtype), (f"{index}.bias", (o,), dtype)]
    return tuple(out)


def state_fit(spec: Spec, points: int) -> tuple[Fit, Optimizer]:
    """What the state of `make_trainer(spec, data=...)` on `points` training points must fit, and
    an optimizer of the spec's to check its part against, without building either: the
    optimizer's parameters are placeholders of the right shapes on the "meta" device (no memory)."""
    layout = weight_layout(spec)
    linear, activations = looked_at(spec.layer_classes(), record_layers=True, evaluate_every=EVALUATE_EVERY)
    settings = {
        "batch_size": spec.batch_size,
        "lr_decay": spec.lr_decay,
        "shuffle": spec.shuffle,
        "evaluate_every": EVALUATE_EVERY,
    }
    fit = Fit(
        settings=tuple((name, settings[name]) for name in SETTINGS),
        weights=layout,
        points=points,
        linear_layers=len(linear),
        activation_layers=len(activations),
        grad_dtype=spec.torch_dtype if linear else None,
        history_cap=HISTORY_CAP,
    )
    placeholders = [torch.empty(shape, dtype=dtype, device="meta") for _, shape, dtype in layout]
    return fit, spec.optimizer.build([(p, p) for p in placeholders])
