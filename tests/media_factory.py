"""Real media files made with the ffmpeg binary that imageio-ffmpeg ships, for tests."""
from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def pattern_video(path: Path, size: str = "320x240", seconds: float = 2.0, rate: int = 10,
                 extra: tuple[str, ...] = ()) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=s={size}:d={seconds}:r={rate}", *extra,
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    return path


def make_bad_inputs(folder: Path) -> dict[str, Path]:
    """One file per kind of bad input named in the foundation issue, plus a good GIF."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    files["zero"] = folder / "zero.mp4"
    files["zero"].write_bytes(b"")
    whole = pattern_video(folder / "whole.tmp.mp4", seconds=3.0)
    data = whole.read_bytes()
    whole.unlink()
    files["truncated"] = folder / "truncated.mp4"
    files["truncated"].write_bytes(data[: len(data) // 2])   # moov is at the end: cut off
    files["text"] = folder / "text.mp4"
    files["text"].write_text("this is not a video\n" * 50)
    files["one_frame"] = folder / "one_frame.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:r=10", "-frames:v", "1", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(files["one_frame"]))
    files["huge"] = folder / "huge.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=8000x8000:d=0.2:r=10", "-c:v", "libx264",
           "-preset", "ultrafast", str(files["huge"]))
    files["gif"] = folder / "anim.gif"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=200x150:d=1:r=10", str(files["gif"]))
    files["audio_only"] = folder / "audio_only.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac",
           str(files["audio_only"]))
    return files


def ffmpeg_output(*args: str) -> str:
    """What an ffmpeg run writes to stdout, as text."""
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", *args, "-"],
                          check=True, capture_output=True, text=True).stdout


def packet_hashes(path: Path, kind: str = "v") -> list[str]:
    """The MD5 of each packet of the first `kind` ("v", "a") stream, stream-copied."""
    text = ffmpeg_output("-i", str(path), "-map", f"0:{kind}:0", "-c", "copy", "-f", "framemd5")
    return [line.rsplit(",", 1)[1].strip() for line in text.splitlines()
            if line and not line.startswith("#")]


def decoded_hashes(path: Path) -> list[str]:
    """The MD5 of each decoded video frame, as stored (no rotation, no conversion)."""
    text = ffmpeg_output("-noautorotate", "-i", str(path), "-map", "0:v:0", "-f", "framemd5")
    return [line.rsplit(",", 1)[1].strip() for line in text.splitlines()
            if line and not line.startswith("#")]


def audio_seconds(path: Path) -> float:
    """The decoded length of the first audio stream: its frames' durations added up."""
    text = ffmpeg_output("-i", str(path), "-map", "0:a:0", "-f", "framecrc")
    time_base = Fraction(next(line.split(":")[1].strip() for line in text.splitlines()
                              if line.startswith("#tb 0:")))
    frames = [line.split(",") for line in text.splitlines() if line and line[0] != "#"]
    return float(sum(int(fields[3]) for fields in frames) * time_base)
