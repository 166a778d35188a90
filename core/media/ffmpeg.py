"""The ffmpeg executable as the media engine: every decode, encode and remux runs it as a
separate process. It is imageio-ffmpeg's static build, a GPL program, which the app never
links: no GPL code is loaded into the app's own process (issue 16)."""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import MediaError

QUIET = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "error")


def executable() -> str:
    """The bundled ffmpeg (IMAGEIO_FFMPEG_EXE overrides it)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise MediaError(f"the ffmpeg executable is missing ({exc}); reinstall the app") from exc


def run(args: list[str], failure: str) -> subprocess.CompletedProcess:
    """Run ffmpeg to the end; a non-zero exit becomes MediaError("failure (reason)")."""
    proc = subprocess.run([executable(), *QUIET, *args], capture_output=True)
    if proc.returncode:
        raise MediaError(f"{failure} ({error_reason(proc.stderr)})")
    return proc


def error_reason(stderr: bytes | str) -> str:
    """The gist of ffmpeg's last error line: 'Invalid data found when processing input'."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "ffmpeg failed without a message"
    last = re.sub(r"^\[[^\]]*\]\s*", "", lines[-1])
    return last.rsplit(": ", 1)[-1] if ": " in last else last


def check_file(path: Path) -> None:
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file (0 bytes)")


@dataclass
class StreamHeader:
    kind: str                   # "video", "audio", "data", "subtitle"
    codec: str
    tags: dict = field(default_factory=dict)
    rotation: float = 0.0       # the display matrix's angle, counter-clockwise degrees


@dataclass
class InputHeader:
    """What ffmpeg prints about an input file: its tags and its streams'."""
    tags: dict = field(default_factory=dict)
    streams: list[StreamHeader] = field(default_factory=list)
    duration_s: float | None = None


STREAM_LINE = re.compile(r"^\s*Stream #\d+:\d+(?:\[[^\]]*\])?(?:\((\w+)\))?: (\w+): ([\w-]+)")
TAG_LINE = re.compile(r"^(\s*)([^:]+?)\s*: (.*)$")
ROTATION = re.compile(r"display ?matrix: rotation of (-?[\d.]+) degrees", re.IGNORECASE)
DURATION = re.compile(r"^\s*Duration: (\d+):(\d+):([\d.]+)")


def parse_input_header(stderr: str) -> InputHeader:
    """Parse the 'Input #0' block of ffmpeg's log (printed at loglevel info)."""
    header = InputHeader()
    inside, tags, tags_indent, last_key = False, None, 0, None
    for line in stderr.splitlines():
        if line.startswith("Input #0"):
            inside = True
            continue
        if not inside:
            continue
        if not line.startswith(" "):         # "Stream mapping:", "Output #0", log lines
            break
        indent = len(line) - len(line.lstrip())
        if stream := STREAM_LINE.match(line):
            language, kind, codec = stream.groups()
            header.streams.append(StreamHeader(kind.lower(), codec,
                                               {"language": language} if language else {}))
            tags = None
        elif line.strip() == "Metadata:":
            tags = header.streams[-1].tags if header.streams else header.tags
            tags_indent = indent
        elif duration := DURATION.match(line):
            h, m, s = duration.groups()
            header.duration_s = int(h) * 3600 + int(m) * 60 + float(s)
            tags = None
        elif rotation := ROTATION.search(line):
            if header.streams:
                header.streams[-1].rotation = float(rotation.group(1))
        elif tags is not None and indent > tags_indent and (tag := TAG_LINE.match(line)):
            key, value = tag.group(2).strip(), tag.group(3)
            if key:
                tags[key], last_key = value, key
            elif last_key in tags:                      # a long value's next line
                tags[last_key] += "\n" + value
        elif tags is not None and indent <= tags_indent:
            tags = None
    return header


def read_header(path: str | os.PathLike) -> InputHeader:
    """The tags and streams of a media file, as ffmpeg reads them."""
    path = Path(path)
    check_file(path)
    proc = subprocess.run([executable(), *QUIET[:3], "-i", str(path)], capture_output=True)
    text = proc.stderr.decode("utf-8", "replace")
    if "Input #0" not in text:
        raise MediaError(f"{path}: not a readable media file ({error_reason(text)})")
    return parse_input_header(text)
