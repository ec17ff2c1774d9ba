"""The registries: every layer type, loss, optimizer, initialisation and dataset, one line each.

Spec validation, `minidl train`'s choices and help, and the app's layer buttons and combos are
all derived from these tables: a new activation is its class plus one line in `LAYERS`.
An entry's `params` are its options as they appear in a spec, with their types, defaults and
ranges; rules that tie options together (Nesterov needs momentum) stay in the class, which the
spec asks by building it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from minidl.data import DATASETS, DatasetEntry
from minidl.nn.activation import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from minidl.nn.init import INITS
from minidl.nn.linear import Linear
from minidl.nn.loss import LossCrossEntropy, LossMSE
from minidl.optim import SGD, Adam
from minidl.params import Entry, Param, Registry


@dataclass(frozen=True)
class LayerEntry(Entry):
    """A layer type; `editor=False` keeps it out of the app's layer buttons (it stays valid in specs)."""

    editor: bool = True


LINEAR = "linear"  # the one layer that changes the width; every other layer is element-wise
UNITS = Param("units", int, 25, low=1, high=1024, required=True, doc="width of a Linear layer")
SLOPE = Param("slope", float, 0.01, low=0.0, high=1.0, doc="slope for x < 0")
BETA = Param("beta", float, 1.0, low=0.0, low_open=True, high=100.0, doc="sharpness: larger is closer to ReLU")

LAYERS = Registry(
    "layer",
    [
        LayerEntry(LINEAR, Linear, "Linear", (UNITS,), doc="fully connected, y = x Wᵀ + b"),
        LayerEntry("tanh", Tanh, "Tanh", doc="tanh(x), in (-1, 1)"),
        LayerEntry("relu", ReLU, "ReLU", doc="max(0, x)"),
        LayerEntry("sigmoid", Sigmoid, "Sigmoid", doc="1 / (1 + exp(-x)), in (0, 1)"),
        LayerEntry("leaky_relu", LeakyReLU, "LeakyReLU", (SLOPE,), doc="x, or slope·x below 0"),
        LayerEntry("gelu", GELU, "GELU", doc="x·Φ(x), Φ the normal CDF"),
        LayerEntry("softplus", Softplus, "Softplus", (BETA,), doc="log(1 + exp(beta·x)) / beta, a smooth ReLU"),
        LayerEntry("identity", Identity, "Identity", editor=False, doc="passes its input through"),
    ],
)

LOSSES = Registry(
    "loss",
    [
        Entry("mse", LossMSE, "MSE (summed)", doc="squared error summed over the batch, as the report"),
        Entry("cross_entropy", LossCrossEntropy, "Cross-entropy", doc="softmax cross-entropy, summed"),
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

__all__ = ["DATASETS", "INITS", "LAYERS", "LINEAR", "LOSSES", "LR", "OPTIMIZERS", "DatasetEntry", "LayerEntry"]
