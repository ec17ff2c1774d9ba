"""What the live app accepts beyond what a spec allows: networks and data it can train and draw
at the speed of a lecture. Edits and opened files are held to the same limits."""

from __future__ import annotations

from minidl.params import SpecError
from minidl.spec import FIELDS, Spec

MAX_LIVE_PARAMETERS = 250_000  # a step and a heatmap stay well under a frame's time budget
MAX_LIVE_POINTS = 50_000  # per split: drawn, evaluated every epoch, regenerated on a click
MAX_LIVE_FILE_BYTES = 64 << 20  # a model at the parameter cap is ~2 MB; a session with data more


def live_problem(spec: Spec) -> str:
    """Why the app cannot train `spec` live (one sentence), or ''."""
    parameters = spec.parameter_count()
    if parameters > MAX_LIVE_PARAMETERS:
        return (
            f"Too big to train live: {parameters:,} parameters (the app trains up to {MAX_LIVE_PARAMETERS:,}); "
            "use fewer units or layers."
        )
    for name in ("n_train", "n_test"):
        points = getattr(spec.dataset, name)
        if points > MAX_LIVE_POINTS:
            return (
                f"Too many points to draw live: dataset.{name} is {points:,} (the app draws up to {MAX_LIVE_POINTS:,})."
            )
    return ""


def check_live(spec: Spec) -> None:
    """`live_problem` as a `SpecError`, for readers of files."""
    problem = live_problem(spec)
    if problem:
        raise SpecError(problem)


def points_range() -> tuple[int, int]:
    """The range of the app's point-count controls: the spec's, capped at what it draws."""
    param = FIELDS["n_train"]
    return int(param.low), min(int(param.high), MAX_LIVE_POINTS)
