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


def ffmpeg_to_file(arguments: list[str], out: str | os.PathLike, failure: str) -> Path:
    """Run imageio-ffmpeg's ffmpeg with `arguments` (inputs and options) writing MP4 to a
    temporary name, then rename it to `out`; a failure raises MediaError("failure (reason)")."""
    import subprocess

    import imageio_ffmpeg

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *arguments,
               "-movflags", "+faststart", "-f", "mp4", str(tmp)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        reason = (result.stderr.strip().splitlines() or ["ffmpeg failed"])[-1]
        raise MediaError(f"{failure} ({reason})")
    os.replace(tmp, out)
    return out


def carry_audio(source: str | os.PathLike, video: Path, out: Path, has_audio: bool,
                duration_s: float | None = None) -> None:
    """Move `video` to `out`, muxing in the source's first audio stream where it has one
    (cut at `duration_s` when the video covers only the start of the source)."""
    if not has_audio:
        os.replace(video, out)
        return
    ffmpeg_to_file(["-i", str(video), "-i", str(source), "-map", "0:v:0", "-map", "1:a:0",
                    "-c:v", "copy", "-c:a", "aac",
                    *(["-t", f"{duration_s:.3f}"] if duration_s else [])], out, f"{source}: cannot carry the audio over")
