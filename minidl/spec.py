"""Experiment specs: a plain, JSON-serializable description of a whole training run.

    {"dataset": {"name": "disk", "n_train": 1000, "n_test": 1000, "noise": 0.0},
     "layers": [{"type": "linear", "units": 25}, {"type": "tanh"}, ...],
     "init": "default", "loss": "mse",
     "optimizer": {"type": "sgd", "lr": 0.01, "momentum": 0.0, "weight_decay": 0.0, "nesterov": false},
     "batch_size": 10, "epochs": 100, "lr_decay": 1.0, "shuffle": true, "seed": 0, "dtype": "float32"}

`layers` lists the hidden part only: the input width comes from the data, and `make_model` appends
the output `Linear` with one unit per class. Layer types, losses, optimizers (and their
options), initialisations and datasets are the names in `minidl.registry`; every other field
is a `Param` in `FIELDS`, with its range. `Spec.from_dict` checks every field and raises one
`SpecError` naming it (`layers[3].units: must be a positive integer between 1 and 1024, got 0`);
missing optional fields take their defaults. `Spec.replace(batch_size=20, optimizer="adam")`
derives one spec from another, validated the same way.

`lr_decay` multiplies the learning rate after every epoch (1.0: constant); `shuffle: false`
visits the training points in their stored order every epoch. Random streams: data from
`seed`, weights from `seed + 1`, minibatch order from `seed + 2`, so changing one part of an
experiment leaves the others alone.

This module describes and checks; it builds nothing. `minidl.build` makes models and trainers from a
spec (`make_model`, `make_trainer`), `minidl.configs` holds the named ones (`REPORT`, `CONFIGS`);
both are importable from here as well (`from minidl.spec import make_trainer, REPORT`), loaded on
first use so that `import minidl.spec` does not load the trainer.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from minidl.backprop.mistakes import MISTAKES
from minidl.data import CLASSES, INPUT_DIM, NOISE
from minidl.nn.linear import Linear
from minidl.nn.module import Module
from minidl.optim import Optimizer
from minidl.params import Param, SpecError, mapping, quoted
from minidl.registry import DATASETS, INITS, LAYERS, LINEAR, LOSSES, OPTIMIZERS

DTYPES = {"float32": torch.float32, "float64": torch.float64}
NO_MISTAKE = "none"  # `mistake`: backprop as it should be
MAX_POINTS = 1_000_000

FIELDS: dict[str, Param] = {
    "dataset": DATASETS.choice("dataset", "disk", doc="the data"),
    "n_train": Param("n_train", int, 1000, low=1, high=MAX_POINTS, doc="training points", label="Train points"),
    "n_test": Param("n_test", int, 1000, low=1, high=MAX_POINTS, doc="test points", label="Test points"),
    "noise": NOISE,
    "layers": Param("layers", int, low=0, high=64, doc="number of hidden layers"),
    "init": INITS.choice("init", "default", doc="initial weights", label="Initial weights"),
    "loss": LOSSES.choice("loss", "mse", doc="loss"),
    "optimizer": OPTIMIZERS.choice("optimizer", "sgd", doc="optimizer"),
    "batch_size": Param("batch_size", int, 10, low=1, high=MAX_POINTS, doc="points per step"),
    "epochs": Param("epochs", int, 100, low=1, high=10**7, doc="passes over the training points"),
    "lr_decay": Param(
        "lr_decay", float, 1.0, low=0.0, low_open=True, high=1.0, doc="lr factor after every epoch", label="LR decay"
    ),
    "shuffle": Param("shuffle", bool, True, doc="a new minibatch order every epoch"),
    "seed": Param("seed", int, 0, low=0, high=2**31 - 1, doc="seed of data, weights and batch order"),
    "dtype": Param("dtype", str, "float32", choices=tuple(DTYPES), doc="floating-point type"),
    "mistake": Param(
        "mistake",
        str,
        NO_MISTAKE,
        choices=(NO_MISTAKE, *MISTAKES),
        doc="a backprop mistake built into the network, for teaching (minidl.backprop.MISTAKES)",
        label="Backprop mistake",
    ),
}
"""Every field of a spec that is one value, by the name `Spec.replace` and the command line use.
The optimizers' options (`lr`, `momentum`, ...) are in `OPTIMIZER_OPTIONS`."""

OPTIMIZER_OPTIONS: dict[str, Param] = {p.name: p for entry in OPTIMIZERS.values() for p in entry.params}
DATASET_KEYS = {"dataset": "name", "n_train": "n_train", "n_test": "n_test", "noise": "noise"}


def _check(name: str, value: Any, path: str | None = None) -> Any:
    return FIELDS[name].check(value, path)


def _options(path: str, owner: str, entry, raw: Mapping[str, Any], skip: set[str]) -> tuple[tuple[str, Any], ...]:
    """`entry`'s options from `raw` (defaults filled in), each checked, in the registry's order."""
    strangers = sorted(str(k) for k in set(raw) - skip - {p.name for p in entry.params})
    if strangers:
        own = ", ".join(p.name for p in entry.params) or "none"
        raise SpecError(f"{path}.{strangers[0]}: not an option of {owner} (its options: {own})")
    options = []
    for param in entry.params:
        if param.name in raw:
            options.append((param.name, param.check(raw[param.name], f"{path}.{param.name}")))
        elif param.required:
            raise SpecError(f"{path}.{param.name}: missing ({owner} needs {param.doc or param.name})")
        else:
            options.append((param.name, param.default))
    return tuple(options)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class _HugeNumber:
    """An integer in a file with more digits than Python converts: kept, so the field can say so."""

    def __init__(self, digits: str) -> None:
        self.digits = len(digits.lstrip("-"))

    def __repr__(self) -> str:
        return f"a number of {self.digits:,} digits"


def _parse_int(text: str) -> int | _HugeNumber:
    return int(text) if len(text) < 4000 else _HugeNumber(text)


class _Options:
    """Options readable as attributes: `spec.optimizer.lr`, `layer.units`."""

    options: tuple[tuple[str, Any], ...]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            for key, value in object.__getattribute__(self, "options"):
                if key == name:
                    return value
        raise AttributeError(f"{type(self).__name__} has no option {name!r}")

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)


# ---- the parts of a spec ------------------------------------------------------------------------
@dataclass(frozen=True)
class Layer(_Options):
    """One hidden layer: a type from `LAYERS` and its options (`units` for a linear layer)."""

    type: str
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def make(cls, type: str, **options: Any) -> Layer:
        return cls.from_dict("layer", {"type": type, **options})

    @classmethod
    def from_dict(cls, path: str, raw: Any) -> Layer:
        raw = mapping(path, raw, {"type", *(p.name for entry in LAYERS.values() for p in entry.params)})
        if "type" not in raw:
            raise SpecError(f"{path}.type: missing (one of {', '.join(LAYERS.names)})")
        entry = LAYERS.lookup(raw["type"], f"{path}.type")
        layer = cls(entry.name, _options(path, f"a {entry.name} layer", entry, raw, {"type"}))
        if entry.name != LINEAR:
            try:  # the class's own rules about its options
                layer.build()
            except (TypeError, ValueError) as error:
                raise SpecError(f"{path}: {error}") from error
        return layer

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **{k: _plain(v) for k, v in self.options}}

    def build(self) -> Module:
        """The module of an element-wise layer (a linear one is built by `make_model`, which knows widths)."""
        return LAYERS[self.type].build(**dict(self.options))

    def describe(self) -> str:
        """`Linear (25 units)`, `LeakyReLU (slope 0.01)`, `Tanh`."""
        display = LAYERS[self.type].display
        if self.type == LINEAR:
            return f"{display}  ({self.units} units)"
        return display + ("  (" + ", ".join(f"{k} {v:g}" for k, v in self.options) + ")" if self.options else "")


@dataclass(frozen=True)
class DatasetSpec:
    name: str = FIELDS["dataset"].default
    n_train: int = FIELDS["n_train"].default
    n_test: int = FIELDS["n_test"].default
    noise: float = NOISE.default

    @classmethod
    def from_dict(cls, raw: Any) -> DatasetSpec:
        raw = mapping("dataset", raw, DATASET_KEYS.values())
        default = cls()
        return cls(
            name=_check("dataset", raw.get("name", default.name), "dataset.name"),
            n_train=_check("n_train", raw.get("n_train", default.n_train), "dataset.n_train"),
            n_test=_check("n_test", raw.get("n_test", default.n_test), "dataset.n_test"),
            noise=_check("noise", raw.get("noise", default.noise), "dataset.noise"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n_train": self.n_train, "n_test": self.n_test, "noise": self.noise}


@dataclass(frozen=True)
class OptimizerSpec(_Options):
    """An optimizer from `OPTIMIZERS` and all its options (`lr`, ...), defaults filled in."""

    type: str = FIELDS["optimizer"].default
    options: tuple[tuple[str, Any], ...] = tuple(OPTIMIZERS[FIELDS["optimizer"].default].defaults().items())

    @classmethod
    def make(cls, type: str = FIELDS["optimizer"].default, **options: Any) -> OptimizerSpec:
        return cls.from_dict({"type": type, **options})

    @classmethod
    def from_dict(cls, raw: Any) -> OptimizerSpec:
        raw = mapping("optimizer", raw, {"type", *OPTIMIZER_OPTIONS})
        entry = OPTIMIZERS.lookup(raw.get("type", FIELDS["optimizer"].default), "optimizer.type")
        spec = cls(entry.name, _options("optimizer", repr(entry.name), entry, raw, {"type"}))
        try:  # the class's own rules about its options (e.g. Nesterov needs momentum)
            spec.build([])
        except (TypeError, ValueError) as error:
            raise SpecError(f"optimizer: {error}") from error
        return spec

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **{k: _plain(v) for k, v in self.options}}

    def build(self, params) -> Optimizer:
        return OPTIMIZERS[self.type].build(params, **dict(self.options))


def _report_layers() -> tuple[Layer, ...]:
    return (Layer(LINEAR, (("units", 25),)), Layer("tanh")) * 3


@dataclass(frozen=True)
class Spec:
    """A whole experiment. Defaults: the report's net on the report's data (2-25-25-25-2, Tanh, MSE, SGD)."""

    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    layers: tuple[Layer, ...] = field(default_factory=_report_layers)
    init: str = FIELDS["init"].default
    loss: str = FIELDS["loss"].default
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    batch_size: int = FIELDS["batch_size"].default
    epochs: int = FIELDS["epochs"].default
    lr_decay: float = FIELDS["lr_decay"].default
    shuffle: bool = FIELDS["shuffle"].default
    seed: int = FIELDS["seed"].default
    dtype: str = FIELDS["dtype"].default
    mistake: str = FIELDS["mistake"].default

    KEYS = (
        *("dataset", "layers", "init", "loss", "optimizer"),
        *("batch_size", "epochs", "lr_decay", "shuffle", "seed", "dtype", "mistake"),
    )
    PARTS = ("dataset", "layers", "optimizer")  # the fields that are objects, not single values

    @classmethod
    def from_dict(cls, raw: Any) -> Spec:
        raw = mapping("spec", raw, cls.KEYS)
        d = cls()
        layers_raw = raw.get("layers", [layer.to_dict() for layer in d.layers])
        if not isinstance(layers_raw, list):
            raise SpecError(f"layers: must be a list of layer objects, got {quoted(layers_raw)}")
        count = FIELDS["layers"]
        if not count.contains(len(layers_raw)):
            raise SpecError(f"layers: at most {count.high} layers, got {len(layers_raw)}")
        spec = cls(
            dataset=DatasetSpec.from_dict(raw.get("dataset", {})),
            layers=tuple(Layer.from_dict(f"layers[{i}]", layer) for i, layer in enumerate(layers_raw)),
            optimizer=OptimizerSpec.from_dict(raw.get("optimizer", {})),
            **{k: _check(k, raw.get(k, getattr(d, k))) for k in cls.KEYS if k not in cls.PARTS},
        )
        mistake = MISTAKES.get(spec.mistake)
        if mistake is not None and not mistake.fits(spec.layer_classes()):
            raise SpecError(f"mistake: {mistake.unfit()}, and this one has none")
        if mistake is not None and mistake.loss not in (None, spec.loss):
            raise SpecError(f"mistake: {mistake.title} belongs to the {mistake.loss} loss, not {spec.loss}")
        return spec

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.KEYS}
        if self.mistake == NO_MISTAKE:
            del out["mistake"]  # written only where one is built in: every other file stays as it was
        out.update(
            dataset=self.dataset.to_dict(),
            layers=[layer.to_dict() for layer in self.layers],
            optimizer=self.optimizer.to_dict(),
        )
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Spec:
        try:
            raw = json.loads(text, parse_int=_parse_int)
        except json.JSONDecodeError as error:
            raise SpecError(f"spec: not valid JSON ({error})") from error
        except RecursionError:
            raise SpecError("spec: not valid JSON (nested too deep)") from None
        except ValueError as error:  # e.g. an integer of more digits than Python converts
            raise SpecError(f"spec: not valid JSON ({quoted(str(error), 120)})") from None
        return cls.from_dict(raw)

    def replace(self, **changes: Any) -> Spec:
        """A copy with fields changed, validated like a spec read from JSON.

        Keys are the flat names of `FIELDS` and `OPTIMIZER_OPTIONS` (`batch_size=20`, `noise=0.1`,
        `lr=0.003`, `dataset="xor"`, `layers=[...]`). Switching `optimizer` to another type keeps
        the learning rate and resets its other options to the new type's defaults (then applies
        any options given alongside).
        """
        raw = self.to_dict()
        kind = changes.pop("optimizer", None)
        if isinstance(kind, OptimizerSpec):
            raw["optimizer"] = kind.to_dict()
        elif kind is not None and kind != raw["optimizer"]["type"]:
            raw["optimizer"] = {"type": kind, "lr": raw["optimizer"]["lr"]}
        for key, value in changes.items():
            if key == "dataset" and isinstance(value, DatasetSpec):
                raw["dataset"] = value.to_dict()
            elif key in DATASET_KEYS:
                raw["dataset"][DATASET_KEYS[key]] = value
            elif key in OPTIMIZER_OPTIONS:
                raw["optimizer"][key] = value
            elif key == "layers":
                raw["layers"] = [v.to_dict() if isinstance(v, Layer) else v for v in value]
            elif key in FIELDS:
                raw[key] = value
            else:
                known = sorted({*FIELDS, *OPTIMIZER_OPTIONS})
                raise SpecError(f"{quoted(key)}: not a spec field (fields: {', '.join(known)})")
        return Spec.from_dict(raw)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def widths(self) -> list[int]:
        """The width of every Linear layer's input, and the output: `[2, 25, 25, 25, 2]`."""
        return [INPUT_DIM] + [layer.units for layer in self.layers if layer.type == LINEAR] + [CLASSES]

    def layer_classes(self) -> list[type]:
        """The class of every module of the network, in order, the output Linear last (without building it)."""
        return [Linear if layer.type == LINEAR else LAYERS[layer.type].build for layer in self.layers] + [Linear]

    def parameter_count(self) -> int:
        return sum((i + 1) * o for i, o in itertools.pairwise(self.widths()))

    def describe(self) -> str:
        """The architecture in one line, e.g. `2-25-25-25-2, tanh`."""
        activations = sorted({layer.type for layer in self.layers if layer.type != LINEAR})
        return "-".join(map(str, self.widths())) + (", " + "/".join(activations) if activations else "")


# ---- the names of minidl.build and minidl.configs, loaded on first use ----------------------------
_ELSEWHERE = {
    **dict.fromkeys(("Experiment", "build", "make_data", "make_model", "make_trainer"), "minidl.build"),
    **dict.fromkeys(("BEST", "CONFIGS", "ORIGINAL", "REPORT"), "minidl.configs"),
}


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        return getattr(importlib.import_module(_ELSEWHERE[name]), name)
    raise AttributeError(f"module 'minidl.spec' has no attribute {name!r}")


__all__ = [
    "DTYPES",
    "FIELDS",
    "OPTIMIZER_OPTIONS",
    "DatasetSpec",
    "Layer",
    "OptimizerSpec",
    "Spec",
    "SpecError",
    *sorted(_ELSEWHERE),
]
