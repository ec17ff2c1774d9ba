"""How the app looks: theme (light, dark), colours (the default blue–red, or colour-blind safe),
interface scale (Ctrl+= / Ctrl+-) and presentation mode (F11: larger still, thicker lines).

One `Look` value is applied to every widget (`apply_look`); the window keeps it and remembers it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

THEMES = {
    "light": {"background": "#ffffff", "text": "#222222", "grid": (0, 0, 0, 48), "panel": None},
    "dark": {"background": "#15181c", "text": "#e8e8e8", "grid": (255, 255, 255, 56), "panel": "dark"},
}
PALETTES = {  # heatmap colormap, class colours (darker than the colormap's ends), curve colours
    "default": {"colormap": "CET-D1", "classes": ("#0b2c5e", "#6b0012"), "curves": ("#1b7837", "#762a83")},
    "colorblind": {"colormap": "CET-CBD1", "classes": ("#0b2c8c", "#6b5200"), "curves": ("#0072b2", "#e69f00")},
}
PALETTE_NAMES = {"default": "Blue – red", "colorblind": "Colour-blind safe (blue – yellow)"}
SCALES = (0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0)  # Ctrl+= / Ctrl+- step along these
PRESENTATION = 1.5  # presentation mode multiplies the scale by this


@dataclass(frozen=True)
class Look:
    theme: str = "light"
    palette: str = "default"
    scale: float = 1.0
    presenting: bool = False

    @property
    def zoom(self) -> float:
        """The factor every size is multiplied by."""
        return self.scale * (PRESENTATION if self.presenting else 1.0)

    def pt(self, size: float) -> float:
        """A font size in points, scaled."""
        return round(size * self.zoom, 1)

    def line(self, width: float) -> float:
        """A line width in pixels: thicker when presenting, for the back of a hall."""
        return width * self.zoom

    @property
    def text(self) -> str:
        return THEMES[self.theme]["text"]

    @property
    def background(self) -> str:
        return THEMES[self.theme]["background"]

    @property
    def grid(self) -> tuple[int, int, int, int]:
        return THEMES[self.theme]["grid"]

    @property
    def colormap(self) -> str:
        return PALETTES[self.palette]["colormap"]

    @property
    def classes(self) -> tuple[str, str]:
        return PALETTES[self.palette]["classes"]

    @property
    def curves(self) -> tuple[str, str]:
        return PALETTES[self.palette]["curves"]

    def scaled(self, steps: int) -> Look:
        """One step bigger (+1) or smaller (-1) along SCALES."""
        nearest = min(range(len(SCALES)), key=lambda i: abs(SCALES[i] - self.scale))
        return replace(self, scale=SCALES[max(0, min(len(SCALES) - 1, nearest + steps))])

    def to_dict(self) -> dict:
        return {"theme": self.theme, "palette": self.palette, "scale": self.scale}

    @classmethod
    def from_dict(cls, raw: object) -> Look:
        """A remembered look; anything unknown falls back to the default."""
        if not isinstance(raw, dict):
            return cls()
        theme, palette = raw.get("theme"), raw.get("palette")
        theme = theme if isinstance(theme, str) and theme in THEMES else "light"
        palette = palette if isinstance(palette, str) and palette in PALETTES else "default"
        try:
            scale = min(SCALES, key=lambda s: abs(s - float(raw.get("scale", 1.0))))
        except (TypeError, ValueError, OverflowError):
            scale = 1.0
        return cls(theme=theme, palette=palette, scale=scale)
