"""Decode frames with rotation applied, real timestamps and a working size; sample by time."""
from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import numpy as np

from core.errors import MediaError
from core.media.ffmpeg import error_reason, executable
from core.media.probe import VideoInfo, probe

# Up to this many frames, decoding everything is cheaper than seeking N times.
SEQUENTIAL_FRAME_LIMIT = 600
# frame_at seeks this far before the time asked for, so the frame shown then is decoded too.
SEEK_MARGIN_S = 1.0


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
    with FrameReader(path, info, max_side) as frames:
        yield from frames


def frame_at(path: str | os.PathLike, t_s: float, max_side: int | None = None) -> np.ndarray:
    """The frame shown at t_s (the last one that starts by then; the first frame before it),
    upright. A long video is decoded from SEEK_MARGIN_S before t_s, from the start where that
    lands past t_s (a gap in a variable frame rate)."""
    info = probe(path)
    if info.frames > SEQUENTIAL_FRAME_LIMIT and t_s > SEEK_MARGIN_S:
        with FrameReader(path, info, max_side, start_s=t_s - SEEK_MARGIN_S) as frames:
            chosen = _shown_at(iter(frames), t_s)
        if chosen is not None:
            return chosen.image
    with FrameReader(path, info, max_side) as frames:
        later = iter(frames)
        first = next(later, None)
        if first is None:
            raise MediaError(f"{path}: no frame at {t_s:.3f} s")
        chosen = _shown_at(later, t_s) if first.t_s <= t_s + 1e-3 else None
    return (chosen or first).image


def _shown_at(frames: Iterator[Frame], t_s: float) -> Frame | None:
    """The last of `frames` that starts by t_s; None where the first starts after it."""
    chosen = None
    for frame in frames:
        if frame.t_s > t_s + 1e-3:
            break
        chosen = frame
    return chosen


SHOWN = re.compile(r"\] n:\s*\d+ pts:\s*(-?\d+|NOPTS)")
TIME_BASE = re.compile(r"\] config in time_base: (\d+)/(\d+)")


class FrameReader:
    """Decoded frames from an ffmpeg process: upright (ffmpeg applies the display matrix),
    scaled to the working size by libswscale (bilinear), as RGB bytes on a pipe; each frame's
    time is its own timestamp (-copyts keeps the stream's clock; showinfo logs it). Frames
    are passed through as decoded, none duplicated or dropped. `start_s` seeks there
    (ffmpeg decodes from the keyframe before and drops what comes before start_s). Closing
    stops the process."""

    def __init__(self, path, info: VideoInfo, max_side: int | None = None,
                 start_s: float | None = None, threaded: bool = True) -> None:
        self.path, self.info = path, info
        self.width, self.height = working_size(info.width, info.height, max_side)
        threads = [] if threaded else ["-threads", "1", "-filter_threads", "1"]
        seek = ["-ss", f"{start_s:.6f}"] if start_s else []
        self.process = subprocess.Popen(
            [executable(), "-hide_banner", "-nostdin", "-nostats", "-copyts", *threads, *seek,
             "-i", str(path), "-map", "0:v:0",
             "-vf", f"scale={self.width}:{self.height}:flags=bilinear,format=rgb24,showinfo",
             "-fps_mode", "passthrough", "-f", "rawvideo", "-"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.times: queue.Queue = queue.Queue()
        self.log: list[str] = []
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self) -> None:
        """Frame times from showinfo's lines, in order; keeps the rest for error messages."""
        time_base = None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace")
            if shown := SHOWN.search(line):
                pts = shown.group(1)
                self.times.put(None if pts == "NOPTS" or time_base is None
                               else float(int(pts) * time_base))
            elif tb := TIME_BASE.search(line):
                time_base = Fraction(int(tb.group(1)), int(tb.group(2)))
            else:
                self.log.append(line)
        self.times.put(EOFError)

    def __iter__(self) -> Iterator[Frame]:
        size = self.width * self.height * 3
        fallback_dt = 1.0 / self.info.fps if self.info.fps > 0 else 0.04
        index = 0
        while len(data := self.process.stdout.read(size)) == size:
            t = self.times.get()
            t = index * fallback_dt if t is None or t is EOFError else t
            image = np.frombuffer(bytearray(data), np.uint8).reshape(self.height, self.width, 3)
            yield Frame(t, image)
            index += 1
        if self.process.wait() != 0 and index == 0:
            self.reader.join()
            raise MediaError(f"{self.path}: cannot decode ({error_reason(''.join(self.log))})")

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.reader.join()
        self.process.stderr.close()


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
    picked: list[Frame] = []
    last = None
    with FrameReader(path, info, max_side, threaded=threaded) as frames:
        for frame in frames:
            last = frame
            while len(picked) < len(targets) and frame.t_s >= targets[len(picked)] - tolerance:
                picked.append(frame)
            if len(picked) == len(targets):
                break
    if last is None:
        raise MediaError(f"{path}: no decodable video frame")
    picked.extend([last] * (len(targets) - len(picked)))
    return picked


def _sample_by_seeking(path, info: VideoInfo, targets: list[float],
                       max_side: int | None, threaded: bool = True) -> list[Frame] | None:
    """One seek per target; None where any seek misses, so the caller can decode
    sequentially instead."""
    tolerance = 0.5 / info.fps if info.fps > 0 else 0.02
    picked: list[Frame] = []
    for target in targets:
        with FrameReader(path, info, max_side, start_s=max(0.0, target - tolerance),
                         threaded=threaded) as frames:
            hit = next((f for f in frames if f.t_s >= target - tolerance), None)
        if hit is None or abs(hit.t_s - target) > max(1.0, 4 * tolerance):
            return None
        picked.append(hit)
    return picked
