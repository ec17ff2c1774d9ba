"""The app's look, where it always was; it lives in `minidl_gui.components.look`."""

from minidl_gui.components.look import PALETTE_NAMES, PALETTES, SCALES, THEMES, Look

__all__ = ["PALETTES", "PALETTE_NAMES", "SCALES", "THEMES", "Look"]
