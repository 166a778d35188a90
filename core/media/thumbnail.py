"""An item's original thumbnail: a provided image beside the video, else its first frame."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from core.errors import MediaError
from core.media.decode import iter_frames, working_size
from core.media.probe import VideoInfo

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def provided_thumbnail(video_path: str | os.PathLike) -> Path | None:
    video_path = Path(video_path)
    for suffix in IMAGE_SUFFIXES:
        candidate = video_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def read_image(path: str | os.PathLike) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def save_image(path: str | os.PathLike, rgb: np.ndarray, quality: int = 90) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise MediaError(f"{path}: cannot write image")
    os.replace(tmp, path)
    return path


def original_thumbnail(video_path: str | os.PathLike, info: VideoInfo,
                       max_side: int = 320) -> np.ndarray:
    """The provided image if there is one (scaled to max_side), else the first frame."""
    provided = provided_thumbnail(video_path)
    if provided is not None:
        image = read_image(provided)
        h, w = image.shape[:2]
        tw, th = working_size(w, h, max_side)
        return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA) if (tw, th) != (w, h) else image
    for frame in iter_frames(video_path, max_side, info):
        return frame.image
    raise MediaError(f"{video_path}: no decodable video frame")
