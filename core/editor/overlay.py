"""Post-processing burned into frames: a caption along the bottom, a visible "AI-generated" label."""
from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(frame: np.ndarray, text: str, origin: tuple[int, int], scale: float) -> None:
    thickness = max(1, int(round(scale * 2)))
    cv2.putText(frame, text, origin, FONT, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(frame, text, origin, FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def burn_caption(frame: np.ndarray, caption: str) -> np.ndarray:
    """The caption centred at the bottom, shrunk to fit the width."""
    if not caption:
        return frame
    h, w = frame.shape[:2]
    scale = h / 480
    (tw, th), _ = cv2.getTextSize(caption, FONT, scale, 2)
    if tw > w * 0.94:
        scale *= w * 0.94 / tw
        (tw, th), _ = cv2.getTextSize(caption, FONT, scale, 2)
    _text(frame, caption, ((w - tw) // 2, h - int(th * 0.8)), scale)
    return frame


def ai_label(frame: np.ndarray, text: str = "AI-generated") -> np.ndarray:
    """A small label with a dark box in the top-left corner."""
    h = frame.shape[0]
    scale = max(0.35, h / 720)
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
    pad = max(3, int(th * 0.4))
    cv2.rectangle(frame, (pad, pad), (pad * 3 + tw, pad * 3 + th), (20, 20, 20), -1)
    cv2.putText(frame, text, (pad * 2, pad * 2 + th), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return frame
