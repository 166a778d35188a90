"""Style transfer of whole videos with OpenCV's non-photorealistic filters.

Each preset maps one RGB frame to one styled frame. Filters that amplify noise would flicker,
so frames are blended with the previous output where the source itself did not change
(motion-aware temporal smoothing); the flicker figure is the mean absolute difference between
consecutive output frames, reported against the source's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

Filter = Callable[[np.ndarray], np.ndarray]


def _edges(rgb: np.ndarray) -> np.ndarray:
    """White with black lines where strong edges are (texture stays white)."""
    grey = cv2.bilateralFilter(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 7, 50, 50)
    lines = cv2.Canny(grey, 60, 150)
    return 255 - cv2.dilate(lines, np.ones((2, 2), np.uint8))


def cartoon(rgb: np.ndarray) -> np.ndarray:
    smooth = cv2.bilateralFilter(cv2.pyrDown(rgb), 9, 60, 60)
    smooth = cv2.resize(smooth, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    levels = (smooth // 32) * 32 + 16
    return cv2.bitwise_and(levels.astype(np.uint8), levels.astype(np.uint8), mask=_edges(rgb))


def pencil_sketch(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    blurred = cv2.GaussianBlur(255 - grey, (21, 21), 0)
    sketch = cv2.divide(grey, 255 - blurred, scale=256)
    return cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)


def watercolour(rgb: np.ndarray) -> np.ndarray:
    return cv2.stylization(rgb, sigma_s=40, sigma_r=0.45)


def comic(rgb: np.ndarray) -> np.ndarray:
    flat = cv2.pyrMeanShiftFiltering(cv2.pyrDown(rgb), 8, 24)
    flat = cv2.resize(flat, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)
    poster = (flat // 64) * 64 + 32
    hsv = cv2.cvtColor(poster.astype(np.uint8), cv2.COLOR_RGB2HSV)
    hsv[..., 1] = cv2.add(hsv[..., 1], 60)
    vivid = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    vivid[_edges(flat) == 0] = 0
    return vivid


_GRAIN_CACHE: dict[tuple[int, int], np.ndarray] = {}


def vintage_film(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    sepia = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]],
                     np.float32)
    toned = rgb.astype(np.float32) @ sepia.T
    if (h, w) not in _GRAIN_CACHE:   # one fixed grain pattern: grain that changed per frame would flicker
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:h, 0:w]
        vignette = 1 - 0.45 * (((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / 2
        _GRAIN_CACHE[(h, w)] = (vignette[..., None] * (1 + rng.normal(0, 0.04, (h, w, 1)))).astype(np.float32)
    return np.clip(toned * _GRAIN_CACHE[(h, w)] * 0.9 + 10, 0, 255).astype(np.uint8)


def neon(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 40, 120)
    colours = cv2.applyColorMap(grey, cv2.COLORMAP_PLASMA)[..., ::-1]
    line = cv2.bitwise_and(colours, colours, mask=cv2.dilate(edges, np.ones((2, 2), np.uint8)))
    glow = cv2.GaussianBlur(line, (0, 0), 4)
    dark = (rgb.astype(np.float32) * 0.15).astype(np.uint8)
    return cv2.add(cv2.add(dark, glow), line)


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    apply: Filter


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("cartoon", "Cartoon", cartoon),
    Preset("pencil_sketch", "Pencil sketch", pencil_sketch),
    Preset("watercolour", "Watercolour", watercolour),
    Preset("comic", "Comic", comic),
    Preset("vintage_film", "Vintage film", vintage_film),
    Preset("neon", "Neon", neon),
)}


class TemporalSmoother:
    """Blend each styled frame with the previous output where the source is still: per pixel,
    weight = exp(-|Δsource| / scale), so moving regions follow the new frame at once."""

    def __init__(self, strength: float = 0.75, scale: float = 12.0) -> None:
        self.strength, self.scale = strength, scale
        self.previous_source: np.ndarray | None = None
        self.previous_output: np.ndarray | None = None

    def __call__(self, source: np.ndarray, styled: np.ndarray) -> np.ndarray:
        if self.previous_source is None or self.previous_source.shape != source.shape:
            out = styled
        else:
            change = np.abs(source.astype(np.float32) - self.previous_source).mean(axis=2, keepdims=True)
            keep = self.strength * np.exp(-change / self.scale)
            out = (keep * self.previous_output + (1 - keep) * styled).astype(np.uint8)
        self.previous_source = source.astype(np.float32)
        self.previous_output = out.astype(np.float32)
        return out


def flicker(frames: list[np.ndarray]) -> float:
    """Mean absolute difference between consecutive frames (0–255)."""
    if len(frames) < 2:
        return 0.0
    return float(np.mean([np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()
                          for a, b in zip(frames, frames[1:])]))
