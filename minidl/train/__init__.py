"""Training: the `Trainer` (`trainer.py`), what it records (`record.py`), the checks of its saved
state (`state.py`) and the activations' health it measures (`health.py`)."""

from minidl.errors import StateError
from minidl.train.health import health_kind, unhealthy
from minidl.train.record import EpochRecord, History, Progress
from minidl.train.state import CheckedState, Fit, check_state
from minidl.train.trainer import DEFAULT_THREADS, DataError, Trainer, check_split, set_threads

__all__ = [
    "DEFAULT_THREADS",
    "CheckedState",
    "DataError",
    "EpochRecord",
    "Fit",
    "History",
    "Progress",
    "StateError",
    "Trainer",
    "check_split",
    "check_state",
    "health_kind",
    "set_threads",
    "unhealthy",
]
