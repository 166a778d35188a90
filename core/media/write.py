"""Write H.264 MP4 through the ffmpeg executable; files appear atomically (temp file, then
rename)."""
from __future__ import annotations

import itertools
import math
import os
import subprocess
import threading
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from core.errors import MediaError
from core.media.ffmpeg import QUIET, error_reason, executable, run

# H.264 in MP4 with the index up front (+faststart), as every encoder here writes it
MP4_OUT = ["-movflags", "+faststart", "-f", "mp4"]


@contextmanager
def atomic_output(out: str | os.PathLike) -> Iterator[Path]:
    """A temporary name beside `out`, renamed to `out` when the block succeeds and removed
    when it fails."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def frame_rate(fps: float, path) -> Fraction:
    """`fps` as an exact rate: 29.97 -> 2997/100, 12.5 -> 25/2."""
    if not (math.isfinite(fps) and fps > 0):
        raise MediaError(f"{path}: cannot write {fps!r} frames per second")
    return Fraction(float(fps)).limit_denominator(1001)


def h264_options(crf: int, preset: str) -> list[str]:
    """x264 at `crf`, yuv420p; the conversion from RGB is bicubic (ffmpeg's default)."""
    return ["-c:v", "libx264", "-crf", str(crf), "-preset", preset, "-pix_fmt", "yuv420p"]


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float,
                crf: int = 20, preset: str = "veryfast") -> Path:
    """Encode RGB uint8 frames (all the same even size) as H.264 yuv420p MP4, at a constant
    `fps` (29.97 stays 2997/100: frame k is at exactly k/fps). The frames go to ffmpeg on a
    pipe as they come; a producer that fails leaves no file and the old one alone."""
    path = Path(path)
    rate = frame_rate(fps, path)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise MediaError(f"{path}: no frames to write")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise MediaError(f"{path}: H.264 needs even frame sizes, got {width}x{height}")
    with atomic_output(path) as tmp:
        encoder = subprocess.Popen(
            [executable(), *QUIET, "-f", "rawvideo", "-pix_fmt", "rgb24",
             "-s", f"{width}x{height}", "-framerate", f"{rate.numerator}/{rate.denominator}",
             "-i", "-", *h264_options(crf, preset), *MP4_OUT, "-y", str(tmp)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        log: list[bytes] = []
        drain = threading.Thread(target=lambda: log.extend(encoder.stderr), daemon=True)
        drain.start()
        try:
            for image in itertools.chain([first], frames):
                if image.shape[:2] != (height, width):
                    raise MediaError(f"{path}: frame size changed from {width}x{height} to "
                                     f"{image.shape[1]}x{image.shape[0]}")
                encoder.stdin.write(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
            encoder.stdin.close()
        except BrokenPipeError:
            pass                       # ffmpeg stopped: its exit status and log say why
        except BaseException:
            encoder.kill()
            raise
        finally:
            failed = encoder.wait() != 0
            drain.join()
        if failed:
            raise MediaError(f"{path}: cannot write the video ({error_reason(b''.join(log))})")
    return path


def carry_audio(source: str | os.PathLike, video: Path, out: Path, has_audio: bool,
                duration_s: float | None = None) -> None:
    """Move `video` to `out`, muxing in the source's first audio stream (re-encoded to AAC)
    where it has one, cut at `duration_s` when the video covers only the start of the source.
    The video stream is copied as it is."""
    if not has_audio:
        os.replace(video, out)
        return
    cut = ["-t", f"{duration_s:.6f}"] if duration_s else []
    with atomic_output(out) as tmp:
        run(["-i", str(video), "-i", str(source), "-map", "0:v:0", "-map", "1:a:0",
             "-c:v", "copy", "-c:a", "aac", *cut, *MP4_OUT, "-y", str(tmp)],
            f"{source}: cannot carry the audio over")
