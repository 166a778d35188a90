"""Write H.264 MP4 in-process with PyAV; files appear atomically (temp file, then rename)."""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from core.errors import MediaError
from core.media.mux import (add_aac, add_copy, add_h264, atomic_output, encode_h264,
                            frame_rate, mux_in_time_order, open_mp4)
from core.media.probe import open_container


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float,
                crf: int = 20, preset: str = "veryfast") -> Path:
    """Encode RGB uint8 frames (all the same even size) as H.264 yuv420p MP4, at a constant
    `fps` (29.97 stays 2997/100: frame k is at exactly k/fps)."""
    path = Path(path)
    rate = frame_rate(fps, path)
    frames = iter(frames)
    with atomic_output(path, f"{path}: cannot write the video") as tmp:
        first = next(frames, None)
        if first is None:
            raise MediaError(f"{path}: no frames to write")
        height, width = first.shape[:2]
        if width % 2 or height % 2:
            raise MediaError(f"{path}: H.264 needs even frame sizes, got {width}x{height}")
        with open_mp4(tmp) as container:
            stream = add_h264(container, width, height, rate, 1 / rate, crf, preset)
            container.mux(encode_h264(stream, enumerate(itertools.chain([first], frames)), path))
    return path


def carry_audio(source: str | os.PathLike, video: Path, out: Path, has_audio: bool,
                duration_s: float | None = None) -> None:
    """Move `video` to `out`, muxing in the source's first audio stream (re-encoded to AAC)
    where it has one, cut at `duration_s` when the video covers only the start of the source.
    The video stream is copied as it is."""
    if not has_audio:
        os.replace(video, out)
        return
    with atomic_output(out, f"{source}: cannot carry the audio over") as tmp, \
            open_container(video) as video_in, open_container(source) as audio_in, \
            open_mp4(tmp) as container:
        mux_in_time_order(container, [add_copy(container, video_in),
                                      add_aac(container, audio_in, end_s=duration_s or None)])
