"""The registries: every layer type, loss, optimizer, initialisation and dataset, one line each.

Spec validation, `minidl train`'s choices and help, and the app's layer buttons and combos are
all derived from these tables: a new activation is its class plus one line in `LAYERS`.
An entry's `params` are its options as they appear in a spec, with their types, defaults and
ranges; rules that tie options together (Nesterov needs momentum) stay in the class, which the
spec asks by building it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import Tensor

from minidl.data import DATASETS, DatasetEntry
from minidl.nn.activation import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from minidl.nn.init import INITS
from minidl.nn.linear import Linear
from minidl.nn.loss import Loss, LossCrossEntropy, LossMSE
from minidl.optim import SGD, Adam
from minidl.params import Entry, Param, Registry


@dataclass(frozen=True)
class LayerEntry(Entry):
    """A layer type; `editor=False` keeps it out of the app's layer buttons (it stays valid in specs).

    `torch_name`: the `torch.nn` module that computes the same, its options given positionally in
    this entry's order: what the tests and `benchmarks/cuda_check.py` check it against (minidl
    itself never uses torch.nn).
    """

    editor: bool = True
    torch_name: str = ""


@dataclass(frozen=True)
class LossEntry(Entry):
    """A loss; its class must say what its outputs mean for the decision picture: `class_one_score`."""

    def __post_init__(self) -> None:
        score = getattr(self.build, "class_one_score", None)
        if not callable(score) or score is getattr(Loss, "class_one_score", None):
            raise TypeError(f"loss registry: {self.name!r} ({self.build!r}) defines no class_one_score")

    def class_one_score(self, outputs: Tensor) -> Tensor:
        """A network's outputs `(N, 2)` trained with this loss -> `(N,)` scores of class 1 in [0, 1],
        0.5 on the decision boundary."""
        return self.build.class_one_score(outputs)


LINEAR = "linear"  # the one layer that changes the width; every other layer is element-wise
UNITS = Param("units", int, 25, low=1, high=1024, required=True, doc="width of a Linear layer")
SLOPE = Param("slope", float, 0.01, low=0.0, high=1.0, doc="slope for x < 0")
BETA = Param("beta", float, 1.0, low=0.0, low_open=True, high=100.0, doc="sharpness: larger is closer to ReLU")

LAYERS = Registry(
    "layer",
    [
        LayerEntry(LINEAR, Linear, "Linear", (UNITS,), doc="fully connected, y = x Wᵀ + b", torch_name="Linear"),
        LayerEntry("tanh", Tanh, "Tanh", doc="tanh(x), in (-1, 1)", torch_name="Tanh"),
        LayerEntry("relu", ReLU, "ReLU", doc="max(0, x)", torch_name="ReLU"),
        LayerEntry("sigmoid", Sigmoid, "Sigmoid", doc="1 / (1 + exp(-x)), in (0, 1)", torch_name="Sigmoid"),
        LayerEntry("leaky_relu", LeakyReLU, "LeakyReLU", (SLOPE,), doc="x, or slope·x below 0", torch_name="LeakyReLU"),
        LayerEntry("gelu", GELU, "GELU", doc="x·Φ(x), Φ the normal CDF", torch_name="GELU"),
        LayerEntry(
            "softplus",
            Softplus,
            "Softplus",
            (BETA,),
            doc="log(1 + exp(beta·x)) / beta, a smooth ReLU",
            torch_name="Softplus",
        ),
        LayerEntry(
            "identity", Identity, "Identity", editor=False, doc="passes its input through", torch_name="Identity"
        ),
    ],
)

LOSSES = Registry(
    "loss",
    [
        LossEntry("mse", LossMSE, "MSE (summed)", doc="squared error summed over the batch, as the report"),
        LossEntry("cross_entropy", LossCrossEntropy, "Cross-entropy", doc="softmax cross-entropy, summed"),
    ],
)

LR = Param("lr", float, 0.01, low=1e-6, high=10.0, doc="learning rate")
WEIGHT_DECAY = Param("weight_decay", float, 0.0, low=0.0, high=1.0, doc="L2 penalty")
OPTIMIZERS = Registry(
    "optimizer",
    [
        Entry(
            "sgd",
            SGD,
            "SGD",
            (
                LR,
                Param("momentum", float, 0.0, low=0.0, high=1.0, doc="momentum (0: plain SGD)"),
                WEIGHT_DECAY,
                Param("nesterov", bool, False, doc="Nesterov momentum"),
            ),
            doc="stochastic gradient descent",
        ),
        Entry(
            "adam",
            Adam,
            "Adam",
            (
                replace(LR, default=1e-3),
                Param("betas", float, (0.9, 0.999), low=0.0, high=1.0, high_open=True, size=2, doc="decay rates"),
                Param("eps", float, 1e-8, low=0.0, low_open=True, high=1.0, doc="denominator term"),
                WEIGHT_DECAY,
            ),
            doc="Adam (Kingma & Ba 2015)",
        ),
    ],
)

__all__ = [
    "DATASETS",
    "INITS",
    "LAYERS",
    "LINEAR",
    "LOSSES",
    "LR",
    "OPTIMIZERS",
    "DatasetEntry",
    "LayerEntry",
    "LossEntry",
]
