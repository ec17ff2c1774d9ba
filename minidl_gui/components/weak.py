"""Callables held weakly where they are methods, so that what an object owns never keeps it alive.

A window owns its widgets and helpers; a strong reference from one of them back to a method of
the window is a cycle that only the garbage collector can break, at a time of its choosing, when
Qt may still call into half-cleared Python objects (a crash). Held weakly, a dropped window is
freed at once.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any


def weak_callable(function: Callable) -> Callable[[], Callable | None]:
    """Call the result to get `function`, or None once the object of a method `function` is gone."""
    return weakref.WeakMethod(function) if inspect.ismethod(function) else lambda: function


def weak_call(function: Callable) -> Callable[..., Any]:
    """`function` held as `weak_callable` holds it: calling the result calls it (and returns what
    it returns) while its object lives, and does nothing (None) once it is gone."""
    held = weak_callable(function)

    def call(*args: Any, **kwargs: Any) -> Any:
        alive = held()
        return None if alive is None else alive(*args, **kwargs)

    return call
