"""The lessons, where they always were; they live in `minidl_gui.components.lessons`."""

from minidl_gui.components.lessons import LESSONS, Lesson

__all__ = ["LESSONS", "Lesson"]
