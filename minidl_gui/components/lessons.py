"""Lessons one click away: ready set-ups for a class, each with a one-line caption of what to
watch, the view to open beside it, and what it should show (which the tests check by training
it with the engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from minidl.spec import Spec
from minidl_gui.components.defaults import LAUNCH_SPEC


def _hidden(units: int, activation: str, count: int) -> list[dict]:
    return [{"type": "linear", "units": units}, {"type": activation}] * count


@dataclass(frozen=True)
class Lesson:
    """A set-up and what it shows within `epochs` (`expect`): it *learns* (test accuracy 0.9 or
    more), *fails* (0.7 or less), is *slow* (learns, but short of 0.9: the baseline of a
    *faster-than-sgd* lesson on the same network), *diverges*, *vanishes* (the first layer's
    gradient is under 1% of the last's), *overfits* (the test loss turns up), *overshoots* (the first
    step along the gradient lands higher than it started, where the report's lr goes down), has
    *broken-backprop* (its spec's mistake fails the gradient check and the loss plateaus where
    correct backprop learns) or *dead-units* (most hidden ReLU units end with δ = 0 on every point)."""

    name: str  # the menu's text
    caption: str  # what to watch, shown over the plots
    spec: Spec
    view: str | None = None  # the dock to bring to the front: networkDock, healthDock, hiddenDock, backpropView...
    expect: str = "learns"  # learns / fails / slow / diverges / vanishes / overfits / faster-than-sgd / overshoots
    # / broken-backprop / dead-units
    epochs: int = 100  # within how many epochs it shows it
    link_mode: str = "weight"  # what the diagram's links show (see backprop_views.LINK_MODES)


_TANH_2X16 = LAUNCH_SPEC.replace(layers=_hidden(16, "tanh", 2), optimizer="adam", lr=0.01, loss="cross_entropy")

# The SGD/Adam pair's network: plain SGD at its best learning rate (~0.006; 0.01 is already
# worse) ends 80 epochs at 0.74-0.86 test accuracy over seeds 0-4, Adam at 0.99-1.0.
_SPIRAL_2X32 = LAUNCH_SPEC.replace(
    dataset="spiral", layers=_hidden(32, "relu", 2), init="he", loss="cross_entropy", batch_size=32
)

LESSONS = (
    Lesson(
        "The report's experiment",
        "The report's 2-25-25-25-2 Tanh network on the disk: watch the boundary round out.",
        LAUNCH_SPEC,
        view="networkDock",
        epochs=150,
    ),
    Lesson(
        "XOR without a hidden layer",
        "No hidden layer: one straight line cannot separate XOR, whatever the training.",
        LAUNCH_SPEC.replace(dataset="xor", layers=[], optimizer="adam", lr=0.01, loss="cross_entropy"),
        expect="fails",
    ),
    Lesson(
        "XOR with one hidden layer",
        "One hidden layer of 8 units: its half-planes combine into the four quadrants.",
        LAUNCH_SPEC.replace(
            dataset="xor", layers=_hidden(8, "tanh", 1), optimizer="adam", lr=0.02, loss="cross_entropy"
        ),
        view="networkDock",
    ),
    Lesson(
        "The spiral needs depth",
        "3 ReLU layers of 32 untangle the spiral by epoch 60 (1 layer of 96: ~80%); watch the last hidden layer.",
        LAUNCH_SPEC.replace(
            dataset="spiral",
            layers=_hidden(32, "relu", 3),
            init="he",
            optimizer="adam",
            lr=0.005,
            loss="cross_entropy",
            batch_size=32,
        ),
        view="hiddenDock",
        epochs=60,
    ),
    Lesson(
        "A learning rate too high",
        "Learning rate 5: each step overshoots; the loss explodes within the first epoch and training stops.",
        LAUNCH_SPEC.replace(lr=5.0),
        expect="diverges",
        epochs=5,
    ),
    Lesson(
        "8 Sigmoid layers: vanishing gradients",
        "Each Sigmoid layer shrinks the gradient: the first layers barely move (see Layer health).",
        LAUNCH_SPEC.replace(layers=_hidden(8, "sigmoid", 8), init="xavier"),
        view="healthDock",
        expect="vanishes",
        epochs=20,
    ),
    Lesson(
        "8 ReLU layers: gradients flow",
        "The same depth with ReLU and He weights: the gradient reaches the first layer.",
        LAUNCH_SPEC.replace(layers=_hidden(8, "relu", 8), init="he", optimizer="adam", lr=0.003, loss="cross_entropy"),
        view="healthDock",
        epochs=60,
    ),
    Lesson(
        "Overfitting: few noisy points, a big network",
        "40 points, 20% of labels flipped, 2×64 units: train accuracy climbs, the test loss turns up.",
        LAUNCH_SPEC.replace(
            n_train=40,
            n_test=200,  # few enough that the 40 training dots stand out among the test rings
            noise=0.2,
            layers=_hidden(64, "relu", 2),
            init="he",
            optimizer="adam",
            lr=0.01,
            loss="cross_entropy",
            batch_size=40,
        ),
        expect="overfits",
        epochs=600,
    ),
    Lesson(
        "SGD: slow on the spiral",
        "Plain SGD at about its best learning rate (0.006): after 80 epochs the spiral is still only ~80% right.",
        _SPIRAL_2X32.replace(optimizer="sgd", lr=0.006),
        expect="slow",
        epochs=80,
    ),
    Lesson(
        "Adam: the same, faster",
        "Adam adapts each weight's step: the same network is near 100% right by epoch 80, SGD near 80%.",
        _SPIRAL_2X32.replace(optimizer="adam", lr=0.01),
        expect="faster-than-sgd",
        epochs=80,
    ),
    Lesson(
        "Backprop: one point, step by step",
        "Next ▶ walks one point forward layer by layer, through the loss, back, then the update: each number.",
        LAUNCH_SPEC.replace(layers=_hidden(6, "tanh", 2), lr=0.03),
        view="backpropView",
        epochs=100,
    ),
    Lesson(
        "Why lr 0.1 explodes: the loss along the step",
        "The loss along the gradient dips, then climbs far above where it started: lr 0.1 overshoots; 0.01 walks down.",
        LAUNCH_SPEC.replace(lr=0.1),
        view="stepLossDock",
        expect="overshoots",
        epochs=5,
    ),
    Lesson(
        "A forgotten derivative",
        "Backward skips tanh's g′(z): the gradient check fails (click a link) and the loss plateaus near 0.69.",
        _TANH_2X16.replace(mistake="no_activation_derivative"),
        view="networkDock",
        expect="broken-backprop",
        epochs=40,
    ),
    Lesson(
        "Dead ReLU units",
        "Adam at lr 0.05 pushes most ReLU units below zero everywhere: their δ is 0 on every point, they never learn.",
        LAUNCH_SPEC.replace(layers=_hidden(16, "relu", 2), optimizer="adam", lr=0.05, loss="cross_entropy"),
        view="networkDock",
        expect="dead-units",
        epochs=20,
        link_mode="gradient",
    ),
)
