"""Output files of editor tasks: a frame as PNG, a clip cut from the source as H.264 MP4."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import MediaError
from core.media import VideoInfo, frame_at, probe, save_image
from core.media.decode import FrameReader
from core.media.ffmpeg import run
from core.media.write import MP4_OUT, atomic_output, h264_options


def write_frame_png(video: str | os.PathLike, t_s: float, out: Path) -> Path:
    """The frame shown at t_s, full resolution, upright."""
    return save_image(out, frame_at(video, t_s))


def cut_clip(video: str | os.PathLike, start_s: float, end_s: float, out: Path) -> Path:
    """Re-encode [start_s, end_s) as H.264 + AAC (audio kept where the source has it), upright,
    at an even size, with the source's frame times; both streams start at the first frame."""
    if end_s <= start_s:
        raise MediaError(f"{video}: empty clip {start_s:.3f}–{end_s:.3f} s")
    info = probe(video)
    t0 = _first_frame_time(video, info, start_s)
    if t0 is None or t0 >= end_s - EPS:
        raise MediaError(f"{video}: no frame in {start_s:.3f}–{end_s:.3f} s")
    # -copyts keeps the source's clock, so trim and atrim cut at the source's own times;
    # setpts then starts both at 0. The seek only saves decoding what comes long before.
    seek = ["-ss", f"{t0 - SEEK_MARGIN_S:.6f}"] if t0 > SEEK_MARGIN_S else []
    video_chain = (f"trim=start={t0 - EPS:.6f}:end={end_s - EPS:.6f},setpts=PTS-STARTPTS,"
                   "scale=trunc(iw/2)*2:trunc(ih/2)*2:flags=bilinear")
    audio = (["-map", "0:a:0", "-af", f"atrim=start={t0:.6f}:end={end_s:.6f},"
              "asetpts=PTS-STARTPTS", "-c:a", "aac"] if info.has_audio else [])
    with atomic_output(out) as tmp:
        run(["-copyts", *seek, "-i", str(video), "-map", "0:v:0", "-vf", video_chain,
             "-fps_mode", "passthrough", "-enc_time_base:v", "demux",
             *h264_options(crf=20, preset="veryfast"), *audio, *MP4_OUT, "-y", str(tmp)],
            f"{video}: cannot cut clip")
    return Path(out)


EPS = 1e-6
SEEK_MARGIN_S = 2.0


def _first_frame_time(video, info: VideoInfo, start_s: float) -> float | None:
    """The time of the first frame shown at or after start_s."""
    seek = start_s - SEEK_MARGIN_S if start_s > SEEK_MARGIN_S else None
    with FrameReader(video, info, max_side=16, start_s=seek) as frames:
        return next((f.t_s for f in frames if f.t_s >= start_s - EPS), None)
