"""Write H.264 MP4 through imageio-ffmpeg; files appear atomically (temp file, then rename)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np

from core.errors import MediaError


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float,
                crf: int = 20, preset: str = "veryfast") -> Path:
    """Encode RGB uint8 frames (all the same even size) as H.264 yuv420p MP4."""
    import imageio_ffmpeg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    writer = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                if width % 2 or height % 2:
                    raise MediaError(f"{path}: H.264 needs even frame sizes, got {width}x{height}")
                writer = imageio_ffmpeg.write_frames(
                    str(tmp), (width, height), fps=fps, codec="libx264", pix_fmt_in="rgb24",
                    pix_fmt_out="yuv420p", quality=None, macro_block_size=1,
                    ffmpeg_log_level="error",
                    output_params=["-crf", str(crf), "-preset", preset, "-movflags", "+faststart"],
                )
                writer.send(None)
            writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
            count += 1
        if writer is None:
            raise MediaError(f"{path}: no frames to write")
        writer.close()
        writer = None
        os.replace(tmp, path)
        return path
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
