"""Image preprocessing for CLIP towers with OpenCV: shortest side to the tower's size, centre
crop, normalise. Works on decoded RGB uint8 frames without a round trip through PIL."""
from __future__ import annotations

import cv2
import numpy as np

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def to_batch(images: list[np.ndarray], size: int, mean=OPENAI_MEAN, std=OPENAI_STD) -> np.ndarray:
    """N x 3 x size x size float32."""
    out = np.empty((len(images), 3, size, size), np.float32)
    mean_arr = np.asarray(mean, np.float32)[:, None, None]
    std_arr = np.asarray(std, np.float32)[:, None, None]
    for k, image in enumerate(images):
        h, w = image.shape[:2]
        scale = size / min(h, w)
        rh, rw = max(size, round(h * scale)), max(size, round(w * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        resized = cv2.resize(image, (rw, rh), interpolation=interpolation)
        top, left = (rh - size) // 2, (rw - size) // 2
        crop = resized[top:top + size, left:left + size]
        out[k] = (crop.transpose(2, 0, 1).astype(np.float32) / 255.0 - mean_arr) / std_arr
    return out
