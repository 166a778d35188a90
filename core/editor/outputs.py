"""Output files of editor tasks: a frame as PNG, a clip cut from the source as H.264 MP4."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import MediaError
from core.media import iter_frames, probe, save_image
from core.media.write import ffmpeg_to_file


def write_frame_png(video: str | os.PathLike, t_s: float, out: Path) -> Path:
    """The frame shown at t_s, full resolution, upright."""
    info = probe(video)
    chosen = None
    for frame in iter_frames(video, info=info):
        if chosen is not None and frame.t_s > t_s + 1e-3:
            break
        chosen = frame
    if chosen is None:
        raise MediaError(f"{video}: no frame at {t_s:.3f} s")
    return save_image(out, chosen.image)


def cut_clip(video: str | os.PathLike, start_s: float, end_s: float, out: Path) -> Path:
    """Re-encode [start_s, end_s) as H.264 + AAC (audio kept where the source has it), upright."""
    if end_s <= start_s:
        raise MediaError(f"{video}: empty clip {start_s:.3f}–{end_s:.3f} s")
    return ffmpeg_to_file(
        ["-ss", f"{start_s:.4f}", "-i", str(video), "-t", f"{end_s - start_s:.4f}",
         "-map", "0:v:0", "-map", "0:a:0?", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
         "-c:a", "aac"], out, f"{video}: cannot cut clip")
