"""The tray's icons, drawn with Pillow at run time (no image files to ship): a coloured disc
with a white glyph, one per icon kind, readable at 16 px and sharp at 64.

Drawn at four times the size and scaled down, which smooths the edges.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

from daemon.tray import model

COLOURS: dict[str, tuple[int, int, int]] = {
    model.SYNCED: (46, 160, 67),
    model.SYNCING: (37, 99, 235),
    model.OFFLINE: (120, 128, 140),
    model.ATTENTION: (234, 160, 20),
    model.ERROR: (220, 53, 69),
    model.UNAUTHORIZED: (156, 39, 176),
    model.REVOKED: (127, 29, 29),
    model.PAUSED: (71, 85, 105),
}
WHITE = (255, 255, 255, 255)
SCALE = 4


@lru_cache(maxsize=32)
def icon(kind: str, size: int = 64) -> Image.Image:
    """The icon of `kind` (one of model.KINDS), RGBA, `size` pixels square."""
    if kind not in COLOURS:
        raise ValueError(f"no icon for {kind!r}")
    n = size * SCALE
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pad = n * 0.03
    d.ellipse((pad, pad, n - pad, n - pad), fill=(*COLOURS[kind], 255))
    _GLYPHS[kind](d, n)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def _w(n: int) -> int:
    return max(1, round(n * 0.1))


def _check(d: ImageDraw.ImageDraw, n: int) -> None:
    d.line([(n * 0.28, n * 0.52), (n * 0.44, n * 0.68), (n * 0.73, n * 0.35)], fill=WHITE,
           width=_w(n), joint="curve")


def _arrows(d: ImageDraw.ImageDraw, n: int) -> None:
    box = (n * 0.26, n * 0.26, n * 0.74, n * 0.74)
    d.arc(box, 200, 340, fill=WHITE, width=_w(n))
    d.arc(box, 20, 160, fill=WHITE, width=_w(n))
    h = n * 0.09
    for x, y, s in ((n * 0.72, n * 0.42, -1), (n * 0.28, n * 0.58, 1)):
        d.polygon([(x - h, y + s * h * 0.2), (x + h, y + s * h * 0.2), (x, y + s * h * 1.4)],
                  fill=WHITE)


def _offline(d: ImageDraw.ImageDraw, n: int) -> None:
    for r in (0.34, 0.22):
        box = (n * (0.5 - r), n * (0.62 - r), n * (0.5 + r), n * (0.62 + r))
        d.arc(box, 225, 315, fill=WHITE, width=_w(n) * 2 // 3)
    d.ellipse((n * 0.45, n * 0.6, n * 0.55, n * 0.7), fill=WHITE)
    d.line([(n * 0.27, n * 0.27), (n * 0.73, n * 0.73)], fill=WHITE, width=_w(n) * 2 // 3)


def _bang(d: ImageDraw.ImageDraw, n: int) -> None:
    d.rounded_rectangle((n * 0.45, n * 0.2, n * 0.55, n * 0.6), radius=n * 0.04, fill=WHITE)
    d.ellipse((n * 0.44, n * 0.67, n * 0.56, n * 0.79), fill=WHITE)


def _cross(d: ImageDraw.ImageDraw, n: int) -> None:
    a, b = n * 0.32, n * 0.68
    d.line([(a, a), (b, b)], fill=WHITE, width=_w(n))
    d.line([(a, b), (b, a)], fill=WHITE, width=_w(n))


def _padlock(d: ImageDraw.ImageDraw, n: int) -> None:
    d.arc((n * 0.36, n * 0.2, n * 0.64, n * 0.56), 180, 360, fill=WHITE, width=_w(n) * 2 // 3)
    d.line([(n * 0.36 + _w(n) / 3, n * 0.38), (n * 0.36 + _w(n) / 3, n * 0.46)], fill=WHITE,
           width=_w(n) * 2 // 3)
    d.line([(n * 0.64 - _w(n) / 3, n * 0.38), (n * 0.64 - _w(n) / 3, n * 0.46)], fill=WHITE,
           width=_w(n) * 2 // 3)
    d.rounded_rectangle((n * 0.3, n * 0.45, n * 0.7, n * 0.76), radius=n * 0.05, fill=WHITE)


def _no_entry(d: ImageDraw.ImageDraw, n: int) -> None:
    d.ellipse((n * 0.24, n * 0.24, n * 0.76, n * 0.76), outline=WHITE, width=_w(n) * 2 // 3)
    d.line([(n * 0.33, n * 0.67), (n * 0.67, n * 0.33)], fill=WHITE, width=_w(n) * 2 // 3)


def _pause(d: ImageDraw.ImageDraw, n: int) -> None:
    d.rectangle((n * 0.36, n * 0.3, n * 0.45, n * 0.7), fill=WHITE)
    d.rectangle((n * 0.55, n * 0.3, n * 0.64, n * 0.7), fill=WHITE)


_GLYPHS = {
    model.SYNCED: _check,
    model.SYNCING: _arrows,
    model.OFFLINE: _offline,
    model.ATTENTION: _bang,
    model.ERROR: _cross,
    model.UNAUTHORIZED: _padlock,
    model.REVOKED: _no_entry,
    model.PAUSED: _pause,
}
