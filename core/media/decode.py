"""Decode frames with rotation applied, real timestamps and a working size; sample by time."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from core.errors import MediaError
from core.media.probe import VideoInfo, clockwise_rotation, decoded_frames, open_container, probe

# Up to this many frames, decoding everything is cheaper than seeking N times.
SEQUENTIAL_FRAME_LIMIT = 600
# Sampling decodes on without seeking when the next target is this close.
SEEK_DISTANCE_S = 2.0


@dataclass(frozen=True)
class Frame:
    t_s: float          # presentation time in seconds, from the stream's timestamps
    image: np.ndarray   # H x W x 3, RGB uint8, upright


def working_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Scale (width, height) so the longer side is at most max_side; keep both even."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def iter_frames(path: str | os.PathLike, max_side: int | None = None,
                info: VideoInfo | None = None) -> Iterator[Frame]:
    """Every frame in presentation order, upright, at most max_side pixels on the longer side."""
    info = info or probe(path)
    with open_video(path) as (container, stream):
        to_image = frame_converter(info, max_side)
        for t, frame in timed_frames(decoded_frames(container, stream), info):
            yield Frame(t, to_image(frame))


def frame_at(path: str | os.PathLike, t_s: float, max_side: int | None = None) -> np.ndarray:
    """The frame shown at t_s (the last one that starts by then), upright."""
    chosen = None
    for frame in iter_frames(path, max_side=max_side):
        if chosen is not None and frame.t_s > t_s + 1e-3:
            break
        chosen = frame
    if chosen is None:
        raise MediaError(f"{path}: no frame at {t_s:.3f} s")
    return chosen.image


class open_video:
    """Context manager: (container, first video stream). `threaded` lets FFmpeg decode one
    video on several threads; callers decoding many videos at once do better without."""

    def __init__(self, path, threaded: bool = True) -> None:
        self.container = open_container(path)
        self.threaded = threaded

    def __enter__(self):
        stream = self.container.streams.video[0]
        if self.threaded:
            stream.thread_type = "AUTO"
        return self.container, stream

    def __exit__(self, *exc) -> None:
        self.container.close()


def timed_frames(frames, info: VideoInfo) -> Iterator[tuple[float, object]]:
    """(presentation time, decoded frame); the frame rate stands in where a time is missing."""
    fallback_dt = 1.0 / info.fps if info.fps > 0 else 0.04
    for index, frame in enumerate(frames):
        yield float(frame.time if frame.time is not None else index * fallback_dt), frame


def frame_converter(info: VideoInfo, max_side: int | None):
    """A function from a decoded frame to an upright RGB array at the working size. Scaling
    happens in libswscale before rotating: the coded frame is (width, height) swapped for 90/270."""
    disp_w, disp_h = working_size(info.width, info.height, max_side)
    coded_w, coded_h = (disp_h, disp_w) if info.rotation in (90, 270) else (disp_w, disp_h)

    def to_image(frame) -> np.ndarray:
        image = frame.to_ndarray(width=coded_w, height=coded_h, format="rgb24")
        rotation = clockwise_rotation(getattr(frame, "rotation", 0)) or info.rotation
        if rotation:
            image = np.ascontiguousarray(np.rot90(image, k=-rotation // 90))
        return image

    return to_image


def sample_times(duration_s: float, n: int) -> list[float]:
    """N times spread uniformly: the centre of each of n equal parts of the video."""
    return [(i + 0.5) * duration_s / n for i in range(n)]


def sample_frames(path: str | os.PathLike, n: int, max_side: int | None = None,
                  info: VideoInfo | None = None, threaded: bool = True) -> list[Frame]:
    """N frames uniformly by time. Seeks on long videos; falls back to sequential decoding
    where seeking gives missing or broken frames. Only the chosen frames are converted."""
    info = info or probe(path)
    if n <= 0:
        return []
    targets = sample_times(info.duration_s, n)
    if info.frames > SEQUENTIAL_FRAME_LIMIT:
        frames = _sample_by_seeking(path, info, targets, max_side, threaded)
        if frames is not None:
            return frames
    return _sample_sequentially(path, info, targets, max_side, threaded)


def _sample_sequentially(path, info: VideoInfo, targets: list[float],
                         max_side: int | None, threaded: bool = True) -> list[Frame]:
    tolerance = 0.5 / info.fps if info.fps > 0 else 0.02
    to_image = frame_converter(info, max_side)
    picked: list[Frame] = []
    last = None
    with open_video(path, threaded) as (container, stream):
        for t, frame in timed_frames(decoded_frames(container, stream), info):
            last = (t, frame)
            converted = None
            while len(picked) < len(targets) and t >= targets[len(picked)] - tolerance:
                converted = converted if converted is not None else Frame(t, to_image(frame))
                picked.append(converted)
            if len(picked) == len(targets):
                break
        if last is None:
            raise MediaError(f"{path}: no decodable video frame")
        if len(picked) < len(targets):
            tail = Frame(last[0], to_image(last[1]))
            picked.extend([tail] * (len(targets) - len(picked)))
    return picked


def _sample_by_seeking(path, info: VideoInfo, targets: list[float],
                       max_side: int | None, threaded: bool = True) -> list[Frame] | None:
    """None where any seek misses, so the caller can decode sequentially instead."""
    import av

    tolerance = 0.5 / info.fps if info.fps > 0 else 0.02
    to_image = frame_converter(info, max_side)
    try:
        with open_video(path, threaded) as (container, stream):
            picked: list[Frame] = []
            frames = None
            position = float("inf")
            for target in targets:
                # Decode on from where we are when the target is near; seek when it is far.
                if not position <= target < position + SEEK_DISTANCE_S:
                    container.seek(int(target / stream.time_base), stream=stream, backward=True)
                    frames = timed_frames(decoded_frames(container, stream), info)
                hit = next(((t, f) for t, f in frames if t >= target - tolerance), None)
                if hit is None or abs(hit[0] - target) > max(1.0, 4 * tolerance):
                    return None
                picked.append(Frame(hit[0], to_image(hit[1])))
                position = hit[0]
            return picked
    except av.error.FFmpegError:
        return None
