"""Procedural frames for the demo corpus: a scene background with moving coloured shapes.

Pure numpy and OpenCV drawing, deterministic for a segment's attributes and seed.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from core.demo.vocabulary import COLOURS

SIZE = 256
OUTLINE = (20, 20, 20)


def _vertical_gradient(top, bottom, height: int, width: int) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    column = (1 - ramp) * np.array(top, np.float32) + ramp * np.array(bottom, np.float32)
    return np.repeat(column, width, axis=1).astype(np.uint8)


def background(scene: str, rng: np.random.Generator) -> np.ndarray:
    """A 256x256 RGB scene; layout varies with rng, palette and props identify the scene."""
    s = SIZE
    horizon = int(s * rng.uniform(0.5, 0.65))
    img = np.empty((s, s, 3), np.uint8)
    if scene == "beach":
        img[:] = _vertical_gradient((120, 190, 245), (200, 230, 250), s, s)
        img[horizon - 30:horizon] = (30, 110, 190)
        img[horizon:] = _vertical_gradient((235, 215, 160), (210, 185, 120), s - horizon, s)
        for y in range(horizon - 26, horizon, 8):
            cv2.line(img, (0, y), (s, y + int(rng.integers(-3, 4))), (200, 230, 250), 1)
    elif scene == "forest":
        img[:] = _vertical_gradient((180, 220, 200), (150, 200, 170), s, s)
        img[horizon:] = (40, 90, 40)
        for _ in range(9):
            x = int(rng.integers(0, s))
            h = int(rng.integers(50, 100))
            cv2.rectangle(img, (x - 4, horizon - 10), (x + 4, horizon + 10), (90, 60, 30), -1)
            pts = np.array([[x - 22, horizon - 5], [x + 22, horizon - 5], [x, horizon - h]])
            cv2.fillPoly(img, [pts.astype(np.int32)], (20, 110 + int(rng.integers(0, 40)), 40))
    elif scene == "city":
        img[:] = _vertical_gradient((170, 175, 185), (140, 145, 155), s, s)
        x = 0
        while x < s:
            w = int(rng.integers(25, 50))
            top = int(rng.integers(40, horizon))
            shade = int(rng.integers(70, 110))
            cv2.rectangle(img, (x, top), (x + w, s), (shade, shade, shade + 10), -1)
            for wy in range(top + 6, s - 6, 14):
                for wx in range(x + 5, x + w - 6, 10):
                    cv2.rectangle(img, (wx, wy), (wx + 4, wy + 6), (250, 230, 120), -1)
            x += w + 2
    elif scene == "night":
        img[:] = _vertical_gradient((5, 10, 40), (25, 30, 80), s, s)
        for _ in range(60):
            cv2.circle(img, (int(rng.integers(0, s)), int(rng.integers(0, horizon))), 1,
                       (255, 255, 230), -1)
        cv2.circle(img, (int(rng.integers(30, s - 30)), 40), 18, (245, 245, 210), -1)
        img[horizon + 40:] = (15, 20, 30)
    elif scene == "desert":
        img[:] = _vertical_gradient((250, 190, 120), (250, 220, 170), s, s)
        for _ in range(4):
            cx, cy = int(rng.integers(0, s)), horizon + int(rng.integers(0, 40))
            cv2.ellipse(img, (cx, cy), (int(rng.integers(70, 130)), 40), 0, 180, 360,
                        (215, 165, 95), -1)
        img[horizon + 20:] = (220, 175, 105)
    elif scene == "snow":
        img[:] = _vertical_gradient((200, 215, 235), (225, 235, 245), s, s)
        img[horizon:] = (245, 248, 252)
        for _ in range(80):
            cv2.circle(img, (int(rng.integers(0, s)), int(rng.integers(0, s))), 2,
                       (255, 255, 255), -1)
    else:
        raise ValueError(f"unknown scene {scene!r}")
    return img


def _shape_points(shape: str, cx: float, cy: float, r: float) -> list[np.ndarray]:
    if shape == "square":
        return [np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])]
    if shape == "triangle":
        return [np.array([[cx, cy - r * 1.1], [cx + r, cy + r * 0.8], [cx - r, cy + r * 0.8]])]
    if shape == "star":
        angles = [math.pi / 2 + k * math.pi / 5 for k in range(10)]
        radii = [r * 1.15 if k % 2 == 0 else r * 0.45 for k in range(10)]
        return [np.array([[cx + q * math.cos(a), cy - q * math.sin(a)]
                          for a, q in zip(angles, radii)])]
    if shape == "cross":
        w = r * 0.38
        return [np.array([[cx - w, cy - r], [cx + w, cy - r], [cx + w, cy - w], [cx + r, cy - w],
                          [cx + r, cy + w], [cx + w, cy + w], [cx + w, cy + r], [cx - w, cy + r],
                          [cx - w, cy + w], [cx - r, cy + w], [cx - r, cy - w], [cx - w, cy - w]])]
    raise ValueError(f"unknown polygon shape {shape!r}")


def draw_shape(img: np.ndarray, shape: str, colour: str, cx: float, cy: float, r: float) -> None:
    rgb = COLOURS[colour]
    centre = (int(cx), int(cy))
    if shape == "circle":
        cv2.circle(img, centre, int(r), rgb, -1, cv2.LINE_AA)
        cv2.circle(img, centre, int(r), OUTLINE, 2, cv2.LINE_AA)
    elif shape == "ring":
        cv2.circle(img, centre, int(r), OUTLINE, int(r * 0.45) + 4, cv2.LINE_AA)
        cv2.circle(img, centre, int(r), rgb, int(r * 0.45), cv2.LINE_AA)
    else:
        pts = [p.astype(np.int32) for p in _shape_points(shape, cx, cy, r)]
        cv2.fillPoly(img, pts, rgb, cv2.LINE_AA)
        cv2.polylines(img, pts, True, OUTLINE, 2, cv2.LINE_AA)


def _positions(motion: str, count: int, phase: float, t: float) -> list[tuple[float, float, float]]:
    """(x, y, radius scale) for each object at time t in [0, 1] of the segment."""
    out = []
    for k in range(count):
        slot = (k + 0.5) / count
        base_x = SIZE * (0.2 + 0.6 * slot)
        base_y = SIZE * (0.45 + 0.12 * math.sin(phase + k))
        if motion == "still":
            out.append((base_x, base_y, 1.0))
        elif motion == "sliding":
            x = (base_x + t * SIZE * 0.6 + phase * 20) % (SIZE * 0.8) + SIZE * 0.1
            out.append((x, base_y, 1.0))
        elif motion == "bouncing":
            out.append((base_x, SIZE * 0.7 - abs(math.sin(2 * math.pi * t + phase + k)) * SIZE * 0.4, 1.0))
        elif motion == "circling":
            a = 2 * math.pi * t + phase + 2 * math.pi * k / count
            out.append((SIZE / 2 + 70 * math.cos(a), SIZE / 2 + 60 * math.sin(a), 1.0))
        elif motion == "growing":
            out.append((base_x, base_y, 0.6 + 0.7 * t))
        else:
            raise ValueError(f"unknown motion {motion!r}")
    return out


def render_segment(attrs: dict, n_frames: int, seed: int,
                   indices: range | None = None) -> list[np.ndarray]:
    """The frames of one segment (or only those at `indices`): attrs has scene, shape, colour,
    motion and count. The seed fixes the background and the motion's phase, so the same seed
    with another colour gives the same frames with the objects recoloured."""
    rng = np.random.default_rng(seed)
    bg = background(attrs["scene"], rng)
    phase = float(rng.uniform(0, 2 * math.pi))
    radius = {1: 38.0, 2: 30.0, 3: 24.0}[attrs["count"]]
    frames = []
    for i in range(n_frames) if indices is None else indices:
        img = bg.copy()
        t = i / max(1, n_frames - 1)
        for x, y, scale in _positions(attrs["motion"], attrs["count"], phase, t):
            draw_shape(img, attrs["shape"], attrs["colour"], x, y, radius * scale)
        frames.append(img)
    return frames
