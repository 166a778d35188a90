"""Probe a media file: displayed size, rotation, duration, frame rate, frame count, codec."""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from core.errors import MediaError
from core.media.ffmpeg import check_file, error_reason, executable, parse_input_header

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


def clockwise_rotation(display_rotation: float | None) -> int:
    """ffmpeg reports the display matrix angle counter-clockwise; return the clockwise fix."""
    return int(round(-(display_rotation or 0) / 90.0)) * 90 % 360


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read the header, every video packet's timing and the first decoded frame, in one ffmpeg
    run; raise MediaError for anything we cannot use."""
    path = Path(path)
    check_file(path)
    # output 0: the video packets' timestamps, sizes and codec (demux only, framecrc);
    # output 1: the first frame decoded (showinfo logs it, with its upright size)
    proc = subprocess.run(
        [executable(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path),
         "-map", "0:v:0?", "-c", "copy", "-f", "framecrc", "-",
         "-map", "0:v:0?", "-frames:v", "1", "-vf", "showinfo", "-f", "null", "-"],
        capture_output=True)
    log = proc.stderr.decode("utf-8", "replace")
    if "Input #0" not in log:
        raise MediaError(f"{path}: not a readable video file ({error_reason(log)})")
    header = parse_input_header(log)
    video = next((s for s in header.streams if s.kind == "video"), None)
    if video is None:
        raise MediaError(f"{path}: has no video stream")
    packets = parse_framecrc(proc.stdout.decode("ascii", "replace"))
    _check_size(path, *packets.coded_size)
    shown = FIRST_FRAME.search(log)
    if shown is None:
        raise MediaError(f"{path}: cannot decode the first frame ({error_reason(log)})")
    width, height = int(shown.group(1)), int(shown.group(2))
    frames = packets.count
    if frames < MIN_FRAMES:
        raise MediaError(f"{path}: has {frames} frame; a video needs at least {MIN_FRAMES}")
    duration = packets.duration_s or header.duration_s or frames / 25
    return VideoInfo(str(path), width, height, clockwise_rotation(video.rotation),
                     round(duration, 4), round(frames / max(duration, 1e-6), 4), frames,
                     packets.codec or video.codec,
                     any(s.kind == "audio" for s in header.streams))


FIRST_FRAME = re.compile(r"\] n:\s*0 .* s:(\d+)x(\d+) ")


@dataclass(frozen=True)
class Packets:
    """A stream's packets as ffmpeg's framecrc muxer lists them."""
    count: int
    duration_s: float | None            # last packet's end minus the first one's start
    coded_size: tuple[int, int]
    codec: str


def parse_framecrc(text: str) -> Packets:
    time_base, codec, size = Fraction(1, 25), "", (0, 0)
    count, first, end = 0, None, None
    for line in text.splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line.startswith("#codec_id 0:"):
            codec = line.split(":", 1)[1].strip()
        elif line.startswith("#dimensions 0:"):
            w, h = line.split(":", 1)[1].strip().split("x")
            size = (int(w), int(h))
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            _, dts, pts, duration, nbytes = (int(f) for f in fields[:5])
            pts = dts if pts == NO_TIMESTAMP else pts      # packed B-frames in AVI have none
            if nbytes == 0:
                continue
            count += 1
            if pts == NO_TIMESTAMP:
                continue
            first = pts if first is None else min(first, pts)
            end = pts + duration if end is None else max(end, pts + duration)
    seconds = float((end - first) * time_base) if count and end is not None and end > first \
        else None
    return Packets(count, seconds, size, codec)


NO_TIMESTAMP = -(2 ** 63)


def _check_size(path: Path, width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise MediaError(f"{path}: frame size {width}x{height} is below {MIN_SIDE}x{MIN_SIDE}")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise MediaError(
            f"{path}: frame size {width}x{height} exceeds the supported maximum (4K, "
            f"{MAX_SIDE} pixels a side)"
        )
