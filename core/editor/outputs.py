"""Output files of editor tasks: a frame as PNG, a clip cut from the source as H.264 MP4."""
from __future__ import annotations

import itertools
import os
from dataclasses import replace
from pathlib import Path

from core.errors import MediaError
from core.media import VideoInfo, frame_at, probe, save_image
from core.media.decode import (SEEK_DISTANCE_S, decoded_frames, frame_converter, open_video,
                               timed_frames)
from core.media.mux import (add_aac, add_h264, atomic_output, encode_h264, frame_rate,
                            mux_in_time_order, open_mp4)
from core.media.probe import open_container


def write_frame_png(video: str | os.PathLike, t_s: float, out: Path) -> Path:
    """The frame shown at t_s, full resolution, upright."""
    return save_image(out, frame_at(video, t_s))


def cut_clip(video: str | os.PathLike, start_s: float, end_s: float, out: Path) -> Path:
    """Re-encode [start_s, end_s) as H.264 + AAC (audio kept where the source has it), upright,
    at an even size, with the source's frame times; both streams start at the first frame."""
    if end_s <= start_s:
        raise MediaError(f"{video}: empty clip {start_s:.3f}–{end_s:.3f} s")
    info = probe(video)
    rate = frame_rate(info.fps, video)
    # libswscale scales to the even size (ffmpeg's scale=trunc(iw/2)*2:trunc(ih/2)*2)
    even = replace(info, width=info.width // 2 * 2, height=info.height // 2 * 2)
    to_image = frame_converter(even, None)
    with atomic_output(out, f"{video}: cannot cut clip") as tmp:
        frames = _frames_between(video, info, start_s, end_s)
        first = next(frames, None)
        if first is None:
            raise MediaError(f"{video}: no frame in {start_s:.3f}–{end_s:.3f} s")
        t0, _, frame0 = first
        time_base = frame0.time_base or 1 / rate

        def timed():
            """(pts from 0, image); a frame whose time does not move on is dropped."""
            origin = last = None
            for t, ts, frame in itertools.chain([first], frames):
                exact = ts is not None and frame.time_base == time_base
                pts = ts if exact else round(t / time_base)
                origin = pts if origin is None else origin
                if last is None or pts > last:
                    last = pts
                    yield pts - origin, to_image(frame)

        with open_mp4(tmp) as container, open_container(video) as audio_in:
            stream = add_h264(container, info.width // 2 * 2, info.height // 2 * 2, rate,
                              time_base, crf=20, preset="veryfast")
            mux_in_time_order(container, [encode_h264(stream, timed(), video),
                                          add_aac(container, audio_in, t0, end_s)])
    return Path(out)


def _frames_between(video, info: VideoInfo, start_s: float, end_s: float):
    """(time, timestamp in the frame's time base or None, decoded frame) of the frames shown in
    [start_s, end_s). Seeks to the keyframe before a far start_s; decodes from the beginning
    where the seek lands after it."""
    eps = 1e-6
    for seek in ([True, False] if start_s > SEEK_DISTANCE_S else [False]):
        with open_video(video) as (container, stream):
            if seek:
                container.seek(int(start_s / stream.time_base), stream=stream, backward=True)
            decoded = _best_effort(timed_frames(decoded_frames(container, stream), info))
            first = next(decoded, None)
            if seek and (first is None or first[0] > start_s + eps):
                continue
            for t, ts, frame in itertools.chain([first], decoded) if first else ():
                if t >= end_s - eps:
                    return
                if t >= start_s - eps:
                    yield t, ts, frame
            return


def _best_effort(timed):
    """(time, timestamp, frame) with FFmpeg's best-effort timestamp: the frame's pts, or its
    dts once pts have gone backwards more often than dts (packed B-frames in AVI do that)."""
    faults = {"pts": 0, "dts": 0}
    last = {"pts": None, "dts": None}
    for t, frame in timed:
        for key in faults:
            value = getattr(frame, key)
            if value is not None:
                faults[key] += last[key] is not None and value <= last[key]
                last[key] = value
        use_pts = frame.pts is not None and (frame.dts is None or faults["pts"] <= faults["dts"])
        ts = frame.pts if use_pts else frame.dts
        yield (float(ts * frame.time_base) if ts is not None and frame.time_base else t), ts, frame
