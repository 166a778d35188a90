"""Probe a media file: displayed size, rotation, duration, frame rate, frame count, codec."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import MediaError

# Inputs from 176x144 up to 4K; anything bigger is refused before decoding a single frame.
MAX_SIDE = 4096
MAX_PIXELS = 4096 * 2304
MIN_SIDE = 16
MIN_FRAMES = 2
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm", ".avi", ".gif", ".m4v")


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int          # as displayed, rotation applied
    height: int
    rotation: int       # degrees clockwise applied on decoding: 0, 90, 180 or 270
    duration_s: float
    fps: float
    frames: int
    codec: str
    has_audio: bool

    def as_dict(self) -> dict:
        return asdict(self)


def open_container(path: str | os.PathLike):
    """Open with PyAV, turning every failure into a MediaError that names the file."""
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file (0 bytes)")
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: not a readable video file ({error_reason(exc)})") from exc
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path}: has no video stream")
    return container


def clockwise_rotation(display_rotation: float | None) -> int:
    """PyAV reports the display matrix angle counter-clockwise; return the clockwise fix."""
    return int(round(-(display_rotation or 0) / 90.0)) * 90 % 360


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read the header and the first frame; raise MediaError for anything we cannot use."""
    import av

    path = Path(path)
    container = open_container(path)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        coded_w, coded_h = ctx.width, ctx.height
        _check_size(path, coded_w, coded_h)
        try:
            first = next(decoded_frames(container, stream), None)
        except av.error.FFmpegError as exc:
            raise MediaError(
                f"{path}: cannot decode the first frame ({error_reason(exc)})") from exc
        if first is None:
            raise MediaError(f"{path}: no decodable video frame")
        rotation = clockwise_rotation(getattr(first, "rotation", 0))
        width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        frames = stream.frames or _count_packets(path)
        duration = _duration(container, stream, frames)
        if frames < MIN_FRAMES:
            raise MediaError(f"{path}: has {frames} frame; a video needs at least {MIN_FRAMES}")
        fps = float(stream.average_rate) if stream.average_rate else frames / max(duration, 1e-6)
        return VideoInfo(str(path), width, height, rotation, round(duration, 4), round(fps, 4),
                         int(frames), ctx.name, bool(container.streams.audio))
    finally:
        container.close()


def decoded_frames(container, stream):
    """Frames of one stream; a packet that fails to decode is skipped, not fatal."""
    import av

    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            continue
        yield from frames


def _check_size(path: Path, width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise MediaError(f"{path}: frame size {width}x{height} is below {MIN_SIDE}x{MIN_SIDE}")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise MediaError(
            f"{path}: frame size {width}x{height} exceeds the supported maximum (4K, "
            f"{MAX_SIDE} pixels a side)"
        )


def _count_packets(path: Path) -> int:
    """Frame count for containers without one in the header (WebM, some GIFs): demux only."""
    container = open_container(path)
    try:
        stream = container.streams.video[0]
        return sum(1 for p in container.demux(stream) if p.size)
    finally:
        container.close()


def _duration(container, stream, frames: int) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    return frames / rate


def error_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() if text else type(exc).__name__
