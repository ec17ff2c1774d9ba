"""How a run goes, free of Qt: the speeds offered, when it pauses on its own, what an edit does.

The session applies these; the run-settings widget and the window offer them.
"""

from __future__ import annotations

from minidl.params import Param

PACES: tuple[float | None, ...] = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, None)
"""Training speeds the app offers, in steps a second; None is full speed."""
SLOW_MOTION = 30.0  # at this pace or slower, the points of the last step's batch are highlighted
STOP_ACCURACY = Param(
    "stop_accuracy", float, 95.0, low=0.0, high=100.0, doc="pause when the test accuracy reaches this (%)"
)
LIVE_FIELDS = ("lr", "epochs", "mistake")  # edits of these apply to the running network: no rebuild


def live_values(spec) -> dict:
    """The spec's LIVE_FIELDS by name, as `Spec.replace` takes them (the learning rate is the optimizer's)."""
    return {name: spec.optimizer.lr if name == "lr" else getattr(spec, name) for name in LIVE_FIELDS}


DATA_FIELDS = ("dataset", "seed", "dtype")  # a change of these draws new points (and drops painted ones)
UNTRAINABLE = "Paint at least one training point and one test point (or import some) to train"
